package steps

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
)

// releaseStep rolls a tier to a release.
type releaseStep struct{ restoring }

func (releaseStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	return setRelease(ctx, env, st, st.Version)
}

// rollbackStep rolls a tier back to the release it had before the run.
type rollbackStep struct{ restoring }

func (rollbackStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	rel, ok := env.Releases[st.Target.Tier]
	if !ok {
		return Outcome{}, fmt.Errorf("no release of %s from before the run to roll back to", st.Target.Tier)
	}
	return setRelease(ctx, env, st, rel)
}

func setRelease(ctx context.Context, env *Env, st scenarios.Step, release string) (Outcome, error) {
	tier := st.Target.Tier
	d, err := env.Client.AppsV1().Deployments(fixtures.Namespace).Get(ctx, string(tier), metav1.GetOptions{})
	if err != nil {
		return Outcome{}, fmt.Errorf("%s: %w", tier, err)
	}
	cur := d.Annotations[fixtures.ReleaseAnno]
	rec := Record{Step: st.Name, Action: st.Action, Kind: KindRelease, Target: string(tier), Value: cur}
	if env.System != nil {
		if t, ok := env.System.Tier(string(tier)); ok && t.Image != "" {
			c := d.Spec.Template.Spec.Containers[0]
			rec.Container = &Container{Image: c.Image, Env: c.Env}
		}
	}
	if err := env.Journal.Add(rec); err != nil {
		return Outcome{}, err
	}
	if err := fixtures.SetSystemRelease(ctx, env.Client, env.System, tier, release); err != nil {
		return Outcome{}, err
	}
	return Outcome{Targets: []string{string(tier)}, Message: fmt.Sprintf("%s %s -> %s", tier, cur, release)}, nil
}

// podKillStep deletes pods at once; their controllers replace them, so
// there is nothing to record.
type podKillStep struct{ restoring }

func (podKillStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	pods, err := SelectPods(ctx, env, st.Target.Selector)
	if err != nil {
		return Outcome{}, err
	}
	idx, err := Pick(env, st.Target, len(pods))
	if err != nil {
		return Outcome{}, err
	}
	var out Outcome
	zero := int64(0)
	for _, i := range idx {
		p := pods[i]
		if err := env.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
			return out, err
		}
		out.Targets = append(out.Targets, p.Name)
	}
	return out, nil
}

// waitStep waits.
type waitStep struct{ restoring }

func (waitStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	t := time.NewTimer(st.Duration)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return Outcome{}, ctx.Err()
	case <-t.C:
		return Outcome{}, nil
	}
}

// noteStep only writes its message into the timeline.
type noteStep struct{ restoring }

func (noteStep) Apply(_ context.Context, _ *Env, st scenarios.Step) (Outcome, error) {
	return Outcome{Message: st.Message}, nil
}

func restoreRelease(ctx context.Context, env *Env, r Record) error {
	if c := r.Container; c != nil {
		return fixtures.SetContainer(ctx, env.Client, fixtures.Tier(r.Target), r.Value, c.Image, c.Env)
	}
	return fixtures.SetRelease(ctx, env.Client, fixtures.Tier(r.Target), r.Value)
}
