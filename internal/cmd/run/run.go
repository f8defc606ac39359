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
	"github.com/spf13/pflag"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/clusterlock"
	"gameday.dev/gameday/internal/cmd/liveui"
	"gameday.dev/gameday/internal/cmd/scenarioarg"
	"gameday.dev/gameday/internal/cmd/targetarg"
	"gameday.dev/gameday/live"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/engine"
)

type flagpole struct {
	Topologies    []string
	DryRun        bool
	Retain        bool
	Reuse         bool
	UI            string
	Out           string
	Name          string
	Image         string
	System        string
	Baseline      string
	MaxRegression float64
	// AllowOtherScenario gates against a baseline of another scenario.
	AllowOtherScenario bool
	// Repeat is how many runs each topology gets.
	Repeat int
	// Target points the run at an existing cluster; ServiceURLs are where
	// its services answer; Yes confirms without asking.
	Target      targetarg.Flags
	ServiceURLs map[string]string
	Yes         bool
	ImageRepo   string
	fs          *pflag.FlagSet
}

// NewCommand returns `gameday run`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Replay a scenario on a cluster per topology",
		Long: `Replay a scenario (a built-in name or a file) on each of its topologies:
create the cluster, deploy the fixtures, check the steady state, run the
timeline with its automation, recover everything the run changed, and
delete the cluster unless --retain.

--reuse runs on clusters that exist instead (made by gameday up, or kept by
--retain), one per topology, and keeps them: each must have been made for
its topology, with no run's changes left in it (recovered, every node back
in service, the spares out); every tier is rolled out again before the
steady state. It saves the minute a new cluster takes, for runs in a row.

--dry-run prints that plan for each topology, with every target resolved to
the topology's pools, and changes nothing.

--baseline gates the run against an earlier one (exit 3 on a regression).
A baseline folder that holds its timeline is scored again by this gameday;
a report.json alone must have been scored by this version of the score. A
baseline of another scenario, or of another version of its file, is refused
(exit 2) unless --allow-other-scenario.

--repeat N runs each topology N times, each run in DIR/<topology>/run-<i>/;
the summary, the comparison and the gate take each topology's median run,
and DIR/<topology>/repeat.json lists every run's score with the median, the
lowest and the highest.

--context (with --kubeconfig) runs on an existing cluster gameday did not
create instead, every topology in turn on it. The context is always named,
never the current one, and said with its API server first. gameday touches
only nodes labelled gameday.dev/allow=true and namespace gameday, annotated
gameday.dev/allow: "true" (never the control plane or kube-system). A
topology's pools are its node groups (--pool-label, default EKS's, GKE's or
AKS's node-group label); --topology FILE, a topology file of the scenario's
topology's name with nodeGroups, maps its pools onto others. For the run the
opted-in nodes are labelled with their pools, spare pools held out of
service, and the fixtures deployed into namespace gameday (their image on
the nodes already, or pulled from --image-repo), all taken down after. What needs a machine is
emulated there, and the report says so: a node's loss (cordoned, tainted,
the opted-in namespaces' pods on it deleted), a spare pool's provisioning
(untainted, uncordoned), the control plane's upgrade (recorded by the
provider's stand-in). --service-url says where this machine reaches each
service (without it, the probes go through the API server's service
proxy); --image-repo pushes the fixtures' image to a registry the nodes
pull from (otherwise it must be on the nodes already). On a terminal it
asks first; elsewhere give --yes.`,
		Example: `  # what the seed incident's replay does on each topology
  gameday run cascading-outage --dry-run

  # replay it on both topologies, timelines in ./out/<topology>/timeline.jsonl
  gameday run cascading-outage --out out

  # only on the shared topology, keeping the cluster afterwards
  gameday run cascading-outage --topology shared --retain

  # on clusters made once, for scenario after scenario
  gameday up --topology shared --name lab
  gameday run cascading-outage --topology shared --name lab --reuse

  # in CI: 3 runs on separate, the median gated against a kept run's folder
  gameday run cascading-outage --topology separate --repeat 3 --out out \
    --baseline .gameday/baseline --max-regression 5

  # on a staging cluster's opted-in node groups, probed through its NodePorts
  gameday run cascading-outage --kubeconfig ~/.kube/staging --context staging-eu \
    --topology shared.yaml,separate.yaml \
    --service-url frontend=http://10.0.3.7:30080,api=http://10.0.3.7:30081 \
    --image-repo 123456789012.dkr.ecr.eu-west-1.amazonaws.com/gameday --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), g, f, args[0]) },
	}
	cmd.Flags().StringSliceVar(&f.Topologies, "topology", nil, "topologies to run on, comma-separated (default: the scenario's)")
	cmd.Flags().BoolVar(&f.DryRun, "dry-run", false, "print the plan and change nothing")
	cmd.Flags().BoolVar(&f.Retain, "retain", false, "keep each cluster after the run, for debugging")
	liveui.AddFlag(cmd, &f.UI, "replay")
	cmd.Flags().BoolVar(&f.Reuse, "reuse", false, "run on each topology's cluster <name>-<topology> that exists, and keep it")
	cmd.Flags().StringVar(&f.Out, "out", "", "folder for each topology's timeline, DIR/<topology>/timeline.jsonl (default gameday-<scenario>-<time>)")
	cmd.Flags().StringVar(&f.Name, "name", "gameday", "cluster name prefix: each topology's cluster is <name>-<topology>")
	scenarioarg.AddSystemFlag(cmd.Flags(), &f.System)
	cmd.Flags().StringVar(&f.Image, "image", "", "node image (default: kind's if present, else the offline gameday/node:offline)")
	cmd.Flags().StringVar(&f.Baseline, "baseline", "", "a run's folder (one baseline per topology), a topology's folder or a report.json to gate against: exit 3 on a regression")
	cmd.Flags().Float64Var(&f.MaxRegression, "max-regression", 5, "with --baseline: the most points the score may drop")
	cmd.Flags().BoolVar(&f.AllowOtherScenario, "allow-other-scenario", false, "with --baseline: gate against a run of another scenario, or of another version of its file")
	cmd.Flags().IntVar(&f.Repeat, "repeat", 1, "runs per topology: report and gate on each topology's median run, with the spread")
	f.Target.Add(cmd.Flags())
	f.fs = cmd.Flags()
	cmd.Flags().StringToStringVar(&f.ServiceURLs, "service-url", nil, "on an existing cluster: where this machine reaches each service of the system, NAME=URL (e.g. frontend=http://10.0.0.7:30080); default: through the API server's service proxy")
	cmd.Flags().BoolVar(&f.Yes, "yes", false, "on an existing cluster: run without asking to confirm (in CI)")
	cmd.Flags().StringVar(&f.ImageRepo, "image-repo", "", "on an existing cluster: push the fixtures' image to this repository (credentials from ~/.docker/config.json) for its nodes to pull (default: the nodes have it already)")
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole, arg string) error {
	if f.Repeat < 1 {
		return cli.Usagef("--repeat %d: each topology needs 1 run or more", f.Repeat)
	}
	if f.Repeat > 1 && f.Retain {
		return cli.Usagef("--retain keeps a topology's cluster, so that its next run could not create it: use --retain with --repeat 1")
	}
	s, err := scenarioarg.Resolve(arg, f.System)
	if err != nil {
		return err
	}
	topos, err := pick(s, f.Topologies)
	if err != nil {
		return err
	}
	for i, t := range topos {
		if !f.Target.Set() && !slices.ContainsFunc(s.Topologies, func(u cluster.Topology) bool { return u.SameLayout(t) }) {
			return cli.Usagef("--topology %s maps topology %s onto an existing cluster's node groups: give that cluster's --context", f.Topologies[i], t.Name)
		}
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
		if !f.AllowOtherScenario {
			if err := baseline.sameScenario(s); err != nil {
				return err
			}
		}
	}
	if f.Target.Set() {
		return onExisting(ctx, g, f, s, topos, baseline)
	}
	for _, fl := range []string{"service-url", "yes", "image-repo"} {
		if f.fs.Changed(fl) {
			return cli.Usagef("--%s is for a run on an existing cluster: give its --context", fl)
		}
	}
	if !f.DryRun {
		// (A dry run needs no image: it plans, and asks no Docker daemon.)
		if err := fixtures.CheckImages(ctx, s.System, g.Logger()); err != nil {
			return err
		}
		k, err := cluster.NewKind(g.Logger())
		if err != nil {
			return err
		}
		return replay(ctx, g, f, s, topos, baseline, &where{backend: engine.Kind(k), store: k.Store, reuse: f.Reuse,
			name: func(t cluster.Topology) string { return f.Name + "-" + t.Name }})
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
		if i >= 0 {
			out = append(out, s.Topologies[i])
			continue
		}
		// A topology file that maps one of the scenario's topologies onto an
		// existing cluster's node groups: the same name and pools, with
		// nodeGroups.
		if t, err := cluster.LoadTopology(n); err == nil {
			if i = slices.Index(have, t.Name); i >= 0 {
				if !sameBut(s.Topologies[i], t) {
					return nil, cli.Usagef("topology file %s names topology %s of scenario %s but not its pools: it may only add nodeGroups to them", n, t.Name, s.Name)
				}
				out = append(out, t)
				continue
			}
		} else if strings.ContainsAny(n, "/.") {
			return nil, err
		}
		return nil, cli.Usagef("scenario %s does not run on topology %q; it runs on %s (or give a topology file mapping one of them to node groups)", s.Name, n, strings.Join(have, ", "))
	}
	return out, nil
}

// sameBut reports whether u has t's name and pools (names, sizes, spares
// and what they replace): a file that maps t onto node groups (nodeGroups);
// labels and taints, which an existing cluster's nodes do not get, aside.
func sameBut(t, u cluster.Topology) bool {
	if t.Name != u.Name || len(t.Pools) != len(u.Pools) {
		return false
	}
	for i, p := range t.Pools {
		q := u.Pools[i]
		if p.Name != q.Name || p.Size != q.Size || p.Spare != q.Spare || p.Replaces != q.Replaces {
			return false
		}
	}
	return true
}

// replay runs the scenario on each topology in turn (one cluster at a time:
// two on a small machine make both flaky), --repeat times, then reports,
// compares and gates. Repeated runs take turns (shared, separate, shared,
// separate...) rather than coming in blocks: whatever drifts on the machine
// over the command (a warmer cache, another job) then weighs on every
// topology alike, not on the last topology's runs alone.
// where is where a command's runs happen: a backend, the store of its
// clusters' state, each topology's cluster's name, and whether the
// clusters exist already.
type where struct {
	backend engine.Backend
	store   *cluster.Store
	name    func(cluster.Topology) string
	reuse   bool
	// release frees what holds the cluster beyond this machine (an
	// existing cluster's Lease) once the runs are over; nil: nothing.
	release func()
}

func replay(ctx context.Context, g *cli.Globals, f *flagpole, s *scenarios.Scenario, topos []cluster.Topology, baseline *gate, w *where) error {
	var err error
	// Every cluster this command will use is taken before the first run: a
	// cluster in use fails the command now, not after the first topology.
	for _, t := range topos {
		if err := clusterlock.Take(g, w.store, w.name(t)); err != nil {
			return err
		}
	}
	// And, with --reuse, fit for it: an unfit second cluster refuses the
	// command before the first topology's run changes anything.
	if w.reuse {
		for _, t := range topos {
			o := engine.Options{Scenario: s, Topology: t, Name: w.name(t), Image: f.Image, Logger: g.Logger()}
			if err := engine.CheckReusable(ctx, w.backend, o); err != nil {
				return err
			}
		}
	}
	out := f.Out
	if out == "" {
		out = fmt.Sprintf("gameday-%s-%s", s.Name, time.Now().Format("20060102-150405"))
	}
	var results []*engine.Result
	var runErr error
	// The runs' own context: the live page's emergency stop ends them as
	// Ctrl-C does, and the page stays up for the debrief.
	runCtx, emergency := context.WithCancelCause(ctx)
	defer emergency(nil)
	var page *liveui.Page
rounds:
	for i := 1; i <= f.Repeat; i++ {
		for _, t := range topos {
			dir, which := filepath.Join(out, t.Name), "topology "+t.Name
			if f.Repeat > 1 {
				dir, which = filepath.Join(dir, runDir(i)), fmt.Sprintf("%s, run %d of %d", which, i, f.Repeat)
			}
			opts := engine.Options{Scenario: s, Topology: t, Name: w.name(t),
				OutDir: dir, Retain: f.Retain, Reuse: w.reuse, Image: f.Image, Logger: g.Logger()}
			if f.UI != "" {
				meta := engine.MetaFor(s, t.Name, opts.Name)
				info := liveui.InfoFor(s, t, opts.Name, meta, nil)
				if page == nil {
					if page, err = liveui.Start(ctx, f.UI, info, meta, g.Streams.Out, g.Streams.ErrOut); err != nil {
						return err
					}
					defer page.Stop()
				} else {
					page.Next(info, meta)
				}
				page.SetControls(live.Controls{Stop: func() string {
					fmt.Fprintln(g.Streams.ErrOut, "\nEmergency stop from the live page: recovering everything now")
					emergency(errEmergencyStop)
					return "stopping: everything is being put back"
				}})
				opts.Watch, opts.Notes = page.Feed, page.SetNotes
			}
			g.Logger().V(0).Infof("Replaying %s on %s", s.Name, which)
			res, err := engine.Run(runCtx, w.backend, opts)
			if page != nil {
				page.SetNotes(nil) // this run's timeline is closed
			}
			if err != nil && errors.Is(err, context.Canceled) && ctx.Err() == nil && errors.Is(context.Cause(runCtx), errEmergencyStop) {
				err = fmt.Errorf("%w: %w", errEmergencyStop, err)
			}
			results = append(results, res)
			if err != nil {
				runErr = fmt.Errorf("%s: %w", which, err)
				res.Failed = true
				break rounds
			}
		}
	}
	if runErr != nil {
		baseline = nil // a run that failed or was interrupted keeps its own exit code
	}
	ferr := finish(g, out, results, f.Repeat, baseline)
	if page != nil {
		page.SetControls(live.Controls{}) // the runs are over: no lever is left
		if err := page.DebriefOf(out, results); err == nil {
			g.ReleaseAll() // the clusters are free while the room reads the debrief
			if w.release != nil {
				w.release()
			}
			page.Linger(ctx, g.Streams.ErrOut)
		}
	}
	return errors.Join(runErr, ferr)
}

// errEmergencyStop is the cause of runs stopped from the live page.
var errEmergencyStop = errors.New("emergency stop from the live page")

// runDir is the folder of a topology's i-th run with --repeat.
func runDir(i int) string { return fmt.Sprintf("run-%d", i) }

// finish writes each run's reports and the comparison, prints the summary,
// and applies the baseline gate (exit 3 on a regression). With --repeat, each
// topology's median run stands for it in all three.
func finish(g *cli.Globals, out string, results []*engine.Result, repeat int, baseline *gate) error {
	var errs []error
	scored := make([]*reports.Report, len(results)) // nil: not scored
	for i, res := range results {
		dir := filepath.Dir(res.Timeline)
		r, err := reports.FromRun(dir)
		if errors.Is(err, reports.ErrNoTimeline) || errors.Is(err, fs.ErrNotExist) {
			continue // failed before its timeline: nothing to score
		}
		if err == nil {
			_, err = reports.WriteFiles(dir, r)
		}
		if err != nil {
			which := "topology " + res.Topology
			if repeat > 1 {
				which += ", " + filepath.Base(dir)
			}
			errs = append(errs, fmt.Errorf("report of %s: %w", which, err))
			continue
		}
		scored[i] = r
	}
	topos := byTopology(results, scored)
	var rs []*reports.Report // each topology's median run's
	for _, tr := range topos {
		if repeat > 1 && len(tr.spread.Runs) > 0 {
			if err := reports.WriteRepeat(filepath.Join(out, tr.name), tr.spread); err != nil {
				errs = append(errs, err)
			}
		}
		r := tr.medianReport()
		if r == nil {
			continue
		}
		rs = append(rs, r)
		if repeat > 1 {
			sp := tr.spread
			fmt.Fprintf(g.Streams.Out, "%s: the median of %d scored runs is %s's (%s; lowest %s, highest %s):\n\n", tr.name, len(sp.Runs),
				sp.MedianRun, reports.ScoreText(sp.Median), reports.ScoreText(sp.Min), reports.ScoreText(sp.Max))
		}
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
	var err error
	if repeat > 1 {
		err = writeRepeatSummary(g.Streams.Out, topos, repeat)
	} else {
		err = writeSummary(g.Streams.Out, topos)
	}
	if err != nil {
		return err
	}
	if len(errs) > 0 || baseline == nil {
		return errors.Join(errs...)
	}
	return baseline.check(g, rs)
}
