// Package engine runs a scenario on one topology. A Session holds the phases
// every mode shares (cluster up through a Backend, fixtures, observers, the
// steady-state check, the journal; then recovery of everything journaled, so
// that a crash can be recovered later, and cluster down unless retained);
// Run adds the timeline with its automation and abort conditions.
package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/progress"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/observe"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/scenarios/timeline"
)

// Options are the inputs of Run.
type Options struct {
	Scenario *scenarios.Scenario
	Topology cluster.Topology
	// Name is the cluster's name.
	Name string
	// OutDir receives timeline.jsonl.
	OutDir string
	Retain bool
	// Reuse runs on gameday's cluster Name, made before (gameday up, or
	// kept by --retain) for the same topology, and keeps it afterwards.
	Reuse  bool
	Image  string
	Logger log.Logger
	// Watch, when set, is given every timeline entry as it is written (the
	// live page); it must not block.
	Watch func(timeline.Entry)
	// Notes, when set, is given a function that writes an entry (a note
	// from the live page) into the timeline, once the timeline exists.
	Notes func(write func(timeline.Entry))
	// audit: the API server writes an audit log of the players' requests (a game).
	audit bool
	// timeLimit is a game's.
	timeLimit time.Duration
}

// Result is what a run measured about itself.
type Result struct {
	Topology string `json:"topology"`
	Timeline string `json:"timeline"`
	Entries  int    `json:"entries"`
	// ProbeRate is the requests per second the probes achieved, all endpoints.
	ProbeRate float64 `json:"probeRate"`
	// Replay is the timeline's wall time, first step to the end of recovery.
	Replay  time.Duration `json:"replayNs"`
	Aborted string        `json:"aborted,omitempty"`
	// AutomationErrors are the automation's steps that failed, each "rule:
	// step (line N): error"; a failure also ends the run early (Aborted).
	AutomationErrors []string `json:"automationErrors,omitempty"`
	// Failed: the run returned an error (set by its caller).
	Failed bool `json:"failed,omitempty"`
}

// ErrSteadyState: the objectives did not hold before any fault.
var ErrSteadyState = errors.New("the steady state does not hold")

// ErrAborted: an abort condition held or a step's condition never came.
var ErrAborted = errors.New("run aborted")

// recoverTimeout bounds recovery, which runs even after an interrupt.
const recoverTimeout = 6 * time.Minute

// Run runs o.Scenario on o.Topology on a new cluster: the session's shared
// phases, then the scenario's timeline with every step (the operator's too)
// and its automation, then recovery.
func Run(ctx context.Context, b Backend, o Options) (res *Result, err error) {
	s, err := Open(ctx, b, o)
	if err != nil {
		return s.Result(), err
	}
	defer func() { err = errors.Join(err, s.Close()) }()
	res = s.Result()

	start := time.Now()
	s.phase("timeline-start", "")
	aborted, autoErrs, terr := runTimeline(ctx, o, s.env, s.watch, s.tl, replay(o, s.watch))
	res.AutomationErrors = autoErrs
	if aborted != "" {
		res.Aborted = aborted
		s.phase("abort", aborted)
	}
	rerr := s.Recover(ctx)
	res.Replay = time.Since(start)
	s.phase("end", "")
	switch {
	case rerr != nil:
		return res, errors.Join(terr, rerr)
	case terr != nil:
		return res, terr
	case aborted != "":
		return res, fmt.Errorf("%w: %s", ErrAborted, aborted)
	}
	return res, nil
}

