package reports

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"gameday.dev/gameday/scenarios/timeline"
)

func withHorizon(d time.Duration) timeline.Meta {
	m := meta()
	m.Horizon = timeline.Duration(d)
	return m
}

// The seed's lesson: a change nobody declared. Someone scales the API to
// zero with kubectl at 15 s and back at 35 s; the run itself only notes.
// Worked by hand: the span starts at the scale (15 s); the API fails from
// 16 s to 35 s: down 19 s from +0:01; impact 1 s; the scale back at +0:20
// is the last change before its recovery at +0:20 (last failing second
// 34 s = +0:19, breached to +0:28 ... recovery counted from the end of the
// last breach), so it mitigated it: 19 s.
func TestOutsideChangeIsAttributedAndNamed(t *testing.T) {
	s := newSynth().cluster().step(0, "a-note", "note", false).
		change(15, "deployment/api", "replicas", "2", "0", "kubectl-scale").
		change(35, "deployment/api", "replicas", "0", "2", "kubectl-scale").
		probes("frontend", -10, 120, failIn()).probes("api", -10, 120, failIn([2]int{16, 35})).
		run(120, "recover-start")
	r := build(t, s, withHorizon(90*time.Second))
	if len(r.ChangesInFlight) != 1 {
		t.Fatalf("changes in flight: %+v", r.ChangesInFlight)
	}
	ch := r.ChangesInFlight[0]
	if ch.Actor != ActorOutside || ch.Manager != "kubectl-scale" || ch.Message != "deployment/api was scaled 2 -> 0 by kubectl-scale" || ch.AtSeconds != 0 {
		t.Errorf("change in flight: %+v", ch)
	}
	if r.FirstFaultSeconds == nil || *r.FirstFaultSeconds != 0 || r.StartOffsetSeconds != 15 {
		t.Errorf("first fault %v, first change at %v s into the timeline", r.FirstFaultSeconds, r.StartOffsetSeconds)
	}
	api := r.Services[1]
	if api.DowntimeSeconds != 19 || *api.TimeToImpactSeconds != 1 || *api.TimeToMitigateSeconds != 19 ||
		api.MitigatedBy != "deployment/api was scaled 0 -> 2 by kubectl-scale" {
		t.Errorf("api: down %v impact %v mitigate %v by %q", api.DowntimeSeconds, api.TimeToImpactSeconds, api.TimeToMitigateSeconds, api.MitigatedBy)
	}
	want := "The api was down 19 s, from +0:01, after deployment/api was scaled 2 -> 0 by kubectl-scale at +0:00, a change the scenario did not make."
	if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, want) || strings.Contains(why, "pool `app` was hit") {
		t.Errorf("explanation does not name the outside change as the cause:\n%s", why)
	}
}

// A scenario whose only fault is node-stop: the control plane sees the
// node NotReady only 15 s later, while the pods on it fail at once. Its
// first fault is that change (observed, the step's effect), made when the
// step began; the span and impact count from there, so the failures before
// the node is seen lost are the incident's.
func TestNodeStopOnlyHasAFirstFault(t *testing.T) {
	s := newSynth().cluster().stepOn(10, 0.2, "stop-n1", "node-stop", "scenario", "n1").
		change(25, "node/n1", "ready", "true", "false", "").
		probes("frontend", -10, 100, failIn([2]int{12, 37})).probes("api", -10, 100, failIn()).
		run(100, "recover-start")
	r := build(t, s, withHorizon(60*time.Second))
	if r.FirstFaultSeconds == nil || *r.FirstFaultSeconds != 0 || r.FirstFault != "node/n1 went NotReady" || r.StartOffsetSeconds != 10 {
		t.Fatalf("first fault %v %q, span from %v s", r.FirstFaultSeconds, r.FirstFault, r.StartOffsetSeconds)
	}
	if c := r.Changes[0]; c.Actor != ActorScenario || c.Step != "stop-n1" || c.AtSeconds != 15 || c.MadeAtSeconds != 0 {
		t.Errorf("the NotReady node is the node-stop's effect, seen at +0:15, made at +0:00: %+v", c)
	}
	if r.TimeToImpactSeconds == nil || *r.TimeToImpactSeconds != 2 || r.Services[0].DowntimeSeconds != 25 || len(r.BreachedBeforeSpan) != 0 {
		t.Errorf("impact %v (want 2 s: stopped at 10 s, frontend failing from 12 s), down %v (want 25), breached before %v",
			r.TimeToImpactSeconds, r.Services[0].DowntimeSeconds, r.BreachedBeforeSpan)
	}
	if r.SpanSeconds != 60 || !r.HorizonReached {
		t.Errorf("span %v reached %v", r.SpanSeconds, r.HorizonReached)
	}
}

