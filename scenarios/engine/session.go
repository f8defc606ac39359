package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

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
}

// Kind is the kind backend.
func Kind(k *cluster.Kind) Backend { return kindBackend{k} }

type kindBackend struct{ *cluster.Kind }

func (k kindBackend) DeployFixtures(ctx context.Context, name string, o fixtures.DeployOptions, logger log.Logger) error {
	return fixtures.DeployTo(ctx, k.Kind, name, o, logger)
}

func (k kindBackend) ClusterDir(name string) string { return k.Store.ClusterDir(name) }

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
			err = errors.Join(err, s.Close())
		}
	}()
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return s, err
	}
	meta := MetaFor(o.Scenario, o.Topology.Name, o.Name)
	meta.TimeLimit = timeline.Duration(o.timeLimit) // a game's; zero for a replay
	if err := timeline.WriteMeta(o.OutDir, meta); err != nil {
		return s, err
	}
	tl, err := timeline.Create(s.res.Timeline)
	if err != nil {
		return s, err
	}
	s.tl = tl
	s.onClose(func() error {
		s.res.Entries = tl.Count()
		return tl.Close()
	})
	s.phase("start", fmt.Sprintf("scenario %s on topology %s, cluster %s", o.Scenario.Name, o.Topology.Name, o.Name))

	if _, err := b.Create(ctx, cluster.CreateOptions{Name: o.Name, Topology: o.Topology, Image: o.Image, Retain: o.Retain, Timings: cluster.DefaultTimings(),
		DeferDNS: true, Audit: o.audit, Meanwhile: fixtures.Early(o.Scenario.Fixtures)}); err != nil {
		if _, jerr := os.Stat(filepath.Join(b.ClusterDir(o.Name), JournalFile)); errors.Is(err, cluster.ErrExists) && jerr == nil {
			// An earlier run died with changes in flight: say how to finish it.
			return s, fmt.Errorf("%w: cluster %q is left by a run that did not finish (its recovery journal is there): `gameday recover --name %s` puts back what that run changed, then `gameday cluster down --name %s`",
				cluster.ErrExists, o.Name, o.Name, o.Name)
		}
		return s, err
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
	if err := b.DeployFixtures(ctx, o.Name, fixtures.DeployOptions{Params: o.Scenario.Fixtures}, o.Logger); err != nil {
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
	obs, err := observe.Watch(ctx, client, tl)
	if err != nil {
		return s, err
	}
	s.onClose(func() error { obs.Stop(); return nil })
	probes := observe.StartProbes(ctx, scenarios.ProbeEndpoints(fixtures.Endpoints(rec), o.Scenario.Probes.Rate), o.Scenario.Probes.Timeout,
		o.Scenario.Probes.KeepAlive, tl)
	s.onClose(func() error {
		probes.Stop()
		s.res.ProbeRate = probes.Rate()
		return nil
	})
	s.watch = &watcher{topo: o.Topology, obs: obs, probes: probes}

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

	journal, err := OpenJournal(filepath.Join(b.ClusterDir(o.Name), JournalFile), tl)
	if err != nil {
		return s, err
	}
	s.journal = journal
	s.env = &steps.Env{Client: client, Nodes: cluster.NewNodes(client), Topology: o.Topology, Releases: o.Scenario.Fixtures.Releases,
		Rand: steps.NewRand(1, 2), Journal: journal}
	opened = true
	return s, nil
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
		return recoveryFailed(s.journal.path, s.o.Name, err)
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
