package reports

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"gameday.dev/gameday/scenarios/timeline"
)

// randomRun is a random timeline on the shared-like cluster: random failing
// and slow seconds per service, random node losses and pod kills.
func randomRun(rng *rand.Rand) *synth {
	s := newSynth().cluster().step(float64(rng.IntN(20)), "fault", "release", true)
	span := 30 + rng.IntN(60)
	for _, svc := range []string{"frontend", "api"} {
		// Failures everywhere, in one outage, or none: so that recovery,
		// downtime and detection all vary between runs.
		fail := rng.Float64() * 0.3
		from, to := 0, span
		switch rng.IntN(3) {
		case 0:
			from = rng.IntN(span)
			to = from + rng.IntN(span-from+1)
		case 1:
			fail = 0
		}
		s.probes(svc, 0, span, func(sec int) outcome {
			switch x := rng.Float64(); {
			case x < fail && sec >= from && sec < to:
				return outcome{ok: false, latencyMs: 2000}
			case x < fail+0.05:
				return outcome{ok: true, degraded: true, latencyMs: 1500}
			}
			return fine
		})
	}
	if rng.IntN(2) == 0 {
		s.node(float64(rng.IntN(span)), "n2", "app", false, true, true)
	}
	if rng.IntN(2) == 0 {
		s.pod(float64(rng.IntN(span)), "api-1", "api", "n2", "v1", 0, "", true)
	}
	return s.run(float64(span), "recover-start")
}

// worsen makes one thing worse: failed requests, slower answers, a lost node,
// a killed or restarted pod. Nothing it does may raise the score.
func worsen(rng *rand.Rand, s *synth) (*synth, string) {
	w := &synth{t0: s.t0, es: slices.Clone(s.es)}
	var probes []int
	for i, e := range w.es {
		if e.Kind == timeline.KindProbe {
			probes = append(probes, i)
		}
	}
	end := w.es[len(w.es)-1].Time.Sub(w.t0).Seconds()
	switch k := rng.IntN(6); k {
	case 5: // a change made outside the run, at any moment, even before it acts
		return w.change(rng.Float64()*end-10, "node/n1", "unschedulable", "false", "true", "kubectl-cordon"), "an outside cordon"
	case 0, 1: // fail a random share of requests, or a whole stretch
		from, n := rng.IntN(len(probes)), 1+rng.IntN(len(probes)/4)
		for _, i := range probes[from:min(len(probes), from+n)] {
			if k == 0 && rng.IntN(2) == 0 {
				continue
			}
			w.es[i].OK = timeline.Bool(false)
		}
		return w, fmt.Sprintf("failed requests from probe %d", from)
	case 2:
		from := rng.IntN(len(probes))
		for _, i := range probes[from:min(len(probes), from+50)] {
			w.es[i].LatencyMs += 1500
		}
		return w, "slower answers"
	case 3:
		return w.node(rng.Float64()*end, "n1", "app", false, true, true), "lost node n1"
	default:
		if rng.IntN(2) == 0 {
			return w.pod(rng.Float64()*end, "fe-2", "frontend", "n2", "v1", 0, "", true), "killed pod fe-2"
		}
		return w.pod(rng.Float64()*end, "fe-1", "frontend", "n1", "v1", 4, "CrashLoopBackOff", false), "restarted pod fe-1"
	}
}

// A short breach early, before an outage that recovers, must not buy a
// better recovery: found by review when recovery counted from the first
// stretch of holding after the first breach.
func TestEarlyBreachDoesNotHelp(t *testing.T) {
	base := newSynth().step(0, "fault", "release", true).
		probes("frontend", 0, 80, failIn([2]int{40, 60})).probes("api", 0, 80, failIn()).run(80, "recover-start")
	worse := newSynth().step(0, "fault", "release", true).
		probes("frontend", 0, 80, failIn([2]int{5, 6}, [2]int{40, 60})).probes("api", 0, 80, failIn()).run(80, "recover-start")
	b, w := build(t, base, meta()), build(t, worse, meta())
	if w.Score > b.Score {
		t.Errorf("an extra early breach raised the score from %v to %v (%+v vs %+v)", b.Score, w.Score, b.Components, w.Components)
	}
}

// TestScoreIsMonotonic: more downtime, more failures, slower recovery or a
// wider blast radius never raise the score, nor lower any component's penalty.
func TestScoreIsMonotonic(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	lowered := 0
	for i := range 300 {
		base := randomRun(rng)
		before, err := Build(meta(), base.es)
		if err != nil {
			t.Fatal(err)
		}
		worse := base
		var steps []string
		for range 1 + rng.IntN(3) {
			var what string
			worse, what = worsen(rng, worse)
			steps = append(steps, what)
		}
		after, err := Build(meta(), worse.es)
		if err != nil {
			t.Fatal(err)
		}
		if after.Score > before.Score {
			t.Fatalf("case %d: %v raised the score from %v to %v\nbefore %+v\nafter  %+v", i, steps, before.Score, after.Score, before.Components, after.Components)
		}
		for j := range before.Components {
			if after.Components[j].Penalty < before.Components[j].Penalty {
				t.Fatalf("case %d: %v lowered the %s penalty from %v to %v", i, steps, before.Components[j].Name, before.Components[j].Penalty, after.Components[j].Penalty)
			}
		}
		if after.Score < before.Score {
			lowered++
		}
	}
	// The property must be exercised, not vacuous: most worsenings cost points.
	if lowered < 150 {
		t.Errorf("only %d of 300 worsenings lowered the score", lowered)
	}
}
