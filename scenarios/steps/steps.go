// Package steps implements the actions of a scenario's steps: each applies a
// change to the cluster, writes a record per target before it touches it,
// and can recover what its records say it changed. Registry lists them.
package steps

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/system"
)

// Env is what steps act on: one cluster of one topology.
type Env struct {
	Client   kubernetes.Interface
	Nodes    *cluster.Nodes
	Topology cluster.Topology
	// System is the system the scenario breaks (nil: system.Default).
	System *system.System
	// Releases are the tiers' releases before the run: what rollback restores.
	Releases map[fixtures.Tier]string
	// Rand picks targets for modes one, fixed and percent; seeded, so that a
	// scenario picks the same targets each run.
	Rand *Rand
	// Journal receives every record before the change it describes is made.
	Journal Journal
	// ReadyTimeout bounds waits for a node to become Ready; zero means 2 minutes.
	ReadyTimeout time.Duration
	// Log receives progress (the drain helper's); nil discards it.
	Log io.Writer
}

func (e *Env) readyTimeout(st scenarios.Step) time.Duration {
	switch {
	case st.Timeout > 0:
		return st.Timeout
	case e.ReadyTimeout > 0:
		return e.ReadyTimeout
	}
	return 2 * time.Minute
}

// Kind is what a record restores.
type Kind string

// The kinds of record. Recovery restores them in this order: capacity first
// (nodes running and schedulable), so that the pods have somewhere to go,
// then releases, then spares back out of service, then the recorded version,
// and last the API server's image: its restart holds the API back a while.
const (
	KindContainer    Kind = "container"      // a node's container was running
	KindKubelet      Kind = "kubelet"        // a node's kubelet was running
	KindSchedulable  Kind = "schedulable"    // a node was schedulable
	KindRelease      Kind = "release"        // a tier ran Value
	KindOutOfService Kind = "out-of-service" // a spare node was out of service
	KindCPVersion    Kind = "control-plane-version"
	KindAPIServer    Kind = "api-server" // a control-plane node's API server ran the image Value

	// On a cluster gameday did not create, what it set up before the run
	// (Adopt) and takes down after it, once the cluster is checked:
	KindFixtures      Kind = "fixtures"       // the namespace Target held none of gameday's fixtures
	KindHeldOut       Kind = "held-out"       // node Target was in service (Value: "cordoned" or "schedulable")
	KindReplacesLabel Kind = "replaces-label" // node Target had replaces label Value ("": none)
	KindPoolLabel     Kind = "pool-label"     // node Target had pool label Value ("": none)
)

// RecoveryOrder is the order kinds are recovered in.
var RecoveryOrder = []Kind{KindContainer, KindKubelet, KindSchedulable, KindRelease, KindOutOfService, KindCPVersion, KindAPIServer}

// TeardownOrder are the kinds of what gameday set up on a cluster it did
// not create, taken down after the recovered cluster is checked (the
// fixtures first, then the nodes' pool labels they were placed by).
var TeardownOrder = []Kind{KindFixtures, KindHeldOut, KindReplacesLabel, KindPoolLabel}

// Record is one target a step changed, with what it was before: enough to
// put it back after a crash, with nothing but the record and the cluster.
type Record struct {
	Step   string           `json:"step"`
	Action scenarios.Action `json:"action"`
	Kind   Kind             `json:"kind"`
	Target string           `json:"target"` // a node, a tier, or "control-plane"
	Value  string           `json:"value,omitempty"`
	// Container is, for the release of a tier of the team's own image, its
	// container's image and environment before the step: recovery puts
	// them back without the System file.
	Container *Container `json:"container,omitempty"`
}

// Container is a tier's container as a release sets it.
type Container struct {
	Image string          `json:"image"`
	Env   []corev1.EnvVar `json:"env,omitempty"`
}

// Key identifies the state a record restores; a run keeps the first record
// per key, which holds the state from before the run.
func (r Record) Key() string { return string(r.Kind) + "/" + r.Target }

// Journal keeps records durably.
type Journal interface {
	// Add keeps rec unless a record with its key is kept already; it
	// returns once rec is durable.
	Add(rec Record) error
}

// Outcome is what a step did, for the timeline.
type Outcome struct {
	Targets []string `json:"targets,omitempty"`
	Message string   `json:"message,omitempty"`
	// Blocked: the step could not act (e.g. nodes that cannot join); not an error.
	Blocked bool `json:"blocked,omitempty"`
}

