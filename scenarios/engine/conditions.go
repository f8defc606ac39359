package engine

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/observe"
	"gameday.dev/gameday/system"
)

// watcher evaluates conditions against the informers' caches and the probes.
type watcher struct {
	topo   cluster.Topology
	sys    *system.System
	obs    *observe.Cluster
	probes *observe.Probes
}

// holds reports whether c holds now (ignoring For, which tracker applies;
// service conditions look back over For themselves).
func (w *watcher) holds(c scenarios.Condition) bool {
	switch c.Type {
	case scenarios.CondCrashLooping:
		for _, p := range w.pods(c.Selector) {
			if _, waiting, _ := fixtures.PodState(p); waiting == "CrashLoopBackOff" {
				return true
			}
		}
		return false
	case scenarios.CondPoolDown, scenarios.CondPoolReady:
		pool, err := scenarios.PoolFor(w.sys, w.topo, c.Selector)
		if err != nil {
			return false
		}
		nodes, _ := w.obs.Nodes.List(labels.SelectorFromSet(labels.Set{cluster.PoolLabel: pool.Name}))
		if len(nodes) == 0 {
			return false
		}
		for _, n := range nodes {
			// A node whose loss gameday emulates is as down as a lost one.
			ready := cluster.IsReady(n) && !cluster.Lost(n)
			if c.Type == scenarios.CondPoolDown && ready {
				return false
			}
			if c.Type == scenarios.CondPoolReady && (!ready || n.Spec.Unschedulable) {
				return false
			}
		}
		return true
	case scenarios.CondTierHealthy, scenarios.CondTierDown:
		d, err := w.obs.Deployments.Get(string(c.Selector.Tier))
		if err != nil {
			return false
		}
		if c.Type == scenarios.CondTierHealthy {
			return fixtures.Healthy(d)
		}
		return d.Status.ReadyReplicas == 0
	case scenarios.CondServiceDown, scenarios.CondServiceUp:
		span := max(c.For, time.Second)
		win := w.probes.Last(string(c.Service), span)
		if win.Total == 0 {
			return false
		}
		if c.Type == scenarios.CondServiceDown {
			return win.OK == 0
		}
		return win.OK == win.Total
	}
	return false
}

func (w *watcher) pods(sel scenarios.Selector) []*corev1.Pod {
	switch {
	case sel.Tier != "":
		return w.obs.PodsMatching(map[string]string{fixtures.TierLabel: string(sel.Tier)})
	case len(sel.Labels) > 0:
		return w.obs.PodsMatching(sel.Labels)
	}
	var out []*corev1.Pod
	for _, p := range w.obs.PodsMatching(nil) {
		if n, err := w.obs.Nodes.Get(p.Spec.NodeName); err == nil && n.Labels[cluster.PoolLabel] == sel.Pool {
			out = append(out, p)
		}
	}
	return out
}

// tracker applies a condition's For: it holds once it has held without a
// break for that long.
type tracker struct {
	since time.Time
}

func (t *tracker) update(now time.Time, holds bool, c scenarios.Condition) bool {
	if !holds {
		t.since = time.Time{}
		return false
	}
	if t.since.IsZero() {
		t.since = now
	}
	if c.Type == scenarios.CondServiceDown || c.Type == scenarios.CondServiceUp {
		return true // the look-back window is For already
	}
	return now.Sub(t.since) >= c.For
}
