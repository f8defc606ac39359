// Package cluster implements `gameday cluster`, the parent of up, down, list and status.
package cluster

import (
	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/cluster/down"
	"gameday.dev/gameday/internal/cmd/cluster/list"
	"gameday.dev/gameday/internal/cmd/cluster/status"
	"gameday.dev/gameday/internal/cmd/cluster/up"
)

// NewCommand returns `gameday cluster`.
func NewCommand(g *cli.Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Create, inspect and delete local multi-pool clusters",
		Long: `Create, inspect and delete the local Kubernetes clusters gameday breaks.

A cluster has one control-plane node (pool "system", which hosts the cluster
add-ons and is never a fault target) and worker node pools from a topology:
  shared     pool app (2 workers) hosting every tier, spare pool app-next (1)
  separate   pool frontend (1), pool backend (1), spare pool backend-next (1)
  tiered     pool frontend (1), pool backend (1), pool workers (1)
or any topology file (format in the README). Every node carries the label
gameday.dev/pool=<pool>; spare pools are kept out of service, as capacity
that has not joined (no Node object), until a step brings them in.`,
		RunE: cli.Group,
		Args: cobra.ArbitraryArgs,
	}
	cmd.AddCommand(up.NewCommand(g), down.NewCommand(g), list.NewCommand(g), status.NewCommand(g))
	return cmd
}
