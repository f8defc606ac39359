package run

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios"
)

// gate is a baseline: one report for every topology, or one per topology.
type gate struct {
	path    string
	byTopo  map[string]*reports.Report
	single  *reports.Report
	maxDrop float64
}

// loadBaseline reads --baseline: a report.json or a topology folder (one
// report, the baseline of every topology run), or a run's folder (each
// topology against its own). Every baseline score is today's code's: a
// folder's timeline is scored again (reports.LoadBaseline).
func loadBaseline(path string, maxDrop float64) (*gate, error) {
	if maxDrop < 0 {
		return nil, cli.Usagef("--max-regression %g: must be 0 or more points", maxDrop)
	}
	rs, err := reports.LoadBaseline(path)
	if err != nil {
		return nil, cli.Usage(fmt.Errorf("--baseline: %w", err))
	}
	g := &gate{path: path, maxDrop: maxDrop, byTopo: map[string]*reports.Report{}}
	if !reports.IsRunFolder(path) { // a report.json or a topology folder
		g.single = rs[0]
		return g, nil
	}
	for _, r := range rs {
		g.byTopo[r.Topology] = r
	}
	return g, nil
}

// sameScenario refuses a baseline of another scenario: a score compares
// only with one of the same incident. The digest tells another version of a
// file with the same name; a baseline recorded before digests is compared
// by name.
func (g *gate) sameScenario(s *scenarios.Scenario) error {
	for _, b := range g.all() {
		switch {
		case b.Scenario != s.Name:
			return cli.Usagef("--baseline %s is a run of scenario %s, this run is of scenario %s: a score compares only with the same scenario's (--allow-other-scenario to gate against it anyway)",
				g.path, b.Scenario, s.Name)
		case b.ScenarioDigest != "" && b.ScenarioDigest != s.Digest:
			return cli.Usagef("--baseline %s is a run of another version of scenario %s (file %s, this one %s): a score compares only with the same scenario's (--allow-other-scenario to gate against it anyway)",
				g.path, s.Name, short(b.ScenarioDigest), short(s.Digest))
		}
	}
	return nil
}

// short is a digest's first 12 hex digits, enough to tell two files apart.
func short(digest string) string {
	if d := strings.TrimPrefix(digest, "sha256:"); len(d) > 12 {
		return "sha256:" + d[:12]
	}
	return digest
}

// all lists every baseline report, in topology order.
func (g *gate) all() []*reports.Report {
	if g.single != nil {
		return []*reports.Report{g.single}
	}
	var out []*reports.Report
	for _, t := range slices.Sorted(maps.Keys(g.byTopo)) {
		out = append(out, g.byTopo[t])
	}
	return out
}

func (g *gate) baselineFor(topology string) *reports.Report {
	if g.single != nil {
		return g.single
	}
	return g.byTopo[topology]
}

// check gates every report against its baseline; a regression is exit 3.
func (g *gate) check(gl *cli.Globals, rs []*reports.Report) error {
	var lines []string
	for _, r := range rs {
		b := g.baselineFor(r.Topology)
		if b == nil {
			lines = append(lines, fmt.Sprintf("%s: no baseline for this topology in %s", r.Topology, g.path))
			continue
		}
		if b.Scenario != r.Scenario || (b.ScenarioDigest != "" && b.ScenarioDigest != r.ScenarioDigest) {
			// sameScenario refused it before the run, unless --allow-other-scenario.
			fmt.Fprintf(gl.Streams.Out, "gate %s: the baseline is a run of %s, allowed by --allow-other-scenario\n", r.Topology, scenarioText(b))
		}
		if b.SystemDigest != "" && r.SystemDigest != "" && (b.System != r.System || b.SystemDigest != r.SystemDigest) {
			// What a CI gate of a System file's change is for: say what changed.
			fmt.Fprintf(gl.Streams.Out, "gate %s: the system changed: baseline %s (%s), this run %s (%s)\n", r.Topology, b.System, short(b.SystemDigest), r.System, short(r.SystemDigest))
		}
		if measuredAs(b) != measuredAs(r) {
			// Not measured alike: a node's loss emulated or not, probes with
			// or without the API server's hop. Said, for the gate's reader.
			fmt.Fprintf(gl.Streams.Out, "gate %s: not measured alike: the baseline %s, this run %s\n", r.Topology, measuredAs(b), measuredAs(r))
		}
		why := reports.Gate(r, b, g.maxDrop)
		verdict := "PASS"
		if len(why) > 0 {
			verdict = "FAIL"
		}
		fmt.Fprintf(gl.Streams.Out, "gate %s: %s (score %s, baseline %s on %s, at most %s points less)\n", r.Topology, verdict,
			reports.ScoreText(r.Score), reports.ScoreText(b.Score), b.Topology, reports.ScoreText(g.maxDrop))
		for _, w := range why {
			fmt.Fprintf(gl.Streams.Out, "  - %s\n", w)
			lines = append(lines, r.Topology+": "+w)
		}
	}
	if len(lines) == 0 {
		return nil
	}
	return cli.WithCode(cli.ExitObjectives, fmt.Errorf("regression against the baseline %s: %s", g.path, strings.Join(lines, "; ")))
}

// scenarioText names a report's scenario, with its file's short digest.
func scenarioText(r *reports.Report) string {
	if r.ScenarioDigest == "" {
		return "scenario " + r.Scenario
	}
	return fmt.Sprintf("scenario %s (%s)", r.Scenario, short(r.ScenarioDigest))
}

// measuredAs says how a run was measured: its backend and its probes' route.
func measuredAs(r *reports.Report) string {
	backend := r.Backend
	if backend == "" {
		backend = "kind"
	}
	probes := "probed straight from the runner"
	if r.ProbedVia != "" {
		probes = "probed through " + r.ProbedVia
	}
	return "ran on backend " + backend + ", " + probes
}
