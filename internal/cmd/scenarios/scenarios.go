// Package scenarios implements `gameday scenarios`, the parent of list, show, validate and schema.
package scenarios

import (
	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/scenarios/list"
	"gameday.dev/gameday/internal/cmd/scenarios/schema"
	"gameday.dev/gameday/internal/cmd/scenarios/show"
	"gameday.dev/gameday/internal/cmd/scenarios/validate"
)

// NewCommand returns `gameday scenarios`.
func NewCommand(g *cli.Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "scenarios",
		Short: "List, show and validate scenarios",
		Long: `A scenario replays an incident on a cluster: fixture parameters, objectives
(per-service SLOs), a timeline of steps, automation rules, abort conditions
and business windows, in a versioned YAML file (apiVersion
gameday.dev/v1alpha1, kind Scenario). gameday ships cascading-outage; any
file in the format runs too. The format is in the README; its JSON Schema
comes from ` + "`gameday scenarios schema`" + `.`,
		RunE: cli.Group,
		Args: cobra.ArbitraryArgs,
	}
	cmd.AddCommand(list.NewCommand(g), show.NewCommand(g), validate.NewCommand(g), schema.NewCommand(g))
	return cmd
}
