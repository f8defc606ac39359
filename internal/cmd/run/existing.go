package run

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/term"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/engine"
)

// onExisting runs the scenario on a cluster gameday did not create, the
// one --context names: every topology in turn on that one cluster.
func onExisting(ctx context.Context, g *cli.Globals, f *flagpole, s *scenarios.Scenario, topos []cluster.Topology, baseline *gate) error {
	for _, fl := range []string{"name", "reuse", "retain", "image"} {
		if f.fs.Changed(fl) {
			return cli.Usagef("--%s is for clusters gameday creates; --context runs on the cluster it names", fl)
		}
	}
	// Bad input fails before the cluster is asked anything.
	if err := s.CheckBackend(cluster.KubeconfigCapabilities); err != nil {
		return err
	}
	if err := fixtures.CheckExisting(s.System); err != nil {
		return cli.Usage(err)
	}
	urls, err := serviceURLs(s, f.ServiceURLs)
	if err != nil {
		return err
	}
	if f.ImageRepo != "" {
		if _, err := fixtures.ParseImageRepo(f.ImageRepo); err != nil {
			return cli.Usage(err)
		}
	}
	// The target is said once it is known to be fit, before anything changes.
	t, err := f.Target.Open(ctx, func(string) {})
	if err != nil {
		return err
	}
	if err := t.Usable(); err != nil {
		return err
	}
	// A run there already (from any machine) is said first: what it changed
	// would read as unfit otherwise.
	silent, err := kubeconfig.CheckFree(ctx, t.Client, func(s string) { g.Logger().V(0).Info(s) })
	if errors.Is(err, kubeconfig.ErrHeld) {
		return cli.Usage(err)
	} else if err != nil {
		return err
	}
	kind, err := cluster.DefaultStore()
	if err != nil {
		return err
	}
	x := &engine.Existing{Target: t.Target, PoolKey: t.Inventory.PoolKey, Store: engine.ExistingStore(kind), URLs: urls, ImageRepo: f.ImageRepo}
	probesFrom := "probes: from here, at --service-url"
	if urls == nil {
		if err := t.CanProxy(ctx, fixtures.Namespace); errors.Is(err, kubeconfig.ErrNoProxy) {
			return cli.Usage(err)
		} else if err != nil {
			return err
		}
		if x.URLs, x.Via, err = engine.ProxyRoute(t.Target, s.System); err != nil {
			return err
		}
		probesFrom = "probes: from here through the API server's service proxy (no --service-url), as the context's user"
	}
	name := engine.ExistingName(t.Context, t.Server)
	var places []string
	var touches [][]string
	for _, topo := range topos {
		o := engine.Options{Scenario: s, Topology: topo, Name: name, Logger: g.Logger()}
		place, err := x.Placement(ctx, o)
		if err != nil {
			return err
		}
		places = append(places, fmt.Sprintf("  %s: %s", topo.Name, place))
		if f.DryRun {
			lines, err := x.Touches(ctx, o)
			if err != nil {
				return err
			}
			touches = append(touches, lines)
		}
	}
	g.Logger().V(0).Info("Target: " + t.Target.String())
	g.Logger().V(0).Info(strings.ToUpper(probesFrom[:1]) + probesFrom[1:])
	if f.DryRun {
		for i, topo := range topos {
			if i > 0 {
				fmt.Fprintln(g.Streams.Out)
			}
			if err := scenarios.WritePlan(g.Streams.Out, s, topo); err != nil {
				return err
			}
			fmt.Fprintf(g.Streams.Out, "  on %s, pools by node label %s:\n  %s\n", t.Target, t.Inventory.PoolKey, places[i])
			for _, e := range s.Emulated(cluster.KubeconfigCapabilities) {
				fmt.Fprintf(g.Streams.Out, "  emulated: %s\n", e)
			}
			fmt.Fprintf(g.Streams.Out, "  every object it touches on that cluster:\n")
			for _, l := range touches[i] {
				fmt.Fprintf(g.Streams.Out, "  %s\n", l)
			}
		}
		return nil
	}
	if !f.Yes {
		if err := confirm(g, t.Target.String(), s, places); err != nil {
			return err
		}
	}
	// The cluster's own lock (its Lease, in namespace gameday): no run from
	// another machine while this one runs; `gameday stop` from any machine
	// stops this one, which then puts everything back.
	hold, err := kubeconfig.TakeLeaseAfterDead(ctx, t.Client, kubeconfig.Identity(g.Command), func(s string) { g.Logger().V(0).Info(s) }, silent)
	if errors.Is(err, kubeconfig.ErrHeld) {
		return cli.Usage(err)
	}
	if err != nil {
		return err
	}
	var once sync.Once
	release := func() {
		once.Do(func() {
			if err := hold.Release(context.WithoutCancel(ctx)); err != nil {
				g.Logger().V(0).Infof("Could not free the cluster's Lease (%v): another run there waits %s for it", err, kubeconfig.LeaseDuration)
			}
		})
	}
	defer release()
	t.Target.Arm(hold) // no write to the cluster, journal records included, once the Lease is lost
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	// Watched until this function returns, recovery included.
	done := make(chan struct{})
	defer close(done)
	go func() {
		stopped := hold.Stop()
		for {
			select {
			case <-stopped:
				fmt.Fprintln(g.Streams.ErrOut, "\nStopped by `gameday stop`: putting everything back now")
				stop(errStopped)
				stopped = nil
			case <-hold.Lost():
				// Another gameday may be putting the cluster back by now:
				// this one changes nothing more, recovery included, at once.
				fmt.Fprintf(g.Streams.ErrOut, "\nStopping at once, changing nothing more: %s. Whoever holds it now puts back what this run changed; if nobody does, `gameday recover --context %s`, from any machine.\n",
					hold.Why(), t.Context)
				lostExit(cli.ExitError)
				return
			case <-done:
				return
			}
		}
	}()
	return replay(runCtx, g, f, s, topos, baseline, &where{backend: x, store: x.Store, reuse: true,
		name: func(cluster.Topology) string { return name }, release: release})
}

