package report

import (
	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
)

func newSchema(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:     "schema",
		Short:   "Print the JSON Schema of report.json",
		Example: `  gameday report schema > report.schema.json`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := reports.JSONSchema()
			if err != nil {
				return err
			}
			_, err = g.Streams.Out.Write(append(b, '\n'))
			return err
		},
	}
}