// gameday's own writes are the step's that ran then: the automation's,
// the operator's; the same write by someone else is the outside's.
func TestChangesMatchedToTheirStep(t *testing.T) {
	s := newSynth().cluster().
		stepOn(5, 1, "drain", "drain", "automation", "n1", "n2").
		change(5.5, "node/n1", "unschedulable", "false", "true", timeline.Manager).
		stepOn(20, 1, "rollback", "rollback", "operator", "workers").
		change(20.5, "deployment/workers", "release", "v2", "v1", timeline.Manager).
		change(30, "node/n2", "unschedulable", "false", "true", "kubectl-cordon").
		change(40, "node/n2", "ready", "true", "false", "").
		stepOn(44, 3, "provision-pool", "provision-pool", "operator", "n3").
		// Bringing the spare in: its kubelet registers its Node, then its
		// taint removed and uncordoned, which leaves no field manager, then
		// Ready: all the operator's step.
		change(44.2, "node/n3", "created", "", "", "kubelet").
		change(44.5, "node/n3", "unschedulable", "true", "false", "").
		change(45, "node/n3", "ready", "n/a", "true", "").
		probes("frontend", 0, 60, failIn()).probes("api", 0, 60, failIn()).run(60, "recover-start")
	r := build(t, s, withHorizon(50*time.Second))
	var got []string
	for _, c := range r.Changes {
		got = append(got, c.Actor+" "+c.Step+": "+c.Message)
	}
	want := []string{
		"automation drain: node/n1 was cordoned",
		"operator rollback: deployment/workers was released v2 -> v1",
		"outside : node/n2 was cordoned by kubectl-cordon",
		"outside : node/n2 went NotReady", // a drain does not make a node NotReady
		"operator provision-pool: node/n3 was created by kubelet",
		"operator provision-pool: node/n3 was uncordoned",
		"operator provision-pool: node/n3 became Ready",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("changes (-want +got):\n%s", d)
	}
	// The operator's change is not the first fault.
	if r.FirstFault != "node/n1 was cordoned" {
		t.Errorf("first fault %q", r.FirstFault)
	}
}