// recoveryFailed says what to do after a failed recovery: finish it with
// `gameday recover` while its journal is there to say what to put back; if
// the journal is gone, recover would have nothing to go on, so never say so.
func recoveryFailed(journalPath, name string, err error) error {
	if strings.HasPrefix(name, "--context ") { // a cluster gameday did not create
		if _, serr := os.Stat(journalPath); serr == nil {
			return fmt.Errorf("recovery failed (finish it with `gameday recover %s`): %w", name, err)
		}
		// Gone only once every change was put back and the set-up taken down.
		return fmt.Errorf("every change was put back and what gameday set up taken down, but the check before found: %w", err)
	}
	if _, serr := os.Stat(journalPath); serr == nil {
		return fmt.Errorf("recovery failed (finish it with `gameday recover --name %s`): %w", name, err)
	}
	return fmt.Errorf("recovery failed, and the cluster's recovery journal (%s) is gone, so `gameday recover` cannot finish it: "+
		"look at the cluster (`gameday cluster status --name %s`) or delete it (`gameday cluster down --name %s`): %w", journalPath, name, name, err)
}

// settleJournal makes the journal at path the one kept in the cluster,
// which is the authority on a cluster gameday did not create: a record is
// there before its change is made, and it is removed once recovered (from
// any machine). So a local journal without a copy there holds only changes
// put back already, or never made: it is kept aside (path + ".stale"), never
// replayed.
func settleJournal(ctx context.Context, m Mirror, path string) error {
	data, err := m.Read(ctx)
	if err != nil {
		return err
	}
	if strings.TrimSpace(data) == "" {
		if _, err := os.Stat(path); err == nil {
			return os.Rename(path, path+".stale")
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(data), 0o600)
}

// recoverArg is how `gameday recover` names cluster name of backend b:
// the cluster's name, or the context of one gameday did not create.
func recoverArg(b Backend, name string) string {
	if x, ok := b.(*Existing); ok {
		if x.Target.File != "" {
			return fmt.Sprintf("--context %s --kubeconfig %s", x.Target.Context, x.Target.File)
		}
		return "--context " + x.Target.Context
	}
	return name
}

// MetaFor is what a report needs of scenario s run on a topology.
func MetaFor(s *scenarios.Scenario, topology, clusterName string) timeline.Meta {
	m := timeline.Meta{Scenario: s.Name, ScenarioDigest: s.Digest, System: s.System.Name, SystemDigest: s.System.Digest, ScoringVersion: reports.ScoringVersion,
		Topology: topology, Cluster: clusterName, StoryScale: s.StoryScale, Horizon: timeline.Duration(s.Horizon)}
	for _, o := range s.Objectives {
		m.Objectives = append(m.Objectives, timeline.Objective{Service: string(o.Service), Journey: o.Journey, SuccessRatio: o.SuccessRatio,
			Latency: timeline.Duration(o.Latency), Window: timeline.Duration(o.Window)})
	}
	m.KeepAlive = s.Probes.KeepAlive
	for _, sv := range s.System.Services {
		if sv.Tier != sv.Name {
			if m.ServiceTiers == nil {
				m.ServiceTiers = map[string]string{}
			}
			m.ServiceTiers[sv.Name] = sv.Tier
		}
	}
	for _, p := range s.ProbeMix() {
		m.Journeys = append(m.Journeys, timeline.Journey{Name: p.Name(), Service: string(p.Service), Critical: slices.Contains(s.Probes.Critical, p.Name())})
	}
	for _, w := range s.BusinessWindows {
		m.BusinessWindows = append(m.BusinessWindows, timeline.BusinessWindow{Name: w.Name, Description: w.Description,
			Service: string(w.Service), Start: timeline.Duration(w.Start), End: timeline.Duration(w.End)})
	}
	return m
}

// steadyState waits until every objective holds over the steady duration.
func steadyState(ctx context.Context, s *scenarios.Scenario, probes *observe.Probes) error {
	deadline := time.Now().Add(s.SteadyState.Timeout)
	since := time.Now()
	var why string
	for {
		why = ""
		for _, obj := range s.Objectives {
			win := probes.Last(obj.Key(), s.SteadyState.Duration)
			switch {
			case win.Total == 0:
				why = fmt.Sprintf("no probe of %s answered yet", obj.Service)
			case win.Ratio() < obj.SuccessRatio:
				why = fmt.Sprintf("%s: %.1f%% of probes succeeded, objective %g%%", obj.Service, win.Ratio()*100, obj.SuccessRatio*100)
			case win.P95 > obj.Latency:
				why = fmt.Sprintf("%s: p95 latency %s, objective %s", obj.Service, win.P95.Round(time.Millisecond), obj.Latency)
			}
			if why != "" {
				break
			}
		}
		if why == "" && time.Since(since) >= s.SteadyState.Duration {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s: %s", ErrSteadyState, s.SteadyState.Timeout, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// mode is what differs between a replay and a game on the timeline.
type mode struct {
	// standIn, when set, is told of each step first and may take its place:
	// in a game, an operator's step is not run; it waits for the team to
	// reach its goal instead, so that the steps after it keep their order.
	standIn func(ctx context.Context, st scenarios.Step) (bool, error)
	// unbounded: a step's after condition waits as long as the timeline
	// lasts, past its within (in a game, the team takes the time it takes).
	unbounded bool
	// limit bounds the timeline.
	limit time.Duration
	// afterSteps runs once every step has run (a replay observes to the
	// scoring horizon; a game waits for its end).
	afterSteps func(ctx context.Context, start time.Time, firstAct func() time.Time) error
	// applied is told of each step applied and its outcome (a game's console
	// keeps its histories).
	applied func(st scenarios.Step, out steps.Outcome)
}

// replay is the mode of `gameday run`: every step, bounded waits, the horizon observed.
func replay(o Options, w *watcher) mode {
	return mode{limit: o.Scenario.MaxDuration, afterSteps: func(ctx context.Context, start time.Time, firstAct func() time.Time) error {
		return observeHorizon(ctx, o.Scenario.Horizon, start, firstAct, w.obs, o.Logger)
	}}
}

// runTimeline runs the steps in order while the automation rules and abort
// conditions are watched. It returns why it aborted, if it did, and the
// automation's steps that failed.
func runTimeline(ctx context.Context, o Options, env *steps.Env, w *watcher, tl *timeline.Writer, m mode) (string, []string, error) {
	s := o.Scenario
	ctx, cancel := context.WithTimeout(ctx, m.limit)
	defer cancel()
	tctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	start := time.Now()
	logger := o.Logger

	var autoWG sync.WaitGroup
	var autoErrs []string
	var autoMu sync.Mutex
	// When the run first acted (a step, the timeline's or automation's, that
	// is not a wait or a note): the score's span starts there.
	var actedMu sync.Mutex
	var acted time.Time
	act := func(st scenarios.Step) {
		if st.Action == scenarios.ActionWait || st.Action == scenarios.ActionNote {
			return
		}
		actedMu.Lock()
		defer actedMu.Unlock()
		if acted.IsZero() {
			acted = time.Now()
		}
	}
	firstAct := func() time.Time {
		actedMu.Lock()
		defer actedMu.Unlock()
		return acted
	}
	// The automation and abort loop.
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		fired := make([]bool, len(s.Automation))
		ruleT := make([]tracker, len(s.Automation))
		abortT := make([]tracker, len(s.Abort))
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tctx.Done():
				return
			case <-tick.C:
			}
			now := time.Now()
			for i, c := range s.Abort {
				if abortT[i].update(now, w.holds(c), c) {
					stop(fmt.Errorf("abort condition at line %d held: %s", c.Line, c.Type))
					return
				}
			}
			for i, r := range s.Automation {
				if fired[i] || !ruleT[i].update(now, w.holds(r.When), r.When) {
					continue
				}
				fired[i] = true
				tl.Write(timeline.Entry{Kind: timeline.KindAutomation, Rule: r.Name, Message: "fired: " + string(r.When.Type)})
				logger.V(0).Infof(" • automation %s fired (%s)", r.Name, r.When.Type)
				autoWG.Add(1)
				go func() {
					defer autoWG.Done()
					for _, st := range r.Steps {
						act(st)
						out, err := applyStep(tctx, env, st, r.Name, tl, logger)
						if err == nil && m.applied != nil {
							m.applied(st, out)
						}
						if err != nil {
							// A step cut short by the end of the timeline did not fail.
							if tctx.Err() == nil {
								autoMu.Lock()
								autoErrs = append(autoErrs, r.Name+": "+err.Error())
								autoMu.Unlock()
								stop(fmt.Errorf("automation %s: %w", r.Name, err))
							}
							return
						}
					}
				}()
			}
		}
	}()

	var err error
	for _, st := range s.Timeline {
		if m.standIn != nil {
			var stood bool
			if stood, err = m.standIn(tctx, st); err != nil {
				break
			} else if stood {
				continue
			}
		}
		if err = waitFor(tctx, st, start, w, !m.unbounded); err != nil {
			break
		}
		act(st)
		var out steps.Outcome
		if out, err = applyStep(tctx, env, st, "", tl, logger); err != nil {
			break
		}
		if m.applied != nil {
			m.applied(st, out)
		}
	}
	if err == nil {
		err = m.afterSteps(tctx, start, firstAct)
	}
	stop(nil)
	<-loopDone
	autoWG.Wait()

	aborted, err := whyStopped(ctx, tctx, m.limit, err)
	return aborted, autoErrs, err
}

// whyStopped says why the timeline stopped: an abort (a condition held, the
// automation failed, a step's condition never came, maxDuration), an error,
// or the run's own context ending.
func whyStopped(ctx, tctx context.Context, maxDuration time.Duration, err error) (string, error) {
	cause := context.Cause(tctx)
	switch {
	case errors.As(cause, new(gameOver)):
		return "", nil // a game ends as it should
	case errors.Is(cause, context.DeadlineExceeded):
		return fmt.Sprintf("the timeline ran past maxDuration (%s)", maxDuration), nil
	case cause != nil && !errors.Is(cause, context.Canceled):
		return cause.Error(), nil
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Sprintf("the timeline ran past maxDuration (%s)", maxDuration), nil
	}
	if err != nil && ctx.Err() == nil {
		var ab abortError
		if errors.As(err, &ab) {
			return ab.Error(), nil
		}
		return "", err
	}
	return "", ctx.Err()
}

// observeHorizon keeps observing until the scoring horizon has passed: the
// score spans Horizon from when the run first acted (the first change seen,
// in a run that never acts), so every run must have seen that much, however
// soon its steps were done. It never runs past the timeline's deadline
// (maxDuration): a run cut there says in its report that it ended early.
func observeHorizon(ctx context.Context, horizon time.Duration, start time.Time, firstAct func() time.Time, obs *observe.Cluster, logger log.Logger) error {
	// A run that never acts is scored from the first change seen, which may
	// come while it waits here: the end is worked out again as it waits.
	until := func() time.Time {
		anchor := start
		switch acted, first := firstAct(), obs.FirstChange(); {
		case !acted.IsZero():
			anchor = acted
		case first.After(start):
			anchor = first
		}
		// One more second: the score counts whole seconds from the anchor.
		u := anchor.Add(horizon + time.Second)
		if dl, ok := ctx.Deadline(); ok && dl.Before(u) {
			u = dl.Add(-time.Second)
		}
		return u
	}
	if time.Until(until()) <= 0 {
		return nil
	}
	logger.V(0).Infof(" • observing until the scoring horizon, %s after the run first acted (%s more)", horizon, time.Until(until()).Round(time.Second))
	for time.Until(until()) > 0 {
		if err := sleep(ctx, min(250*time.Millisecond, time.Until(until()))); err != nil {
			return err
		}
	}
	return nil
}

type abortError struct{ msg string }

func (e abortError) Error() string { return e.msg }

// waitFor waits until a step may start: its offset, or its condition (plus delay).
// Unbounded (a game's), it waits past the condition's within.
func waitFor(ctx context.Context, st scenarios.Step, start time.Time, w *watcher, bounded bool) error {
	if st.At != nil {
		return sleep(ctx, time.Until(start.Add(*st.At)))
	}
	if st.After == nil {
		return nil
	}
	c := *st.After
	bound := c.Within
	var deadline <-chan time.Time
	if bound > 0 && bounded {
		t := time.NewTimer(bound)
		defer t.Stop()
		deadline = t.C
	}
	var tr tracker
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !tr.update(time.Now(), w.holds(c), c) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return abortError{fmt.Sprintf("step %s (line %d): %s did not hold within %s", st.Name, st.Line, c.Type, bound)}
		case <-tick.C:
		}
	}
	return sleep(ctx, st.Delay)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func applyStep(ctx context.Context, env *steps.Env, st scenarios.Step, rule string, tl *timeline.Writer, logger log.Logger) (steps.Outcome, error) {
	spec, _ := st.Action.Spec()
	tl.Write(timeline.Entry{Kind: timeline.KindStep, Phase: "start", Step: st.Name, Action: string(st.Action), Rule: rule, Change: spec.Change, Actor: string(st.Actor)})
	began := time.Now()
	out, err := steps.Apply(ctx, env, st)
	e := timeline.Entry{Kind: timeline.KindStep, Phase: "end", Step: st.Name, Action: string(st.Action), Rule: rule,
		Targets: out.Targets, Blocked: out.Blocked, Message: out.Message, Change: spec.Change, Actor: string(st.Actor)}
	cutShort := err != nil && ctx.Err() != nil
	switch {
	case cutShort: // the timeline ended or was stopped under it: not the step's failure
		e.Message = strings.TrimSpace(e.Message + " (cut short: the run's timeline ended)")
	case err != nil:
		e.Error = err.Error()
	}
	tl.Write(e)
	mark := "✓"
	detail := out.Message
	switch {
	case err != nil:
		mark, detail = "✗", err.Error()
	case out.Blocked:
		mark = "⊘"
	case detail == "" && len(out.Targets) > 0:
		detail = strings.Join(out.Targets, ", ")
	}
	by := ""
	if rule != "" {
		by = " [" + rule + "]"
	}
	logger.V(0).Infof(" %s %s%s: %s (%.1fs)", mark, st.Name, by, detail, time.Since(began).Seconds())
	if err != nil {
		return out, fmt.Errorf("step %s (line %d): %w", st.Name, st.Line, err)
	}
	return out, nil
}

