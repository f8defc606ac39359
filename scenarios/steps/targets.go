package steps

import (
	"context"
	"fmt"
	"math"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
)

// SelectNodes lists the worker nodes a selector matches on env's cluster,
// by name: a pool's nodes (the pool hosting the tier, for a tier) or the
// nodes carrying the labels. The control-plane node never matches.
func SelectNodes(ctx context.Context, env *Env, sel scenarios.Selector) ([]corev1.Node, error) {
	var selector labels.Selector
	if len(sel.Labels) > 0 {
		selector = labels.SelectorFromSet(sel.Labels)
	} else {
		pool, err := scenarios.PoolFor(env.System, env.Topology, sel)
		if err != nil {
			return nil, err
		}
		selector = labels.SelectorFromSet(labels.Set{cluster.PoolLabel: pool.Name})
	}
	list, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
	if err != nil {
		return nil, err
	}
	// On a cluster gameday did not create, a node not opted in is never a
	// target, whatever labels it carries.
	optIn := env.Nodes != nil && env.Nodes.Emulated()
	var out []corev1.Node
	for _, n := range list.Items {
		if pool := n.Labels[cluster.PoolLabel]; pool == "" || pool == cluster.SystemPool {
			continue
		}
		if optIn && (n.Labels[cluster.AllowKey] != "true" || cluster.IsControlPlane(&n)) {
			continue
		}
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// SelectPods lists the fixture pods a selector matches, by name: a tier's,
// those on a pool's nodes, or those carrying the labels. Pods outside the
// fixtures' namespace never match, nor, on a cluster gameday did not
// create (whose namespace is the team's), pods that are not the fixtures'.
func SelectPods(ctx context.Context, env *Env, sel scenarios.Selector) ([]corev1.Pod, error) {
	opts := metav1.ListOptions{}
	switch {
	case sel.Tier != "":
		opts.LabelSelector = fixtures.TierLabel + "=" + string(sel.Tier)
	case len(sel.Labels) > 0:
		opts.LabelSelector = labels.SelectorFromSet(sel.Labels).String()
	}
	list, err := env.Client.CoreV1().Pods(fixtures.Namespace).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	onPool := map[string]bool{}
	if sel.Pool != "" {
		nodes, err := SelectNodes(ctx, env, scenarios.Selector{Pool: sel.Pool})
		if err != nil {
			return nil, err
		}
		for _, n := range nodes {
			onPool[n.Name] = true
		}
	}
	onlyOurs := env.Nodes != nil && env.Nodes.Emulated()
	var out []corev1.Pod
	for _, p := range list.Items {
		if p.DeletionTimestamp != nil || (sel.Pool != "" && !onPool[p.Spec.NodeName]) {
			continue
		}
		if onlyOurs && p.Labels["app.kubernetes.io/part-of"] != "gameday" {
			continue
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Pick applies a target's mode to n sorted matches and returns the indexes
// chosen, in order: all of them, one, a fixed number, or a percentage
// (rounded up, at least one), chosen with env.Rand.
func Pick(env *Env, t scenarios.Target, n int) ([]int, error) {
	want := n
	switch t.Mode {
	case scenarios.ModeOne:
		want = 1
	case scenarios.ModeFixed:
		want = t.Value
	case scenarios.ModePercent:
		want = int(math.Ceil(float64(n) * float64(t.Value) / 100))
	}
	if n == 0 {
		return nil, fmt.Errorf("%s matches nothing", t.Selector)
	}
	if want > n {
		want = n
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	if want < n {
		env.Rand.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:want]
		sort.Ints(idx)
	}
	return idx, nil
}
