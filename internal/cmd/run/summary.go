package run

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/engine"
)

// topologyRuns are a topology's runs (one, or --repeat of them) and the one
// that stands for them: the median run, whose score is the median score.
type topologyRuns struct {
	name    string
	results []*engine.Result
	reports []*reports.Report // each result's; nil when it was not scored
	median  int               // the median run's index in results; -1: none scored
	spread  reports.Repeat
}

// byTopology groups results (and their reports) by topology, in run order.
func byTopology(results []*engine.Result, scored []*reports.Report) []*topologyRuns {
	var out []*topologyRuns
	seen := map[string]*topologyRuns{}
	for i, res := range results {
		tr := seen[res.Topology]
		if tr == nil {
			tr = &topologyRuns{name: res.Topology}
			seen[res.Topology] = tr
			out = append(out, tr)
		}
		tr.results = append(tr.results, res)
		tr.reports = append(tr.reports, scored[i])
	}
	for _, tr := range out {
		tr.summarize()
	}
	return out
}

// summarize finds the median run among the scored ones, and the spread.
func (tr *topologyRuns) summarize() {
	var dirs []string
	var rs []*reports.Report
	var at []int // index in results of each scored run
	for i, r := range tr.reports {
		if r != nil {
			dirs = append(dirs, filepath.Base(filepath.Dir(tr.results[i].Timeline)))
			rs = append(rs, r)
			at = append(at, i)
		}
	}
	var m int
	tr.spread, m = reports.NewRepeat(dirs, rs)
	tr.median = -1
	if m >= 0 {
		tr.median = at[m]
	}
}

func (tr *topologyRuns) medianReport() *reports.Report {
	if tr.median < 0 {
		return nil
	}
	return tr.reports[tr.median]
}

// resultText says how a run ended.
func resultText(r *engine.Result) string {
	switch {
	case r.Aborted != "":
		return "aborted: " + r.Aborted
	case r.Failed:
		return "failed (below)"
	case len(r.AutomationErrors) > 0:
		return "completed; automation failed: " + r.AutomationErrors[0]
	}
	return "completed"
}

// reportPath is where a scored run's HTML report is, "-" for none.
func reportPath(res *engine.Result, r *reports.Report) string {
	if r == nil {
		return "-"
	}
	return filepath.Join(filepath.Dir(res.Timeline), reports.HTMLFile)
}

// writeSummary is the table of one run per topology: a row per run.
func writeSummary(w io.Writer, topos []*topologyRuns) error {
	tbl := cli.NewTable(w, "TOPOLOGY", "RESULT", "SCORE", "REPLAY", "PROBES", "REPORT")
	for _, tr := range topos {
		for i, res := range tr.results {
			score := "-"
			if r := tr.reports[i]; r != nil {
				score = reports.ScoreText(r.Score)
			}
			tbl.Row(res.Topology, resultText(res), score, res.Replay.Round(100*time.Millisecond).String(),
				fmt.Sprintf("%.1f/s", res.ProbeRate), reportPath(res, tr.reports[i]))
		}
	}
	return tbl.Flush()
}

// writeRepeatSummary is the table of --repeat runs: a row per topology, its
// median score and spread, every run's score in run order, and the median
// run's report.
func writeRepeatSummary(w io.Writer, topos []*topologyRuns, repeat int) error {
	tbl := cli.NewTable(w, "TOPOLOGY", "RESULT", "MEDIAN", "MIN", "MAX", "SCORES", "REPORT")
	for _, tr := range topos {
		median, lo, hi, report := "-", "-", "-", "-"
		if tr.median >= 0 {
			sp := tr.spread
			median, lo, hi = reports.ScoreText(sp.Median), reports.ScoreText(sp.Min), reports.ScoreText(sp.Max)
			report = reportPath(tr.results[tr.median], tr.reports[tr.median])
		}
		var scores []string
		for _, r := range tr.reports {
			if r == nil {
				scores = append(scores, "-")
				continue
			}
			scores = append(scores, reports.ScoreText(r.Score))
		}
		tbl.Row(tr.name, repeatResult(tr, repeat), median, lo, hi, strings.Join(scores, " "), report)
	}
	return tbl.Flush()
}

// repeatResult says how a topology's runs ended: completed, the run that did
// not, or how many ran when another topology's run stopped them.
func repeatResult(tr *topologyRuns, repeat int) string {
	for i, res := range tr.results {
		if r := resultText(res); r != "completed" {
			return fmt.Sprintf("run %d %s", i+1, r)
		}
	}
	if len(tr.results) < repeat {
		return fmt.Sprintf("%d of %d runs", len(tr.results), repeat)
	}
	return "completed"
}
