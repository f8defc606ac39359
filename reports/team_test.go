package reports

import (
	"strings"
	"testing"
	"time"

	"gameday.dev/gameday/scenarios/timeline"
)

// game builds a synthetic game: players ana (on-call) and ben, two goals,
// four hints, the scenario's release at 0, the frontend down in [20, 25).
func game() *synth {
	s := newSynth().cluster()
	s.add(-1, timeline.Entry{Kind: timeline.KindRun, Phase: "kit", Player: "ana", Message: "role on-call"})
	s.add(-1, timeline.Entry{Kind: timeline.KindRun, Phase: "kit", Player: "ben", Message: "role (none)"})
	s.add(-1, timeline.Entry{Kind: timeline.KindGoal, Phase: "set", Step: "rollback", Message: "the workers back on v1"})
	s.add(-1, timeline.Entry{Kind: timeline.KindGoal, Phase: "set", Step: "provision-pool", Message: "capacity back"})
	for _, n := range []string{"1", "2", "3", "4"} {
		s.add(-1, timeline.Entry{Kind: timeline.KindHint, Phase: "set", Name: n, Message: "hint " + n})
	}
	s.stepOn(0, 0.1, "bad-release", "release", "scenario", "workers")
	return s
}

func (s *synth) act(sec float64, player, verb, resource, name string) *synth {
	return s.add(sec, timeline.Entry{Kind: timeline.KindAct, Via: "kubectl", Player: player, Verb: verb, Resource: resource, Name: name, Code: 200})
}

func (s *synth) goal(sec float64, step string) *synth {
	return s.add(sec, timeline.Entry{Kind: timeline.KindGoal, Phase: "reached", Step: step})
}

func gameMeta() timeline.Meta {
	m := meta()
	m.Horizon = timeline.Duration(2 * time.Minute)
	m.TimeLimit = timeline.Duration(10 * time.Minute)
	return m
}

func buildGame(t *testing.T, s *synth) *Report {
	t.Helper()
	r, err := Build(gameMeta(), s.es)
	if err != nil {
		t.Fatal(err)
	}
	if r.Team == nil {
		t.Fatal("no team")
	}
	return r
}

