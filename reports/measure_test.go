package reports

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gameday.dev/gameday/scenarios/timeline"
)

// The answers below were worked out by hand from the timelines' shape: 10
// probes a second per service, objectives of 99% over 10 s with p95 <= 1 s,
// 1 s buckets. A bucket with a failing second keeps each 10 s window that
// holds it breached (10 failures of at most 100 requests), so a breach lasts
// from the first failing second to 9 s past the last one.

func build(t *testing.T, s *synth, m timeline.Meta) *Report {
	t.Helper()
	r, err := Build(m, s.es)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func f(v float64) *float64 { return &v }

// measures is the part of a service's measures the cases check.
type measures struct {
	Availability, Down, Degraded, Breached float64
	FirstBreach, Detect, Recover           *float64
	Recovered, BeforeFault                 bool
}

func measuresOf(s Service) measures {
	return measures{s.Availability, s.DowntimeSeconds, s.DegradedSeconds, s.BreachedSeconds,
		s.FirstBreachSeconds, s.TimeToDetectSeconds, s.TimeToRecoverSeconds, s.Recovered, s.BreachedBeforeFault}
}

func checkService(t *testing.T, r *Report, name string, want measures) {
	t.Helper()
	for _, s := range r.Services {
		if s.Name == name {
			if d := cmp.Diff(want, measuresOf(s)); d != "" {
				t.Errorf("%s (-want +got):\n%s", name, d)
			}
			return
		}
	}
	t.Errorf("no service %s", name)
}

func TestNoOutage(t *testing.T) {
	s := newSynth().cluster().step(10, "release", "release", true).
		probes("frontend", -10, 60, failIn()).probes("api", -10, 60, failIn()).run(60, "recover-start")
	r := build(t, s, meta())
	none := measures{Availability: 1, Recovered: true}
	checkService(t, r, "frontend", none)
	checkService(t, r, "api", none)
	if r.Score != 100 || r.DowntimeSeconds != 0 || r.FirstBreach != nil || r.TimeToDetectSeconds != nil || r.TimeToRecoverSeconds != nil {
		t.Errorf("score %v downtime %v first breach %v detect %v recover %v; want 100, 0 and no breach",
			r.Score, r.DowntimeSeconds, r.FirstBreach, r.TimeToDetectSeconds, r.TimeToRecoverSeconds)
	}
	if r.SpanSeconds != 60 || len(r.ChangesInFlight) != 0 {
		t.Errorf("span %v, changes in flight %v", r.SpanSeconds, r.ChangesInFlight)
	}
	for _, v := range r.Objectives {
		if !v.Passed {
			t.Errorf("objective %s failed: %s", v.Name, v.Message)
		}
	}
	if !strings.Contains(r.Explanation[0], "Every service met its objective") {
		t.Errorf("explanation: %q", r.Explanation)
	}
}

// oneOutage: the fault at 10 s; the frontend fails every request in
// [20, 30); node n1 is NotReady from 20 s to 35 s; frontend pod fe-1 is
// killed at 21 s; the workers roll to v2 at 15 s (the old pod's deletion is
// the rollout, not a disruption) and their new pod restarts 3 times.
func oneOutage() *synth {
	return newSynth().cluster().
		step(0, "control-plane-upgrade", "control-plane-upgrade", true).
		step(5, "a-note", "note", false).
		step(10, "bad-release", "release", true).
		deployment(15, "workers", "v2").
		pod(16, "wk-old", "workers", "n1", "v1", 0, "", true).
		pod(16, "wk-1", "workers", "n2", "v2", 0, "", false).
		pod(25, "wk-1", "workers", "n2", "v2", 3, "CrashLoopBackOff", false).
		node(20, "n1", "app", false, true, true).
		pod(21, "fe-1", "frontend", "n1", "v1", 0, "", true).
		node(35, "n1", "app", true, true, true).
		probes("frontend", -10, 60, failIn([2]int{20, 30})).
		probes("api", -10, 60, failIn()).
		run(60, "recover-start").
		probes("api", 60, 65, failIn([2]int{60, 65})) // the run's own recovery: not measured
}

func TestOneOutage(t *testing.T) {
	r := build(t, oneOutage(), meta())
	// down [20,30): 10 s; breached [20,39): 19 s; first breach 20, fault at 0
	// (the first change) so detection 20 s; the 10 s window holds from 39 on,
	// so recovery 39-20 = 19 s. Availability (600-100)/600.
	checkService(t, r, "frontend", measures{Availability: 0.833333, Down: 10, Breached: 19,
		FirstBreach: f(20), Detect: f(20), Recover: f(19), Recovered: true})
	checkService(t, r, "api", measures{Availability: 1, Recovered: true})
	if r.DowntimeSeconds != 10 || *r.TimeToDetectSeconds != 20 || *r.TimeToRecoverSeconds != 19 || !r.Recovered {
		t.Errorf("run: down %v detect %v recover %v recovered %v", r.DowntimeSeconds, *r.TimeToDetectSeconds, *r.TimeToRecoverSeconds, r.Recovered)
	}
	want := BlastRadius{ServicesShare: 0.5, ServicesBreached: []string{"frontend"}, RequestsFailedShare: 0.083333,
		Requests: 1200, RequestsFailed: 100, PodsDisrupted: 2, PodsKilled: 1, PodRestarts: 3, PodsAtStart: 4, PodsShare: 0.5,
		NodesLost: 1, NodesAtStart: 2, NodesShare: 0.5, PoolsTouched: []string{"app"}, PoolsShare: 1,
		TiersCrashLooping: []string{"workers"}}
	if d := cmp.Diff(want, r.BlastRadius); d != "" {
		t.Errorf("blast radius (-want +got):\n%s", d)
	}
	// availability 30 x 100/1200 = 2.5; downtime 30 x (10/60 + 0)/2 = 2.5;
	// recovery 15 x 19/60 = 4.75 -> 4.8; blast 25 x (0.5+1+0.5+0.5)/4 = 15.625 -> 15.6.
	var pen []float64
	for _, c := range r.Components {
		pen = append(pen, c.Penalty)
	}
	if d := cmp.Diff([]float64{2.5, 2.5, 4.8, 15.6}, pen); d != "" || r.Score != 74.6 {
		t.Errorf("penalties (-want +got):\n%s\nscore %v, want 74.6", d, r.Score)
	}
	// burn rate (100/600)/0.01; burned (1/6) x 60 s / (0.01 x 30 days).
	if b := r.Services[0].ErrorBudget; b.BurnRate != 16.667 || b.BurnedShare != 0.000386 || b.MonthlySLO != 0.99 {
		t.Errorf("error budget %+v", b)
	}
	// Both changes came before the breach at 20 s; the note is not a change.
	if len(r.ChangesInFlight) != 2 || !r.ChangesInFlight[0].ControlPlane || r.ChangesInFlight[0].Preceded[0].BeforeSeconds != 20 ||
		r.ChangesInFlight[1].Step != "bad-release" || r.ChangesInFlight[1].Preceded[0].BeforeSeconds != 10 {
		t.Errorf("changes in flight: %+v", r.ChangesInFlight)
	}
	if d := cmp.Diff([]Span{{NodeReady, 0, 20}, {NodeNotReady, 20, 35}, {NodeReady, 35, 60}}, r.Nodes[0].States); d != "" {
		t.Errorf("node n1 lane (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Span{{StateOK, 0, 20}, {StateDown, 20, 30}, {StateOK, 30, 60}}, r.Services[0].States); d != "" {
		t.Errorf("frontend states (-want +got):\n%s", d)
	}
	if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, "The frontend was down 10 s: it shared pool `app` with the crash-looping workers") {
		t.Errorf("explanation does not name the shared pool and the crash-looping workers:\n%s", why)
	}
}

func TestFlapping(t *testing.T) {
	// Failing seconds 20, 25 and 40: breached [20,35) and [40,50) = 25 s; the
	// first 10 s of holding start at 50 (35-39 is too short): recovery 30 s.
	s := newSynth().step(5, "bad-release", "release", true).
		probes("frontend", 0, 80, failIn([2]int{20, 21}, [2]int{25, 26}, [2]int{40, 41})).
		probes("api", 0, 80, failIn()).run(80, "recover-start")
	r := build(t, s, meta())
	checkService(t, r, "frontend", measures{Availability: 0.9625, Down: 3, Breached: 25,
		FirstBreach: f(20), Detect: f(15), Recover: f(30), Recovered: true})
	want := []Span{{StateOK, 0, 20}, {StateDown, 20, 21}, {StateOK, 21, 25}, {StateDown, 25, 26}, {StateOK, 26, 40}, {StateDown, 40, 41}, {StateOK, 41, 80}}
	if d := cmp.Diff(want, r.Services[0].States); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
}

func TestNeverRecovers(t *testing.T) {
	t.Run("fails to the end", func(t *testing.T) {
		s := newSynth().step(10, "bad-release", "release", true).
			probes("frontend", 0, 60, failIn([2]int{30, 60})).probes("api", 0, 60, failIn()).run(60, "recover-start")
		r := build(t, s, meta())
		checkService(t, r, "frontend", measures{Availability: 0.5, Down: 30, Breached: 30, FirstBreach: f(30), Detect: f(20)})
		if r.Recovered || r.TimeToRecoverSeconds != nil || r.Components[2].Share != 1 {
			t.Errorf("recovered %v, recover %v, recovery share %v; want never and a full share", r.Recovered, r.TimeToRecoverSeconds, r.Components[2].Share)
		}
		if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, "never recovered") {
			t.Errorf("explanation:\n%s", why)
		}
	})
	t.Run("holds for less than a window before the end", func(t *testing.T) {
		// fails [30,55): breached until 63, past the span's end at 60.
		s := newSynth().step(10, "bad-release", "release", true).
			probes("frontend", 0, 60, failIn([2]int{30, 55})).probes("api", 0, 60, failIn()).run(60, "recover-start")
		r := build(t, s, meta())
		checkService(t, r, "frontend", measures{Availability: 0.583333, Down: 25, Breached: 30, FirstBreach: f(30), Detect: f(20)})
	})
}

