// Package down implements `gameday cluster down`.
package down

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/clusterlock"
	"gameday.dev/gameday/progress"
)

type flagpole struct {
	Name string
}

// NewCommand returns `gameday cluster down`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Delete a cluster gameday created",
		Long: `Delete a cluster gameday created: its node containers, its docker network,
its kubeconfig and gameday's record of it. A kind cluster gameday did not
create is refused.`,
		Example: "  gameday cluster down\n  gameday cluster down --name iso",
		Args:    cli.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), g, f) },
	}
	cmd.Flags().StringVar(&f.Name, "name", "gameday", "cluster name")
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole) error {
	logger := g.Logger()
	k, err := cluster.NewKind(logger)
	if err != nil {
		return err
	}
	if err := clusterlock.Take(g, k.Store, f.Name); err != nil {
		return err
	}
	status := progress.For(logger)
	status.Start(fmt.Sprintf("Deleting cluster %q", f.Name))
	err = k.Delete(ctx, f.Name)
	status.End(err == nil)
	return err
}
