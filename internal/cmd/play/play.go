// Package play implements `gameday play`: a game day on a real cluster, with
// people in the operator's seat.
package play

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/clusterlock"
	"gameday.dev/gameday/internal/cmd/liveui"
	"gameday.dev/gameday/internal/cmd/scenarioarg"
	"gameday.dev/gameday/live"
	gplay "gameday.dev/gameday/play"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/engine"
	"gameday.dev/gameday/scenarios/timeline"
)

type flagpole struct {
	Topology    string
	Players     []string
	Out         string
	Name        string
	Image       string
	System      string
	Retain      bool
	Reuse       bool
	UI          string
	TimeLimit   time.Duration
	ConsoleAddr string
	Par         string
}

// NewCommand returns `gameday play` and its subcommands.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "play SCENARIO --players NAME[=ROLE],...",
		Short: "Play a scenario as a game day: the incident on a real cluster, your team in the on-call seat",
		Long: `Play a scenario (a built-in name or a file) as a game day on a new cluster:
create it, deploy the fixtures and check the steady state as a replay does,
then give each player a kit (their own kubeconfig, bound to an on-call
engineer's rights, the cloud console's address and their token, the
briefing and their role card) and start the clock.

The scenario's faults and its automation run as in a replay; its operator
steps do not: each is a goal the team must reach, recognised from its
effect on the cluster however they got there. gameday reads what each
player does from the API server's audit log and the console, releases the
scenario's hints as they fall due, and ends the game when every goal is
reached and every service has held its objective over a full window, at
the time limit, or with ` + "`gameday play end`" + `. Then it puts back what the
scenario and the players changed, writes the debrief and deletes the
cluster (unless --retain). Ctrl-C recovers too, and exits 130.

--reuse plays on the cluster <name>-<topology> that exists (made by gameday
up, or kept by --retain) and keeps it, as gameday run --reuse does.

Players are NAME or NAME=ROLE: a role names one of the scenario's role
cards; a player named without one gets its default role, if it has one.`,
		Example: `  # a game of the seed incident for three players
  gameday play cascading-outage --topology shared --players ana=developer,ben=ios-developer,chloe

  # each player then uses their kit (printed when the clock starts):
  export KUBECONFIG=$PWD/gameday-play-cascading-outage-<time>/shared/kits/chloe/kubeconfig
  export GAMEDAY_KIT=$PWD/gameday-play-cascading-outage-<time>/shared/kits/chloe
  kubectl get pods -n gameday
  gameday console nodegroups

  # the facilitator, from another terminal
  gameday play hint --name gameday-shared
  gameday play end --name gameday-shared`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return run(cmd.Context(), g, f, args[0]) },
	}
	cmd.Flags().StringVar(&f.Topology, "topology", "", "the topology to play on (default: the scenario's first)")
	cmd.Flags().StringSliceVar(&f.Players, "players", nil, "the players, NAME or NAME=ROLE, comma-separated (required)")
	cmd.Flags().StringVar(&f.Out, "out", "", "folder for the kits, the timeline and the debrief (default gameday-play-<scenario>-<time>)")
	cmd.Flags().StringVar(&f.Name, "name", "gameday", "cluster name prefix: the cluster is <name>-<topology>")
	scenarioarg.AddSystemFlag(cmd.Flags(), &f.System)
	cmd.Flags().StringVar(&f.Image, "image", "", "node image (default: kind's if present, else the offline gameday/node:offline)")
	cmd.Flags().BoolVar(&f.Retain, "retain", false, "keep the cluster after the game")
	liveui.AddFlag(cmd, &f.UI, "game")
	cmd.Flags().BoolVar(&f.Reuse, "reuse", false, "play on the cluster <name>-<topology> that exists, and keep it")
	cmd.Flags().DurationVar(&f.TimeLimit, "time-limit", 0, "end the game after this long (default: the scenario's, or 20m)")
	cmd.Flags().StringVar(&f.ConsoleAddr, "console-addr", "", "where the cloud console listens (default: a free port on 127.0.0.1)")
	cmd.Flags().StringVar(&f.Par, "par", "", "a replay of the scenario on this topology (gameday run's folder, its topology's folder or report.json): the team's par")
	cmd.AddCommand(newControl(g, "end", "End the game now: what is still broken counts", "gameday play end --name gameday-shared"),
		newControl(g, "hint", "Release the game's next hint now", "gameday play hint --name gameday-shared"))
	return cmd
}

// ParsePlayers reads --players: NAME or NAME=ROLE.
func ParsePlayers(list []string) []engine.Player {
	var out []engine.Player
	for _, p := range list {
		name, role, _ := strings.Cut(strings.TrimSpace(p), "=")
		out = append(out, engine.Player{Name: name, Role: role})
	}
	return out
}

