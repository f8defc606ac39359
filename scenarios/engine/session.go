package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/progress"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/observe"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/scenarios/timeline"
)

// Backend is what the engine needs of where clusters come from: kind's
// today (Kind). Nothing in the engine depends on the concrete backend.
type Backend interface {
	// Create makes a new cluster; DeployFixtures then deploys onto it.
	Create(ctx context.Context, o cluster.CreateOptions) (*cluster.Record, error)
	DeployFixtures(ctx context.Context, name string, o fixtures.DeployOptions, logger log.Logger) error
	Delete(ctx context.Context, name string) error
	// Record and ClientFor read a cluster gameday made.
	Record(name string) (*cluster.Record, error)
	ClientFor(name string) (*cluster.Record, kubernetes.Interface, error)
	// ClusterDir is where gameday keeps what it knows of a cluster (the
	// recovery journal).
	ClusterDir(name string) string
	// AuditLog is where the audit log of a cluster created with Audit is
	// read.
	AuditLog(name string) string
	// Capabilities are what the backend can do to a cluster: a scenario
	// is checked against them before anything happens.
	Capabilities() cluster.Capabilities
}

// newNodes acts on a cluster's nodes (a test's stands in for Docker).
var newNodes = cluster.NewNodes

// nodesFor acts on the nodes of a backend's cluster: through their
// machines where it can stop them, else emulating their loss.
func nodesFor(b Backend, client kubernetes.Interface) *cluster.Nodes {
	if !b.Capabilities().StopMachine {
		return cluster.NewEmulatedNodes(client)
	}
	return newNodes(client)
}

// An adopter is a backend of clusters gameday did not create: before the
// fixtures are deployed, it sets the cluster up for the session's topology
// (its opted-in nodes labelled with their pools), every change journaled
// so that recovery takes it down again.
type adopter interface {
	Adopt(ctx context.Context, env *steps.Env, o Options) error
	// CheckFit is CheckReusable for such a cluster: can it serve o?
	CheckFit(ctx context.Context, o Options) error
	// ServiceURLs are where the runner reaches the system's services, and
	// ProbeVia the route there (nil: straight from here).
	ServiceURLs() map[string]string
	ProbeVia() *observe.Via
	// Mirror keeps a copy of the journal in the cluster.
	Mirror() Mirror
}

// Kind is the kind backend.
func Kind(k *cluster.Kind) Backend { return kindBackend{k} }

type kindBackend struct{ *cluster.Kind }

func (k kindBackend) DeployFixtures(ctx context.Context, name string, o fixtures.DeployOptions, logger log.Logger) error {
	return fixtures.DeployTo(ctx, k.Kind, name, o, logger)
}

func (k kindBackend) ClusterDir(name string) string { return k.Store.ClusterDir(name) }

func (kindBackend) Capabilities() cluster.Capabilities { return cluster.KindCapabilities }

// A Session is one rehearsal of a scenario on a new cluster, in the phases
// every mode shares. Open brings it to the moment before the first fault:
// the cluster, the fixtures serving, the observers and probes, the steady
// state, the recovery journal. Then the mode's own part acts on Env and
// watches through the session (run: the scenario's timeline). Recover puts
// back every journaled change and checks the cluster; Close ends the
// observers, deletes the cluster (unless retained) and closes the timeline.
type Session struct {
	o       Options
	b       Backend
	res     *Result
	tl      *timeline.Writer
	env     *steps.Env
	journal *Journal
	watch   *watcher
	// closers run in reverse order on Close.
	closers []func() error
}

