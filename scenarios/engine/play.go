package engine

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/play"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/scenarios/timeline"
)

// A game (gameday play) is a mode of the same session: the scenario's faults
// and automation run as in a replay, but its operator steps do not; each is
// a goal the players must reach, recognised from its effect on the cluster.
// The players act with their own kubeconfig and the console; the API
// server's audit log and the console say what they did.

// PlayOptions are what a game adds to Options.
type PlayOptions struct {
	Players []Player
	// ConsoleAddr is where the console listens; "" is a free port on 127.0.0.1.
	ConsoleAddr string
	// TimeLimit bounds the game; zero: the scenario's.
	TimeLimit time.Duration
	// Ready is told once the kits are written, as the clock starts.
	Ready func(*Game)
	// JoinTimeout is how long the console's node group at a wrong version
	// takes to fail; zero: the console's default.
	JoinTimeout time.Duration
}

// Player is one player and the role card they hold ("" for none).
type Player struct{ Name, Role string }

// Game is what the players got, as the clock starts.
type Game struct {
	Briefing   string
	Kits       []Kit
	ConsoleURL string
	Goals      []string
	TimeLimit  time.Duration
	Hints      int
	// Hint releases the next hint now; End ends the game now: the
	// facilitator's levers, as gameday play hint|end pull them.
	Hint, End func() string
	// Inject applies one of the scenario's curveballs now.
	Inject func(name string) (string, error)
}

// Kit is a player's folder: their kubeconfig, the console's address and
// their token, the briefing and their role card.
type Kit struct {
	Player, Role, Dir, Kubeconfig string
}

// The files of a game in its cluster's folder: how `gameday play end|hint`
// reach the game, and what the players may change as it was before the game
// (for `gameday recover` after a crash).
const (
	GameFile     = "game.json"
	SnapshotFile = "play-snapshot.json"
)

// GameControl is GameFile: the game's control address and the facilitator's token.
type GameControl struct {
	URL   string `json:"url"`
	Token string `json:"token"`
	PID   int    `json:"pid"`
}

// ConsoleKit is a player's console.json.
type ConsoleKit struct {
	URL    string `json:"url"`
	Token  string `json:"token"`
	Player string `json:"player"`
}

// headOffGrace is how long a goal the fault never broke must hold, once
// its step's turn has come, to count as reached: the fault's effect would
// have shown by then.
const headOffGrace = 10 * time.Second

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// write is a player's write, as the audit log has it.
type write struct {
	player string
	at     time.Time
}

// gameOver ends a game's timeline the way it should end (not an abort).
type gameOver struct{ why string }

func (g gameOver) Error() string { return g.why }

// WithDefaultRole gives the scenario's default role to every player named
// without one.
func WithDefaultRole(s *scenarios.Scenario, players []Player) []Player {
	out := slices.Clone(players)
	if r, ok := s.Play.DefaultRole(); ok {
		for i := range out {
			if out[i].Role == "" {
				out[i].Role = r.Name
			}
		}
	}
	return out
}

