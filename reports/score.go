package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ScoringVersion versions the score's definition: what is measured and how
// it is weighed. A change that can move a score for the same timeline bumps
// it, so that a gate never compares scores of two definitions (a baseline
// scored by another version is scored again from its timeline, or refused).
// Reports and run.json files without one predate it: their version is
// unknown.
const ScoringVersion = 3

// The score's weights: each component takes its weight times a share (0:
// nothing went wrong, 1: everything did) off 100. Every share grows with
// failed requests, downtime, slower recovery or a wider blast radius, and
// none shrinks, so the score is monotonic in each.
const (
	WeightAvailability = 30 // share of requests that failed
	WeightDowntime     = 30 // mean over services of the share of the span spent down
	WeightRecovery     = 15 // longest time to recover as a share of the span; 1 if never recovered
	WeightBlastRadius  = 25 // mean of services, pools, nodes and pods disrupted shares
)

// score computes the components and the score.
func score(r *Report) {
	// Every share is of the horizon, which the scenario fixes: not of the
	// run's length, which waiting would stretch.
	span := math.Max(r.HorizonSeconds, Bucket.Seconds())
	var down, recov float64
	for _, s := range r.Services {
		down += s.DowntimeSeconds / span
		switch {
		case !s.Recovered:
			recov = 1
		case s.TimeToRecoverSeconds != nil:
			recov = math.Max(recov, math.Min(1, *s.TimeToRecoverSeconds/span))
		}
	}
	if len(r.Services) > 0 {
		down /= float64(len(r.Services))
	}
	b := r.BlastRadius
	blast := (b.ServicesShare + b.PoolsShare + b.NodesShare + b.PodsShare) / 4

	recovDetail := "no breach"
	switch {
	case !r.Recovered:
		recovDetail = "a service never held its objective for a full window again"
	case r.FirstBreach != nil:
		recovDetail = fmt.Sprintf("the slowest service recovered %s after its first breach", seconds(math.Round(recov*span)))
	}
	var downs []string
	for _, s := range r.Services {
		downs = append(downs, fmt.Sprintf("%s %s", s.Name, seconds(s.DowntimeSeconds)))
	}
	r.Components = []Component{
		component("availability", WeightAvailability, b.RequestsFailedShare,
			fmt.Sprintf("%d of %d requests failed", b.RequestsFailed, b.Requests)),
		component("downtime", WeightDowntime, down, "down: "+strings.Join(downs, ", ")+" of "+seconds(math.Round(r.HorizonSeconds))),
		component("recovery", WeightRecovery, recov, recovDetail),
		component("blast radius", WeightBlastRadius, blast, fmt.Sprintf("services %s, pools %s, nodes %d/%d, pods %d/%d",
			pct(b.ServicesShare), pct(b.PoolsShare), b.NodesLost, b.NodesAtStart, b.PodsDisrupted, b.PodsAtStart)),
	}
	total := 100.0
	for _, c := range r.Components {
		total -= c.Penalty
	}
	r.Score = math.Round(math.Max(0, total)*10) / 10
}