// Open runs the shared phases up to the steady state. On error the session
// is closed already (what it made is deleted, unless retained).
func Open(ctx context.Context, b Backend, o Options) (s *Session, err error) {
	s = &Session{o: o, b: b, res: &Result{Topology: o.Topology.Name, Timeline: filepath.Join(o.OutDir, "timeline.jsonl")}}
	opened := false
	defer func() {
		if !opened { // an error, or a panic: what was made is put away all the same
			if s.journal != nil { // set up on a cluster gameday did not create: taken down
				err = errors.Join(err, s.takeDown(ctx))
			}
			err = errors.Join(err, s.Close())
		}
	}()
	// A step the backend cannot do fails the plan, before anything is made.
	if err := o.Scenario.CheckBackend(b.Capabilities()); err != nil {
		return s, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return s, err
	}
	meta := MetaFor(o.Scenario, o.Topology.Name, o.Name)
	meta.TimeLimit = timeline.Duration(o.timeLimit) // a game's; zero for a replay
	meta.Backend, meta.Emulated = b.Capabilities().Backend, o.Scenario.Emulated(b.Capabilities())
	if a, ok := b.(adopter); ok && a.ProbeVia() != nil {
		meta.ProbedVia = a.ProbeVia().Name
	}
	if err := timeline.WriteMeta(o.OutDir, meta); err != nil {
		return s, err
	}
	tl, err := timeline.Create(s.res.Timeline)
	if err != nil {
		return s, err
	}
	s.tl = tl
	if o.Watch != nil {
		tl.Tee(o.Watch)
	}
	if o.Notes != nil {
		o.Notes(tl.Write)
	}
	s.onClose(func() error {
		if o.Notes != nil {
			o.Notes(nil) // a note from now on would find the timeline closed
		}
		s.res.Entries = tl.Count()
		return tl.Close()
	})
	s.phase("start", fmt.Sprintf("scenario %s on topology %s, cluster %s", o.Scenario.Name, o.Topology.Name, o.Name))

	if o.Reuse {
		if err := s.reuse(ctx); err != nil {
			return s, err
		}
	} else if err := s.create(ctx); err != nil {
		return s, err
	}
	// A cluster gameday did not create is set up for the session first,
	// every change journaled from the first.
	if a, ok := b.(adopter); ok {
		_, client, err := b.ClientFor(o.Name)
		if err != nil {
			return s, err
		}
		if err := os.MkdirAll(b.ClusterDir(o.Name), 0o700); err != nil {
			return s, err
		}
		if err := settleJournal(ctx, a.Mirror(), filepath.Join(b.ClusterDir(o.Name), JournalFile)); err != nil {
			return s, err
		}
		if s.journal, err = OpenJournal(filepath.Join(b.ClusterDir(o.Name), JournalFile), tl); err != nil {
			return s, err
		}
		if err := s.journal.MirrorTo(a.Mirror()); err != nil {
			return s, err
		}
		env := &steps.Env{Client: client, Nodes: nodesFor(b, client), Topology: o.Topology, System: o.Scenario.System, Journal: s.journal}
		if err := a.Adopt(ctx, env, o); err != nil {
			return s, err
		}
	}
	// A reused cluster's tiers are rolled out again: every run starts with
	// new pods, placed by the scheduler, as on a new cluster. The system's
	// first whole answer is enough here: the steady state is the wait for it
	// to hold.
	if err := b.DeployFixtures(ctx, o.Name, fixtures.DeployOptions{Params: o.Scenario.Fixtures, Restart: o.Reuse, Bursts: 1}, o.Logger); err != nil {
		return s, err
	}
	s.phase("fixtures", "every tier healthy and serving")
	rec, client, err := b.ClientFor(o.Name)
	if err != nil {
		return s, err
	}

	status := progress.For(o.Logger)
	s.onClose(func() error { status.End(false); return nil }) // a failed step's mark, after the observers stop
	status.Start("Starting the observers")
	_, adopted := b.(adopter)
	obs, err := observe.Watch(ctx, client, tl, !adopted)
	if err != nil {
		return s, err
	}
	s.onClose(func() error { obs.Stop(); return nil })
	urls := fixtures.ServiceURLs(rec, o.Scenario.System)
	var via *observe.Via
	if a, ok := b.(adopter); ok {
		urls, via = a.ServiceURLs(), a.ProbeVia()
	}
	probes := observe.StartProbes(ctx, scenarios.ProbeEndpoints(o.Scenario.ProbeMix(), urls, o.Scenario.Probes.Rate), o.Scenario.Probes.Timeout,
		o.Scenario.Probes.KeepAlive, tl, via)
	s.onClose(func() error {
		probes.Stop()
		s.res.ProbeRate = probes.Rate()
		return nil
	})
	s.watch = &watcher{topo: o.Topology, sys: o.Scenario.System, obs: obs, probes: probes}

	// A crash loses at most a second of the timeline.
	flushDone := make(chan struct{})
	s.onClose(func() error { close(flushDone); return nil })
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-flushDone:
				return
			case <-t.C:
				_ = tl.Flush()
			}
		}
	}()
	status.Start(fmt.Sprintf("Checking the steady state: objectives held for %s", o.Scenario.SteadyState.Duration))
	if err := steadyState(ctx, o.Scenario, probes); err != nil {
		s.phase("steady-state", err.Error())
		return s, err
	}
	s.phase("steady-state", "every objective holds")
	status.End(true)

	if s.journal == nil {
		if s.journal, err = OpenJournal(filepath.Join(b.ClusterDir(o.Name), JournalFile), tl); err != nil {
			return s, err
		}
	}
	journal := s.journal
	s.env = &steps.Env{Client: client, Nodes: nodesFor(b, client), Topology: o.Topology, System: o.Scenario.System, Releases: o.Scenario.Fixtures.Releases,
		Rand: steps.NewRand(1, 2), Journal: journal}
	opened = true
	return s, nil
}