// recoverAll puts back every journaled change, waits for the fixtures to be
// healthy again, and removes the journal.
func recoverAll(ctx context.Context, logger log.Logger, env *steps.Env, j *Journal, tl *timeline.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, recoverTimeout)
	defer cancel()
	status := progress.For(logger)
	defer status.End(false)
	recs := j.Records()
	down := recordsOf(recs, steps.TeardownOrder)
	restoreErr, checkErr := restoreAndCheck(ctx, status, env, recs, len(down) > 0, tl)
	if len(down) == 0 { // a cluster gameday made
		if err := errors.Join(restoreErr, checkErr); err != nil {
			return err
		}
		return j.Remove()
	}
	// On a cluster gameday did not create, what it set up for the run comes
	// down now (its fixtures, the spares it held out, its labels), whatever
	// the check found: left up, it would keep the next run or recover from
	// ever finishing. The journal stays while a change it names may not be
	// put back; a check that failed after everything was put back is said,
	// and there is nothing left for recover to do.
	status.Start(fmt.Sprintf("Taking down what gameday set up (%d)", len(down)))
	var failed []error
	_ = steps.RecoverKinds(ctx, env, recs, steps.TeardownOrder, func(r steps.Record, err error) {
		if apierrors.IsNotFound(err) { // a node gone meanwhile (an autoscaler): nothing to take down
			err = nil
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("take down %s %s: %w", r.Kind, r.Target, err))
		}
		recorded(tl)(r, err)
	})
	teardownErr := errors.Join(failed...)
	if teardownErr == nil {
		status.End(true)
	}
	if restoreErr == nil && teardownErr == nil {
		return errors.Join(checkErr, j.Remove())
	}
	return errors.Join(restoreErr, checkErr, teardownErr)
}