// ValidatePlayers checks players' names and roles against the scenario.
func ValidatePlayers(s *scenarios.Scenario, players []Player) error {
	var names []string
	for _, p := range players {
		names = append(names, p.Name)
		if _, ok := s.Play.Role(p.Role); p.Role != "" && !ok {
			var roles []string
			for _, r := range s.Play.Roles {
				roles = append(roles, r.Name)
			}
			have := "it has none"
			if len(roles) > 0 {
				have = "it has " + strings.Join(roles, ", ")
			}
			return fmt.Errorf("%w: player %s: scenario %s has no role %q (%s)", play.ErrBadPlayer, p.Name, s.Name, p.Role, have)
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("%w: a game needs at least one player", play.ErrBadPlayer)
	}
	return play.ValidatePlayers(names)
}

// Play runs a game of o.Scenario: the session's shared phases, then the
// players' rights, kits and console, the timeline without the operator's
// steps while a referee watches the goals, hints and the clock, and
// recovery of everything the scenario and the players changed.
func Play(ctx context.Context, b Backend, o Options, po PlayOptions) (res *Result, err error) {
	goals, err := play.GoalsFor(o.Scenario, o.Topology)
	if err != nil {
		return &Result{Topology: o.Topology.Name}, err
	}
	po.Players = WithDefaultRole(o.Scenario, po.Players)
	if err := ValidatePlayers(o.Scenario, po.Players); err != nil {
		return &Result{Topology: o.Topology.Name}, err
	}
	if po.TimeLimit == 0 {
		po.TimeLimit = o.Scenario.Play.TimeLimit
	}
	o.audit, o.timeLimit = true, po.TimeLimit
	s, err := Open(ctx, b, o)
	if err != nil {
		return s.Result(), err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	res = s.Result()

	g := &game{s: s, o: o, po: po, goals: goals, dir: b.ClusterDir(o.Name), released: make([]bool, len(o.Scenario.Play.Hints)), injected: map[string]bool{},
		reached: make([]time.Time, len(goals)), broken: make([]bool, len(goals)), waiting: make([]time.Time, len(goals)), holdSince: make([]time.Time, len(goals)), facts: map[string]bool{}, lastWriter: map[string]write{},
		applied: map[string]bool{}, releasedAt: map[string]time.Time{}}
	gctx, end := context.WithCancelCause(ctx)
	defer end(nil)
	g.end, g.ctx = end, gctx
	gerr := g.start(ctx, b)
	var aborted string
	var terr error
	if gerr == nil {
		refDone := make(chan struct{})
		go func() { defer close(refDone); g.referee(gctx) }()
		s.phase("timeline-start", "the game's clock starts")
		began := time.Now()
		defer func() { res.Replay = time.Since(began) }()
		var autoErrs []string
		aborted, autoErrs, terr = runTimeline(gctx, o, s.env, s.watch, s.tl, g.mode())
		res.AutomationErrors = autoErrs
		why := context.Cause(gctx)
		end(nil)
		<-refDone
		// A curveball cut short by the end: nothing changes under recovery.
		// (inject adds to injecting under mu once it saw the game going.)
		g.mu.Lock()
		g.mu.Unlock() //nolint:staticcheck // a barrier: no inject is between its check and its Add
		g.injecting.Wait()
		switch {
		case aborted != "":
			res.Aborted = aborted
			s.phase("abort", aborted)
		case errors.As(why, new(gameOver)):
			s.phase("game-end", why.Error())
			o.Logger.V(0).Infof(" • the game is over: %s", why)
		}
	}
	// The span the report scores ends here: what recovery does is not the game's.
	s.phase("recover-start", "the game's")
	g.stop(context.WithoutCancel(ctx))
	rerr := recoverGame(context.WithoutCancel(ctx), s.env.Client, g.dir, s.tl)
	if rerr == nil {
		rerr = s.Recover(ctx)
	} else {
		rerr = recoveryFailed(filepath.Join(g.dir, JournalFile), o.Name, rerr)
	}
	s.phase("end", "")
	switch {
	case gerr != nil || rerr != nil:
		return res, errors.Join(gerr, terr, rerr)
	case terr != nil:
		return res, terr
	case aborted != "":
		return res, fmt.Errorf("%w: %s", ErrAborted, aborted)
	}
	return res, nil
}

// answerWait bounds untilAnswered's wait for an API server that is away.
var answerWait = 2 * time.Minute

// untilAnswered calls fn until it succeeds, fails for a reason other than
// an API server that is away or warming up, or answerWait has passed. The
// control plane's upgrade (and its undoing) restarts the API server: for
// a while it refuses connections, answers 5xx or 429, and, until its
// authorizer's caches are synced, 403 even to the cluster's admin.
func untilAnswered(ctx context.Context, fn func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, answerWait)
	defer cancel()
	var last error
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		if last = fn(ctx); last == nil {
			return true, nil
		}
		if away(last) {
			return false, nil
		}
		return false, last
	})
	if err != nil && last != nil {
		return last
	}
	return err
}