// Detection is a page from the SRE workbook's multi-window burn-rate alert,
// windows scaled by the story scale. At scale 60: 14.4x over 60 s and 5 s,
// or 6x over 360 s and 30 s. 70 s of good probes (60 before the change,
// 10 after it), then every probe fails: after k+1 failing seconds the 360 s
// window holds 10(k+1) bad of 10(71+k), which reaches 6% at k = 4 (5/75),
// while the 30 s window holds 50 of 300 (17%): a page 4 s after the first
// breach. The 60 s window reaches 14.4% only at k = 8. Without the minute
// of history before the change, the page comes at once.
func TestBurnRateDetection(t *testing.T) {
	m := withHorizon(60 * time.Second)
	m.StoryScale = 60
	s := newSynth().change(0, "deployment/api", "replicas", "2", "0", "kubectl-scale").
		probes("frontend", -60, 100, failIn()).probes("api", -60, 100, failIn([2]int{10, 100})).run(100, "recover-start")
	r := build(t, s, m)
	api := r.Services[1]
	if api.FirstBreachSeconds == nil || *api.FirstBreachSeconds != 10 || api.TimeToDetectSeconds == nil || *api.TimeToDetectSeconds != 4 {
		t.Errorf("api: first breach %v, detect %v; want 10 and 4", api.FirstBreachSeconds, api.TimeToDetectSeconds)
	}
	if !strings.Contains(r.DetectionAlert, "14.4x over both 60 s and 5 s") || !strings.Contains(r.DetectionAlert, "6x over both 360 s and 30 s") {
		t.Errorf("detection alert: %s", r.DetectionAlert)
	}
	// Little history (10 good seconds): the same failures page at once, as
	// 10 bad of 110 is over 6%.
	s = newSynth().change(0, "deployment/api", "replicas", "2", "0", "kubectl-scale").
		probes("frontend", 0, 100, failIn()).probes("api", 0, 100, failIn([2]int{10, 100})).run(100, "recover-start")
	if d := build(t, s, m).Services[1].TimeToDetectSeconds; d == nil || *d != 0 {
		t.Errorf("detect without history %v, want 0", d)
	}
	// A latency-only breach is bad events too: slow answers page.
	slow := func(sec int) outcome {
		if sec >= 10 {
			return outcome{ok: true, latencyMs: 1500}
		}
		return fine
	}
	s = newSynth().change(0, "deployment/api", "replicas", "2", "0", "kubectl-scale").
		probes("frontend", -60, 100, failIn()).probes("api", -60, 100, slow).run(100, "recover-start")
	if d := build(t, s, m).Services[1].TimeToDetectSeconds; d == nil || *d != 4 {
		t.Errorf("detect on slow answers %v, want 4", d)
	}
}

// A run that ends before its horizon scores every share of the horizon, not
// of what it saw: down 10 s of a horizon of 100 s in a run killed at 30 s.
func TestSharesAreOfTheHorizon(t *testing.T) {
	s := newSynth().stepOn(0, 0.1, "fault", "release", "scenario", "api").
		probes("frontend", 0, 30, failIn([2]int{10, 20})).probes("api", 0, 30, failIn())
	r := build(t, s, withHorizon(100*time.Second))
	if r.HorizonReached || r.HorizonSeconds != 100 {
		t.Fatalf("horizon %v reached %v", r.HorizonSeconds, r.HorizonReached)
	}
	// downtime: mean over two services of 10/100 and 0.
	if c := r.Components[1]; c.Share != 0.05 {
		t.Errorf("downtime share %v, want 0.05 (10 s of 100, one service of two)", c.Share)
	}
	if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, "before its scoring horizon (100 s)") {
		t.Errorf("explanation does not say the run ended early:\n%s", why)
	}
}

// The score is of the incident, not of the run: appending a wait of any
// length after recovery, waiting longer before the first change, or a
// longer steady state changes no figure of the score.
func TestPaddingMovesNothing(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	const horizon = 40
	checked := 0
	for i := 0; i < 120; i++ {
		base := randomRun(rng)
		fault := base.firstChange()
		if base.end()-fault < horizon {
			continue // the run must reach its horizon
		}
		checked++
		m := withHorizon(horizon * time.Second)
		want := scoreFigures(build(t, base, m))
		pads := map[string]*synth{
			"a wait after recovery":         base.padEnd(float64(1 + rng.IntN(300))),
			"a longer wait before a change": base.padStart(float64(1 + rng.IntN(120))),
			"a longer steady state":         base.padSteady(float64(1 + rng.IntN(120))),
		}
		for what, p := range pads {
			if d := cmp.Diff(want, scoreFigures(build(t, p, m))); d != "" {
				t.Fatalf("case %d: %s moved the score (-before +after):\n%s", i, what, d)
			}
		}
	}
	if checked < 30 {
		t.Fatalf("only %d random runs reached the horizon", checked)
	}
}