func run(ctx context.Context, g *cli.Globals, f *flagpole, arg string) error {
	if len(f.Players) == 0 {
		return cli.Usagef("a game needs players: --players NAME[=ROLE],...")
	}
	if f.TimeLimit < 0 {
		return cli.Usagef("--time-limit %s: must be positive", f.TimeLimit)
	}
	s, err := scenarioarg.Resolve(arg, f.System)
	if err != nil {
		return err
	}
	if err := fixtures.CheckImages(ctx, s.System, g.Logger()); err != nil {
		return err
	}
	topo := s.Topologies[0]
	if f.Topology != "" {
		var have []string
		found := false
		for _, t := range s.Topologies {
			have = append(have, t.Name)
			if t.Name == f.Topology {
				topo, found = t, true
			}
		}
		if !found {
			return cli.Usagef("scenario %s does not run on topology %q; it runs on %s", s.Name, f.Topology, strings.Join(have, ", "))
		}
	}
	name := f.Name + "-" + topo.Name
	if err := cluster.ValidateName(name); err != nil {
		return err
	}
	goals, err := gplay.GoalsFor(s, topo)
	if err != nil {
		return cli.Usage(err)
	}
	var par *reports.Report
	if f.Par != "" { // bad input fails before any cluster exists
		if par, err = loadPar(f.Par, s, topo.Name); err != nil {
			return err
		}
	}
	players := engine.WithDefaultRole(s, ParsePlayers(f.Players))
	if err := engine.ValidatePlayers(s, players); err != nil {
		return cli.Usage(err)
	}
	k, err := cluster.NewKind(g.Logger())
	if err != nil {
		return err
	}
	if err := clusterlock.Take(g, k.Store, name); err != nil {
		return err
	}
	out := f.Out
	if out == "" {
		out = fmt.Sprintf("gameday-play-%s-%s", s.Name, time.Now().Format("20060102-150405"))
	}
	dir := filepath.Join(out, topo.Name)
	opts := engine.Options{Scenario: s, Topology: topo, Name: name, OutDir: dir, Retain: f.Retain, Reuse: f.Reuse, Image: f.Image, Logger: g.Logger()}
	popts := engine.PlayOptions{Players: players, ConsoleAddr: f.ConsoleAddr, TimeLimit: f.TimeLimit,
		Ready: func(game *engine.Game) { printKits(g.Streams.Out, game, name) }}
	// The game's own context: the page's emergency stop ends it as Ctrl-C
	// does, and the page stays up for the debrief.
	gameCtx, emergency := context.WithCancelCause(ctx)
	defer emergency(nil)
	var page *liveui.Page
	if f.UI != "" {
		meta := engine.MetaFor(s, topo.Name, name)
		meta.TimeLimit = timeline.Duration(cmp.Or(f.TimeLimit, s.Play.TimeLimit))
		var texts []string
		for _, gl := range goals {
			texts = append(texts, gl.Text)
		}
		if page, err = liveui.Start(ctx, f.UI, liveui.InfoFor(s, topo, name, meta, texts), meta, g.Streams.Out, g.Streams.ErrOut); err != nil {
			return err
		}
		defer page.Stop()
		opts.Watch, opts.Notes = page.Feed, page.SetNotes
		stop := func() string {
			fmt.Fprintln(g.Streams.ErrOut, "\nEmergency stop from the live page: recovering everything now")
			emergency(errEmergencyStop)
			return "stopping: everything is being put back"
		}
		page.SetControls(live.Controls{Stop: stop}) // from the start: the cluster, the steady state
		popts.Ready = func(game *engine.Game) {
			printKits(g.Streams.Out, game, name)
			page.SetControls(live.Controls{Hint: game.Hint, End: game.End, Inject: game.Inject, Stop: stop})
		}
	}
	g.Logger().V(0).Infof("Playing %s on topology %s with %d players", s.Name, topo.Name, len(players))
	res, err := engine.Play(gameCtx, engine.Kind(k), opts, popts)
	if page != nil {
		// The game is over: no lever is left, and notes would go nowhere.
		page.SetControls(live.Controls{})
		page.SetNotes(nil)
	}
	err = stoppedBy(err, ctx, gameCtx)
	if res != nil && res.Entries == 0 {
		return err
	}
	r, rerr := reports.FromRun(dir)
	if errors.Is(rerr, reports.ErrNoTimeline) {
		return err
	}
	if rerr == nil && r.Team != nil {
		r.Team.WithPar(par)
	}
	if rerr == nil {
		_, rerr = reports.WriteFiles(dir, r)
	}
	if rerr == nil {
		fmt.Fprintln(g.Streams.Out)
		rerr = reports.WriteText(g.Streams.Out, r)
	}
	if page != nil && rerr == nil {
		if derr := page.Debrief(dir); derr != nil {
			rerr = derr
		} else {
			g.ReleaseAll() // the cluster is free while the room reads the debrief
			page.Linger(ctx, g.Streams.ErrOut)
		}
	}
	return errors.Join(err, rerr)
}

