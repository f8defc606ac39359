package reports

import (
	"errors"
	"slices"
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
//
// Offsets count from the first change (the span's start). These timelines
// hold no observed change, so their declared change steps stand in (as in
// runs recorded before changes were observed), and their meta has no
// horizon, so the span runs to the start of recovery.
//
// Detection: with no story scale the paging windows (1 h and 5 min, 6 h
// and 30 min) hold every probe of these short timelines, so a page fires
// once the bad share of every probe so far reaches 6% (6x a 1% budget).

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
	// The span starts at the change at 10 s.
	if r.SpanSeconds != 50 || len(r.ChangesInFlight) != 0 {
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

// oneOutage: the control plane upgraded at 0 s, the bad release at 10 s
// (both gameday's, observed as changes); the frontend fails every request
// in [20, 30); node n1 is NotReady from 20 s (after a node-stop at 19 s) to
// 35 s (it came back by itself: an outside change); frontend pod fe-1 is
// killed at 21 s; the workers roll to v2 at 15 s (the old pod's deletion is
// the rollout, not a disruption) and their new pod restarts 3 times.
func oneOutage() *synth {
	return newSynth().cluster().
		step(0, "control-plane-upgrade", "control-plane-upgrade", true).
		change(0, "control-plane", "version", "", "v1.38.0", timeline.Manager).
		step(5, "a-note", "note", false).
		step(10, "bad-release", "release", true).
		change(10, "deployment/workers", "release", "v1", "v2", timeline.Manager).
		stepOn(19, 0.1, "lose-n1", "node-stop", "scenario", "n1").
		change(20, "node/n1", "ready", "true", "false", "").
		change(35, "node/n1", "ready", "false", "true", "").
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
	// down [20,30): 10 s; breached [20,39): 19 s; first breach 20, first
	// change at 0, so impact 20 s; probes since -10: 10 bad of 310 at 20 s
	// (3.2%), 20 of 320 at 21 s (6.25%): a page, detection 1 s; the 10 s
	// window holds from 39 on, so recovery 39-20 = 19 s; no change between
	// the breach and the recovery at 39 s, the last is n1 back at 35 s: the
	// mitigation, 15 s. Availability (600-100)/600.
	checkService(t, r, "frontend", measures{Availability: 0.833333, Down: 10, Breached: 19,
		FirstBreach: f(20), Detect: f(1), Recover: f(19), Recovered: true})
	checkService(t, r, "api", measures{Availability: 1, Recovered: true})
	if r.DowntimeSeconds != 10 || *r.TimeToImpactSeconds != 20 || *r.TimeToDetectSeconds != 1 || *r.TimeToRecoverSeconds != 19 ||
		*r.TimeToMitigateSeconds != 15 || !r.Recovered {
		t.Errorf("run: down %v impact %v detect %v mitigate %v recover %v recovered %v", r.DowntimeSeconds, *r.TimeToImpactSeconds,
			*r.TimeToDetectSeconds, *r.TimeToMitigateSeconds, *r.TimeToRecoverSeconds, r.Recovered)
	}
	if fe := r.Services[0]; fe.MitigatedBy != "node/n1 became Ready" || *fe.TimeToImpactSeconds != 20 {
		t.Errorf("frontend mitigated by %q, impact %v", fe.MitigatedBy, *fe.TimeToImpactSeconds)
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
	// The upgrade and the release came before the breach at 20 s, and n1's
	// loss in its second (the node-stop's effect); the note is not a change.
	// n1's return at 35 s came after: not in flight, but a change.
	cif := r.ChangesInFlight
	if len(cif) != 3 || !cif[0].ControlPlane || cif[0].Preceded[0].BeforeSeconds != 20 || cif[0].Actor != ActorScenario ||
		cif[1].Step != "bad-release" || cif[1].Preceded[0].BeforeSeconds != 10 ||
		cif[2].Step != "lose-n1" || cif[2].Message != "node/n1 went NotReady" || cif[2].Actor != ActorScenario {
		t.Errorf("changes in flight: %+v", cif)
	}
	if len(r.Changes) != 4 || r.Changes[3].Actor != ActorOutside || r.Changes[3].AtSeconds != 35 {
		t.Errorf("changes: %+v", r.Changes)
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
	// Failing seconds 20, 25 and 40 (15, 20 and 35 from the change at 5):
	// breached [15,30) and [35,45) = 25 s; the first 10 s of holding start at
	// 45 (30-34 is too short): recovery 30 s. 20 bad of 260 probes at 25 s
	// (7.7%): a page 5 s after the first breach. Availability 720/750.
	s := newSynth().step(5, "bad-release", "release", true).
		probes("frontend", 0, 80, failIn([2]int{20, 21}, [2]int{25, 26}, [2]int{40, 41})).
		probes("api", 0, 80, failIn()).run(80, "recover-start")
	r := build(t, s, meta())
	checkService(t, r, "frontend", measures{Availability: 0.96, Down: 3, Breached: 25,
		FirstBreach: f(15), Detect: f(5), Recover: f(30), Recovered: true})
	want := []Span{{StateOK, 0, 15}, {StateDown, 15, 16}, {StateOK, 16, 20}, {StateDown, 20, 21}, {StateOK, 21, 35}, {StateDown, 35, 36}, {StateOK, 36, 75}}
	if d := cmp.Diff(want, r.Services[0].States); d != "" {
		t.Errorf("states (-want +got):\n%s", d)
	}
}

func TestNeverRecovers(t *testing.T) {
	t.Run("fails to the end", func(t *testing.T) {
		s := newSynth().step(10, "bad-release", "release", true).
			probes("frontend", 0, 60, failIn([2]int{30, 60})).probes("api", 0, 60, failIn()).run(60, "recover-start")
		r := build(t, s, meta())
		// from the change at 10: fails [20,50) of a 50 s span; 20 bad of 320 at 31 s.
		checkService(t, r, "frontend", measures{Availability: 0.4, Down: 30, Breached: 30, FirstBreach: f(20), Detect: f(1)})
		if r.Recovered || r.TimeToRecoverSeconds != nil || r.Components[2].Share != 1 {
			t.Errorf("recovered %v, recover %v, recovery share %v; want never and a full share", r.Recovered, r.TimeToRecoverSeconds, r.Components[2].Share)
		}
		if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, "never recovered") {
			t.Errorf("explanation:\n%s", why)
		}
	})
	t.Run("holds for less than a window before the end", func(t *testing.T) {
		// fails [30,55) (20-45 from the change): breached until 53, past the span's end at 50.
		s := newSynth().step(10, "bad-release", "release", true).
			probes("frontend", 0, 60, failIn([2]int{30, 55})).probes("api", 0, 60, failIn()).run(60, "recover-start")
		r := build(t, s, meta())
		checkService(t, r, "frontend", measures{Availability: 0.5, Down: 25, Breached: 30, FirstBreach: f(20), Detect: f(1)})
	})
}

// A service that recovers and then breaches again to the end has not
// recovered: recovery is the moment from which the objective holds.
func TestRecoversThenBreachesAgain(t *testing.T) {
	s := newSynth().step(5, "bad-release", "release", true).
		probes("frontend", 0, 60, failIn([2]int{10, 15}, [2]int{40, 60})).probes("api", 0, 60, failIn()).run(60, "recover-start")
	r := build(t, s, meta())
	// from the change at 5: breached [5,19) and [35,55): 34 s; down 5 + 20 s;
	// 10 bad of 110 probes at 10 s (9%): a page at once. Availability 300/550.
	checkService(t, r, "frontend", measures{Availability: 0.545455, Down: 25, Breached: 34, FirstBreach: f(5), Detect: f(0)})
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
	// from the change at 5: fails [15,25) of its 350 probes; 20 bad of 220 at 21 s.
	checkService(t, r, "frontend", measures{Availability: 0.714286, Down: 10, Breached: 19, FirstBreach: f(15), Detect: f(1)})
	if r.Services[0].NoDataSeconds != 20 {
		t.Errorf("no data %v s, want 20", r.Services[0].NoDataSeconds)
	}
}

func TestOutageBeforeFirstChange(t *testing.T) {
	// fails [5,8) while the first change comes at 30: the span starts at the
	// change, so the outage is not scored, and the words say it happened.
	s := newSynth().step(30, "bad-release", "release", true).
		probes("frontend", 0, 60, failIn([2]int{5, 8})).probes("api", 0, 60, failIn()).run(60, "recover-start")
	r := build(t, s, meta())
	checkService(t, r, "frontend", measures{Availability: 1, Recovered: true})
	if r.Score != 100 || len(r.BreachedBeforeSpan) != 1 || r.BreachedBeforeSpan[0] != "frontend" {
		t.Errorf("score %v, breached before the span %v", r.Score, r.BreachedBeforeSpan)
	}
	if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, "Before the run first acted (30 s into the timeline), frontend already breached") {
		t.Errorf("explanation:\n%s", why)
	}
}

func TestDegradedOnly(t *testing.T) {
	// Every request answered, degraded and slow (1.2 s) in [20,30) (10-20 from
	// the change): no downtime, availability 1, degraded 10 s; p95 over a
	// window holding a slow second is slow, so breached [10,29) on latency,
	// recovery 19 s; a slow answer is a bad event: 20 of 220 at 21 s, a page
	// 1 s after the breach.
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
		FirstBreach: f(10), Detect: f(1), Recover: f(19), Recovered: true})
	// availability 0, downtime 0, recovery 15 x 19/50 = 5.7, blast 25 x 0.5/4 = 3.125 -> 3.1.
	if r.Score != 91.2 || r.BlastRadius.RequestsFailed != 0 {
		t.Errorf("score %v (want 91.2), failed requests %d", r.Score, r.BlastRadius.RequestsFailed)
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
	// No recover-start: the span ends at the last entry, 19.901 s after the change.
	s := newSynth().step(10, "bad-release", "release", true).probes("frontend", 0, 30, failIn()).probes("api", 0, 30, failIn())
	r := build(t, s, meta())
	if r.SpanSeconds != 19.901 {
		t.Errorf("span %v, want the last probe's offset from the change, 19.901", r.SpanSeconds)
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

// The room's notes from the live page are the debrief's, in order, at
// their time from the first change (the change steps start at 0 s here);
// rendered in report.md and report.html.
func TestNotes(t *testing.T) {
	s := oneOutage()
	t0 := s.es[0].Time
	for _, e := range s.es {
		if e.Kind == timeline.KindRun && e.Phase == "timeline-start" {
			t0 = e.Time
		}
	}
	s.es = append(s.es,
		timeline.Entry{Time: t0.Add(22 * time.Second), Kind: timeline.KindNote, Phase: "observation", Player: "Ana (reporter)", Message: "the frontend | says 502"},
		timeline.Entry{Time: t0.Add(31 * time.Second), Kind: timeline.KindNote, Phase: "note", Player: "facilitator", Message: "we <roll> back"})
	r := build(t, s, meta())
	if len(r.Notes) != 2 || r.Notes[0].By != "Ana (reporter)" || r.Notes[0].Kind != "observation" || r.Notes[1].Text != "we <roll> back" ||
		r.Notes[1].AtSeconds-r.Notes[0].AtSeconds != 9 {
		t.Fatalf("notes: %+v", r.Notes)
	}
	var md, html strings.Builder
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "## Notes from the room") || !strings.Contains(md.String(), `**Ana (reporter)** (observation): the frontend \| says 502`) {
		t.Errorf("report.md:\n%s", md.String())
	}
	if !strings.Contains(html.String(), "Notes from the room") || !strings.Contains(html.String(), "we &lt;roll&gt; back") {
		t.Error("report.html lacks the notes, escaped")
	}
}

// A service named otherwise than its tier (a team's system: service shop in
// front of tier site) has its tier's pools, and its words name the tiers it
// shared them with, not itself.
func TestServiceOfAnotherName(t *testing.T) {
	s := newSynth().cluster().
		pod(-5, "site-1", "site", "n1", "v1", 0, "", false).
		step(10, "lose-n1", "node-stop", true).
		change(10, "node/n1", "ready", "true", "false", "").
		probes("shop", -10, 40, failIn([2]int{10, 20})).
		probes("api", -10, 40, failIn()).
		run(40, "recover-start")
	m := meta()
	m.Objectives[0].Service = "shop"
	m.ServiceTiers = map[string]string{"shop": "site"}
	r := build(t, s, m)
	shop := r.Services[0]
	if shop.Name != "shop" || shop.Tier != "site" || len(shop.Pools) != 1 || shop.Pools[0] != "app" {
		t.Fatalf("service shop: tier %q pools %v, want tier site on pool app", shop.Tier, shop.Pools)
	}
	if others := r.tiersWith(shop); slices.Contains(others, "site") {
		t.Errorf("tiers sharing shop's pools %v name its own tier", others)
	}
}