// scoreFigures is everything the score is made of.
type figures struct {
	Score      float64
	Components []Component
	Blast      BlastRadius
	Services   []measures
}

func scoreFigures(r *Report) figures {
	f := figures{Score: r.Score, Components: r.Components, Blast: r.BlastRadius}
	for _, s := range r.Services {
		m := measuresOf(s)
		m.Detect = nil // the alert's long windows look back over what came before
		f.Services = append(f.Services, m)
	}
	return f
}

func (s *synth) firstChange() float64 {
	for _, e := range s.es {
		if (e.Kind == timeline.KindStep && e.Change) || e.Kind == timeline.KindChange {
			return e.Time.Sub(s.t0).Seconds()
		}
	}
	return 0
}

func (s *synth) end() float64 {
	for _, e := range s.es {
		if e.Kind == timeline.KindRun && e.Phase == "recover-start" {
			return e.Time.Sub(s.t0).Seconds()
		}
	}
	return s.es[len(s.es)-1].Time.Sub(s.t0).Seconds()
}

// padEnd waits d more seconds before recovery, every probe answering.
func (s *synth) padEnd(d float64) *synth {
	end := s.end()
	p := &synth{t0: s.t0, es: slices.DeleteFunc(slices.Clone(s.es), func(e timeline.Entry) bool {
		return e.Kind == timeline.KindRun && e.Phase == "recover-start"
	})}
	p.probes("frontend", int(end), int(end+d), failIn()).probes("api", int(end), int(end+d), failIn())
	return p.run(end+d, "recover-start")
}

// padStart waits d more seconds between the timeline's start and the
// first change: everything from it on comes d later.
func (s *synth) padStart(d float64) *synth {
	first := s.firstChange()
	p := &synth{t0: s.t0}
	for _, e := range s.es {
		if at := e.Time.Sub(s.t0).Seconds(); at >= first {
			e.Time = e.Time.Add(time.Duration(d * float64(time.Second)))
		}
		p.es = append(p.es, e)
	}
	return p.probes("frontend", int(first), int(first+d), failIn()).probes("api", int(first), int(first+d), failIn())
}

// padSteady checks the steady state d seconds longer before the timeline.
func (s *synth) padSteady(d float64) *synth {
	p := &synth{t0: s.t0, es: slices.Clone(s.es)}
	return p.probes("frontend", -int(d), 0, failIn()).probes("api", -int(d), 0, failIn())
}

// probesOn adds 10 probes a second on one endpoint of a service.
func (s *synth) probesOn(endpoint string, from, to int, fn func(sec int) outcome) *synth {
	svc, _, _ := strings.Cut(endpoint, " ")
	for sec := from; sec < to; sec++ {
		o := fn(sec)
		for j := 0; j < 10; j++ {
			s.add(float64(sec)+float64(j)/10+0.001, timeline.Entry{Kind: timeline.KindProbe, Service: svc,
				Endpoint: endpoint, OK: timeline.Bool(o.ok), Degraded: o.degraded, LatencyMs: o.latencyMs})
		}
	}
	return s
}

