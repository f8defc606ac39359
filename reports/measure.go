package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

// Bucket is the resolution of every measure: probes are counted per second.
const Bucket = time.Second

// month is the period of an error budget.
const month = 30 * 24 * time.Hour

// ErrNoTimeline: the timeline never reached its start (the run failed before).
var ErrNoTimeline = errors.New("the run never started its timeline: nothing to score")

// Build measures, scores and explains a run from its metadata and timeline.
//
// The score spans the run's horizon from its first change, whoever made it
// (the timeline's start if nothing changed): it does not move with how long
// a run waits before its first change or after it recovered. Offsets in the
// report count from that first change.
func Build(m timeline.Meta, entries []timeline.Entry) (*Report, error) {
	es := slices.Clone(entries)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
	var t0, runEnd time.Time
	won := false // a game won: its end is its horizon (the system held its objectives)
	r := &Report{Schema: Schema, Scenario: m.Scenario, ScenarioDigest: m.ScenarioDigest, System: m.System, SystemDigest: m.SystemDigest, ScoringVersion: ScoringVersion, Topology: m.Topology, Cluster: m.Cluster, Backend: m.Backend, Emulated: m.Emulated, ProbedVia: m.ProbedVia, StoryScale: m.StoryScale,
		BucketSeconds: Bucket.Seconds()}
	for _, e := range es {
		if e.Kind != timeline.KindRun {
			continue
		}
		switch e.Phase {
		case "timeline-start":
			if t0.IsZero() {
				t0 = e.Time
			}
		case "recover-start":
			if runEnd.IsZero() {
				runEnd = e.Time
			}
		case "abort":
			r.Aborted = e.Message
		case "game-won":
			won = true
		}
	}
	if t0.IsZero() {
		return nil, ErrNoTimeline
	}
	if runEnd.IsZero() && len(es) > 0 { // killed: score what was seen
		runEnd = es[len(es)-1].Time
	}
	runs := stepRuns(es)
	all := slices.DeleteFunc(observedChanges(es, runs), func(o observed) bool { return o.at.Before(t0) || !o.at.Before(runEnd) })
	// The incident starts when the run first acts (a step that is not a
	// wait or a note, whoever's); in a run that never acts, at the first
	// change seen; else at the timeline's start. The span depends on no
	// measure and on no change made before the run acts, so making a run
	// worse can never move it (the score stays monotonic), and a stop's
	// effect seen later (a node NotReady after its grace period) is inside.
	anchor := t0
	if i := slices.IndexFunc(runs, func(s stepRun) bool { return s.acts() && s.player == "" && !s.start.Before(t0) }); i >= 0 {
		anchor = runs[i].start
	} else if len(all) > 0 {
		anchor = all[0].at
	}
	if anchor.After(t0) { // a breach before it is not the incident's: say so
		pre := &Report{}
		measureServices(pre, m, es, &clock{t0: t0, end: anchor, n: int(math.Ceil(float64(anchor.Sub(t0)) / float64(Bucket)))})
		r.BreachedBeforeSpan = pre.BlastRadius.ServicesBreached
	}
	horizon := time.Duration(m.Horizon)
	if horizon <= 0 { // recorded before horizons: the whole run
		horizon = runEnd.Sub(anchor)
	}
	// A game is scored over the scenario's horizon, as its replay (par) is,
	// or to its end if the team took longer: what is still broken then counts.
	if m.TimeLimit > 0 && runEnd.Sub(anchor) > horizon {
		horizon = runEnd.Sub(anchor)
	}
	end := anchor.Add(horizon)
	r.HorizonReached = !runEnd.Before(end) || won
	if runEnd.Before(end) {
		end = runEnd
	}
	if !end.After(anchor) {
		return nil, fmt.Errorf("%w (it ended as it started)", ErrNoTimeline)
	}
	r.Start = anchor
	r.StartOffsetSeconds = round3(anchor.Sub(t0).Seconds())
	r.SpanSeconds = round3(end.Sub(anchor).Seconds())
	r.HorizonSeconds = round3(horizon.Seconds())
	n := int(math.Ceil(float64(end.Sub(anchor)) / float64(Bucket)))
	c := &clock{t0: anchor, end: end, n: n, origin: t0}

	c.changes(r, runs, all)
	measureServices(r, m, es, c)
	measureBlast(r, es, c)
	measureWindows(r, m)
	score(r)
	measureTeam(r, m, es, c)
	explain(r)
	r.Warnings = AutomationFailures(es)
	for _, e := range es {
		if e.Kind == timeline.KindNote {
			r.Notes = append(r.Notes, Note{AtSeconds: round3(e.Time.Sub(anchor).Seconds()), By: e.Player, Kind: e.Phase, Text: e.Message})
		}
	}
	return r, nil
}