// A service that recovers and then breaches again to the end has not
// recovered: recovery is the moment from which the objective holds.
func TestRecoversThenBreachesAgain(t *testing.T) {
	s := newSynth().step(5, "bad-release", "release", true).
		probes("frontend", 0, 60, failIn([2]int{10, 15}, [2]int{40, 60})).probes("api", 0, 60, failIn()).run(60, "recover-start")
	r := build(t, s, meta())
	// breached [10,24) and [40,60): 34 s; down 5 + 20 s.
	checkService(t, r, "frontend", measures{Availability: 0.583333, Down: 25, Breached: 34, FirstBreach: f(10), Detect: f(5)})
	if r.Recovered || r.Components[2].Share != 1 {
		t.Errorf("recovered %v, recovery share %v", r.Recovered, r.Components[2].Share)
	}
}

// Seconds without a probe answer are no evidence of recovery.
func TestNoDataIsNoRecovery(t *testing.T) {
	// fails [20,30), then the prober stalls from 40 on: the window holds from
	// 39, but only 1 second with probes follows.
	s := newSynth().step(5, "bad-release", "release", true).
		probes("frontend", 0, 40, failIn([2]int{20, 30})).probes("api", 0, 60, failIn()).run(60, "recover-start")
	r := build(t, s, meta())
	checkService(t, r, "frontend", measures{Availability: 0.75, Down: 10, Breached: 19, FirstBreach: f(20), Detect: f(15)})
	if r.Services[0].NoDataSeconds != 20 {
		t.Errorf("no data %v s, want 20", r.Services[0].NoDataSeconds)
	}
}