// away reports whether err is an API server's that is away or warming up.
func away(err error) bool {
	return apierrors.IsForbidden(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		utilnet.IsConnectionRefused(err) || utilnet.IsConnectionReset(err) || utilnet.IsProbableEOF(err)
}

// recoverGame puts back what players may have changed: their rights go
// first (they can change nothing more), then the app namespace and the
// nodes as they were before the game. It does nothing on a cluster that had
// no game.
func recoverGame(ctx context.Context, client kubernetes.Interface, dir string, tl *timeline.Writer) error {
	path := filepath.Join(dir, SnapshotFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	if err := untilAnswered(ctx, func(ctx context.Context) error { return play.Revoke(ctx, client, fixtures.Namespace) }); err != nil {
		return fmt.Errorf("revoke the players' rights: %w", err)
	}
	var snap play.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := untilAnswered(ctx, func(ctx context.Context) error { return play.Restore(ctx, client, &snap) }); err != nil {
		return fmt.Errorf("put back what the players changed: %w", err)
	}
	tl.Write(timeline.Entry{Kind: timeline.KindRun, Phase: "players-recovered",
		Message: "the players' rights revoked; the app namespace's objects and the nodes' schedulability and taints as before the game"})
	_ = os.Remove(filepath.Join(dir, GameFile))
	return os.Remove(path)
}

// game is a game under way.
type game struct {
	s     *Session
	o     Options
	po    PlayOptions
	goals []play.Goal
	dir   string
	end   context.CancelCauseFunc

	console *play.Console
	server  *http.Server
	audit   *play.AuditTail
	// auditStop ends the audit tail; auditDone is closed once it has read
	// the log a last time.
	auditStop, auditDone chan struct{}
	auditCost            time.Duration // time spent reading the log
	auditActs            int           // the players' requests in it
	facilitator          string

	mu       sync.Mutex
	released []bool          // hints
	injected map[string]bool // curveballs
	// ctx is the game's: it ends with the game; injecting counts the
	// curveballs under way.
	ctx       context.Context
	injecting sync.WaitGroup
	reached   []time.Time // goals; zero: not yet
	broken    []bool      // goals: seen not holding since the game began
	// waiting is when the timeline began to wait for a goal (its step's
	// turn); holdSince is since when a goal holds without a break.
	waiting, holdSince []time.Time
	// firstBreach is when an objective first failed: the page.
	firstBreach time.Time
	facts       map[string]bool      // facts known beyond their cards
	applied     map[string]bool      // steps applied, business windows begun: facts that are true
	releasedAt  map[string]time.Time // tier -> when the scenario last released it
	pending     []pendingDeploy      // release changes not yet matched to a player's write
	lastWriter  map[string]write     // deployment -> the last player's write
	reads       map[readKey]int      // reads not yet written
}

// start takes the snapshot, grants the players' rights, writes their kits
// and starts the console and the audit tail.
func (g *game) start(ctx context.Context, b Backend) error {
	env := g.s.env
	snap, err := play.Take(ctx, env.Client, fixtures.Namespace)
	if err != nil {
		return err
	}
	data, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(g.dir, SnapshotFile), data, 0o600); err != nil {
		return err
	}
	if err := play.Grant(ctx, env.Client, play.RightsFor(fixtures.Namespace)); err != nil {
		return fmt.Errorf("grant the players' rights: %w", err)
	}
	var names []string
	for _, p := range g.po.Players {
		names = append(names, p.Name)
	}
	console, tokens, err := play.NewConsole(g.o.Name, &steppedProvider{ClusterProvider: &play.ClusterProvider{Env: env}, tl: g.s.tl}, names)
	if err != nil {
		return err
	}
	if g.po.JoinTimeout > 0 {
		console.JoinTimeout = g.po.JoinTimeout
	}
	console.Actions = g.consoleAction
	g.console = console
	addr := g.po.ConsoleAddr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("the console: %w", err)
	}
	url := "http://" + ln.Addr().String()
	tok := make([]byte, 24)
	if _, err := rand.Read(tok); err != nil {
		return err
	}
	g.facilitator = hex.EncodeToString(tok)
	mux := http.NewServeMux()
	mux.Handle("/v1/", console.Handler())
	endNow := func() string {
		over := gameOver{"ended by the facilitator"}
		g.end(over)
		if context.Cause(g.ctx) != error(over) { // the first cause is the game's end
			return "the game is over already"
		}
		return "the game ends"
	}
	mux.HandleFunc("POST /game/end", g.control(endNow))
	mux.HandleFunc("POST /game/hint", g.control(g.hintNow))
	g.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = g.server.Serve(ln) }()
	ctl, _ := json.Marshal(GameControl{URL: url, Token: g.facilitator, PID: os.Getpid()})
	if err := writeFileAtomic(filepath.Join(g.dir, GameFile), ctl, 0o600); err != nil {
		return err
	}

	game := &Game{Briefing: g.o.Scenario.Play.Briefing, ConsoleURL: url, TimeLimit: g.po.TimeLimit, Hints: len(g.o.Scenario.Play.Hints),
		Hint: g.hintNow, End: endNow, Inject: g.inject}
	for _, gl := range g.goals {
		game.Goals = append(game.Goals, gl.Text)
	}
	rec, err := b.Record(g.o.Name)
	if err != nil {
		return err
	}
	validity := g.po.TimeLimit + time.Hour
	for _, p := range g.po.Players {
		creds, err := play.Issue(ctx, env.Client, p.Name, validity)
		if err != nil {
			return err
		}
		dir, err := filepath.Abs(filepath.Join(g.o.OutDir, "kits", p.Name))
		if err != nil {
			return err
		}
		kit := Kit{Player: p.Name, Role: p.Role, Dir: dir, Kubeconfig: filepath.Join(dir, "kubeconfig")}
		if err := play.WriteKubeconfig(kit.Kubeconfig, rec.Kubeconfig, g.o.Name, fixtures.Namespace, creds); err != nil {
			return err
		}
		ck, _ := json.MarshalIndent(ConsoleKit{URL: url, Token: tokens[p.Name], Player: p.Name}, "", "  ")
		if err := os.WriteFile(filepath.Join(dir, "console.json"), append(ck, '\n'), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte(kitReadme(g.o.Scenario, p, dir)), 0o600); err != nil {
			return err
		}
		game.Kits = append(game.Kits, kit)
		g.s.tl.Write(timeline.Entry{Kind: timeline.KindRun, Phase: "kit", Player: p.Name, Message: "role " + orNone(p.Role)})
	}

	// What the game asks, for the debrief: its goals and hints.
	for _, gl := range g.goals {
		g.s.tl.Write(timeline.Entry{Kind: timeline.KindGoal, Phase: "set", Step: gl.Step, Message: gl.Text})
	}
	for i, h := range g.o.Scenario.Play.Hints {
		g.s.tl.Write(timeline.Entry{Kind: timeline.KindHint, Phase: "set", Name: fmt.Sprint(i + 1), Message: h.Text})
	}
	// The players' rights are in force before the clock starts (checked
	// as the first player, by a dry run; before the audit log is read, so
	// the check is no player's act).
	if len(game.Kits) > 0 {
		cp, err := env.Nodes.ControlPlaneNode(ctx)
		if err != nil {
			return err
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", game.Kits[0].Kubeconfig)
		if err != nil {
			return err
		}
		player, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			return err
		}
		if err := play.WaitInForce(ctx, player, cp, time.Minute); err != nil {
			return err
		}
	}
	if g.audit, err = play.TailFromEnd(b.AuditLog(g.o.Name)); err != nil {
		return err
	}
	g.auditStop, g.auditDone = make(chan struct{}), make(chan struct{})
	go g.tailAudit()
	if g.po.Ready != nil {
		g.po.Ready(game)
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// kitReadme is a player's README.md: the briefing, their card, their tools.
func kitReadme(s *scenarios.Scenario, p Player, dir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Game day: %s (you are %s)\n\n", s.Name, p.Name)
	if s.Play.Briefing != "" {
		fmt.Fprintf(&b, "## Briefing\n\n%s\n\n", s.Play.Briefing)
	}
	if r, ok := s.Play.Role(p.Role); ok {
		title := r.Name
		if r.Title != "" {
			title = r.Title
		}
		fmt.Fprintf(&b, "## Your role card: %s (for you only)\n\n%s\n\n", title, r.Card)
	}
	fmt.Fprintf(&b, "## Your tools\n\n    export KUBECONFIG=%s\n    kubectl get pods -n %s\n\n", filepath.Join(dir, "kubeconfig"), fixtures.Namespace)
	fmt.Fprintf(&b, "    export GAMEDAY_KIT=%s\n    gameday console cluster\n    gameday console nodegroups\n    gameday console deploys\n", dir)
	return b.String()
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// stop ends the console (its requests in flight first), takes the
// players' rights away, then ends the audit tail, reading the log a last
// time: every request a player could make is in the timeline.
func (g *game) stop(ctx context.Context) {
	if g.server != nil {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := g.server.Shutdown(sctx); err != nil {
			_ = g.server.Close()
		}
		cancel()
	}
	if g.console != nil {
		g.console.Close()
	}
	if err := play.Revoke(ctx, g.s.env.Client, fixtures.Namespace); err != nil {
		g.o.Logger.Warnf("revoking the players' rights: %v (recovery tries again)", err)
	}
	if g.auditStop != nil {
		close(g.auditStop)
		<-g.auditDone
		g.flushReads()
		// What reading the audit log cost, for the figures.
		g.s.tl.Write(timeline.Entry{Kind: timeline.KindRun, Phase: "audit-read", Count: g.audit.Lines,
			Message: fmt.Sprintf("%d audit lines read (%d of them the players' requests) in %s", g.audit.Lines, g.auditActs, g.auditCost.Round(time.Millisecond))})
	}
}

// control serves a facilitator's request (their token in the header).
func (g *game) control(do func() string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+g.facilitator)) != 1 {
			http.Error(w, "missing or wrong facilitator token", http.StatusUnauthorized)
			return
		}
		fmt.Fprintln(w, do())
	}
}