// lostExit ends the process when the Lease is lost (a variable for tests).
var lostExit = os.Exit

// errStopped is the cause of a run stopped by `gameday stop`: as an
// interrupt, it puts everything back and exits 130.
var errStopped error = stopped{}

type stopped struct{}

func (stopped) Error() string        { return "stopped by gameday stop" }
func (stopped) Is(target error) bool { return target == context.Canceled }

// serviceURLs checks --service-url: a URL for each service of the system,
// and none for a service it does not have.
func serviceURLs(s *scenarios.Scenario, given map[string]string) (map[string]string, error) {
	var names, missing []string
	for _, sv := range s.System.Services {
		names = append(names, sv.Name)
		if given[sv.Name] == "" {
			missing = append(missing, sv.Name+"=URL")
		}
	}
	for n, u := range given {
		if !slices.Contains(names, n) {
			return nil, cli.Usagef("--service-url %s: system %s has no service %q; it has %s", n, s.System.Name, n, strings.Join(names, ", "))
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return nil, cli.Usagef("--service-url %s=%s: not an http(s) URL", n, u)
		}
		if p.RawQuery != "" || p.Fragment != "" || p.User != nil {
			return nil, cli.Usagef("--service-url %s=%s: a service's base URL takes no query, fragment or credentials", n, u)
		}
		// The probes' paths are appended ("/items"): a trailing slash would
		// make "//items", which a server may redirect, and a redirect the
		// probes do not follow counts as an answer.
		given[n] = strings.TrimRight(u, "/")
	}
	if len(given) == 0 {
		return nil, nil // through the API server
	}
	if len(missing) > 0 {
		return nil, cli.Usagef("--service-url names where this machine reaches each service of the system, or none (probes through the API server's service proxy): give --service-url %s too", strings.Join(missing, ","))
	}
	return given, nil
}

// confirm asks, on a terminal, before anything changes on someone's
// cluster; elsewhere (CI) --yes is required.
func confirm(g *cli.Globals, target string, s *scenarios.Scenario, places []string) error {
	in, ok := g.Streams.In.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return cli.Usagef("gameday asks before it breaks anything on a cluster it did not create, and there is no terminal to ask on: give --yes to run without asking")
	}
	w := g.Streams.ErrOut
	fmt.Fprintf(w, "\nThis runs scenario %s on %s.\nIt labels these opted-in nodes with their pools for its run:\n%s\n", s.Name, target, strings.Join(places, "\n"))
	fmt.Fprintf(w, "deploys its fixtures into namespace %s, and makes the scenario's changes there, emulated where they need a machine:\n", fixtures.Namespace)
	for _, e := range s.Emulated(cluster.KubeconfigCapabilities) {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprint(w, "Then it puts everything back. Go on? [y/N] ")
	answer, _ := bufio.NewReader(in).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return cli.Usagef("not confirmed: nothing changed")
	}
	return nil
}
