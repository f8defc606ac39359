// Package report implements `gameday report`: show a run's report, compare
// runs side by side.
package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
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

// Load reads every report a RUN argument names: a report.json, a topology
// folder, or a run folder holding topology folders.
func Load(arg string) ([]*reports.Report, error) {
	st, err := os.Stat(arg)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("no run at %s: %w", arg, err))
	}
	if !st.IsDir() || isTopologyDir(arg) {
		r, err := reports.Load(arg)
		if err != nil {
			return nil, cli.Usage(err)
		}
		return []*reports.Report{r}, nil
	}
	entries, err := os.ReadDir(arg)
	if err != nil {
		return nil, err
	}
	var out []*reports.Report
	for _, e := range entries {
		if dir := filepath.Join(arg, e.Name()); e.IsDir() && isTopologyDir(dir) {
			r, err := reports.Load(dir)
			if err != nil {
				return nil, cli.Usage(err)
			}
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, cli.Usagef("%s holds no run: no report.json or timeline.jsonl in it or in its folders", arg)
	}
	return out, nil
}

// LoadAll loads every argument's reports, in order.
func LoadAll(args []string) ([]*reports.Report, error) {
	var out []*reports.Report
	for _, a := range args {
		rs, err := Load(a)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

// IsRunFolder reports whether path is a run's folder (topology folders in
// it), not a report.json or one topology's folder.
func IsRunFolder(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir() && !isTopologyDir(path)
}

func isTopologyDir(dir string) bool {
	for _, f := range []string{reports.JSONFile, reports.TimelineFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil || !errors.Is(err, fs.ErrNotExist) {
			return true
		}
	}
	return false
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