// The formula, worked by hand on a game whose numbers are round.
func TestTeamScoreByHand(t *testing.T) {
	s := game().probes("frontend", 0, 125, failIn([2]int{20, 25})).probes("api", 0, 125, func(int) outcome { return fine })
	s.add(15, timeline.Entry{Kind: timeline.KindAct, Via: "kubectl", Player: "ana", Verb: "list", Resource: "pods", Count: 3})
	s.act(30, "ana", "patch", "deployments", "workers").goal(31, "rollback")
	s.add(40, timeline.Entry{Kind: timeline.KindAct, Via: "console", Player: "ana", Verb: "create-nodegroup", Name: "app-new"})
	s.goal(60, "provision-pool")
	s.add(35, timeline.Entry{Kind: timeline.KindHint, Phase: "released", Name: "1", Message: "hint 1", Reason: "1m0s after the first breach"})
	r := buildGame(t, s)
	tm := r.Team
	if r.FirstBreach == nil || r.FirstBreach.AtSeconds != 20 {
		t.Fatalf("first breach %+v, want frontend at 20 s", r.FirstBreach)
	}
	// Page at 20 s. First action: ana's first change at 30 s (her reads at
	// 15 s are not one): 10 s.
	// Mitigated: the first goal, 31 - 20 = 11 s. Recovered: the last goal
	// (60 s) is after the frontend's recovery, so 60 - 20 = 40 s.
	for what, got := range map[string]*float64{"first action": tm.TimeToFirstActionSeconds, "mitigate": tm.TimeToMitigateSeconds, "recover": tm.TimeToRecoverSeconds} {
		want := map[string]float64{"first action": 10, "mitigate": 11, "recover": 40}[what]
		if got == nil || *got != want {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
	}
	// goals 2 of 2: 0; speed 40/600 x 30 = 2.0; hints 1 of 4 x 10 = 2.5;
	// harmful 0: 0. 100 - 2.0 - 2.5 = 95.5.
	want := map[string]float64{"goals": 0, "speed": 2, "hints": 2.5, "harmful actions": 0}
	for _, c := range tm.Components {
		if c.Penalty != want[c.Name] {
			t.Errorf("%s: penalty %v, want %v (%s)", c.Name, c.Penalty, want[c.Name], c.Detail)
		}
	}
	if tm.Score != 95.5 {
		t.Errorf("score %v, want 95.5", tm.Score)
	}
	if len(tm.Players) != 2 || tm.Players[0].Name != "ana" || tm.Players[0].Role != "on-call" || tm.Players[1].Role != "" {
		t.Errorf("players %+v", tm.Players)
	}
	ana := tm.Players[0]
	if ana.Reads != 3 || len(ana.Acts) != 2 || ana.Acts[0].What != "patch deployments workers" || ana.Acts[1].What != "console create-nodegroup app-new" {
		t.Errorf("ana: %+v", ana)
	}
	// ana's patch is the change the observers saw just after it: hers.
	_ = r
}

func TestPlayersChangesAreTheirs(t *testing.T) {
	s := game().probes("frontend", 0, 125, func(int) outcome { return fine }).probes("api", 0, 125, func(int) outcome { return fine })
	s.act(30, "ana", "patch", "deployments", "workers").change(30.4, "deployment/workers", "release", "v2", "v1", "kubectl-rollout")
	s.change(90, "deployment/api", "replicas", "2", "3", "kubectl-scale") // nobody's request: outside
	r := buildGame(t, s)
	by := map[string]Change{}
	for _, ch := range r.Changes {
		by[ch.Object] = ch
	}
	if ch := by["deployment/workers"]; ch.Player != "ana" || ch.Actor != ActorOperator || byWhom(ch) != "player ana" {
		t.Errorf("the rollback: %+v (%s)", ch, byWhom(ch))
	}
	if ch := by["deployment/api"]; ch.Player != "" || ch.Actor != ActorOutside {
		t.Errorf("the scale no player asked for: %+v", ch)
	}
}

// A player's change after which a service it touched, healthy until then,
// breached soon after is harmful; others are not.
func TestHarmfulActions(t *testing.T) {
	s := game().
		probes("frontend", 0, 125, failIn([2]int{52, 60})).
		probes("api", 0, 125, failIn([2]int{85, 88}, [2]int{95, 105}))
	s.act(50, "ben", "patch", "nodes", "n1")              // cordons the frontend's pool: harmful
	s.act(50.5, "ben", "create", "pods/eviction", "fe-1") // the same drain: one harm
	s.act(65, "ana", "patch", "deployments", "workers")   // the api breaks at 70, but ana did not touch it
	s.act(93, "ana", "patch", "deployments", "api")       // the api is down already
	s.act(110, "ben", "delete", "pods", "api-1")          // nothing breaks after
	s.add(62, timeline.Entry{Kind: timeline.KindAct, Via: "kubectl", Player: "ana", Verb: "patch", Resource: "nodes", Name: "n2", Code: 403})
	r := buildGame(t, s)
	h := r.Team.Harmful
	if len(h) != 1 {
		t.Fatalf("harmful: %+v", h)
	}
	if h[0].Player != "ben" || h[0].Service != "frontend" || h[0].AtSeconds != 50 || h[0].Act != "patch nodes n1" {
		t.Errorf("harm: %+v", h[0])
	}
	if h[0].BreachSeconds < 50 || h[0].BreachSeconds > 53 {
		t.Errorf("breach at %v, want just after 52", h[0].BreachSeconds)
	}
	for _, c := range r.Team.Components {
		if c.Name == "harmful actions" && c.Penalty != 10 {
			t.Errorf("one harmful action: %v, want 10 (half of 20)", c.Penalty)
		}
	}
}

// The team's score never rises when the response gets worse: a hint more,
// a later goal, a goal missed, a harmful action.
func TestTeamScoreMonotonic(t *testing.T) {
	base := func(goal2 float64, hints int, harm bool, miss bool) float64 {
		s := game().probes("frontend", 0, 125, failIn([2]int{20, 25}, [2]int{82, 88})).probes("api", 0, 125, func(int) outcome { return fine })
		s.goal(31, "rollback")
		if !miss {
			s.goal(goal2, "provision-pool")
		}
		for i := 0; i < hints; i++ {
			s.add(35+float64(i), timeline.Entry{Kind: timeline.KindHint, Phase: "released", Name: "x"})
		}
		if harm {
			s.act(80, "ben", "patch", "nodes", "n1")
		}
		return buildGame(t, s).Team.Score
	}
	ref := base(60, 1, false, false)
	for what, worse := range map[string]float64{
		"a later goal":     base(100, 1, false, false),
		"a hint more":      base(60, 2, false, false),
		"a harmful action": base(60, 1, true, false),
		"a goal missed":    base(60, 1, false, true),
	} {
		if worse >= ref {
			t.Errorf("%s: %v, not below %v", what, worse, ref)
		}
	}
}

// Par is a replay's scripted operator: its operator steps are its goals.
func TestParFromReplay(t *testing.T) {
	s := newSynth().cluster().stepOn(0, 0.1, "bad-release", "release", "scenario", "workers").
		probes("frontend", 0, 125, failIn([2]int{20, 30})).probes("api", 0, 125, func(int) outcome { return fine })
	s.stepOn(40, 0.5, "rollback", "rollback", "operator", "workers")
	s.stepOn(41, 5, "provision-pool", "provision-pool", "operator", "n3")
	replay, err := Build(gameMeta(), s.es)
	if err != nil {
		t.Fatal(err)
	}
	if replay.Team == nil || replay.Team.Game || len(replay.Team.Goals) != 2 {
		t.Fatalf("par: %+v", replay.Team)
	}
	if got := *replay.Team.TimeToFirstActionSeconds; got != 20 {
		t.Errorf("the operator's first action 40 s, paged at 20: %v, want 20", got)
	}
	g := buildGame(t, game().probes("frontend", 0, 125, failIn([2]int{20, 25})).probes("api", 0, 125, func(int) outcome { return fine }).goal(31, "rollback").goal(60, "provision-pool"))
	g.Team.WithPar(replay)
	if g.Team.Par == nil || g.Team.Par.TimeLimitSeconds != g.Team.TimeLimitSeconds {
		t.Fatalf("par scored against the game's limit: %+v", g.Team.Par)
	}
}

// A game's report.html has the team's part and a lane per player, each act
// a mark at its time.
func TestGameHTML(t *testing.T) {
	s := game().probes("frontend", 0, 125, failIn([2]int{20, 25})).probes("api", 0, 125, func(int) outcome { return fine })
	s.act(30, "ana", "patch", "deployments", "workers").goal(31, "rollback").goal(60, "provision-pool")
	var b strings.Builder
	if err := WriteHTML(&b, buildGame(t, s)); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{`data-chart="people"`, "<h2>The team</h2>", "What each person did", `class="pl-act"`,
		"<title>&#43;0:30 patch deployments workers</title>", `class="pl-goal"`, ">ana</text>", ">ben</text>"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %s", want)
		}
	}
}

