// Package liveui starts the live page of `gameday play --ui` and
// `gameday run --ui`: it listens, prints one link per role and serves until
// the command's context ends.
package liveui

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/live"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/engine"
	"gameday.dev/gameday/scenarios/timeline"
)

// DefaultAddr is where --ui without an address listens: a free port on loopback.
const DefaultAddr = "127.0.0.1:0"

// AddFlag adds --ui to cmd: given alone, it serves on DefaultAddr.
func AddFlag(cmd *cobra.Command, addr *string, what string) {
	cmd.Flags().StringVar(addr, "ui", "", "serve a live page of the "+what+" for the room, on this address (--ui alone: a free port on 127.0.0.1; --ui=ADDR for another)")
	cmd.Flags().Lookup("ui").NoOptDefVal = DefaultAddr
}

// Page is a live page being served.
type Page struct {
	*live.Server
	stop context.CancelFunc
	done chan error
}

// InfoFor describes a scenario's game (with its goals) or replay (goals
// nil) on topology t.
func InfoFor(s *scenarios.Scenario, t cluster.Topology, clusterName string, meta timeline.Meta, goals []string) live.Info {
	game := goals != nil
	info := live.Info{Scenario: s.Name, Topology: t.Name, Cluster: clusterName, Game: game, Journeys: meta.Journeys, Goals: goals,
		TimeLimit: time.Duration(meta.TimeLimit).Seconds()}
	for _, p := range t.Pools {
		info.Pools = append(info.Pools, live.Pool{Name: p.Name, Spare: p.Spare})
	}
	if game {
		info.Hints = len(s.Play.Hints)
		for _, c := range s.Play.Curveballs {
			info.Curveballs = append(info.Curveballs, c.Name)
		}
	}
	return info
}

// Start listens on addr and serves the page until ctx ends or Stop; it
// prints the page's links, one per role, on w (the only place the tokens
// appear: they are in no log, file or timeline), and a warning on errw for
// an address beyond loopback.
func Start(ctx context.Context, addr string, info live.Info, meta timeline.Meta, w, errw io.Writer) (*Page, error) {
	ln, warn, err := live.Listen(addr)
	if err != nil {
		return nil, cli.Usagef("--ui %s: %v", addr, err)
	}
	if warn != "" {
		fmt.Fprintf(errw, "WARNING: %s\n", warn)
	}
	tokens, err := live.NewTokens()
	if err != nil {
		ln.Close()
		return nil, err
	}
	srv := live.NewServer(info, meta, tokens)
	ctx, stop := context.WithCancel(ctx)
	p := &Page{Server: srv, stop: stop, done: make(chan error, 1)}
	go srv.Run(ctx)
	go func() { p.done <- srv.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String() + "/"
	fmt.Fprintf(w, "Live page: %s (each role's link carries its token after #, which the browser never sends; share each link with its people only)\n", base)
	for _, r := range live.Roles {
		fmt.Fprintf(w, "  %-12s %s#%s\n", r, base, tokens[r])
	}
	fmt.Fprintln(w)
	return p, nil
}

// Debrief shows the report in dir (report.html) on the page.
func (p *Page) Debrief(dir string) error {
	html, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		return err
	}
	p.SetDebrief(html)
	return nil
}

// DebriefOf shows what a replay command wrote: the comparison of its
// topologies (OUT/compare.html) when it ran more than one, else the report
// of its last run that has one (never a comparison an earlier command left
// in OUT).
func (p *Page) DebriefOf(out string, results []*engine.Result) error {
	topos := map[string]bool{}
	for _, r := range results {
		if r != nil {
			topos[r.Topology] = true
		}
	}
	if len(topos) > 1 {
		if html, err := os.ReadFile(filepath.Join(out, "compare.html")); err == nil {
			p.SetDebrief(html)
			return nil
		}
	}
	for i := len(results) - 1; i >= 0; i-- {
		if results[i] == nil {
			continue
		}
		if err := p.Debrief(filepath.Dir(results[i].Timeline)); err == nil {
			return nil
		}
	}
	return os.ErrNotExist
}

// Linger keeps the page up for the room's debrief until ctx ends (Ctrl-C),
// saying so on w.
func (p *Page) Linger(ctx context.Context, w io.Writer) {
	if ctx.Err() != nil {
		return
	}
	fmt.Fprintln(w, "The debrief is on the live page; Ctrl-C stops serving it.")
	<-ctx.Done()
}

// Stop ends the page and waits for its server.
func (p *Page) Stop() error {
	p.stop()
	err := <-p.done
	if err != nil && !strings.Contains(err.Error(), "use of closed") {
		return err
	}
	return nil
}