// create makes the session's cluster, deleted on Close unless retained.
func (s *Session) create(ctx context.Context) error {
	o, b := s.o, s.b
	if _, err := b.Create(ctx, cluster.CreateOptions{Name: o.Name, Topology: o.Topology, Image: o.Image, Retain: o.Retain, Timings: cluster.DefaultTimings(),
		DeferDNS: true, Audit: true, Ports: fixtures.PortsFor(o.Scenario.System), Meanwhile: fixtures.Early(o.Scenario.Fixtures)}); err != nil {
		if _, jerr := os.Stat(filepath.Join(b.ClusterDir(o.Name), JournalFile)); errors.Is(err, cluster.ErrExists) && jerr == nil {
			// An earlier run died with changes in flight: say how to finish it.
			return fmt.Errorf("%w: cluster %q is left by a run that did not finish (its recovery journal is there): `gameday recover --name %s` puts back what that run changed, then `gameday cluster down --name %s`",
				cluster.ErrExists, o.Name, o.Name, o.Name)
		}
		if errors.Is(err, cluster.ErrExists) {
			return fmt.Errorf("%w (or run on it as it is: --reuse)", err)
		}
		return err
	}
	s.phase("cluster-up", "")
	s.onClose(func() error {
		if o.Retain {
			o.Logger.V(0).Infof("Keeping cluster %q (--retain); delete it with `gameday cluster down --name %s`", o.Name, o.Name)
			return nil
		}
		status := progress.For(o.Logger)
		status.Start(fmt.Sprintf("Deleting cluster %q", o.Name))
		err := b.Delete(context.WithoutCancel(ctx), o.Name)
		status.End(err == nil)
		return err
	})
	return nil
}

// reuse checks that gameday's cluster o.Name can serve the session
// (CheckReusable). It is kept on Close.
func (s *Session) reuse(ctx context.Context) error {
	if err := CheckReusable(ctx, s.b, s.o); err != nil {
		return err
	}
	s.phase("cluster-up", "reused")
	s.onClose(func() error {
		if _, ok := s.b.(adopter); !ok {
			s.o.Logger.V(0).Infof("Keeping cluster %q (reused)", s.o.Name)
		}
		return nil
	})
	return nil
}

// CheckReusable says whether gameday's cluster o.Name can serve a session of
// o as it is (an error wrapping cluster.ErrNotReusable when it cannot): made
// for the same topology (and with the audit log, for a game), no run's
// journal left, and as gameday leaves a cluster after a run. It changes
// nothing; a command running on several clusters checks each first.
func CheckReusable(ctx context.Context, b Backend, o Options) error {
	if a, ok := b.(adopter); ok {
		return a.CheckFit(ctx, o)
	}
	rec, client, err := b.ClientFor(o.Name)
	if errors.Is(err, cluster.ErrNotFound) {
		return fmt.Errorf("%w: %w; make it with `gameday up --topology %s --name %s`", cluster.ErrNotReusable, err, o.Topology.Name, o.Name)
	}
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(b.ClusterDir(o.Name), JournalFile)); err == nil {
		return fmt.Errorf("%w: cluster %q is left by a run that did not finish (its recovery journal is there): `gameday recover --name %s` puts back what that run changed",
			cluster.ErrNotReusable, o.Name, o.Name)
	}
	switch {
	case !rec.Topology.SameLayout(o.Topology):
		return fmt.Errorf("%w: cluster %q was made for topology %s, not %s as scenario %s places it",
			cluster.ErrNotReusable, o.Name, rec.Topology, o.Topology, o.Scenario.Name)
	case o.Image != "" && o.Image != rec.Image:
		return fmt.Errorf("%w: cluster %q runs node image %s, not %s", cluster.ErrNotReusable, o.Name, rec.Image, o.Image)
	}
	if missing := fixtures.Unmapped(o.Scenario.System, rec.Ports); len(missing) > 0 {
		return fmt.Errorf("%w: cluster %q maps no host port to %s of system %s: a new cluster for it maps every service's",
			cluster.ErrNotReusable, o.Name, strings.Join(missing, ", "), o.Scenario.System.Name)
	}
	if o.audit {
		if _, err := os.Stat(b.AuditLog(o.Name)); err != nil {
			return fmt.Errorf("%w: cluster %q keeps no audit log of the players' requests (made by an earlier gameday): a game needs a new cluster",
				cluster.ErrNotReusable, o.Name)
		}
	}
	env := &steps.Env{Client: client, Nodes: nodesFor(b, client), Topology: rec.Topology}
	err = verifyRecovered(ctx, env, nil)
	var problems problemsError
	if err != nil && !errors.As(err, &problems) {
		return err // the cluster did not answer: not a verdict on it
	}
	layout, err := layoutProblems(ctx, env)
	if err != nil {
		return err
	}
	if problems = append(problems, layout...); len(problems) > 0 {
		return fmt.Errorf("%w: cluster %q is not as gameday leaves a cluster (%v): put that right, or start afresh with `gameday cluster down --name %s`",
			cluster.ErrNotReusable, o.Name, problems, o.Name)
	}
	return nil
}