// mode is the game's timeline: no operator step, unbounded waits, the
// referee's end.
func (g *game) mode() mode {
	return mode{
		standIn:   g.standIn,
		unbounded: true,
		// The referee ends the game at the time limit; this is a backstop.
		limit: g.po.TimeLimit + time.Minute,
		afterSteps: func(ctx context.Context, _ time.Time, _ func() time.Time) error {
			<-ctx.Done()
			return ctx.Err()
		},
		applied: g.stepApplied,
	}
}

// standIn takes an operator step's place: it waits until the team has
// reached the step's goal (a step with none, a note, is passed over).
func (g *game) standIn(ctx context.Context, st scenarios.Step) (bool, error) {
	if st.Actor != scenarios.ActorOperator {
		return false, nil
	}
	i := slices.IndexFunc(g.goals, func(gl play.Goal) bool { return gl.Step == st.Name })
	if i < 0 {
		return true, nil
	}
	g.mu.Lock()
	g.waiting[i] = time.Now()
	g.mu.Unlock()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		g.mu.Lock()
		reached := !g.reached[i].IsZero()
		g.mu.Unlock()
		if reached {
			return true, nil
		}
		select {
		case <-ctx.Done():
			return true, ctx.Err()
		case <-tick.C:
		}
	}
}

// holders are the players whose cards hold a fact, or the role that holds
// it if nobody plays it.
func (g *game) holders(fact string) (players []string, role string) {
	for _, r := range g.o.Scenario.Play.Roles {
		if !slices.Contains(r.Knows, fact) {
			continue
		}
		role = r.Name
		for _, p := range g.po.Players {
			if p.Role == r.Name {
				players = append(players, p.Name)
			}
		}
	}
	return players, role
}

