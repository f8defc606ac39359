package reports

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

// The team's score (a game's, and par's: the scripted operator of a replay)
// is apart from the system's: it scores the response. Each component takes
// its weight times a share (0: best, 1: worst) off 100; every share grows
// with goals missed, a slower recovery, more hints or more harmful actions,
// so the score is monotonic in each.
const (
	WeightGoals   = 40 // share of the goals not reached
	WeightSpeed   = 30 // time to recover (from the page) as a share of the time limit; 1 if not recovered
	WeightHints   = 10 // share of the hints released
	WeightHarmful = 20 // harmful actions, each half of it (two or more: all)
)

// HarmWindow is how soon after a player's change a breach of a service it
// touched is attributed to that change.
const HarmWindow = 30 * time.Second

// Team is the response as the timeline shows it: who did what, the goals
// reached, the hints released, harmful actions, and the team's score.
type Team struct {
	// Game: a game's players' response; false: a replay's scripted operator (par).
	Game bool `json:"game"`
	// PageSeconds is when the team was paged (the first breach; the first
	// change if nothing breached), from the report's start.
	PageSeconds float64 `json:"page_seconds"`
	// TimeLimitSeconds is the game's (the denominator of the speed share).
	TimeLimitSeconds float64 `json:"time_limit_seconds"`
	// The team's times from the page; nil: it never came. An action before
	// the page counts as at the page.
	TimeToFirstActionSeconds *float64 `json:"time_to_first_action_seconds" jsonschema:"oneof_type=number;null"`
	TimeToMitigateSeconds    *float64 `json:"time_to_mitigate_seconds" jsonschema:"oneof_type=number;null"`
	TimeToRecoverSeconds     *float64 `json:"time_to_recover_seconds" jsonschema:"oneof_type=number;null"`
	Goals                    []Goal   `json:"goals"`
	HintsReleased            []Hint   `json:"hints_released"`
	HintsAvailable           int      `json:"hints_available"`
	Harmful                  []Harm   `json:"harmful"`
	Players                  []Player `json:"players"`
	Facts                    []Fact   `json:"facts"`
	EndedBy                  string   `json:"ended_by,omitempty"`

	Score      float64     `json:"score"`
	Components []Component `json:"components"`
	// Par is the same measures of the scenario's scripted operator (a
	// replay of it on the same topology), scored against the same limit.
	Par *Team `json:"par,omitempty"`
}

// Goal is an operator step the team had to reach, and when it did.
type Goal struct {
	Step      string   `json:"step"`
	Text      string   `json:"text"`
	AtSeconds *float64 `json:"at_seconds" jsonschema:"oneof_type=number;null"`
}

// Hint is a hint released.
type Hint struct {
	N         string  `json:"n"`
	Text      string  `json:"text"`
	Reason    string  `json:"reason"`
	AtSeconds float64 `json:"at_seconds"`
}

// Harm is a player's change after which a service it touched, healthy
// until then, breached within HarmWindow.
type Harm struct {
	Player    string  `json:"player"`
	Act       string  `json:"act"`
	AtSeconds float64 `json:"at_seconds"`
	Service   string  `json:"service"`
	// BreachSeconds is when the service breached.
	BreachSeconds float64 `json:"breach_seconds"`
}

// Player is what one player did.
type Player struct {
	Name string `json:"name"`
	Role string `json:"role,omitempty"`
	// Acts are their changes and console actions, in order.
	Acts  []Act `json:"acts"`
	Reads int   `json:"reads"`
	// FirstSeconds is their first request of any kind; nil: none.
	FirstSeconds *float64 `json:"first_seconds" jsonschema:"oneof_type=number;null"`
}

// Act is one thing a player did that the debrief lists.
type Act struct {
	AtSeconds float64 `json:"at_seconds"`
	Via       string  `json:"via"`
	What      string  `json:"what"`
	OK        bool    `json:"ok"`
}