// The API down for 10 s: the frontend's pages that need it fail, the others
// answer. Two of five frontend journeys failing is 40% of its probes, which
// alone would read "degraded"; as the failing ones are critical, the
// frontend is down, and each journey says what it saw (availability
// 2800 of 3000 in the 60 s horizon). An objective on a
// journey that does not need the API holds throughout.
func TestJourneysAndCriticalOnes(t *testing.T) {
	m := withHorizon(60 * time.Second)
	m.Journeys = nil
	for _, j := range []struct {
		name     string
		critical bool
	}{{"frontend /", false}, {"frontend /app", false}, {"frontend /static/app.js", false},
		{"frontend /items", true}, {"frontend /items/1", true}, {"api /api/items", true}} {
		svc, _, _ := strings.Cut(j.name, " ")
		m.Journeys = append(m.Journeys, timeline.Journey{Name: j.name, Service: svc, Critical: j.critical})
	}
	for _, j := range []string{"/app", "/items"} {
		m.Objectives = append(m.Objectives, timeline.Objective{Service: "frontend", Journey: j, SuccessRatio: 0.99,
			Latency: timeline.Duration(time.Second), Window: timeline.Duration(10 * time.Second)})
	}
	apiDown := failIn([2]int{20, 30})
	s := newSynth().stepOn(0, 0.1, "fault", "release", "scenario", "api")
	for _, ep := range []string{"frontend /", "frontend /app", "frontend /static/app.js"} {
		s.probesOn(ep, 0, 70, failIn())
	}
	for _, ep := range []string{"frontend /items", "frontend /items/1", "api /api/items"} {
		s.probesOn(ep, 0, 70, apiDown)
	}
	r := build(t, s.run(70, "recover-start"), m)
	if len(r.Services) != 2 {
		t.Fatalf("journey objectives are verdicts, not services: %d services", len(r.Services))
	}
	fe, api := r.Services[0], r.Services[1]
	if fe.DowntimeSeconds != 10 || fe.Availability != 0.933333 || api.DowntimeSeconds != 10 {
		t.Errorf("frontend down %v (want 10: its critical journeys were), availability %v; api down %v", fe.DowntimeSeconds, fe.Availability, api.DowntimeSeconds)
	}
	got := map[string]float64{}
	for _, j := range fe.Journeys {
		got[j.Name] = j.DowntimeSeconds
	}
	want := map[string]float64{"frontend /": 0, "frontend /app": 0, "frontend /static/app.js": 0, "frontend /items": 10, "frontend /items/1": 10}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("journeys' downtime (-want +got):\n%s", d)
	}
	// The journeys' objectives: /app held, /items breached; neither counts
	// its probes again in the run's measures (3000 + 600 requests).
	verdicts := map[string]bool{}
	for _, v := range r.Objectives {
		verdicts[v.Name] = v.Passed
	}
	if d := cmp.Diff(map[string]bool{
		"frontend: 99% of requests succeed, p95 <= 1s, over 10s":        false,
		"api: 99% of requests succeed, p95 <= 1s, over 10s":             false,
		"frontend /app: 99% of requests succeed, p95 <= 1s, over 10s":   true,
		"frontend /items: 99% of requests succeed, p95 <= 1s, over 10s": false,
	}, verdicts); d != "" {
		t.Errorf("objectives (-want +got):\n%s", d)
	}
	if r.BlastRadius.Requests != 3600 || r.BlastRadius.ServicesShare != 1 {
		t.Errorf("requests %d, services share %v: a journey objective counted its probes twice", r.BlastRadius.Requests, r.BlastRadius.ServicesShare)
	}
	if why := Gate(r, r, 5); len(why) != 0 {
		t.Errorf("a run gated against itself: %q", why)
	}
	// Runs recorded before journeys were said: no journey is critical, and
	// the frontend reads degraded, as it did then.
	m.Journeys = nil
	if fe := build(t, s, m).Services[0]; fe.DowntimeSeconds != 0 || fe.DegradedSeconds != 10 || len(fe.Journeys) != 5 {
		t.Errorf("without journeys in run.json: down %v degraded %v, %d journeys", fe.DowntimeSeconds, fe.DegradedSeconds, len(fe.Journeys))
	}
}