// by is who the console says made a change a step stands for.
func (g *game) by(step string) string {
	players, role := g.holders(step)
	switch {
	case len(players) > 0:
		return strings.Join(players, ", ")
	case role != "":
		return role
	}
	return "automation"
}

// stepApplied keeps the console's histories as the provider's would be.
func (g *game) stepApplied(st scenarios.Step, out steps.Outcome) {
	g.mu.Lock()
	g.applied[st.Name] = true
	if st.Action == scenarios.ActionRelease {
		g.releasedAt[string(st.Target.Tier)] = time.Now()
	}
	g.mu.Unlock()
	switch st.Action {
	case scenarios.ActionControlPlaneUpgrade:
		from := ""
		if v, err := g.s.env.Client.Discovery().ServerVersion(); err == nil {
			from = v.GitVersion
		}
		g.console.RecordUpgrade(play.Upgrade{From: from, To: st.Version, By: g.by(st.Name), At: time.Now()})
	case scenarios.ActionRelease:
		g.console.RecordDeploy(play.Deploy{Tier: string(st.Target.Tier), Release: st.Version, By: g.by(st.Name), At: time.Now()})
	case scenarios.ActionProvisionPool:
		// The cloud's replacement of a node group, refused by the cluster
		// (version skew): the provider shows it on the group it replaces.
		if !out.Blocked {
			return
		}
		if pool, err := scenarios.PoolFor(g.o.Scenario.System, g.o.Topology, st.Target.Selector); err == nil {
			// The provider's words only: why they did not join is the
			// team's to find (the versions, side by side in the console).
			g.console.AddHealth(pool.Name, "NodeCreationFailure: Instances failed to join the kubernetes cluster")
		}
	}
}

// consoleAction writes a console action into the timeline, and notes a
// private fact reaching a player who did not hold it.
func (g *game) consoleAction(a play.Action) {
	g.s.tl.Write(timeline.Entry{Kind: timeline.KindAct, Via: "console", Player: a.Player, Verb: a.Verb, Name: a.Target, Message: a.Detail, Error: a.Error})
	if a.Error == "" && (a.Verb == "create-nodegroup" || a.Verb == "delete-nodegroup") {
		g.o.Logger.V(0).Infof(" • %s: console %s %s", a.Player, a.Verb, a.Target)
	}
	if a.Error != "" {
		return
	}
	for _, st := range g.o.Scenario.Timeline {
		reveals := (st.Action == scenarios.ActionControlPlaneUpgrade && a.Verb == "describe-cluster") ||
			(st.Action == scenarios.ActionRelease && a.Verb == "list-deploys")
		if reveals {
			g.learned(st.Name, a.Player, "read it in the console ("+a.Verb+")")
		}
	}
}

