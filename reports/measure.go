package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
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
func Build(m timeline.Meta, entries []timeline.Entry) (*Report, error) {
	es := slices.Clone(entries)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Time.Before(es[j].Time) })
	var t0, end time.Time
	r := &Report{Schema: Schema, Scenario: m.Scenario, ScenarioDigest: m.ScenarioDigest, ScoringVersion: ScoringVersion, Topology: m.Topology, Cluster: m.Cluster, StoryScale: m.StoryScale,
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
			if end.IsZero() {
				end = e.Time
			}
		case "abort":
			r.Aborted = e.Message
		}
	}
	if t0.IsZero() {
		return nil, ErrNoTimeline
	}
	if end.IsZero() && len(es) > 0 { // killed: score what was seen
		end = es[len(es)-1].Time
	}
	if !end.After(t0) {
		return nil, fmt.Errorf("%w (it ended as it started)", ErrNoTimeline)
	}
	r.Start = t0
	r.SpanSeconds = end.Sub(t0).Seconds()
	n := int(math.Ceil(float64(end.Sub(t0)) / float64(Bucket)))
	c := &clock{t0: t0, end: end, n: n}

	c.changes(r, es)
	measureServices(r, m, es, c)
	measureBlast(r, es, c)
	measureWindows(r, m)
	score(r)
	explain(r)
	return r, nil
}