// layoutProblems says which of the topology's in-service pools have fewer
// Nodes than their size (a Node deleted, a node that never joined), and which
// in-service nodes carry a taint their pool does not give them, or lack one
// it does (left by someone: the topology's placement would not hold).
func layoutProblems(ctx context.Context, env *steps.Env) ([]string, error) {
	nodes, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	have := map[string]int{}
	var out []string
	for _, n := range nodes.Items {
		have[n.Labels[cluster.PoolLabel]]++
		pool, ok := env.Topology.Pool(n.Labels[cluster.PoolLabel])
		if !ok || pool.Spare {
			continue
		}
		for _, t := range n.Spec.Taints {
			own := slices.ContainsFunc(pool.Taints, func(pt corev1.Taint) bool { return pt.MatchTaint(&t) })
			if !own && !strings.HasPrefix(t.Key, "node.kubernetes.io/") && !strings.HasPrefix(t.Key, "node-role.kubernetes.io/") {
				out = append(out, fmt.Sprintf("node %s has taint %s, which pool %s does not give", n.Name, t.ToString(), pool.Name))
			}
		}
		for _, pt := range pool.Taints {
			if !slices.ContainsFunc(n.Spec.Taints, func(t corev1.Taint) bool { return t.MatchTaint(&pt) }) {
				out = append(out, fmt.Sprintf("node %s lacks taint %s of pool %s", n.Name, pt.ToString(), pool.Name))
			}
		}
	}
	if have[cluster.SystemPool] == 0 {
		out = append(out, "no control-plane node")
	}
	for _, p := range env.Topology.Pools {
		if !p.Spare && have[p.Name] < p.Size {
			out = append(out, fmt.Sprintf("pool %s has %d of its %d nodes", p.Name, have[p.Name], p.Size))
		}
	}
	return out, nil
}

// Result is what the session measured so far; Close completes it.
func (s *Session) Result() *Result { return s.res }

// Env is what the mode's part acts on: the cluster, with every change journaled.
func (s *Session) Env() *steps.Env { return s.env }

func (s *Session) phase(p, msg string) {
	if s.tl == nil {
		return
	}
	s.tl.Write(timeline.Entry{Kind: timeline.KindRun, Phase: p, Message: msg})
}

func (s *Session) onClose(f func() error) { s.closers = append(s.closers, f) }

// takeDown, when Open fails after setting up a cluster gameday did not
// create, puts back every journaled change and takes down what it set up.
func (s *Session) takeDown(ctx context.Context) error {
	_, client, err := s.b.ClientFor(s.o.Name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recoverTimeout)
	defer cancel()
	env := &steps.Env{Client: client, Nodes: nodesFor(s.b, client), Topology: s.o.Topology, Journal: s.journal}
	recs := s.journal.Records()
	err = errors.Join(steps.Recover(ctx, env, recs, nil), steps.RecoverKinds(ctx, env, recs, steps.TeardownOrder, nil))
	if err != nil {
		return recoveryFailed(s.journal.path, recoverArg(s.b, s.o.Name), err)
	}
	return s.journal.Remove()
}

// Recover puts back every journaled change, waits for the fixtures to be
// healthy again, checks the cluster is as before and removes the journal. It
// runs even after ctx is cancelled (an interrupt), bounded on its own.
func (s *Session) Recover(ctx context.Context) error {
	if s.journal == nil {
		return errors.New("the session did not open: nothing to recover")
	}
	s.phase("recover-start", "")
	err := recoverAll(context.WithoutCancel(ctx), s.o.Logger, s.env, s.journal, s.tl)
	if err != nil {
		return recoveryFailed(s.journal.path, recoverArg(s.b, s.o.Name), err)
	}
	return nil
}

// Close ends what Open started, last first: the observers, the cluster
// (deleted unless retained, even after an interrupt), the timeline. A second
// Close does nothing.
func (s *Session) Close() error {
	closers := s.closers
	s.closers = nil
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i]())
	}
	return errors.Join(errs...)
}
