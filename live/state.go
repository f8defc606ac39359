package live

import (
	"slices"
	"sort"
	"sync"
	"time"

	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

// The states of a service or journey on the page, from the probes of the
// last second: every probe answered (ok, or degraded where a page said so),
// some failed (failing), none answered (down), or none came (unknown).
const (
	StateOK       = "ok"
	StateDegraded = "degraded"
	StateFailing  = "failing"
	StateDown     = "down"
	StateUnknown  = "unknown"
)

// window is how far back a state looks: the probes of the last second.
const window = time.Second

// scoreEvery is how often the scores so far are computed again.
const scoreEvery = 5 * time.Second

// State is what the page shows each second.
type State struct {
	// Clock is the seconds since the game's (or replay's) timeline began;
	// zero before.
	Clock float64 `json:"clock"`
	Phase string  `json:"phase,omitempty"`
	// Services and Journeys map each name to its state.
	Services map[string]string `json:"services"`
	Journeys map[string]string `json:"journeys"`
	Nodes    []Node            `json:"nodes"`
	Goals    []Goal            `json:"goals,omitempty"`
	// HintsReleased counts the hints out.
	HintsReleased int `json:"hintsReleased,omitempty"`
	// Score and TeamScore are the scores of what was seen so far.
	Score     *float64 `json:"score,omitempty"`
	TeamScore *float64 `json:"teamScore,omitempty"`
}

// Node is a node as the observers last saw it.
type Node struct {
	Name        string `json:"name"`
	Pool        string `json:"pool"`
	Ready       bool   `json:"ready"`
	Schedulable bool   `json:"schedulable"`
	InService   bool   `json:"inService"`
	Gone        bool   `json:"gone,omitempty"`
}

// Goal is one of the game's goals.
type Goal struct {
	Text      string   `json:"text"`
	Reached   bool     `json:"reached"`
	AtSeconds *float64 `json:"atSeconds,omitempty"`
}

type probeSeen struct {
	at            time.Time
	ok, degraded  bool
	journey, serv string
}

// tracker turns the timeline into the page's state.
type tracker struct {
	info Info
	meta timeline.Meta

	mu       sync.Mutex
	t0       time.Time
	phase    string
	recent   []probeSeen // the probes of the last window
	nodes    map[string]*Node
	goals    []Goal
	goalIdx  map[string]int // goal step -> index
	hints    int
	entries  []timeline.Entry // everything, for the scores
	scoredAt time.Time
	score    *float64
	team     *float64
	last     map[string]string // journey -> its last known state
}

func newTracker(info Info, meta timeline.Meta) *tracker {
	return &tracker{info: info, meta: meta, nodes: map[string]*Node{}, goalIdx: map[string]int{}, last: map[string]string{}}
}

func (t *tracker) start() time.Time {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.t0
}

func (t *tracker) feed(e timeline.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries = append(t.entries, e)
	switch e.Kind {
	case timeline.KindRun:
		if e.Phase == "timeline-start" && t.t0.IsZero() {
			t.t0 = e.Time
		}
		if e.Phase != "" && e.Phase != "kit" && e.Phase != "audit-read" {
			t.phase = e.Phase
		}
	case timeline.KindProbe:
		// A probe is stamped when it was sent; it counts from when it came
		// back (a timeout's failure is seen at its end).
		back := e.Time.Add(time.Duration(e.LatencyMs * float64(time.Millisecond)))
		t.recent = append(t.recent, probeSeen{at: back, ok: e.OK != nil && *e.OK, degraded: e.Degraded, journey: e.Endpoint, serv: e.Service})
	case timeline.KindNode:
		n := t.nodes[e.Name]
		if n == nil {
			n = &Node{Name: e.Name}
			t.nodes[e.Name] = n
		}
		if e.Pool != "" {
			n.Pool = e.Pool
		}
		n.Gone = e.Deleted
		if e.Ready != nil {
			n.Ready = *e.Ready
		}
		if e.Schedulable != nil {
			n.Schedulable = *e.Schedulable
		}
		if e.InService != nil {
			n.InService = *e.InService
		}
	case timeline.KindGoal:
		switch e.Phase {
		case "set":
			t.goalIdx[e.Step] = len(t.goals)
			t.goals = append(t.goals, Goal{Text: e.Message})
		case "reached":
			if i, ok := t.goalIdx[e.Step]; ok {
				t.goals[i].Reached = true
				if !t.t0.IsZero() {
					at := e.Time.Sub(t.t0).Seconds()
					t.goals[i].AtSeconds = &at
				}
			}
		case "broken":
			if i, ok := t.goalIdx[e.Step]; ok {
				t.goals[i].Reached, t.goals[i].AtSeconds = false, nil
			}
		}
	case timeline.KindHint:
		if e.Phase == "released" {
			t.hints++
		}
	}
}

// snapshot is the state at now.
func (t *tracker) snapshot(now time.Time) State {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := State{Phase: t.phase, Services: map[string]string{}, Journeys: map[string]string{}, HintsReleased: t.hints, Goals: slices.Clone(t.goals)}
	if !t.t0.IsZero() {
		st.Clock = now.Sub(t.t0).Seconds()
	}
	// Probes of the last window only; what came before is dropped.
	from := now.Add(-window)
	keep := t.recent[:0]
	type count struct{ n, ok, degraded int }
	by := map[string]*count{}
	for _, p := range t.recent {
		if p.at.Before(from) || p.at.After(now) {
			if !p.at.Before(from) {
				keep = append(keep, p) // stamped after now: the next window's
			}
			continue
		}
		keep = append(keep, p)
		c := by[p.journey]
		if c == nil {
			c = &count{}
			by[p.journey] = c
		}
		c.n++
		if p.ok {
			c.ok++
			if p.degraded {
				c.degraded++
			}
		}
	}
	t.recent = keep
	for _, j := range t.info.Journeys {
		c := by[j.Name]
		s := StateUnknown
		switch {
		case c == nil:
			if l, ok := t.last[j.Name]; ok {
				s = l // no probe this second (one may be waiting on its timeout)
			}
		case c.ok == 0:
			s = StateDown
		case c.ok < c.n:
			s = StateFailing
		case c.degraded > 0:
			s = StateDegraded
		default:
			s = StateOK
		}
		t.last[j.Name] = s
		st.Journeys[j.Name] = s
		st.Services[j.Service] = worse(st.Services[j.Service], serviceState(s, j.Critical))
	}
	for _, n := range t.nodes {
		st.Nodes = append(st.Nodes, *n)
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Name < st.Nodes[j].Name })
	st.Score, st.TeamScore = t.score, t.team
	return st
}

// rescore computes the scores of what was seen so far, at most every
// scoreEvery, outside the lock: the writer of the timeline never waits for
// it.
func (t *tracker) rescore(now time.Time) {
	t.mu.Lock()
	if t.t0.IsZero() || now.Sub(t.scoredAt) < scoreEvery {
		t.mu.Unlock()
		return
	}
	t.scoredAt = now
	es := t.entries[:len(t.entries):len(t.entries)] // appended to, never changed
	t.mu.Unlock()
	r, err := reports.Build(t.meta, es)
	if err != nil {
		return
	}
	sc := r.Score
	var team *float64
	if r.Team != nil {
		ts := r.Team.Score
		team = &ts
	}
	t.mu.Lock()
	t.score, t.team = &sc, team
	t.mu.Unlock()
}

// serviceState is what a journey's state makes of its service's: a
// critical journey down takes its service down; another only makes it fail.
func serviceState(journey string, critical bool) string {
	if journey == StateDown && !critical {
		return StateFailing
	}
	return journey
}

var severity = map[string]int{"": -1, StateUnknown: 0, StateOK: 1, StateDegraded: 2, StateFailing: 3, StateDown: 4}

func worse(a, b string) string {
	if severity[b] > severity[a] {
		return b
	}
	return a
}