// ScoreText writes a score with its one decimal, if it has one: "74.6", "47".
func ScoreText(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func component(name string, weight, share float64, detail string) Component {
	share = math.Min(1, math.Max(0, share))
	return Component{Name: name, Weight: weight, Share: round6(share), Penalty: math.Round(weight*share*10) / 10, Detail: detail}
}

// explain says what hurt most, why, and what would have helped, from the data.
func explain(r *Report) {
	var out []string
	if r.FirstBreach == nil {
		out = append(out, fmt.Sprintf("Every service met its objective throughout the %s measured: nothing the run did reached users.", seconds(math.Round(r.SpanSeconds))))
	} else {
		worst := slices.MaxFunc(r.Components, func(a, b Component) int { return cmpFloat(a.Penalty, b.Penalty) })
		out = append(out, fmt.Sprintf("Score %s/100; what hurt most: %s (-%.1f: %s).", ScoreText(r.Score), worst.Name, worst.Penalty, worst.Detail))
	}
	if !r.HorizonReached {
		out = append(out, fmt.Sprintf("The run ended %s after the first change, before its scoring horizon (%s): the score counts what was observed, and the rest as if nothing went wrong.",
			seconds(math.Round(r.SpanSeconds)), seconds(r.HorizonSeconds)))
	}
	if len(r.BreachedBeforeSpan) > 0 {
		out = append(out, fmt.Sprintf("Before the run first acted (%s into the timeline), %s already breached its objective: that is not scored, as the span starts there; check the steady state.",
			seconds(math.Round(r.StartOffsetSeconds)), strings.Join(r.BreachedBeforeSpan, " and ")))
	}
	crashing := r.crashLoopingTiers()
	for _, s := range r.Services {
		shared := r.sharedTouchedPools(s)
		cause := r.causeOf(s)
		if cause != nil && cause.Actor == ActorOutside {
			// A change the scenario did not make came last before the
			// breach: name it, not the pools.
			what := fmt.Sprintf("missed its objective for %s, from %s", seconds(s.BreachedSeconds), offset(*s.FirstBreachSeconds))
			if from, ok := s.firstDown(); ok {
				what = fmt.Sprintf("was down %s, from %s", seconds(s.DowntimeSeconds), offset(from))
			}
			out = append(out, fmt.Sprintf("The %s %s, after %s at %s, a change the scenario did not make.", s.Name, what, cause.Message, offset(cause.AtSeconds)))
			continue
		}
		switch {
		case s.DowntimeSeconds > 0 && len(shared) > 0:
			var with []string
			for _, p := range shared {
				for _, t := range r.pool(p).Tiers {
					if t != s.TierName() && slices.Contains(crashing, t) {
						with = append(with, t)
					}
				}
			}
			line := fmt.Sprintf("The %s was down %s: its pool %s was hit", s.Name, seconds(s.DowntimeSeconds), quoteList(shared))
			if len(with) > 0 {
				line = fmt.Sprintf("The %s was down %s: it shared pool %s with the crash-looping %s", s.Name, seconds(s.DowntimeSeconds), quoteList(shared), strings.Join(dedupe(with), ", "))
			}
			if lost := r.lostIn(shared); lost > 0 {
				line += fmt.Sprintf(", and went down with it when the pool lost %s.", plural(lost, "node"))
			} else {
				line += " (its nodes were cordoned or its pods disrupted)."
			}
			if len(with) > 0 {
				line += fmt.Sprintf(" A node pool of its own would have kept the %s out of the %s' failure.", s.Name, strings.Join(dedupe(with), ", "))
			}
			out = append(out, line)
		case s.DowntimeSeconds > 0:
			out = append(out, fmt.Sprintf("The %s was down %s although its pool %s was not touched: what it depends on failed.", s.Name, seconds(s.DowntimeSeconds), quoteList(s.Pools)))
		case s.FirstBreachSeconds != nil:
			where := fmt.Sprintf("pool %s untouched", quoteList(s.Pools))
			if len(shared) > 0 {
				where = fmt.Sprintf("although pool %s was hit", quoteList(shared))
			}
			out = append(out, fmt.Sprintf("The %s stayed up (0 s down; %s) but missed its objective for %s, degraded %s where it needs what failed.",
				s.Name, where, seconds(s.BreachedSeconds), seconds(s.DegradedSeconds)))
		default:
			out = append(out, fmt.Sprintf("The %s stayed up and met its objective throughout.", s.Name))
		}
		if cause != nil {
			out = append(out, fmt.Sprintf("Its first breach, at %s, came after %s at %s (%s).", offset(*s.FirstBreachSeconds), cause.Message, offset(cause.AtSeconds), byWhom(*cause)))
		}
	}
	for _, ref := range r.Refusals {
		if ref.Action != "provision-pool" {
			out = append(out, fmt.Sprintf("The cluster refused step %s (%s, %s) at %s: %s.", ref.Step, ref.Action, ref.Actor, offset(ref.AtSeconds), ref.Message))
		}
	}
	for _, st := range r.Steps {
		if st.Blocked && st.Action == "provision-pool" {
			line := fmt.Sprintf("Replacement nodes could not join (step %s at %s was blocked)", st.Step, offset(st.AtSeconds))
			if cp := r.controlPlaneChange(); cp != nil {
				line += fmt.Sprintf(": the control plane had been upgraded at %s, %s before the first breach, and nobody held the node group to its version", offset(cp.AtSeconds), seconds(r.beforeFirstBreach(*cp)))
			}
			out = append(out, line+". Check version skew before a control-plane upgrade, and keep a spare pool at the new version.")
			break
		}
	}
	if !r.Recovered {
		out = append(out, "The run ended before every service held its objective for a full window again: it never recovered.")
	}
	r.Explanation = out
}

// causeOf is the last change before a service's first breach (in its
// second or before), nil if none or it did not breach.
func (r *Report) causeOf(s Service) *Change {
	if s.FirstBreachSeconds == nil {
		return nil
	}
	var last *Change
	for i, ch := range r.Changes {
		if ch.AtSeconds < *s.FirstBreachSeconds+Bucket.Seconds() {
			last = &r.Changes[i]
		}
	}
	return last
}

// firstDown is when the service was first down.
func (s Service) firstDown() (float64, bool) {
	for _, sp := range s.States {
		if sp.State == StateDown {
			return sp.From, true
		}
	}
	return 0, false
}

// crashLoopingTiers are the tiers whose pods were seen crash-looping.
func (r *Report) crashLoopingTiers() []string { return r.BlastRadius.TiersCrashLooping }

// sharedTouchedPools are the touched pools the service's pods were on.
func (r *Report) sharedTouchedPools(s Service) []string {
	var out []string
	for _, p := range s.Pools {
		if r.pool(p).Touched {
			out = append(out, p)
		}
	}
	return out
}

func (r *Report) pool(name string) PoolSummary {
	for _, p := range r.Pools {
		if p.Name == name {
			return p
		}
	}
	return PoolSummary{Name: name}
}

func (r *Report) lostIn(pools []string) int {
	n := 0
	for _, p := range pools {
		n += r.pool(p).Lost
	}
	return n
}

// beforeFirstBreach is how long, in whole seconds, a change came before the
// run's first breach.
func (r *Report) beforeFirstBreach(ch Change) float64 {
	if r.FirstBreach == nil {
		return 0
	}
	return math.Round(r.FirstBreach.AtSeconds - ch.AtSeconds)
}

func (r *Report) controlPlaneChange() *Change {
	if r.FirstBreach == nil {
		return nil
	}
	for i, ch := range r.ChangesInFlight {
		if ch.ControlPlane {
			return &r.ChangesInFlight[i]
		}
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func quoteList(xs []string) string {
	var q []string
	for _, x := range xs {
		q = append(q, "`"+x+"`")
	}
	if len(q) == 0 {
		return "(none)"
	}
	return strings.Join(q, ", ")
}

func dedupe(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
