package run

import (
	"fmt"
	"strings"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
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
// topology against its own).
func loadBaseline(path string, maxDrop float64) (*gate, error) {
	if maxDrop < 0 {
		return nil, cli.Usagef("--max-regression %g: must be 0 or more points", maxDrop)
	}
	rs, err := reports.LoadRun(path)
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
		if b.Scenario != r.Scenario {
			lines = append(lines, fmt.Sprintf("%s: the baseline is of scenario %s, this run of %s", r.Topology, b.Scenario, r.Scenario))
			continue
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