// restoreAndCheck puts back every change recs name, waits for the fixtures
// to be healthy and checks the cluster (verifyRecovered). adopted: on a
// cluster gameday did not create, a record whose object is gone (its
// fixtures taken down by an earlier recover cut short, a node deleted) is
// put back already, and with no fixture left there is nothing to check.
func restoreAndCheck(ctx context.Context, status *progress.Status, env *steps.Env, recs []steps.Record, adopted bool, tl *timeline.Writer) (restoreErr, checkErr error) {
	status.Start(fmt.Sprintf("Recovering %d changes", len(recs)-len(recordsOf(recs, steps.TeardownOrder))))
	var failed []error
	err := steps.Recover(ctx, env, recs, func(r steps.Record, err error) {
		if adopted && (errors.Is(err, fixtures.ErrNotDeployed) || apierrors.IsNotFound(err)) {
			err = nil
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("recover %s %s: %w", r.Kind, r.Target, err))
		}
		recorded(tl)(r, err)
	})
	if err != nil && len(failed) > 0 {
		return errors.Join(failed...), nil
	}
	if adopted {
		deps, err := env.Client.AppsV1().Deployments(fixtures.Namespace).List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/part-of=gameday"})
		if err != nil {
			return nil, err
		}
		if len(deps.Items) == 0 {
			return nil, nil
		}
	}
	if _, err := fixtures.DeleteFinishedPods(ctx, env.Client); err != nil {
		return nil, err
	}
	status.Start("Waiting for every tier to be healthy again, with no pod of an earlier rollout left")
	// In the run's own process, every tier of its system (a tier someone
	// deleted fails the recovery); from another (gameday recover), which
	// knows no scenario, every tier deployed.
	var tiers []string
	if env.System != nil {
		tiers = env.System.TierNames()
	}
	if err := fixtures.WaitHealthy(ctx, env.Client, tiers, recoverTimeout/2); err != nil {
		return nil, err
	}
	// Spares of clusters made by earlier versions (kubelets only stopped,
	// Nodes kept) are kept from joining for good now, whatever the journal
	// holds. (A cluster whose machines gameday cannot reach has none.)
	if !env.Nodes.Emulated() {
		if err := keepSparesDown(ctx, env); err != nil {
			return nil, err
		}
	}
	status.Start("Checking the cluster is as before the run")
	if err := verifyRecovered(ctx, env, recs); err != nil {
		err = fmt.Errorf("after recovery: %w", err)
		tl.Write(timeline.Entry{Kind: timeline.KindRun, Phase: "verified", Error: err.Error()})
		return nil, err
	}
	tl.Write(timeline.Entry{Kind: timeline.KindRun, Phase: "verified", Message: verifiedMessage(env)})
	status.End(true)
	return nil, nil
}

