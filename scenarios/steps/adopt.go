package steps

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
)

// ActionAdopt is no scenario's step: it is what gameday sets up on a
// cluster it did not create before a run (the nodes it may use labelled
// with their pool, its fixtures deployed), journaled like a step's changes
// so that recovery takes it down again, after a crash too.
const ActionAdopt scenarios.Action = "gameday-adopt"

// adoptStep only recovers: Adopt and DeployingFixtures make its records.
type adoptStep struct{ restoring }

func (adoptStep) Apply(context.Context, *Env, scenarios.Step) (Outcome, error) {
	return Outcome{}, errors.New("adopting nodes is not a scenario's step")
}

// Adopt labels node with gameday's pool label (cluster.PoolLabel=pool) and,
// for a spare pool's node, the pool it replaces (cluster.ReplacesLabel;
// "": none), the labels it had journaled first, so that the topology's
// placement and every selector work as on a cluster gameday made.
func Adopt(ctx context.Context, env *Env, node, pool, replaces string) error {
	n, err := env.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return err
	}
	for _, l := range []struct {
		key, want string
		kind      Kind
	}{{cluster.PoolLabel, pool, KindPoolLabel}, {cluster.ReplacesLabel, replaces, KindReplacesLabel}} {
		if n.Labels[l.key] == l.want {
			continue
		}
		if err := env.Journal.Add(Record{Step: "adopt", Action: ActionAdopt, Kind: l.kind, Target: node, Value: n.Labels[l.key]}); err != nil {
			return err
		}
		if err := patchLabel(ctx, env, node, l.key, l.want); err != nil {
			return err
		}
	}
	return nil
}

// patchLabel sets (or, with "", removes) a node's label.
func patchLabel(ctx context.Context, env *Env, node, key, value string) error {
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, key, v)
	_, err := env.Client.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

func restorePoolLabel(ctx context.Context, env *Env, r Record) error {
	return patchLabel(ctx, env, r.Target, cluster.PoolLabel, r.Value)
}

func restoreReplacesLabel(ctx context.Context, env *Env, r Record) error {
	return patchLabel(ctx, env, r.Target, cluster.ReplacesLabel, r.Value)
}

// HoldOut takes a spare pool's node out of service for the run, on a
// cluster gameday did not create (cluster.Nodes.TakeOutOfService, emulated),
// its state before journaled: after the run it is back as it was.
func HoldOut(ctx context.Context, env *Env, node string) error {
	n, err := env.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if cluster.InService(n) {
		was := "schedulable"
		if n.Spec.Unschedulable {
			was = "cordoned"
		}
		if err := env.Journal.Add(Record{Step: "adopt", Action: ActionAdopt, Kind: KindHeldOut, Target: node, Value: was}); err != nil {
			return err
		}
	}
	return env.Nodes.TakeOutOfService(ctx, node)
}

func restoreHeldOut(ctx context.Context, env *Env, r Record) error {
	return env.Nodes.ReleaseHold(ctx, r.Target, r.Value == "cordoned")
}

// DeployingFixtures journals, before the fixtures are first deployed into
// namespace ns of a cluster gameday did not create, that it held none:
// recovery removes them.
func DeployingFixtures(env *Env, ns string) error {
	return env.Journal.Add(Record{Step: "adopt", Action: ActionAdopt, Kind: KindFixtures, Target: ns})
}

func restoreFixtures(ctx context.Context, env *Env, r Record) error {
	return fixtures.Remove(ctx, env.Client)
}
