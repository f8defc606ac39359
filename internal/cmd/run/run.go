// Package run implements `gameday run`.
package run

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/engine"
)

type flagpole struct {
	Topologies    []string
	DryRun        bool
	Retain        bool
	Out           string
	Name          string
	Image         string
	Baseline      string
	MaxRegression float64
}

// NewCommand returns `gameday run`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Replay a scenario on a fresh cluster per topology",
		Long: `Replay a scenario (a built-in name or a file) on each of its topologies:
create the cluster, deploy the fixtures, check the steady state, run the
timeline with its automation, recover everything the run changed, and
delete the cluster unless --retain.

--dry-run prints that plan for each topology, with every target resolved to
the topology's pools, and changes nothing.`,
		Example: `  # what the seed incident's replay does on each topology
  gameday run cascading-outage --dry-run

  # replay it on both topologies, timelines in ./out/<topology>/timeline.jsonl
  gameday run cascading-outage --out out

  # only on the shared topology, keeping the cluster afterwards
  gameday run cascading-outage --topology shared --retain`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), g, f, args[0]) },
	}
	cmd.Flags().StringSliceVar(&f.Topologies, "topology", nil, "topologies to run on, comma-separated (default: the scenario's)")
	cmd.Flags().BoolVar(&f.DryRun, "dry-run", false, "print the plan and change nothing")
	cmd.Flags().BoolVar(&f.Retain, "retain", false, "keep each cluster after the run, for debugging")
	cmd.Flags().StringVar(&f.Out, "out", "", "folder for each topology's timeline, DIR/<topology>/timeline.jsonl (default gameday-<scenario>-<time>)")
	cmd.Flags().StringVar(&f.Name, "name", "gameday", "cluster name prefix: each topology's cluster is <name>-<topology>")
	cmd.Flags().StringVar(&f.Image, "image", "", "node image (default: kind's if present, else the offline gameday/node:offline)")
	cmd.Flags().StringVar(&f.Baseline, "baseline", "", "a report.json, or a run's folder (one report per topology), to gate against: exit 3 on a regression")
	cmd.Flags().Float64Var(&f.MaxRegression, "max-regression", 5, "with --baseline: the most points the score may drop")
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole, arg string) error {
	s, _, err := scenarios.Resolve(arg)
	if err != nil {
		return err
	}
	topos, err := pick(s, f.Topologies)
	if err != nil {
		return err
	}
	for _, t := range topos {
		if err := cluster.ValidateName(f.Name + "-" + t.Name); err != nil {
			return err
		}
	}
	var baseline *gate
	if f.Baseline != "" { // bad input fails before any cluster exists, --dry-run included
		if baseline, err = loadBaseline(f.Baseline, f.MaxRegression); err != nil {
			return err
		}
	}
	if !f.DryRun {
		return replay(ctx, g, f, s, topos, baseline)
	}
	for i, t := range topos {
		if i > 0 {
			fmt.Fprintln(g.Streams.Out)
		}
		if err := scenarios.WritePlan(g.Streams.Out, s, t); err != nil {
			return err
		}
	}
	return nil
}

// pick returns the scenario's topologies named by --topology, in its order.
func pick(s *scenarios.Scenario, names []string) ([]cluster.Topology, error) {
	if len(names) == 0 {
		return s.Topologies, nil
	}
	var have []string
	for _, t := range s.Topologies {
		have = append(have, t.Name)
	}
	var out []cluster.Topology
	for _, n := range names {
		i := slices.Index(have, n)
		if i < 0 {
			return nil, cli.Usagef("scenario %s does not run on topology %q; it runs on %s", s.Name, n, strings.Join(have, ", "))
		}
		out = append(out, s.Topologies[i])
	}
	return out, nil
}

// replay runs the scenario on each topology in turn (one cluster at a time:
// two on a small machine make both flaky), then reports, compares and gates.
func replay(ctx context.Context, g *cli.Globals, f *flagpole, s *scenarios.Scenario, topos []cluster.Topology, baseline *gate) error {
	k, err := cluster.NewKind(g.Logger())
	if err != nil {
		return err
	}
	out := f.Out
	if out == "" {
		out = fmt.Sprintf("gameday-%s-%s", s.Name, time.Now().Format("20060102-150405"))
	}
	var results []*engine.Result
	var runErr error
	for _, t := range topos {
		g.Logger().V(0).Infof("Replaying %s on topology %s", s.Name, t.Name)
		res, err := engine.Run(ctx, k, engine.Options{Scenario: s, Topology: t, Name: f.Name + "-" + t.Name,
			OutDir: filepath.Join(out, t.Name), Retain: f.Retain, Image: f.Image, Logger: g.Logger()})
		results = append(results, res)
		if err != nil {
			runErr = fmt.Errorf("topology %s: %w", t.Name, err)
			res.Failed = true
			break
		}
	}
	if runErr != nil {
		baseline = nil // a run that failed or was interrupted keeps its own exit code
	}
	return errors.Join(runErr, finish(g, out, results, baseline))
}

// finish writes each run's reports and the comparison, prints the summary,
// and applies the baseline gate (exit 3 on a regression).
func finish(g *cli.Globals, out string, results []*engine.Result, baseline *gate) error {
	var rs []*reports.Report
	var errs []error
	scores := map[string]string{}
	for _, res := range results {
		dir := filepath.Dir(res.Timeline)
		r, err := reports.FromRun(dir)
		if errors.Is(err, reports.ErrNoTimeline) || errors.Is(err, fs.ErrNotExist) {
			continue // failed before its timeline: nothing to score
		}
		if err == nil {
			_, err = reports.WriteFiles(dir, r)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("report of topology %s: %w", res.Topology, err))
			continue
		}
		rs = append(rs, r)
		scores[res.Topology] = reports.ScoreText(r.Score)
	}
	for _, r := range rs {
		if err := reports.WriteText(g.Streams.Out, r); err != nil {
			return err
		}
		fmt.Fprintln(g.Streams.Out)
	}
	if len(rs) > 1 {
		c := reports.Compare(rs)
		if _, err := reports.WriteCompareFiles(out, c); err != nil {
			errs = append(errs, err)
		}
		if err := reports.WriteCompareText(g.Streams.Out, c); err != nil {
			return err
		}
		fmt.Fprintln(g.Streams.Out)
	}
	tbl := cli.NewTable(g.Streams.Out, "TOPOLOGY", "RESULT", "SCORE", "REPLAY", "PROBES", "REPORT")
	for _, r := range results {
		result := "completed"
		switch {
		case r.Aborted != "":
			result = "aborted: " + r.Aborted
		case r.Failed:
			result = "failed (below)"
		}
		score, report := "-", "-"
		if sc, ok := scores[r.Topology]; ok {
			score, report = sc, filepath.Join(filepath.Dir(r.Timeline), reports.HTMLFile)
		}
		tbl.Row(r.Topology, result, score, r.Replay.Round(100*time.Millisecond).String(), fmt.Sprintf("%.1f/s", r.ProbeRate), report)
	}
	if err := tbl.Flush(); err != nil {
		return err
	}
	if len(errs) > 0 || baseline == nil {
		return errors.Join(errs...)
	}
	return baseline.check(g, rs)
}