// keepSparesDown keeps every spare that is out of service from joining:
// its kubelet disabled, and (on a cluster made before spares left the
// cluster) its Node deleted, the marker naming it first (TakeOutOfService).
func keepSparesDown(ctx context.Context, env *steps.Env) error {
	of, err := cluster.SpareNodes(ctx, env.Client)
	if err != nil {
		return err
	}
	for _, names := range of {
		for _, name := range names {
			n, err := env.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
			switch {
			case apierrors.IsNotFound(err):
				err = env.Nodes.KeepKubeletDown(ctx, name)
			case err != nil:
				return err
			case cluster.InService(n):
				continue
			default:
				err = env.Nodes.TakeOutOfService(ctx, name)
			}
			if err != nil {
				return fmt.Errorf("spare %s: keep it from joining: %w", name, err)
			}
		}
	}
	return nil
}

// ErrNothingToRecover: the cluster has no journal; no run left changes behind.
var ErrNothingToRecover = errors.New("nothing to recover")

// Recover finishes the recovery of a run that crashed or was killed on
// cluster name: every change in its journal put back, then the fixtures
// healthy again. It returns how many changes it put back.
func Recover(ctx context.Context, b Backend, name string, logger log.Logger) (int, error) {
	// The journal first: a run killed while its cluster was being made
	// changed nothing yet, and its cluster may have no kubeconfig.
	path := filepath.Join(b.ClusterDir(name), JournalFile)
	// On a cluster gameday did not create, the journal is kept in the
	// cluster too: a run killed on another machine is recovered from here.
	a, adopted := b.(adopter)
	if adopted {
		if err := settleJournal(ctx, a.Mirror(), path); err != nil {
			return 0, err
		}
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		if _, gerr := b.Record(name); gerr != nil {
			return 0, gerr
		}
		return 0, fmt.Errorf("%w on cluster %q: it has no journal (%s)", ErrNothingToRecover, name, path)
	}
	rec, client, err := b.ClientFor(name)
	if err != nil {
		return 0, err
	}
	j, err := OpenJournal(path, nil)
	if err != nil {
		return 0, err
	}
	if adopted {
		if err := j.MirrorTo(a.Mirror()); err != nil {
			return 0, err
		}
	}
	// A game's players lose their rights, and what they changed is put
	// back, before the scenario's changes are.
	if err := recoverGame(ctx, client, b.ClusterDir(name), nil); err != nil {
		return 0, recoveryFailed(path, recoverArg(b, name), err)
	}
	env := &steps.Env{Client: client, Nodes: nodesFor(b, client), Topology: rec.Topology, Journal: j}
	recs := j.Records()
	n := len(recs) - len(recordsOf(recs, steps.TeardownOrder)) // what gameday set up is taken down, not counted
	return n, recoverAll(ctx, logger, env, j, nil)
}