func TestOutageBeforeFirstFault(t *testing.T) {
	// fails [5,8) while the first fault comes at 30: breached [5,17), first
	// breach before any fault; no breach after it, so nothing detected;
	// recovered 12 s after the breach (holds from 17).
	s := newSynth().step(30, "bad-release", "release", true).
		probes("frontend", 0, 60, failIn([2]int{5, 8})).probes("api", 0, 60, failIn()).run(60, "recover-start")
	r := build(t, s, meta())
	checkService(t, r, "frontend", measures{Availability: 0.95, Down: 3, Breached: 12,
		FirstBreach: f(5), Recover: f(12), Recovered: true, BeforeFault: true})
	if r.TimeToDetectSeconds != nil || len(r.ChangesInFlight) != 0 {
		t.Errorf("detect %v, changes in flight %v: the breach came before any change", r.TimeToDetectSeconds, r.ChangesInFlight)
	}
}

func TestDegradedOnly(t *testing.T) {
	// Every request answered, degraded and slow (1.2 s) in [20,30): no
	// downtime, availability 1, degraded 10 s; p95 over a window holding a slow
	// second is slow, so breached [20,39) on latency: detection 10 s, recovery 19 s.
	slow := func(sec int) outcome {
		if sec >= 20 && sec < 30 {
			return outcome{ok: true, degraded: true, latencyMs: 1200}
		}
		return fine
	}
	s := newSynth().step(10, "bad-release", "release", true).
		probes("frontend", 0, 60, slow).probes("api", 0, 60, failIn()).run(60, "recover-start")
	r := build(t, s, meta())
	checkService(t, r, "frontend", measures{Availability: 1, Degraded: 10, Breached: 19,
		FirstBreach: f(20), Detect: f(10), Recover: f(19), Recovered: true})
	// availability 0, downtime 0, recovery 15 x 19/60 = 4.75 -> 4.8, blast 25 x 0.5/4 = 3.125 -> 3.1.
	if r.Score != 92.1 || r.BlastRadius.RequestsFailed != 0 {
		t.Errorf("score %v (want 92.1), failed requests %d", r.Score, r.BlastRadius.RequestsFailed)
	}
	if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, "The frontend stayed up (0 s down") {
		t.Errorf("explanation:\n%s", why)
	}
}