// clock maps times onto the measured span and its buckets.
type clock struct {
	t0, end time.Time
	n       int
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

// changes collects the steps (for charts) and the changes; which breach each
// change preceded is filled in once the breaches are known.
func (c *clock) changes(r *Report, es []timeline.Entry) {
	ends := map[string]timeline.Entry{}
	for _, e := range es {
		if e.Kind == timeline.KindStep && e.Phase == "end" {
			if _, ok := ends[e.Step]; !ok {
				ends[e.Step] = e
			}
		}
	}
	for _, e := range es {
		if e.Kind != timeline.KindStep || e.Phase != "start" || !c.in(e.Time) {
			continue
		}
		end := ends[e.Step]
		r.Steps = append(r.Steps, StepMark{AtSeconds: c.at(e.Time), Step: e.Step, Action: e.Action, Rule: e.Rule, Change: e.Change, Blocked: end.Blocked})
		if e.Change {
			if r.FirstFaultSeconds == nil {
				r.FirstFaultSeconds = ptr(c.at(e.Time))
			}
			msg := end.Message
			if end.Error != "" {
				msg = "failed: " + end.Error
			}
			r.ChangesInFlight = append(r.ChangesInFlight, Change{AtSeconds: c.at(e.Time), Step: e.Step, Action: e.Action,
				Rule: e.Rule, Message: msg, ControlPlane: e.Action == "control-plane-upgrade"})
		}
	}
}

// probeCount is what one bucket (or window) of a service's probes holds.
type probeCount struct {
	n, failed, degraded int
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
	for _, o := range m.Objectives {
		byService[o.Service] = make([]probeCount, c.n)
	}
	for _, e := range es {
		if e.Kind != timeline.KindProbe || !c.in(e.Time) {
			continue
		}
		b, ok := byService[e.Service]
		if !ok {
			continue
		}
		i := c.bucket(e.Time)
		b[i].n++
		switch {
		case e.OK == nil || !*e.OK:
			b[i].failed++
		case e.Degraded:
			b[i].degraded++
		}
		b[i].lat = append(b[i].lat, e.LatencyMs)
	}
	pools := startPools(es, c)
	anyBreach := make([]bool, c.n)
	anyDown := make([]bool, c.n)
	var totalReq, totalFailed int
	for _, o := range m.Objectives {
		b := byService[o.Service]
		s := Service{Name: o.Service, Objective: Objective{SuccessRatio: o.SuccessRatio,
			LatencyMs: float64(time.Duration(o.Latency).Milliseconds()), WindowSeconds: time.Duration(o.Window).Seconds()},
			Pools: pools[o.Service], Series: make([]float64, c.n)}
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
			case 2*pc.failed >= pc.n:
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
			if breached[i] {
				s.BreachedSeconds += c.length(i)
				anyBreach[i] = true
			}
			switch states[i] {
			case StateDown:
				s.DowntimeSeconds += c.length(i)
				anyDown[i] = true
			case StateDegraded:
				s.DegradedSeconds += c.length(i)
			case StateNoData:
				s.NoDataSeconds += c.length(i)
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
		totalReq += s.Requests
		totalFailed += s.Failed
		first := slices.Index(breached, true)
		if first >= 0 {
			s.FirstBreachSeconds = ptr(c.start(first))
			fault := math.Inf(1)
			if r.FirstFaultSeconds != nil {
				fault = *r.FirstFaultSeconds
			}
			s.BreachedBeforeFault = c.start(first+1) <= fault
			for i := first; i < c.n && !math.IsInf(fault, 1); i++ {
				if breached[i] && c.start(i+1) > fault {
					s.TimeToDetectSeconds = ptr(round3(math.Max(0, c.start(i)-fault)))
					break
				}
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
			}
		} else {
			s.Recovered = true
		}
		s.ErrorBudget = budget(o.SuccessRatio, s, r)
		r.Services = append(r.Services, s)
		verdict := Verdict{Name: objectiveName(o), Service: o.Service, Passed: first < 0}
		if first < 0 {
			verdict.Message = fmt.Sprintf("held throughout %s: %s of %d requests answered", seconds(r.SpanSeconds), pct(s.Availability), s.Requests)
		} else {
			verdict.Message = fmt.Sprintf("breached for %s, first at %s; %s of %d requests answered, %s down",
				seconds(s.BreachedSeconds), offset(*s.FirstBreachSeconds), pct(s.Availability), s.Requests, seconds(s.DowntimeSeconds))
		}
		r.Objectives = append(r.Objectives, verdict)
		r.breached = append(r.breached, breached)
	}
	r.BlastRadius.Requests, r.BlastRadius.RequestsFailed = totalReq, totalFailed
	if totalReq > 0 {
		r.BlastRadius.RequestsFailedShare = round6(float64(totalFailed) / float64(totalReq))
	}
	for i := range anyDown {
		if anyDown[i] {
			r.DowntimeSeconds += c.length(i)
		}
	}
	r.DowntimeSeconds = round3(r.DowntimeSeconds)
	runWide(r)
}

// runWide derives the run's detection, recovery and first breach from the services'.
func runWide(r *Report) {
	r.Recovered = true
	var firstBreach *float64
	var recoverAt float64
	for _, s := range r.Services {
		if s.FirstBreachSeconds == nil {
			continue
		}
		r.BlastRadius.ServicesBreached = append(r.BlastRadius.ServicesBreached, s.Name)
		if firstBreach == nil || *s.FirstBreachSeconds < *firstBreach {
			firstBreach = s.FirstBreachSeconds
			r.FirstBreach = &Breach{Service: s.Name, AtSeconds: *s.FirstBreachSeconds}
		}
		if s.TimeToDetectSeconds != nil && (r.TimeToDetectSeconds == nil || *s.TimeToDetectSeconds < *r.TimeToDetectSeconds) {
			r.TimeToDetectSeconds = ptr(*s.TimeToDetectSeconds)
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
	if firstBreach != nil && r.Recovered {
		r.TimeToRecoverSeconds = ptr(round3(recoverAt - *firstBreach))
	}
	// Which breaches each change preceded.
	for i := range r.ChangesInFlight {
		ch := &r.ChangesInFlight[i]
		for _, s := range r.Services {
			if s.FirstBreachSeconds != nil && ch.AtSeconds < *s.FirstBreachSeconds {
				ch.Preceded = append(ch.Preceded, Preceded{Service: s.Name, BeforeSeconds: round3(*s.FirstBreachSeconds - ch.AtSeconds)})
			}
		}
	}
	// Only the changes before the run's first breach are "in flight".
	r.ChangesInFlight = slices.DeleteFunc(r.ChangesInFlight, func(ch Change) bool {
		return r.FirstBreach == nil || ch.AtSeconds >= r.FirstBreach.AtSeconds
	})
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
	b.BurnedShare = round6(failed * r.SpanSeconds * scale / ((1 - slo) * month.Seconds()))
	return b
}

// startPools maps each tier to the pools its pods were on when the timeline
// started (probes are named after tiers: frontend, api).
func startPools(es []timeline.Entry, c *clock) map[string][]string {
	last := map[string]timeline.Entry{}
	pools := nodePools(es)
	for _, e := range es {
		if e.Kind == timeline.KindPod && !e.Time.After(c.t0) {
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
		from, to := time.Duration(w.Start).Seconds(), time.Duration(w.End).Seconds()
		v := Verdict{Name: w.Name, Service: w.Service, FromSeconds: ptr(from), ToSeconds: ptr(to)}
		idx := slices.IndexFunc(r.Services, func(s Service) bool { return s.Name == w.Service })
		span := fmt.Sprintf("%s-%s", offset(from), offset(to))
		switch {
		case idx < 0:
			v.Message = fmt.Sprintf("%s: no objective for service %s", span, w.Service)
		case from >= r.SpanSeconds:
			v.Message = fmt.Sprintf("%s: not observed (the timeline ended at %s)", span, offset(r.SpanSeconds))
		default:
			breached := r.breached[idx]
			var bad float64
			first := -1.0
			for i := int(from / Bucket.Seconds()); i < len(breached) && float64(i)*Bucket.Seconds() < to; i++ {
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
			if to > r.SpanSeconds {
				v.Message += fmt.Sprintf(" (observed until %s)", offset(r.SpanSeconds))
			}
		}
		r.BusinessWindows = append(r.BusinessWindows, v)
	}
}

func round6(f float64) float64 { return math.Round(f*1e6) / 1e6 }

func objectiveName(o timeline.Objective) string {
	return fmt.Sprintf("%s: %s of requests succeed, p95 <= %s, over %s", o.Service,
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
	return fmt.Sprintf("+%d:%02d", s/60, s%60)
}