// AutomationFailures says which of the automation's steps failed: the cloud
// did not do what the scenario expected of it, which the score alone hides.
func AutomationFailures(es []timeline.Entry) []string {
	var out []string
	for _, e := range es {
		if e.Kind == timeline.KindStep && e.Phase == "end" && e.Rule != "" && e.Error != "" {
			out = append(out, fmt.Sprintf("Automation %s: step %s failed at %s: %s.", e.Rule, e.Step, e.Time.UTC().Format("15:04:05"), strings.TrimSuffix(e.Error, ".")))
		}
	}
	return out
}

// clock maps times onto the measured span and its buckets. origin is the
// timeline's start: the blast radius counts from there, so that what broke
// before the run acted still counts (making a run worse never helps).
type clock struct {
	t0, end time.Time
	n       int
	origin  time.Time
}

// from is where the blast radius counts from.
func (c *clock) from() time.Time {
	if c.origin.IsZero() || c.origin.After(c.t0) {
		return c.t0
	}
	return c.origin
}

func (c *clock) in(t time.Time) bool { return !t.Before(c.t0) && t.Before(c.end) }
func (c *clock) at(t time.Time) float64 {
	return round3(t.Sub(c.t0).Seconds())
}
func (c *clock) bucket(t time.Time) int { return int(t.Sub(c.t0) / Bucket) }
func (c *clock) start(i int) float64    { return round3(float64(i) * Bucket.Seconds()) }