// learned notes fact reaching player, the first time it reaches anyone
// whose card did not hold it, once the fact is true (its step applied).
func (g *game) learned(fact, player, how string) {
	holders, role := g.holders(fact)
	if role == "" || slices.Contains(holders, player) {
		return
	}
	g.mu.Lock()
	if !g.applied[fact] || g.facts[fact] {
		g.mu.Unlock()
		return
	}
	g.facts[fact] = true
	g.mu.Unlock()
	g.s.tl.Write(timeline.Entry{Kind: timeline.KindFact, Name: fact, Player: player, Message: how, Reason: "held by " + role})
}

// tailAudit reads the players' requests from the API server's audit log
// each second: every change as it is, reads summarised.
func (g *game) tailAudit() {
	defer close(g.auditDone)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	flush := time.NewTicker(15 * time.Second)
	defer flush.Stop()
	for {
		g.readAudit()
		select {
		case <-g.auditStop:
			g.readAudit()
			return
		case <-flush.C:
			g.flushReads()
		case <-t.C:
		}
	}
}

func (g *game) readAudit() {
	began := time.Now()
	acts, err := g.audit.Next()
	g.auditCost += time.Since(began)
	g.auditActs += len(acts)
	if err != nil {
		g.o.Logger.Warnf("reading the audit log: %v", err)
	}
	for _, a := range acts {
		if !a.Write() {
			g.mu.Lock()
			if g.reads == nil {
				g.reads = map[readKey]int{}
			}
			g.reads[readKey{a.Player, a.Verb, a.Resource}]++
			g.mu.Unlock()
			if a.Resource == "replicasets" && a.Namespace == fixtures.Namespace {
				for _, st := range g.o.Scenario.Timeline {
					if st.Action == scenarios.ActionRelease {
						g.learned(st.Name, a.Player, "read the rollout history (kubectl)")
					}
				}
			}
			continue
		}
		if a.Resource == "deployments" && a.Code < 300 {
			g.mu.Lock()
			g.lastWriter[a.Name] = write{a.Player, a.At}
			g.mu.Unlock()
		}
		what := a.Resource
		if a.Subresource != "" {
			what += "/" + a.Subresource
		}
		if a.Name != "" {
			what += " " + a.Name
		}
		g.s.tl.Write(timeline.Entry{Time: a.At, Kind: timeline.KindAct, Via: "kubectl", Player: a.Player, Verb: a.Verb, Resource: a.Resource,
			Subresource: a.Subresource, Namespace: a.Namespace, Name: a.Name, Code: a.Code})
		g.o.Logger.V(0).Infof(" • %s: %s %s (%d)", a.Player, a.Verb, what, a.Code)
	}
}

// flushReads writes the reads summed since the last flush, one entry per
// player, verb and resource.
func (g *game) flushReads() {
	g.mu.Lock()
	reads := g.reads
	g.reads = nil
	g.mu.Unlock()
	keys := make([]readKey, 0, len(reads))
	for k := range reads {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b readKey) int {
		return strings.Compare(a.player+" "+a.verb+" "+a.resource, b.player+" "+b.verb+" "+b.resource)
	})
	for _, k := range keys {
		g.s.tl.Write(timeline.Entry{Kind: timeline.KindAct, Via: "kubectl", Player: k.player, Verb: k.verb, Resource: k.resource, Count: reads[k]})
	}
}

// readKey sums a player's reads: a non-resource request (discovery) has no resource.
type readKey struct{ player, verb, resource string }

// inject applies the scenario's curveball name now, once (the facilitator's,
// from the live page). It returns at once; the step runs in the game.
func (g *game) inject(name string) (string, error) {
	st, ok := g.o.Scenario.Play.Curveball(name)
	if !ok {
		var names []string
		for _, c := range g.o.Scenario.Play.Curveballs {
			names = append(names, c.Name)
		}
		return "", fmt.Errorf("the scenario has no curveball %q (it has: %s)", name, strings.Join(orNoneList(names), ", "))
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.ctx.Err() != nil:
		return "", errors.New("the game is over")
	case g.injected[name]:
		return "", fmt.Errorf("curveball %s was injected already", name)
	}
	g.injected[name] = true
	g.injecting.Add(1)
	go func() {
		defer g.injecting.Done()
		g.o.Logger.V(0).Infof(" ! the facilitator injects curveball %s", name)
		if _, err := applyStep(g.ctx, g.s.env, st, "", g.s.tl, g.o.Logger); err != nil && g.ctx.Err() == nil {
			g.o.Logger.V(0).Infof(" ✗ curveball %s: %v", name, err)
		}
	}()
	return "curveball " + name + " injected", nil
}

