package reports

import (
	"fmt"
	"slices"
	"strings"
)

// Comparison puts the reports of one scenario on several topologies side by
// side and says in words what made the difference.
type Comparison struct {
	Scenario string    `json:"scenario"`
	Reports  []*Report `json:"reports"`
	// Best is the topology with the highest score.
	Best        string   `json:"best"`
	Explanation []string `json:"explanation"`
}

// Compare compares reports (normally one scenario on each topology).
func Compare(rs []*Report) *Comparison {
	c := &Comparison{Reports: rs}
	if len(rs) == 0 {
		return c
	}
	var scenarios []string
	for _, r := range rs {
		if !slices.Contains(scenarios, r.Scenario) {
			scenarios = append(scenarios, r.Scenario)
		}
	}
	c.Scenario = strings.Join(scenarios, ", ")
	best := slices.MaxFunc(rs, func(a, b *Report) int { return cmpFloat(a.Score, b.Score) })
	c.Best = best.Topology
	var scores []string
	for _, r := range rs {
		scores = append(scores, fmt.Sprintf("%s %s", r.Topology, ScoreText(r.Score)))
	}
	if len(rs) < 2 {
		c.Explanation = []string{"Only one report: nothing to compare."}
		return c
	}
	c.Explanation = append(c.Explanation, fmt.Sprintf("Scores: %s; %s held up best.", strings.Join(scores, ", "), best.Topology))
	for _, r := range rs {
		if r == best {
			continue
		}
		// Per service: down on one topology, up on the best one.
		for _, s := range r.Services {
			b, ok := serviceOf(best, s.Name)
			if !ok {
				continue
			}
			switch {
			case s.DowntimeSeconds > b.DowntimeSeconds && b.DowntimeSeconds == 0:
				line := fmt.Sprintf("On `%s` the %s was down %s", r.Topology, s.Name, seconds(s.DowntimeSeconds))
				if len(s.Pools) > 0 {
					line += fmt.Sprintf(" (pool %s", quoteList(s.Pools))
					if others := r.tiersWith(s); len(others) > 0 {
						line += " shared with " + strings.Join(others, ", ")
					}
					line += ")"
				}
				line += fmt.Sprintf("; on `%s` it stayed up", best.Topology)
				if len(b.Pools) > 0 {
					line += fmt.Sprintf(" on pool %s", quoteList(b.Pools))
				}
				if b.DegradedSeconds > 0 {
					line += fmt.Sprintf(", degraded %s", seconds(b.DegradedSeconds))
				}
				c.Explanation = append(c.Explanation, line+".")
			case s.DowntimeSeconds > b.DowntimeSeconds:
				c.Explanation = append(c.Explanation, fmt.Sprintf("The %s was down %s on `%s`, %s on `%s`.",
					s.Name, seconds(s.DowntimeSeconds), r.Topology, seconds(b.DowntimeSeconds), best.Topology))
			}
		}
		rb, bb := r.BlastRadius, best.BlastRadius
		var wider []string
		if rb.RequestsFailedShare > bb.RequestsFailedShare {
			wider = append(wider, fmt.Sprintf("requests failed %s vs %s", pct(rb.RequestsFailedShare), pct(bb.RequestsFailedShare)))
		}
		if rb.PoolsShare > bb.PoolsShare {
			wider = append(wider, fmt.Sprintf("pools touched %s vs %s", pct(rb.PoolsShare), pct(bb.PoolsShare)))
		}
		if rb.NodesLost > bb.NodesLost {
			wider = append(wider, fmt.Sprintf("nodes lost %d vs %d", rb.NodesLost, bb.NodesLost))
		}
		if rb.PodsDisrupted > bb.PodsDisrupted {
			wider = append(wider, fmt.Sprintf("pods disrupted %d vs %d", rb.PodsDisrupted, bb.PodsDisrupted))
		}
		if len(wider) > 0 {
			c.Explanation = append(c.Explanation, fmt.Sprintf("`%s` had the wider blast radius: %s.", r.Topology, strings.Join(wider, ", ")))
		}
	}
	return c
}

func serviceOf(r *Report, name string) (Service, bool) {
	for _, s := range r.Services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}

// tiersWith lists the other tiers on the service's pools at the start.
func (r *Report) tiersWith(s Service) []string {
	var out []string
	for _, p := range s.Pools {
		for _, t := range r.pool(p).Tiers {
			if t == s.TierName() || slices.Contains(out, t) {
				continue
			}
			if slices.Contains(r.BlastRadius.TiersCrashLooping, t) {
				t = "the crash-looping " + t
			}
			out = append(out, t)
		}
	}
	return out
}
