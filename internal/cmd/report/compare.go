package report

import (
	"strings"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
)

func newCompare(g *cli.Globals) *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "compare RUN...",
		Short: "Put runs side by side and say what made the difference",
		Example: `  # both topologies of one run
  gameday report compare out
  # two runs, e.g. before and after a change
  gameday report compare before/separate after/separate
  # write compare.md and compare.html into a folder
  gameday report compare out/shared out/separate --out debrief`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format, reports.CompareFormats); err != nil {
				return err
			}
			rs, err := LoadAll(args)
			if err != nil {
				return err
			}
			if len(rs) < 2 {
				return cli.Usagef("compare needs at least two reports; %v holds one", args)
			}
			c := reports.Compare(rs)
			if out != "" {
				paths, err := reports.WriteCompareFiles(out, c)
				if err != nil {
					return err
				}
				g.Logger().V(0).Infof("Wrote %s", strings.Join(paths, ", "))
			}
			return reports.WriteCompare(g.Streams.Out, format, c)
		},
	}
	formatFlag(cmd, &format, reports.CompareFormats)
	cmd.Flags().StringVar(&out, "out", "", "also write compare.md and compare.html into this folder")
	return cmd
}