func orNoneList(s []string) []string {
	if len(s) == 0 {
		return []string{"none"}
	}
	return s
}

// hintNow releases the next hint not released yet (the facilitator's).
func (g *game) hintNow() string {
	if g.ctx != nil && g.ctx.Err() != nil {
		return "the game is over: no hint is released now"
	}
	for i := range g.o.Scenario.Play.Hints {
		if g.release(i, "the facilitator asked") {
			return fmt.Sprintf("hint %d released", i+1)
		}
	}
	return "every hint is out already"
}

// release releases hint i once.
func (g *game) release(i int, why string) bool {
	g.mu.Lock()
	if g.released[i] {
		g.mu.Unlock()
		return false
	}
	g.released[i] = true
	g.mu.Unlock()
	h := g.o.Scenario.Play.Hints[i]
	g.s.tl.Write(timeline.Entry{Kind: timeline.KindHint, Phase: "released", Name: fmt.Sprint(i + 1), Message: h.Text, Reason: why})
	g.o.Logger.V(0).Infof(" ? hint %d (%s): %s", i+1, why, h.Text)
	return true
}

// referee watches the game each half second: goals broken and reached,
// the first breach, hints due, and the end (every goal reached and every
// objective held over its window, or the time limit).
func (g *game) referee(ctx context.Context) {
	start := time.Now()
	s := g.o.Scenario
	hintT := make([]tracker, len(s.Play.Hints))
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastRelease := map[string]string{}
	objSince := make([]time.Time, len(s.Objectives))
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		state := g.state()
		all := true
		for i, gl := range g.goals {
			holds := gl.Holds(state)
			g.mu.Lock()
			switch {
			case !holds:
				g.holdSince[i] = time.Time{}
			case g.holdSince[i].IsZero():
				g.holdSince[i] = now
			}
			// Reached: it holds again after the fault broke it; or, when the
			// team headed the fault off, it has held throughout a grace
			// period since its step's turn came.
			headedOff := !g.waiting[i].IsZero() && !g.holdSince[i].IsZero() && now.Sub(later(g.waiting[i], g.holdSince[i])) >= headOffGrace
			switch {
			case !holds && !g.broken[i]:
				g.broken[i] = true
			case holds && (g.broken[i] || headedOff) && g.reached[i].IsZero():
				g.reached[i] = now
				g.s.tl.Write(timeline.Entry{Kind: timeline.KindGoal, Phase: "reached", Step: gl.Step, Message: gl.Text})
				g.o.Logger.V(0).Infof(" ✓ goal reached: %s", gl.Text)
			}
			all = all && !g.reached[i].IsZero() && holds
			g.mu.Unlock()
		}
		// Held: each objective has met its window, without a break, for a
		// full window more (a breach's last failures leave the window first;
		// the report counts a recovery from there, once a window has held).
		held := true
		for i, obj := range s.Objectives {
			win := g.s.watch.probes.Last(obj.Key(), obj.Window)
			ok := win.Total > 0 && win.Ratio() >= obj.SuccessRatio && win.P95 <= obj.Latency
			if !ok && win.Total > 0 {
				g.mu.Lock()
				if g.firstBreach.IsZero() {
					g.firstBreach = now
				}
				g.mu.Unlock()
			}
			switch {
			case !ok:
				objSince[i] = time.Time{}
			case objSince[i].IsZero():
				objSince[i] = now
			}
			held = held && ok && now.Sub(objSince[i]) >= obj.Window+time.Second
		}
		g.deploys(state, lastRelease)
		g.mu.Lock()
		for _, w := range s.BusinessWindows { // a window is a fact once it has begun
			if now.Sub(start) >= w.Start {
				g.applied[w.Name] = true
			}
		}
		g.mu.Unlock()
		g.mu.Lock()
		breach := g.firstBreach
		g.mu.Unlock()
		for i, h := range s.Play.Hints {
			if breach.IsZero() {
				break // hints come after the page
			}
			due := h.After != nil && now.Sub(breach) >= *h.After
			if h.When != nil && hintT[i].update(now, g.s.watch.holds(*h.When), *h.When) {
				due = true
			}
			if due {
				g.release(i, hintWhy(h, now.Sub(breach)))
			}
		}
		switch {
		case all && held:
			g.s.tl.Write(timeline.Entry{Kind: timeline.KindRun, Phase: "game-won", Message: "every goal reached, and every service held its objective over a full window"})
			g.o.Logger.V(0).Infof(" ✓ every goal reached, and every service held its objective over a full window")
			g.end(gameOver{"every goal reached, and every service held its objective over a full window"})
			return
		case now.Sub(start) >= g.po.TimeLimit:
			g.end(gameOver{fmt.Sprintf("the time limit (%s) is reached; what is still broken counts", g.po.TimeLimit)})
			return
		}
	}
}

