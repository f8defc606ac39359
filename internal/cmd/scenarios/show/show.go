// Package show implements `gameday scenarios show`.
package show

import (
	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/scenarios"
)

// NewCommand returns `gameday scenarios show`.
func NewCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a scenario's file",
		Long:  "Print a scenario's file: a built-in's as it ships (a starting point for your own), or a file's once it validates.",
		Example: `  gameday scenarios show cascading-outage
  gameday scenarios show cascading-outage > my-outage.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, data, err := scenarios.Resolve(args[0])
			if err != nil {
				return err
			}
			_, err = g.Streams.Out.Write(data)
			return err
		},
	}
}
