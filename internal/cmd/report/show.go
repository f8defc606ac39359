package report

import (
	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
)

func newShow(g *cli.Globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show RUN...",
		Short: "Print a run's report: score, measures, blast radius, changes in flight, why",
		Example: `  # every topology of a run
  gameday report show out
  # one topology, as Markdown for a ticket
  gameday report show out/shared -o md
  # the HTML page, self-contained
  gameday report show out/shared/report.json -o html > shared.html`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, reports.Formats); err != nil {
				return err
			}
			rs, err := LoadAll(args)
			if err != nil {
				return err
			}
			if format == reports.FormatJUnit {
				return reports.WriteJUnit(g.Streams.Out, rs...)
			}
			for i, r := range rs {
				if i > 0 && format == reports.FormatText {
					if _, err := g.Streams.Out.Write([]byte("\n")); err != nil {
						return err
					}
				}
				if err := reports.Write(g.Streams.Out, format, r); err != nil {
					return err
				}
			}
			return nil
		},
	}
	formatFlag(cmd, &format, reports.Formats)
	return cmd
}