func hintWhy(h scenarios.Hint, sinceBreach time.Duration) string {
	if h.After != nil && sinceBreach >= *h.After {
		return fmt.Sprintf("%s after the first breach", h.After)
	}
	return "its condition holds: " + string(h.When.Type)
}

// pendingDeploy is a release change seen on a tier, waiting to be matched
// to the write that made it (the audit log is read a second at a time).
type pendingDeploy struct {
	tier, release string
	seen          time.Time
}

// deployMatch is how far apart a write and the release change it made may be seen.
const deployMatch = 10 * time.Second

// deploys adds the release changes the players made to the console's
// deploy history, each by the player whose write of the Deployment came
// with it; the scenario's own releases are its steps' (stepApplied), and a
// change nobody in the game made is listed as such.
func (g *game) deploys(state *play.State, last map[string]string) {
	now := time.Now()
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, d := range state.Deployments {
		rel := fixtures.SystemRelease(g.o.Scenario.System, d.Name, &d.Spec.Template.Spec)
		prev, seen := last[d.Name]
		last[d.Name] = rel
		if !seen || prev == rel || now.Sub(g.releasedAt[d.Name]) < deployMatch {
			continue
		}
		g.pending = append(g.pending, pendingDeploy{tier: d.Name, release: rel, seen: now})
	}
	kept := g.pending[:0]
	for _, p := range g.pending {
		w := g.lastWriter[p.tier]
		switch {
		case w.player != "" && w.at.Sub(p.seen).Abs() < deployMatch:
			g.console.RecordDeploy(play.Deploy{Tier: p.tier, Release: p.release, By: w.player, At: w.at})
		case now.Sub(p.seen) >= deployMatch:
			g.console.RecordDeploy(play.Deploy{Tier: p.tier, Release: p.release, By: "(not made in the game)", At: p.seen})
		default:
			kept = append(kept, p)
		}
	}
	g.pending = kept
}

// state is the cluster as the observers see it, for the goals.
func (g *game) state() *play.State {
	st := &play.State{}
	obs := g.s.watch.obs
	nodes, _ := obs.Nodes.List(labels.Everything())
	for _, n := range nodes {
		st.Nodes = append(st.Nodes, *n)
	}
	for _, p := range obs.PodsMatching(nil) {
		st.Pods = append(st.Pods, *p)
	}
	deps, _ := obs.Deployments.List(labels.Everything())
	for _, d := range deps {
		st.Deployments = append(st.Deployments, *d)
	}
	return st
}

// steppedProvider writes what the console does to the cluster into the
// timeline as the player's steps, so that the changes it makes (nodes
// brought into service, or out) are theirs in the debrief.
type steppedProvider struct {
	*play.ClusterProvider
	tl *timeline.Writer
}

func (p *steppedProvider) step(ctx context.Context, action, group string, do func() ([]string, error)) error {
	player, name := play.PlayerFrom(ctx), "console:"+group
	p.tl.Write(timeline.Entry{Kind: timeline.KindStep, Phase: "start", Step: name, Action: action, Actor: string(scenarios.ActorOperator), Player: player, Change: true})
	targets, err := do()
	e := timeline.Entry{Kind: timeline.KindStep, Phase: "end", Step: name, Action: action, Actor: string(scenarios.ActorOperator), Player: player, Change: true, Targets: targets}
	if err != nil {
		e.Error = err.Error()
	}
	p.tl.Write(e)
	return err
}

func (p *steppedProvider) Provision(ctx context.Context, name, version string) (play.NodeGroup, error) {
	var ng play.NodeGroup
	err := p.step(ctx, string(scenarios.ActionProvisionPool), name, func() ([]string, error) {
		var err error
		ng, err = p.ClusterProvider.Provision(ctx, name, version)
		return p.nodesOf(ctx, name), err
	})
	return ng, err
}

func (p *steppedProvider) Retire(ctx context.Context, name string) error {
	targets := p.nodesOf(ctx, name)
	return p.step(ctx, "retire-pool", name, func() ([]string, error) { return targets, p.ClusterProvider.Retire(ctx, name) })
}

// nodesOf are the nodes of a group the console made.
func (p *steppedProvider) nodesOf(ctx context.Context, group string) []string {
	return p.ClusterProvider.NodesOf(ctx, group)
}
