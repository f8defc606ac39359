package steps

import (
	"context"
	"errors"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

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

// Adopt labels node with gameday's pool label (cluster.PoolLabel=pool), the
// label it had first journaled, so that the topology's placement and every
// selector work as on a cluster gameday made.
func Adopt(ctx context.Context, env *Env, node, pool string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		n, err := env.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if n.Labels[cluster.PoolLabel] == pool {
			return nil
		}
		if err := env.Journal.Add(Record{Step: "adopt", Action: ActionAdopt, Kind: KindPoolLabel, Target: node, Value: n.Labels[cluster.PoolLabel]}); err != nil {
			return err
		}
		return patchPoolLabel(ctx, env, node, pool)
	})
}

// patchPoolLabel sets (or, with "", removes) a node's pool label.
func patchPoolLabel(ctx context.Context, env *Env, node, value string) error {
	v := "null"
	if value != "" {
		v = fmt.Sprintf("%q", value)
	}
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%s}}}`, cluster.PoolLabel, v)
	_, err := env.Client.CoreV1().Nodes().Patch(ctx, node, types.MergePatchType, []byte(patch), metav1.PatchOptions{})
	return err
}

func restorePoolLabel(ctx context.Context, env *Env, r Record) error {
	return patchPoolLabel(ctx, env, r.Target, r.Value)
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