// errEmergencyStop is the cause of a game stopped from the live page.
var errEmergencyStop = errors.New("emergency stop from the live page")

// stoppedBy says an interrupt came from the live page's emergency stop
// (still an interrupt: exit 130) rather than Ctrl-C.
func stoppedBy(err error, ctx, own context.Context) error {
	if err != nil && errors.Is(err, context.Canceled) && ctx.Err() == nil && errors.Is(context.Cause(own), errEmergencyStop) {
		return fmt.Errorf("%w: %w", errEmergencyStop, err)
	}
	return err
}

// printKits is what the facilitator reads out as the clock starts.
func printKits(w io.Writer, game *engine.Game, name string) {
	fmt.Fprintln(w)
	if game.Briefing != "" {
		fmt.Fprintf(w, "Briefing\n\n%s\n\n", indent(game.Briefing))
	}
	fmt.Fprintf(w, "The clock starts now: %d goals, %d hints, a time limit of %s. Kits:\n\n", len(game.Goals), game.Hints, game.TimeLimit)
	t := cli.NewTable(w, "PLAYER", "ROLE", "KIT")
	for _, k := range game.Kits {
		role := k.Role
		if role == "" {
			role = "-"
		}
		t.Row(k.Player, role, k.Dir)
	}
	_ = t.Flush()
	fmt.Fprintf(w, "\nEach player: export KUBECONFIG=<kit>/kubeconfig GAMEDAY_KIT=<kit>, then kubectl and `gameday console`; <kit>/README.md has their briefing and role card.\n")
	fmt.Fprintf(w, "The facilitator: `gameday play hint --name %s` releases the next hint, `gameday play end --name %s` ends the game.\n\n", name, name)
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimSpace(s), "\n", "\n  ")
}

// newControl is `gameday play end|hint`: a request to the running game, with
// the facilitator's token from the cluster's folder. It takes no lock: the
// game holds it.
func newControl(g *cli.Globals, verb, short, example string) *cobra.Command {
	var name string
	cmd := &cobra.Command{
		Use:     verb,
		Short:   short,
		Example: "  " + example,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			k, err := cluster.NewKind(g.Logger())
			if err != nil {
				return err
			}
			if err := cluster.ValidateName(name); err != nil {
				return err
			}
			data, err := os.ReadFile(filepath.Join(k.Store.ClusterDir(name), engine.GameFile))
			if errors.Is(err, os.ErrNotExist) {
				return cli.Usagef("no game is being played on cluster %q", name)
			}
			if err != nil {
				return err
			}
			var ctl engine.GameControl
			if err := json.Unmarshal(data, &ctl); err != nil {
				return err
			}
			// A game that died without cleaning up left its file: its
			// token is for nobody now.
			if ctl.PID <= 0 || syscall.Kill(ctl.PID, 0) == syscall.ESRCH {
				return cli.Usagef("no game is being played on cluster %q (the game that was, pid %d, is gone: `gameday recover --name %s` puts back what it changed)", name, ctl.PID, name)
			}
			req, err := http.NewRequestWithContext(cmd.Context(), http.MethodPost, ctl.URL+"/game/"+verb, bytes.NewReader(nil))
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", "Bearer "+ctl.Token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("the game on cluster %q does not answer (has it ended?): %w", name, err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("the game on cluster %q: %s: %s", name, resp.Status, strings.TrimSpace(string(body)))
			}
			fmt.Fprintf(g.Streams.Out, "%s\n", strings.TrimSpace(string(body)))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "gameday-shared", "the game's cluster")
	return cmd
}

// loadPar reads the replay a game is compared with: the same scenario on the
// same topology, with its scripted operator's measures.
func loadPar(path string, s *scenarios.Scenario, topology string) (*reports.Report, error) {
	rs, err := reports.LoadBaseline(path)
	if err != nil {
		return nil, cli.Usagef("--par %s: %v", path, err)
	}
	for _, r := range rs {
		if r.Topology != topology {
			continue
		}
		if r.Scenario != s.Name {
			return nil, cli.Usagef("--par %s: a replay of %s, not of %s", path, r.Scenario, s.Name)
		}
		if r.ScenarioDigest != "" && r.ScenarioDigest != s.Digest {
			return nil, cli.Usagef("--par %s: a replay of another version of %s's file (digest %.12s, this one %.12s): replay this version for par", path, s.Name, r.ScenarioDigest, s.Digest)
		}
		if r.Team == nil || r.Team.Game {
			return nil, cli.Usagef("--par %s: not a replay with the scenario's operator steps (a game, or a replay from before gameday play)", path)
		}
		return r, nil
	}
	return nil, cli.Usagef("--par %s: no replay on topology %s there", path, topology)
}
