package reports

import (
	"fmt"
	"math"
)

// Gate compares a report with a baseline of the same scenario and says why
// it regressed: the score dropped by more than maxDrop points, or an
// objective or business window that passed in the baseline fails now. No
// reason means it passes.
func Gate(current, baseline *Report, maxDrop float64) []string {
	var why []string
	// Scores have one decimal: compare the drop in tenths, so that 64.4 ->
	// 59.4 is a drop of exactly 5, not 5.000000000000007.
	if drop := round1(baseline.Score - current.Score); drop > maxDrop {
		why = append(why, fmt.Sprintf("score dropped %s points (%s on baseline %s -> %s on %s), more than the %s allowed",
			ScoreText(drop), ScoreText(baseline.Score), baseline.Topology, ScoreText(current.Score), current.Topology, ScoreText(maxDrop)))
	}
	check := func(kind string, base, now []Verdict) {
		for _, b := range base {
			if !b.Passed {
				continue
			}
			for _, v := range now {
				if v.Name == b.Name && !v.Passed {
					why = append(why, fmt.Sprintf("%s %q passed on the baseline and fails now: %s", kind, v.Name, v.Message))
				}
			}
		}
	}
	// A step the cluster refused that it did not refuse on the baseline.
	refused := map[string]bool{}
	for _, ref := range baseline.Refusals {
		refused[ref.Step] = true
	}
	for _, ref := range current.Refusals {
		if !refused[ref.Step] {
			why = append(why, fmt.Sprintf("the cluster refused step %s, which it did not on the baseline: %s", ref.Step, ref.Message))
		}
	}
	check("objective", baseline.Objectives, current.Objectives)
	check("business window", baseline.BusinessWindows, current.BusinessWindows)
	return why
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
