// Package report implements `gameday report`: show a run's report, compare
// runs side by side.
package report

import (
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
)

// NewCommand returns `gameday report`.
func NewCommand(g *cli.Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Show and compare the reports of runs",
		Long: `Every ` + "`gameday run --out DIR`" + ` writes, per topology, DIR/<topology>/ with the
timeline, report.json, report.md, report.html and junit.xml, and DIR/compare.md
and DIR/compare.html. These commands read them back: a RUN is a run's folder
(every topology in it), one topology's folder, or a report.json. A folder
without a report.json is scored again from its timeline.jsonl and run.json.`,
		RunE: cli.Group,
		Args: cobra.ArbitraryArgs,
	}
	cmd.AddCommand(newShow(g), newCompare(g), newSchema(g))
	return cmd
}

// LoadAll loads every RUN argument's reports, in order; a path that holds
// none is bad input.
func LoadAll(args []string) ([]*reports.Report, error) {
	var out []*reports.Report
	for _, a := range args {
		rs, err := reports.LoadRun(a)
		if err != nil {
			return nil, cli.Usage(err)
		}
		out = append(out, rs...)
	}
	return out, nil
}

func formatFlag(cmd *cobra.Command, f *string, formats []string) {
	cmd.Flags().StringVarP(f, "output", "o", formats[0], "format: "+strings.Join(formats, ", "))
}

func checkFormat(f string, formats []string) error {
	if !slices.Contains(formats, f) {
		return cli.Usagef("unknown format %q: use %s", f, strings.Join(formats, ", "))
	}
	return nil
}
