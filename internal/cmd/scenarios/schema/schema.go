// Package schema implements `gameday scenarios schema`.
package schema

import (
	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/scenarios"
)

// NewCommand returns `gameday scenarios schema`.
func NewCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the scenario format, for editors",
		Example: `  gameday scenarios schema > scenario.schema.json
  # VS Code with the YAML extension: first line of a scenario file
  # yaml-language-server: $schema=./scenario.schema.json`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := scenarios.Schema()
			if err != nil {
				return err
			}
			_, err = g.Streams.Out.Write(append(data, '\n'))
			return err
		},
	}
}