// recorded writes each record put back into the timeline.
func recorded(tl *timeline.Writer) func(steps.Record, error) {
	return func(r steps.Record, err error) {
		e := timeline.Entry{Kind: timeline.KindRecord, Phase: "recovered", Step: r.Step, Action: string(r.Action), RecordKind: string(r.Kind), Name: r.Target, Value: r.Value}
		if err != nil {
			e.Error = err.Error()
		}
		tl.Write(e)
	}
}

// recordsOf are the records of recs of the given kinds.
func recordsOf(recs []steps.Record, kinds []steps.Kind) []steps.Record {
	var out []steps.Record
	for _, r := range recs {
		if slices.Contains(kinds, r.Kind) {
			out = append(out, r)
		}
	}
	return out
}

// verifiedMessage says what verifyRecovered checked on env's cluster.
func verifiedMessage(env *steps.Env) string {
	if env.Nodes.Emulated() {
		return "every node of the run's pools Ready, schedulable and no longer lost, its spares held out of service with none of the fixtures' pods, every tier healthy on its release from before the run, no recorded control-plane version"
	}
	return "every in-service node Ready and schedulable, spares out of service and empty, every tier healthy on its release from before the run, no recorded control-plane version, the API server at its node's version"
}

// verifyRecovered checks the state recovery promises, from the API: every
// in-service node Ready and schedulable, every spare out of service (no
// Node object, its kubelet down and kept down across a restart of its node)
// with no pod but DaemonSet pods, every tier on the release its records say it had,
// no recorded upgrade and the API server at its node's version.
func verifyRecovered(ctx context.Context, env *steps.Env, recs []steps.Record) error {
	var problems []string
	nodes, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	// Where machines are out of reach (a cluster gameday did not create),
	// there are no spares kept down, no marker and no API server gameday
	// restarts; and only the nodes of the run's pools are the run's to check.
	emulated := env.Nodes.Emulated()
	var spares map[string][]string
	if !emulated {
		if spares, err = cluster.SpareNodes(ctx, env.Client); err != nil {
			return err
		}
	}
	poolOf := map[string]string{}
	for pool, names := range spares {
		for _, name := range names {
			poolOf[name] = pool
			if err := env.Nodes.KubeletKeptDown(ctx, name); err != nil {
				problems = append(problems, err.Error())
			}
		}
	}
	for _, n := range nodes.Items {
		poolOf[n.Name] = n.Labels[cluster.PoolLabel]
		p, ours := env.Topology.Pool(n.Labels[cluster.PoolLabel])
		if emulated {
			if !ours {
				continue
			}
			if cluster.Lost(&n) {
				problems = append(problems, fmt.Sprintf("node %s is still lost (tainted %s)", n.Name, cluster.LostTaint))
			}
		}
		if !emulated && n.Labels[cluster.PoolLabel] == cluster.SystemPool {
			// An upgrade restarted the API server into another version:
			// back, it reports its node's version again.
			v, err := env.Client.Discovery().ServerVersion()
			if err != nil {
				return err
			}
			if kv := n.Status.NodeInfo.KubeletVersion; v.GitVersion != kv {
				problems = append(problems, fmt.Sprintf("the API server reports %s, its node %s runs %s", v.GitVersion, n.Name, kv))
			}
		}
		switch {
		case p.Spare && emulated && cluster.InService(&n):
			problems = append(problems, fmt.Sprintf("spare node %s is in service (not held out: untainted)", n.Name))
		case p.Spare && emulated:
		case p.Spare:
			problems = append(problems, fmt.Sprintf("spare node %s has joined (its Node is registered)", n.Name))
		case !p.Spare && !cluster.IsReady(&n):
			problems = append(problems, fmt.Sprintf("node %s is not Ready", n.Name))
		case !p.Spare && n.Spec.Unschedulable:
			problems = append(problems, fmt.Sprintf("node %s is cordoned", n.Name))
		}
	}
	pods, err := env.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, p := range pods.Items {
		if emulated && p.Namespace != fixtures.Namespace {
			continue // the team's own pods on a spare are not gameday's to move
		}
		if pool, _ := env.Topology.Pool(poolOf[p.Spec.NodeName]); pool.Spare && !cluster.IsDaemonSetPod(&p) {
			problems = append(problems, fmt.Sprintf("pod %s/%s is left on spare node %s", p.Namespace, p.Name, p.Spec.NodeName))
		}
	}
	surged, err := env.Nodes.Surged(ctx)
	if err != nil {
		return err
	}
	for _, d := range surged {
		problems = append(problems, fmt.Sprintf("deployment %s is still surged by a vacate", d))
	}
	for _, r := range recs {
		if r.Kind != steps.KindRelease {
			continue
		}
		d, err := env.Client.AppsV1().Deployments(fixtures.Namespace).Get(ctx, r.Target, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := d.Annotations[fixtures.ReleaseAnno]; got != r.Value {
			problems = append(problems, fmt.Sprintf("%s runs %s, not %s", r.Target, got, r.Value))
		}
	}
	cm, err := cluster.FindMarker(ctx, env.Client)
	if err != nil {
		return err
	}
	if v := cm.Annotations[steps.ControlPlaneVersionAnno]; v != "" {
		problems = append(problems, "the control plane still has the recorded version "+v)
	}
	if len(problems) > 0 {
		return problemsError(problems)
	}
	return nil
}

// problemsError is what verifyRecovered found wrong with the cluster (not
// an error reaching it).
type problemsError []string

func (p problemsError) Error() string { return strings.Join(p, "; ") }