// Fact is a role card's private fact reaching someone else.
type Fact struct {
	Name      string  `json:"name"`
	HeldBy    string  `json:"held_by"`
	Player    string  `json:"player"`
	How       string  `json:"how"`
	AtSeconds float64 `json:"at_seconds"`
}

// measureTeam builds r.Team from a game's entries (players' acts, goals,
// hints), or from a replay's operator steps (par); nil when the timeline
// has neither.
func measureTeam(r *Report, m timeline.Meta, es []timeline.Entry, c *clock) {
	at := func(t time.Time) float64 { return round3(t.Sub(c.t0).Seconds()) }
	game := slices.ContainsFunc(es, func(e timeline.Entry) bool { return e.Kind == timeline.KindRun && e.Phase == "kit" })
	t := &Team{Game: game, TimeLimitSeconds: time.Duration(m.TimeLimit).Seconds()}
	if r.FirstBreach != nil {
		t.PageSeconds = r.FirstBreach.AtSeconds
	}
	var first, mitigated, lastGoal *float64
	allGoals := true
	if game {
		players := map[string]*Player{}
		player := func(name string) *Player {
			if p, ok := players[name]; ok {
				return p
			}
			p := &Player{Name: name}
			players[name] = p
			t.Players = append(t.Players, *p)
			return p
		}
		goals := map[string]int{}
		for _, e := range es {
			switch {
			case e.Kind == timeline.KindRun && e.Phase == "kit":
				player(e.Player).Role = strings.TrimPrefix(strings.TrimPrefix(e.Message, "role "), "(none)")
			case e.Kind == timeline.KindRun && e.Phase == "game-end":
				t.EndedBy = e.Message
			case e.Kind == timeline.KindGoal && e.Phase == "set":
				goals[e.Step] = len(t.Goals)
				t.Goals = append(t.Goals, Goal{Step: e.Step, Text: e.Message})
			case e.Kind == timeline.KindGoal && e.Phase == "reached":
				if i, ok := goals[e.Step]; ok && t.Goals[i].AtSeconds == nil {
					t.Goals[i].AtSeconds = ptr(at(e.Time))
				}
			case e.Kind == timeline.KindHint && e.Phase == "set":
				t.HintsAvailable++
			case e.Kind == timeline.KindHint && e.Phase == "released":
				t.HintsReleased = append(t.HintsReleased, Hint{N: e.Name, Text: e.Message, Reason: e.Reason, AtSeconds: at(e.Time)})
			case e.Kind == timeline.KindFact:
				t.Facts = append(t.Facts, Fact{Name: e.Name, HeldBy: strings.TrimPrefix(e.Reason, "held by "), Player: e.Player, How: e.Message, AtSeconds: at(e.Time)})
			case e.Kind == timeline.KindAct:
				p := player(e.Player)
				s := at(e.Time)
				if p.FirstSeconds == nil || s < *p.FirstSeconds {
					p.FirstSeconds = ptr(s)
				}
				if e.Count > 0 || (e.Via == "kubectl" && !isWrite(e.Verb)) {
					p.Reads += max(e.Count, 1)
					continue
				}
				if e.Via == "console" && !strings.HasPrefix(e.Verb, "create") && !strings.HasPrefix(e.Verb, "delete") {
					p.Reads++
					continue
				}
				// The team's first action is its first change, as par's is
				// its scripted operator's first change: reads are not one.
				if first == nil || s < *first {
					first = ptr(s)
				}
				p.Acts = append(p.Acts, Act{AtSeconds: s, Via: e.Via, What: actText(e), OK: e.Error == "" && (e.Code == 0 || e.Code < 300)})
			}
		}
		for i := range t.Players {
			t.Players[i] = *players[t.Players[i].Name]
		}
		for _, g := range t.Goals {
			if g.AtSeconds == nil {
				allGoals = false
				continue
			}
			if mitigated == nil || *g.AtSeconds < *mitigated {
				mitigated = g.AtSeconds
			}
			if lastGoal == nil || *g.AtSeconds > *lastGoal {
				lastGoal = g.AtSeconds
			}
		}
		t.Harmful = harms(r, t.Players, es, c)
	} else {
		// Par: the scripted operator's steps that change the cluster are
		// its goals, reached when they end without an error.
		for _, e := range es {
			if e.Kind != timeline.KindStep || e.Actor != "operator" || e.Action == "note" || e.Action == "wait" {
				continue
			}
			switch e.Phase {
			case "start":
				if first == nil {
					first = ptr(at(e.Time))
				}
			case "end":
				g := Goal{Step: e.Step, Text: e.Action}
				if e.Error == "" {
					g.AtSeconds = ptr(at(e.Time))
					if mitigated == nil {
						mitigated = g.AtSeconds
					}
					lastGoal = g.AtSeconds
				} else {
					allGoals = false
				}
				t.Goals = append(t.Goals, g)
			}
		}
		if len(t.Goals) == 0 {
			return // neither a game nor a replay with an operator
		}
	}
	if r.FirstBreach == nil && r.FirstFaultSeconds != nil {
		t.PageSeconds = *r.FirstFaultSeconds
	}
	since := func(s *float64) *float64 {
		if s == nil {
			return nil
		}
		return ptr(round3(math.Max(0, *s-t.PageSeconds)))
	}
	t.TimeToFirstActionSeconds = since(first)
	t.TimeToMitigateSeconds = since(mitigated)
	if allGoals && r.Recovered && lastGoal != nil {
		rec := *lastGoal
		if r.FirstBreach != nil && r.TimeToRecoverSeconds != nil {
			rec = math.Max(rec, r.FirstBreach.AtSeconds+*r.TimeToRecoverSeconds)
		}
		t.TimeToRecoverSeconds = since(&rec)
	}
	if t.TimeLimitSeconds == 0 { // a replay: its own bound until a game gives one
		t.TimeLimitSeconds = r.HorizonSeconds
	}
	scoreTeam(t)
	r.Team = t
}