// length is bucket i's length in seconds: the last one may be cut short.
func (c *clock) length(i int) float64 {
	return math.Min(Bucket.Seconds(), c.end.Sub(c.t0).Seconds()-float64(i)*Bucket.Seconds())
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
func ptr(f float64) *float64   { return &f }

// changes collects the steps (for charts) and every change in the span;
// which breach each change preceded is filled in once the breaches are known.
func (c *clock) changes(r *Report, runs []stepRun, all []observed) {
	r.Refusals = []Refusal{}
	for _, s := range runs {
		if c.in(s.start) {
			r.Steps = append(r.Steps, StepMark{AtSeconds: c.at(s.start), Step: s.name, Action: s.action, Rule: s.rule,
				Actor: s.actor, Change: s.change, Blocked: s.blocked})
			if s.blocked {
				r.Refusals = append(r.Refusals, Refusal{AtSeconds: c.at(s.start), Step: s.name, Action: s.action, Actor: s.actor, Message: s.message})
			}
		}
	}
	r.Changes = []Change{}
	for _, o := range all {
		if !c.in(o.at) {
			continue
		}
		made := o.at
		if !o.made.IsZero() && !o.made.Before(c.t0) {
			made = o.made
		}
		ch := Change{AtSeconds: c.at(o.at), MadeAtSeconds: c.at(made), Actor: o.actor, Object: o.object, Field: o.field, From: o.from, To: o.to,
			Manager: o.manager, Step: o.step, Action: o.action, Rule: o.rule, Player: o.player, Message: o.words(),
			ControlPlane: o.object == "control-plane" && o.to != "" || o.action == "control-plane-upgrade"}
		if o.failed != "" {
			ch.Message += " (failed: " + o.failed + ")"
		}
		r.Changes = append(r.Changes, ch)
		if o.actor != ActorOperator && (r.FirstFaultSeconds == nil || ch.MadeAtSeconds < *r.FirstFaultSeconds) {
			r.FirstFaultSeconds = ptr(ch.MadeAtSeconds)
			r.FirstFault = ch.Message
		}
	}
}

// probeCount is what one bucket (or window) of a service's probes holds.
type probeCount struct {
	n, failed, degraded int
	bad                 int       // failed, or slower than the objective's latency: the SLI's bad events
	lat                 []float64 // ms
}

func (p probeCount) p95() float64 {
	if len(p.lat) == 0 {
		return 0
	}
	s := slices.Clone(p.lat)
	slices.Sort(s)
	return s[int(math.Ceil(0.95*float64(len(s))))-1]
}

func measureServices(r *Report, m timeline.Meta, es []timeline.Entry, c *clock) {
	byService := map[string][]probeCount{}
	// What the probes saw before the span, for the detection alert's
	// long windows: a page looks back over what came before the change too.
	alerts := burnAlerts(r.StoryScale)
	lookback := alerts[len(alerts)-1].long
	before := map[string][]probeCount{}
	slow := map[string]float64{}
	// Objectives are on a service, or on one of its journeys (an endpoint).
	journeyObjective := map[string]bool{}
	for _, o := range m.Objectives {
		byService[o.Key()] = make([]probeCount, c.n)
		before[o.Key()] = make([]probeCount, lookback)
		slow[o.Key()] = float64(time.Duration(o.Latency)) / float64(time.Millisecond)
		journeyObjective[o.Key()] = o.Journey != ""
	}
	journeys := journeysOf(m, es)
	byJourney := map[string][]probeCount{}
	for _, j := range journeys {
		byJourney[j.Name] = make([]probeCount, c.n)
	}
	for _, e := range es {
		if e.Kind != timeline.KindProbe || !e.Time.Before(c.end) {
			continue
		}
		if jb, ok := byJourney[e.Endpoint]; ok && !e.Time.Before(c.t0) {
			pc := &jb[c.bucket(e.Time)]
			pc.n++
			switch {
			case e.OK == nil || !*e.OK:
				pc.failed++
			case e.Degraded:
				pc.degraded++
			}
		}
		for _, key := range []string{e.Service, e.Endpoint} {
			measureProbe(e, key, byService, before, slow, lookback, c)
		}
	}
	r.DetectionAlert = describeAlerts(alerts, r.StoryScale)
	pools := startPools(es, c)
	anyBreach := make([]bool, c.n)
	anyDown := make([]float64, c.n) // the most any service was down in each second
	var totalReq, totalFailed int
	for _, o := range m.Objectives {
		b := byService[o.Key()]
		tier := o.Service
		if t, ok := m.ServiceTiers[o.Service]; ok {
			tier = t
		}
		s := Service{Name: o.Key(), Objective: Objective{SuccessRatio: o.SuccessRatio,
			LatencyMs: float64(time.Duration(o.Latency).Milliseconds()), WindowSeconds: time.Duration(o.Window).Seconds()},
			Pools: pools[tier], Series: make([]float64, c.n)}
		if tier != o.Service {
			s.Tier = tier
		}
		var critical []string
		if !journeyObjective[o.Key()] {
			for _, j := range journeys {
				if j.Service == o.Service {
					s.Journeys = append(s.Journeys, measureJourney(j, byJourney[j.Name], c))
					if j.Critical {
						critical = append(critical, j.Name)
					}
				}
			}
		}
		// A critical journey down takes the service down, whatever its
		// other journeys do: most pages answering must not hide the API's
		// total outage as "degraded".
		criticalDown := func(i int) bool {
			for _, name := range critical {
				if pc := byJourney[name][i]; pc.n > 0 && 2*pc.failed >= pc.n {
					return true
				}
			}
			return false
		}
		// How much of a second the service was down: the share of its
		// probes that failed, or of a critical journey's if more.
		failedShare := func(i int) float64 {
			var f float64
			if pc := b[i]; pc.n > 0 {
				f = float64(pc.failed) / float64(pc.n)
			}
			for _, name := range critical {
				if pc := byJourney[name][i]; pc.n > 0 {
					f = math.Max(f, float64(pc.failed)/float64(pc.n))
				}
			}
			return f
		}
		latency := float64(time.Duration(o.Latency)) / float64(time.Millisecond)
		states := make([]string, c.n)
		breached := make([]bool, c.n)
		k := max(1, int(math.Round(float64(o.Window)/float64(Bucket))))
		for i, pc := range b {
			s.Requests += pc.n
			s.Failed += pc.failed
			s.DegradedAnswers += pc.degraded
			switch {
			case pc.n == 0:
				states[i] = StateNoData
				s.Series[i] = -1
			case 2*pc.failed >= pc.n || criticalDown(i):
				states[i] = StateDown
			case pc.failed > 0 || pc.degraded > 0 || pc.p95() > latency:
				states[i] = StateDegraded
			default:
				states[i] = StateOK
			}
			if pc.n > 0 {
				s.Series[i] = round3(float64(pc.n-pc.failed) / float64(pc.n))
			}
			var w probeCount
			for j := max(0, i-k+1); j <= i; j++ {
				w.n += b[j].n
				w.failed += b[j].failed
				w.lat = append(w.lat, b[j].lat...)
			}
			breached[i] = w.n > 0 && (float64(w.n-w.failed) < o.SuccessRatio*float64(w.n)-1e-9 || w.p95() > latency)
			// A journey's objective is a verdict only: its probes are its
			// service's already, counted once in the run's measures.
			isService := !journeyObjective[o.Key()]
			if breached[i] {
				s.BreachedSeconds += c.length(i)
				anyBreach[i] = anyBreach[i] || isService
			}
			switch states[i] {
			case StateDown:
			case StateDegraded:
				s.DegradedSeconds += c.length(i)
			case StateNoData:
				s.NoDataSeconds += c.length(i)
			}
		}
		// Downtime: every stretch of seconds down, each second weighted by the
		// share of its probes that failed, and the seconds on either side of
		// the stretch by theirs: an outage measured to the probes' resolution
		// (a tenth of a second at 10 a second), not to whole seconds.
		down := make([]float64, c.n)
		for i := range states {
			if states[i] != StateDown {
				continue
			}
			for _, j := range []int{i - 1, i, i + 1} {
				if j >= 0 && j < c.n {
					down[j] = failedShare(j) * c.length(j)
				}
			}
		}
		s.DownSeries = make([]float64, c.n)
		for i, d := range down {
			s.DownSeries[i] = round3(d)
			s.DowntimeSeconds += d
			if !journeyObjective[o.Key()] {
				anyDown[i] = math.Max(anyDown[i], d)
			}
		}
		s.States = spans(states)
		s.DowntimeSeconds, s.DegradedSeconds, s.BreachedSeconds, s.NoDataSeconds =
			round3(s.DowntimeSeconds), round3(s.DegradedSeconds), round3(s.BreachedSeconds), round3(s.NoDataSeconds)
		if s.Requests > 0 {
			s.Availability = round6(float64(s.Requests-s.Failed) / float64(s.Requests))
		} else {
			s.Availability = 1
		}
		if !journeyObjective[o.Key()] {
			totalReq += s.Requests
			totalFailed += s.Failed
		}
		first := slices.Index(breached, true)
		if first >= 0 {
			s.FirstBreachSeconds = ptr(c.start(first))
			fault := math.Inf(1)
			if r.FirstFaultSeconds != nil {
				fault = *r.FirstFaultSeconds
			}
			s.BreachedBeforeFault = c.start(first+1) <= fault
			if made, ok := r.firstMade(); ok && made <= c.start(first+1) {
				s.TimeToImpactSeconds = ptr(round3(math.Max(0, c.start(first)-made)))
			}
			if i := alertAt(before[o.Key()], b, first, o.SuccessRatio, alerts); i >= 0 {
				s.DetectedAtSeconds = ptr(c.start(i))
				s.TimeToDetectSeconds = ptr(round3(c.start(i) - c.start(first)))
			}
			// Recovered: the moment after the last breach, if from there
			// the objective holds, with probes answering, for at least a full
			// stabilisation window (its own window) within the measured span.
			// A second without probes is no evidence either way.
			last := first
			for i := range breached {
				if breached[i] {
					last = i
				}
			}
			held := 0
			for i := last + 1; i < c.n; i++ {
				if b[i].n > 0 {
					held++
				}
			}
			if held >= k {
				s.Recovered = true
				s.TimeToRecoverSeconds = ptr(round3(c.start(last+1) - c.start(first)))
				// Mitigated by the last change the recovery follows.
				for i := len(r.Changes) - 1; i >= 0; i-- {
					ch := r.Changes[i]
					if ch.AtSeconds >= c.start(first) && ch.AtSeconds <= c.start(last+1) {
						s.TimeToMitigateSeconds = ptr(round3(ch.AtSeconds - c.start(first)))
						s.MitigatedBy = ch.Message
						break
					}
				}
			}
		} else {
			s.Recovered = true
		}
		s.ErrorBudget = budget(o.SuccessRatio, s, r)
		verdict := Verdict{Name: objectiveName(o), Service: o.Service, Passed: first < 0}
		if first < 0 {
			verdict.Message = fmt.Sprintf("held throughout %s: %s of %d requests answered", seconds(r.SpanSeconds), pct(s.Availability), s.Requests)
		} else {
			verdict.Message = fmt.Sprintf("breached for %s, first at %s; %s of %d requests answered, %s down",
				seconds(s.BreachedSeconds), offset(*s.FirstBreachSeconds), pct(s.Availability), s.Requests, seconds(s.DowntimeSeconds))
		}
		r.Objectives = append(r.Objectives, verdict)
		if !journeyObjective[o.Key()] {
			r.Services = append(r.Services, s)
			r.breached = append(r.breached, breached)
		}
	}
	r.BlastRadius.Requests, r.BlastRadius.RequestsFailed = totalReq, totalFailed
	if totalReq > 0 {
		r.BlastRadius.RequestsFailedShare = round6(float64(totalFailed) / float64(totalReq))
	}
	for _, d := range anyDown {
		r.DowntimeSeconds += d
	}
	r.DowntimeSeconds = round3(r.DowntimeSeconds)
	runWide(r)
}

// measureProbe counts probe e under key when an objective is measured on
// key (a service, or one journey): in the span's buckets, or in the lookback
// before it (for the detection alert).
func measureProbe(e timeline.Entry, key string, byService, before map[string][]probeCount, slow map[string]float64, lookback int, c *clock) {
	b, ok := byService[key]
	if !ok {
		return
	}
	var pc *probeCount
	if e.Time.Before(c.t0) {
		i := int(math.Floor(float64(e.Time.Sub(c.t0)) / float64(Bucket)))
		if i < -lookback {
			return
		}
		pc = &before[key][lookback+i]
	} else {
		pc = &b[c.bucket(e.Time)]
	}
	pc.n++
	switch {
	case e.OK == nil || !*e.OK:
		pc.failed++
		pc.bad++
	case e.LatencyMs > slow[key]:
		pc.bad++
		if e.Degraded {
			pc.degraded++
		}
	case e.Degraded:
		pc.degraded++
	}
	pc.lat = append(pc.lat, e.LatencyMs)
}

// journeysOf are the run's journeys: run.json's, or, for runs recorded
// before it said, every probed endpoint (none critical).
func journeysOf(m timeline.Meta, es []timeline.Entry) []timeline.Journey {
	if len(m.Journeys) > 0 {
		return m.Journeys
	}
	var out []timeline.Journey
	seen := map[string]bool{}
	for _, e := range es {
		if e.Kind == timeline.KindProbe && !seen[e.Endpoint] {
			seen[e.Endpoint] = true
			out = append(out, timeline.Journey{Name: e.Endpoint, Service: e.Service})
		}
	}
	slices.SortFunc(out, func(a, b timeline.Journey) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// measureJourney is one journey's share of answers and states over the span.
func measureJourney(j timeline.Journey, b []probeCount, c *clock) Journey {
	out := Journey{Name: j.Name, Critical: j.Critical}
	states := make([]string, len(b))
	for i, pc := range b {
		out.Requests += pc.n
		out.Failed += pc.failed
		switch {
		case pc.n == 0:
			states[i] = StateNoData
		case 2*pc.failed >= pc.n:
			states[i] = StateDown
			out.DowntimeSeconds += c.length(i)
		case pc.failed > 0 || pc.degraded > 0:
			states[i] = StateDegraded
			out.DegradedSeconds += c.length(i)
		default:
			states[i] = StateOK
		}
	}
	out.DowntimeSeconds, out.DegradedSeconds = round3(out.DowntimeSeconds), round3(out.DegradedSeconds)
	out.Availability = 1
	if out.Requests > 0 {
		out.Availability = round6(float64(out.Requests-out.Failed) / float64(out.Requests))
	}
	out.States = spans(states)
	return out
}

// runWide derives the run's times, first breach and changes in flight from
// the services': impact from the first change to the first breach, detection
// from it to the first page, mitigation to the last service's mitigating
// change, recovery to the last service's recovery.
func runWide(r *Report) {
	r.Recovered = true
	var firstBreach *float64
	var recoverAt, mitigatedAt, detectedAt float64
	mitigated, detected := true, false
	for _, s := range r.Services {
		if s.FirstBreachSeconds == nil {
			continue
		}
		r.BlastRadius.ServicesBreached = append(r.BlastRadius.ServicesBreached, s.Name)
		if firstBreach == nil || *s.FirstBreachSeconds < *firstBreach {
			firstBreach = s.FirstBreachSeconds
			r.FirstBreach = &Breach{Service: s.Name, AtSeconds: *s.FirstBreachSeconds}
		}
		if s.DetectedAtSeconds != nil && (!detected || *s.DetectedAtSeconds < detectedAt) {
			detected, detectedAt = true, *s.DetectedAtSeconds
		}
		if s.TimeToMitigateSeconds != nil {
			mitigatedAt = math.Max(mitigatedAt, *s.FirstBreachSeconds+*s.TimeToMitigateSeconds)
		} else {
			mitigated = false
		}
		if !s.Recovered {
			r.Recovered = false
		} else {
			recoverAt = math.Max(recoverAt, *s.FirstBreachSeconds+*s.TimeToRecoverSeconds)
		}
	}
	if len(r.Services) > 0 {
		r.BlastRadius.ServicesShare = round6(float64(len(r.BlastRadius.ServicesBreached)) / float64(len(r.Services)))
	}
	if firstBreach != nil {
		if made, ok := r.firstMade(); ok && made <= *firstBreach+Bucket.Seconds() {
			r.TimeToImpactSeconds = ptr(round3(math.Max(0, *firstBreach-made)))
		}
		if detected {
			r.TimeToDetectSeconds = ptr(round3(detectedAt - *firstBreach))
		}
		if mitigated && r.Recovered {
			r.TimeToMitigateSeconds = ptr(round3(mitigatedAt - *firstBreach))
		}
		if r.Recovered {
			r.TimeToRecoverSeconds = ptr(round3(recoverAt - *firstBreach))
		}
	}
	// Only the changes before the run's first breach are "in flight"; each
	// says which breaches it came before.
	r.ChangesInFlight = []Change{}
	for _, ch := range r.Changes {
		if r.FirstBreach == nil || ch.AtSeconds >= r.FirstBreach.AtSeconds+Bucket.Seconds() {
			continue
		}
		for _, s := range r.Services {
			if s.FirstBreachSeconds != nil && ch.AtSeconds < *s.FirstBreachSeconds+Bucket.Seconds() {
				ch.Preceded = append(ch.Preceded, Preceded{Service: s.Name, BeforeSeconds: round3(math.Max(0, *s.FirstBreachSeconds-ch.AtSeconds))})
			}
		}
		r.ChangesInFlight = append(r.ChangesInFlight, ch)
	}
}

// firstMade is when the first change was made.
func (r *Report) firstMade() (float64, bool) {
	if len(r.Changes) == 0 {
		return 0, false
	}
	made := r.Changes[0].MadeAtSeconds
	for _, ch := range r.Changes {
		made = math.Min(made, ch.MadeAtSeconds)
	}
	return made, true
}

// budget is the error budget a service burned: its failed share over the
// span, scaled to story time, against (1 - SLO) of a 30-day month.
func budget(slo float64, s Service, r *Report) Budget {
	b := Budget{MonthlySLO: slo}
	if s.Requests == 0 || slo >= 1 {
		return b
	}
	failed := float64(s.Failed) / float64(s.Requests)
	scale := r.StoryScale
	if scale <= 0 {
		scale = 1
	}
	b.BurnRate = round3(failed / (1 - slo))
	b.BurnedShare = round6(failed * r.HorizonSeconds * scale / ((1 - slo) * month.Seconds()))
	return b
}

// startPools maps each tier to the pools its pods were on when the timeline
// started (probes are named after tiers: frontend, api).
func startPools(es []timeline.Entry, c *clock) map[string][]string {
	last := map[string]timeline.Entry{}
	pools := nodePools(es)
	for _, e := range es {
		if e.Kind == timeline.KindPod && e.Time.Before(c.t0) {
			last[e.Name] = e
		}
	}
	out := map[string][]string{}
	for _, e := range last {
		p := podPool(e, pools)
		if e.Deleted || p == "" || slices.Contains(out[e.Tier], p) {
			continue
		}
		out[e.Tier] = append(out[e.Tier], p)
	}
	for _, p := range out {
		slices.Sort(p)
	}
	return out
}

// nodePools maps node names to their pools.
func nodePools(es []timeline.Entry) map[string]string {
	out := map[string]string{}
	for _, e := range es {
		if e.Kind == timeline.KindNode && e.Pool != "" {
			out[e.Name] = e.Pool
		}
	}
	return out
}

// podPool is the pool of a pod entry's node (an early entry may lack it).
func podPool(e timeline.Entry, pools map[string]string) string {
	if e.Pool != "" {
		return e.Pool
	}
	return pools[e.Node]
}

// spans merges per-bucket states into spans.
func spans(states []string) []Span {
	var out []Span
	for i, s := range states {
		if len(out) > 0 && out[len(out)-1].State == s {
			out[len(out)-1].To = float64(i + 1)
			continue
		}
		out = append(out, Span{State: s, From: float64(i), To: float64(i + 1)})
	}
	return out
}

func measureWindows(r *Report, m timeline.Meta) {
	for _, w := range m.BusinessWindows {
		// The scenario gives them from the timeline's start.
		from := time.Duration(w.Start).Seconds() - r.StartOffsetSeconds
		to := time.Duration(w.End).Seconds() - r.StartOffsetSeconds
		v := Verdict{Name: w.Name, Service: w.Service, FromSeconds: ptr(from), ToSeconds: ptr(to)}
		idx := slices.IndexFunc(r.Services, func(s Service) bool { return s.Name == w.Service })
		span := fmt.Sprintf("%s-%s", offset(from), offset(to))
		switch {
		case idx < 0:
			v.Message = fmt.Sprintf("%s: no objective for service %s", span, w.Service)
		case to <= 0:
			v.Message = fmt.Sprintf("%s: not observed (it ended before the first change, where the span starts)", span)
		case from >= r.SpanSeconds:
			v.Message = fmt.Sprintf("%s: not observed (the timeline ended at %s)", span, offset(r.SpanSeconds))
		default:
			breached := r.breached[idx]
			var bad float64
			first := -1.0
			for i := max(0, int(math.Floor(from/Bucket.Seconds()))); i < len(breached) && float64(i)*Bucket.Seconds() < to; i++ {
				if breached[i] {
					bad += Bucket.Seconds()
					if first < 0 {
						first = float64(i) * Bucket.Seconds()
					}
				}
			}
			v.Passed = bad == 0
			if v.Passed {
				v.Message = fmt.Sprintf("%s: %s met its objective throughout", span, w.Service)
			} else {
				v.Message = fmt.Sprintf("%s: %s breached its objective for %s, first at %s", span, w.Service, seconds(bad), offset(first))
			}
			switch {
			case from < 0 && to > r.SpanSeconds:
				v.Message += fmt.Sprintf(" (observed from the span's start, +0:00, until %s)", offset(r.SpanSeconds))
			case from < 0:
				v.Message += " (observed from the span's start, +0:00)"
			case to > r.SpanSeconds:
				v.Message += fmt.Sprintf(" (observed until %s)", offset(r.SpanSeconds))
			}
		}
		r.BusinessWindows = append(r.BusinessWindows, v)
	}
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func objectiveName(o timeline.Objective) string {
	return fmt.Sprintf("%s: %s of requests succeed, p95 <= %s, over %s", o.Key(),
		pct(o.SuccessRatio), time.Duration(o.Latency), time.Duration(o.Window))
}

// pct writes a share as a percentage: 0.99 -> "99%", 0.9876 -> "98.8%".
func pct(f float64) string {
	v := f * 100
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f%%", v)
	}
	return fmt.Sprintf("%.1f%%", v)
}

// seconds writes a duration in seconds: "45 s", "1.5 s".
func seconds(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%.0f s", f)
	}
	return fmt.Sprintf("%.1f s", f)
}

// offset writes an offset from the timeline's start: "+1:05".
func offset(f float64) string {
	s := int(math.Round(f))
	if s < 0 {
		return fmt.Sprintf("-%d:%02d", -s/60, -s%60)
	}
	return fmt.Sprintf("+%d:%02d", s/60, s%60)
}