// A drain the cluster refused is an outcome of the system: a refusal in
// words, and the gate counts it when the baseline had none.
func TestRefusedDrain(t *testing.T) {
	msg := "the drain of node n1 was blocked 20s by PodDisruptionBudget gameday/frontend (gameday/fe-1 left on it)"
	s := newSynth().cluster().
		add(5, timeline.Entry{Kind: timeline.KindStep, Phase: "start", Step: "upgrade-drain", Action: "drain", Actor: "scenario", Change: true}).
		change(5.2, "node/n1", "unschedulable", "false", "true", timeline.Manager).
		add(25, timeline.Entry{Kind: timeline.KindStep, Phase: "end", Step: "upgrade-drain", Action: "drain", Actor: "scenario", Change: true,
			Targets: []string{"n1"}, Blocked: true, Message: msg}).
		stepOn(25, 2, "force-drain", "drain", "operator", "n1").
		probes("frontend", 0, 70, failIn([2]int{26, 30})).probes("api", 0, 70, failIn()).run(70, "recover-start")
	r := build(t, s, withHorizon(60*time.Second))
	if len(r.Refusals) != 1 || r.Refusals[0].Step != "upgrade-drain" || r.Refusals[0].Message != msg {
		t.Fatalf("refusals: %+v", r.Refusals)
	}
	want := "The cluster refused step upgrade-drain (drain, scenario) at +0:00: " + msg + "."
	if why := strings.Join(r.Explanation, "\n"); !strings.Contains(why, want) {
		t.Errorf("explanation:\n%s\nwant a line: %s", why, want)
	}
	if !slices.ContainsFunc(r.Steps, func(st StepMark) bool { return st.Step == "force-drain" && st.Actor == ActorOperator }) {
		t.Errorf("the forced drain that follows is on the timeline: %+v", r.Steps)
	}
	base := *r
	base.Refusals = nil
	if why := Gate(r, &base, 5); len(why) != 1 || !strings.Contains(why[0], "the cluster refused step upgrade-drain, which it did not on the baseline") {
		t.Errorf("gate: %q", why)
	}
	if why := Gate(r, r, 5); len(why) != 0 {
		t.Errorf("gate against itself: %q", why)
	}
}

// Downtime is measured to the probes' resolution, not to whole seconds: an
// outage from 20.4 s to 30.7 s is 10.3 s down (6 of 10 probes failing in
// second 20, 7 of 10 in second 30), and one from 20.6 s to 30.3 s is 9.7 s
// (the edge seconds, under half failed, are degraded, and still count
// their failed share as the stretch's edges).
func TestDowntimeToTheProbesResolution(t *testing.T) {
	for _, tc := range []struct {
		from, to, want float64
	}{{20.4, 30.7, 10.3}, {20.6, 30.3, 9.7}} {
		s := newSynth().stepOn(0, 0.1, "fault", "release", "scenario", "api").probes("frontend", 0, 60, failIn())
		for sec := 0; sec < 60; sec++ {
			for j := 0; j < 10; j++ {
				at := float64(sec) + float64(j)/10 + 0.001
				ok := at < tc.from || at >= tc.to
				s.add(at, timeline.Entry{Kind: timeline.KindProbe, Service: "api", Endpoint: "api /api/items", OK: timeline.Bool(ok), LatencyMs: 5})
			}
		}
		r := build(t, s.run(60, "recover-start"), withHorizon(60*time.Second))
		if got := r.Services[1].DowntimeSeconds; math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("outage %v-%v s: down %v s, want %v", tc.from, tc.to, got, tc.want)
		}
		if got := r.DowntimeSeconds; math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("outage %v-%v s: the run down %v s, want %v", tc.from, tc.to, got, tc.want)
		}
	}
}

// What changed in a pod template, in words: a restart, a new image.
func TestTemplateChangeInWords(t *testing.T) {
	from := "annotations= | app image=m:1 args=-role api env= resources="
	restart := observed{object: "deployment/api", field: "template", from: from, manager: "kubectl-rollout", actor: ActorOutside,
		to: "annotations=kubectl.kubernetes.io/restartedAt=now | app image=m:1 args=-role api env= resources="}
	if w := restart.words(); w != "deployment/api's pod template changed (annotations, as a rollout restart makes) by kubectl-rollout" {
		t.Errorf("restart: %q", w)
	}
	image := restart
	image.to = "annotations= | app image=m:2 args=-role api env= resources="
	image.manager = "kubectl-set"
	if w := image.words(); w != "deployment/api's pod template changed (image) by kubectl-set" {
		t.Errorf("new image: %q", w)
	}
}