// A game longer than the scenario's horizon is scored to its end: a
// recovery after the horizon is a recovery, not "never".
func TestLongGameScoredToItsEnd(t *testing.T) {
	s := game().probes("frontend", 0, 200, failIn([2]int{20, 150})).probes("api", 0, 200, func(int) outcome { return fine })
	s.act(140, "ana", "patch", "deployments", "workers").goal(141, "rollback").goal(145, "provision-pool")
	s.run(200, "game-won").run(200.1, "recover-start")
	r := buildGame(t, s)
	if r.SpanSeconds < 199 || !r.HorizonReached {
		t.Errorf("span %v s (horizon reached %v), want the whole game, 200 s", r.SpanSeconds, r.HorizonReached)
	}
	if !r.Recovered || r.Team.TimeToRecoverSeconds == nil {
		t.Fatalf("recovered %v, team recovery %v: the game was won", r.Recovered, r.Team.TimeToRecoverSeconds)
	}
	// A short game is scored over the horizon, as par is.
	short := game().probes("frontend", 0, 60, failIn([2]int{20, 25})).probes("api", 0, 60, func(int) outcome { return fine })
	short.goal(31, "rollback").goal(40, "provision-pool").run(60, "game-won").run(60.1, "recover-start")
	if r := buildGame(t, short); r.HorizonSeconds != 120 || !r.HorizonReached {
		t.Errorf("a won short game: horizon %v s (reached %v), want the scenario's 120 s, reached", r.HorizonSeconds, r.HorizonReached)
	}
}

// A breach the scenario explains is not a player's harm: the automation
// stopped the frontend's node between the player's change and the breach.
func TestHarmNotBlamedWhenAFaultCameBetween(t *testing.T) {
	s := game().probes("frontend", 0, 125, failIn([2]int{55, 60})).probes("api", 0, 125, func(int) outcome { return fine })
	s.act(50, "ben", "patch", "nodes", "n1")
	s.stepOn(52, 0.5, "stop-n2", "node-stop", "automation", "n2").change(52.2, "node/n2", "ready", "true", "false", "")
	if h := buildGame(t, s).Team.Harmful; len(h) != 0 {
		t.Errorf("harmful %+v, want none: the automation's stop came in between", h)
	}
}