// Step is one action's implementation.
type Step interface {
	// Apply makes the change, adding a record to env.Journal for each target
	// before changing it.
	Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error)
	// Recover puts back what recs (records this step added) say it changed.
	// It is idempotent: recovering a target already in its old state is a no-op.
	Recover(ctx context.Context, env *Env, recs []Record) error
}

// Registry is every action's implementation, in one explicit map.
var Registry = map[scenarios.Action]Step{
	scenarios.ActionRelease:             releaseStep{},
	scenarios.ActionRollback:            rollbackStep{},
	scenarios.ActionPodKill:             podKillStep{},
	scenarios.ActionCordon:              nodeStep{op: opCordon},
	scenarios.ActionDrain:               nodeStep{op: opDrain},
	scenarios.ActionNodeStop:            nodeStep{op: opContainerStop},
	scenarios.ActionNodeStart:           nodeStep{op: opContainerStart},
	scenarios.ActionKubeletStop:         nodeStep{op: opKubeletStop},
	scenarios.ActionKubeletStart:        nodeStep{op: opKubeletStart},
	scenarios.ActionPoolOutage:          poolOutageStep{},
	scenarios.ActionControlPlaneUpgrade: controlPlaneUpgradeStep{},
	scenarios.ActionProvisionPool:       provisionPoolStep{},
	scenarios.ActionWait:                waitStep{},
	scenarios.ActionNote:                noteStep{},
	ActionAdopt:                         adoptStep{},
}

// Apply runs a step through the registry.
func Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	impl, ok := Registry[st.Action]
	if !ok {
		return Outcome{}, fmt.Errorf("no implementation of action %q", st.Action)
	}
	return impl.Apply(ctx, env, st)
}

// Recover puts back everything recs say was changed, kind by kind in
// RecoveryOrder and newest first within a kind, through each record's step.
// It goes on past a failure and returns every error.
func Recover(ctx context.Context, env *Env, recs []Record, done func(Record, error)) error {
	return RecoverKinds(ctx, env, recs, RecoveryOrder, done)
}

// RecoverKinds is Recover of the records of the kinds in order only.
func RecoverKinds(ctx context.Context, env *Env, recs []Record, order []Kind, done func(Record, error)) error {
	var errs []error
	for _, kind := range order {
		for i := len(recs) - 1; i >= 0; i-- {
			r := recs[i]
			if r.Kind != kind {
				continue
			}
			impl, ok := Registry[r.Action]
			var err error
			if !ok {
				err = fmt.Errorf("record of unknown action %q", r.Action)
			} else {
				err = impl.Recover(ctx, env, []Record{r})
			}
			if err != nil {
				err = fmt.Errorf("recover %s %s: %w", r.Kind, r.Target, err)
				errs = append(errs, err)
			}
			if done != nil {
				done(r, err)
			}
		}
	}
	return errors.Join(errs...)
}

// restorers put one record's target back, per kind of record: each kind's
// with the steps that make its records. A kind of record added (a player's
// change, say) brings its restorer here; nothing else changes.
var restorers = map[Kind]func(ctx context.Context, env *Env, r Record) error{
	KindContainer:     restoreContainer,
	KindKubelet:       restoreKubelet,
	KindSchedulable:   restoreSchedulable,
	KindRelease:       restoreRelease,
	KindOutOfService:  restoreOutOfService,
	KindCPVersion:     restoreControlPlaneVersion,
	KindAPIServer:     restoreAPIServer,
	KindFixtures:      restoreFixtures,
	KindHeldOut:       restoreHeldOut,
	KindReplacesLabel: restoreReplacesLabel,
	KindPoolLabel:     restorePoolLabel,
}

// restore puts one record's target back; every step's Recover is this.
func restore(ctx context.Context, env *Env, r Record) error {
	f, ok := restorers[r.Kind]
	if !ok {
		return fmt.Errorf("unknown record kind %q", r.Kind)
	}
	return f(ctx, env, r)
}

// restoring is the Recover shared by every step: each record put back.
type restoring struct{}

func (restoring) Recover(ctx context.Context, env *Env, recs []Record) error {
	var errs []error
	for _, r := range recs {
		if err := restore(ctx, env, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