func isWrite(verb string) bool {
	return slices.Contains([]string{"create", "update", "patch", "delete", "deletecollection"}, verb)
}

// actText says what an act did: "patch deployments workers", "console create-nodegroup app-v138".
func actText(e timeline.Entry) string {
	if e.Via == "console" {
		return strings.TrimSpace("console " + e.Verb + " " + e.Name)
	}
	what := e.Resource
	if e.Subresource != "" {
		what += "/" + e.Subresource
	}
	return strings.TrimSpace(e.Verb + " " + what + " " + e.Name)
}

// harms finds the players' changes after which a service they touched
// (its tier's objects, or a node of a pool hosting it), healthy at the
// change, breached within HarmWindow.
func harms(r *Report, players []Player, es []timeline.Entry, c *clock) []Harm {
	poolOf := map[string]string{}
	for _, e := range es {
		if e.Kind == timeline.KindNode && e.Pool != "" {
			poolOf[e.Name] = e.Pool
		}
	}
	var out []Harm
	for _, p := range players {
		for _, a := range p.Acts {
			if !a.OK || a.Via != "kubectl" {
				continue
			}
			f := strings.Fields(a.What)
			if len(f) < 3 {
				continue
			}
			resource, name := strings.SplitN(f[1], "/", 2)[0], f[2]
			b := int(a.AtSeconds / Bucket.Seconds())
			for i, s := range r.Services {
				touched := false
				switch resource {
				case "nodes":
					touched = slices.Contains(s.Pools, poolOf[name])
				case "pods":
					touched = strings.HasPrefix(name, s.Name+"-")
				case "deployments", "replicasets", "services", "poddisruptionbudgets", "horizontalpodautoscalers":
					touched = name == s.Name || strings.HasPrefix(name, s.Name+"-")
				}
				if !touched || i >= len(r.breached) || b < 0 || b >= len(r.breached[i]) || r.breached[i][b] {
					continue
				}
				last := min(len(r.breached[i])-1, b+int(HarmWindow/Bucket))
				for j := b + 1; j <= last; j++ {
					if !r.breached[i][j] {
						continue
					}
					// Not if the scenario or its automation changed what the
					// service stands on in between: that would explain it.
					if !faultBetween(r, s, poolOf, a.AtSeconds, c.start(j)) {
						out = append(out, Harm{Player: p.Name, Act: a.What, AtSeconds: a.AtSeconds, Service: s.Name, BreachSeconds: c.start(j)})
					}
					break
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b Harm) int { return cmpFloat(a.AtSeconds, b.AtSeconds) })
	// One harm per player and breach: a drain's cordon and its evictions
	// are one action's parts.
	return slices.CompactFunc(out, func(a, b Harm) bool {
		return a.Player == b.Player && a.Service == b.Service && a.BreachSeconds == b.BreachSeconds
	})
}

// faultBetween: a change not made by a player, to a node of a pool hosting
// service s or to its own tier, made in [from, to].
func faultBetween(r *Report, s Service, poolOf map[string]string, from, to float64) bool {
	for _, ch := range r.Changes {
		if ch.Player != "" || ch.Actor == ActorOperator || ch.MadeAtSeconds < from || ch.MadeAtSeconds > to {
			continue
		}
		kind, name, _ := strings.Cut(ch.Object, "/")
		switch kind {
		case "node":
			if slices.Contains(s.Pools, poolOf[name]) {
				return true
			}
		case "deployment", "service", "pod":
			if name == s.Name || strings.HasPrefix(name, s.Name+"-") {
				return true
			}
		}
	}
	return false
}

// scoreTeam computes the team's components and score.
func scoreTeam(t *Team) {
	goalsMissed := 0.0
	for _, g := range t.Goals {
		if g.AtSeconds == nil {
			goalsMissed++
		}
	}
	goalShare := 0.0
	if len(t.Goals) > 0 {
		goalShare = goalsMissed / float64(len(t.Goals))
	}
	speed, speedDetail := 1.0, "not recovered"
	if t.TimeToRecoverSeconds != nil {
		speed = *t.TimeToRecoverSeconds / math.Max(t.TimeLimitSeconds, 1)
		speedDetail = fmt.Sprintf("recovered %s after the page, of a %s limit", seconds(*t.TimeToRecoverSeconds), seconds(t.TimeLimitSeconds))
	}
	hints := 0.0
	if t.HintsAvailable > 0 {
		hints = float64(len(t.HintsReleased)) / float64(t.HintsAvailable)
	}
	harm := math.Min(1, float64(len(t.Harmful))/2)
	t.Components = []Component{
		component("goals", WeightGoals, goalShare, fmt.Sprintf("%d of %d reached", len(t.Goals)-int(goalsMissed), len(t.Goals))),
		component("speed", WeightSpeed, speed, speedDetail),
		component("hints", WeightHints, hints, fmt.Sprintf("%d of %d released", len(t.HintsReleased), t.HintsAvailable)),
		component("harmful actions", WeightHarmful, harm, plural(len(t.Harmful), "harmful action")),
	}
	total := 100.0
	for _, c := range t.Components {
		total -= c.Penalty
	}
	t.Score = math.Round(math.Max(0, total)*10) / 10
}

// WithPar sets par on a game's team: the scripted operator's measures from
// a replay's report of the same scenario, scored against the game's limit.
func (t *Team) WithPar(replay *Report) {
	if replay == nil || replay.Team == nil || replay.Team.Game {
		return
	}
	par := *replay.Team
	par.TimeLimitSeconds = t.TimeLimitSeconds
	par.Par = nil
	scoreTeam(&par)
	t.Par = &par
}