func TestBusinessWindow(t *testing.T) {
	m := meta()
	m.BusinessWindows = []timeline.BusinessWindow{
		{Name: "review", Service: "frontend", Start: timeline.Duration(10 * time.Second), End: timeline.Duration(25 * time.Second)},
		{Name: "later", Service: "frontend", Start: timeline.Duration(40 * time.Second), End: timeline.Duration(90 * time.Second)},
		{Name: "after-the-end", Service: "frontend", Start: timeline.Duration(70 * time.Second), End: timeline.Duration(90 * time.Second)},
	}
	r := build(t, oneOutage(), m)
	got := map[string]bool{}
	for _, v := range r.BusinessWindows {
		got[v.Name] = v.Passed
	}
	if d := cmp.Diff(map[string]bool{"review": false, "later": true, "after-the-end": false}, got); d != "" {
		t.Errorf("business windows (-want +got):\n%s\n%+v", d, r.BusinessWindows)
	}
	if msg := r.BusinessWindows[0].Message; !strings.Contains(msg, "breached its objective for 5 s, first at +0:20") {
		t.Errorf("review: %s", msg)
	}
	if msg := r.BusinessWindows[2].Message; !strings.Contains(msg, "not observed") {
		t.Errorf("after-the-end: %s", msg)
	}
}

func TestNoTimelineStart(t *testing.T) {
	s := &synth{t0: synthT0}
	s.run(0, "start").run(10, "cluster-up")
	if _, err := Build(meta(), s.es); !errors.Is(err, ErrNoTimeline) {
		t.Errorf("err = %v, want ErrNoTimeline", err)
	}
}

func TestKilledRunScoresWhatWasSeen(t *testing.T) {
	// No recover-start: the span ends at the last entry.
	s := newSynth().step(10, "bad-release", "release", true).probes("frontend", 0, 30, failIn()).probes("api", 0, 30, failIn())
	r := build(t, s, meta())
	if r.SpanSeconds != 29.901 {
		t.Errorf("span %v, want the last probe's offset 29.901", r.SpanSeconds)
	}
}

// The words say only what the data shows: a pool hit by a cordon lost no node.
func TestExplanationWithoutNodeLoss(t *testing.T) {
	s := newSynth().cluster().step(10, "cordon", "cordon", true).
		node(15, "n1", "app", true, false, true).
		probes("frontend", 0, 60, failIn([2]int{20, 30})).probes("api", 0, 60, failIn()).run(60, "recover-start")
	why := strings.Join(build(t, s, meta()).Explanation, "\n")
	if strings.Contains(why, "lost 0 nodes") || !strings.Contains(why, "The frontend was down 10 s: its pool `app` was hit (its nodes were cordoned or its pods disrupted).") {
		t.Errorf("explanation:\n%s", why)
	}
}
