package engine

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
)

// Touches lists every object of the context's cluster that a session of o
// would touch, before the run, step by step, and after it: what --dry-run
// prints there. It changes nothing; it asks the cluster which opted-in
// nodes make up each pool and which namespaces' pods a node's loss would
// delete. Which of several targets a step picks ("one of") is decided in
// the run.
func (x *Existing) Touches(ctx context.Context, o Options) ([]string, error) {
	place, err := x.placement(ctx, o)
	if err != nil {
		return nil, err
	}
	inv, err := kubeconfig.Discover(ctx, x.Target.Client, x.PoolKey)
	if err != nil {
		return nil, err
	}
	params := o.Scenario.Fixtures
	params.Image = fixtures.ImageRepo // any: only the objects' names are listed
	objs, err := fixtures.Manifests(o.Topology, params)
	if err != nil {
		return nil, err
	}
	ns := fixtures.Namespace
	var out []string
	add := func(format string, a ...any) { out = append(out, fmt.Sprintf(format, a...)) }

	add("before the run:")
	for _, p := range o.Topology.Pools {
		line := fmt.Sprintf("    label node %s %s=%s", strings.Join(place[p.Name], ", "), cluster.PoolLabel, p.Name)
		if p.Replaces != "" {
			line += fmt.Sprintf(" and %s=%s", cluster.ReplacesLabel, p.Replaces)
		}
		add("%s", line)
		if p.Spare {
			add("    hold node %s out of service: cordon, taint %s, delete the opted-in namespaces' pods there", strings.Join(place[p.Name], ", "), cluster.OutOfServiceTaint)
		}
	}
	// An earlier session's pool label on an opted-in node this one does
	// not place is removed (Adopt), put back after.
	stale, err := x.Target.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: cluster.PoolLabel})
	if err != nil {
		return nil, err
	}
	for _, n := range stale.Items {
		if ok, _ := kubeconfig.AllowNode(&n); ok && !placed(place, n.Name) && n.Labels[cluster.PoolLabel] != cluster.SystemPool {
			add("    remove label %s=%s from node %s (an earlier session's; this one does not place it)", cluster.PoolLabel, n.Labels[cluster.PoolLabel], n.Name)
		}
	}
	var made []string
	for _, d := range objs.Deployments {
		made = append(made, "deployment/"+d.Name)
	}
	for _, s := range objs.Services {
		made = append(made, "service/"+s.Name)
	}
	for _, p := range objs.PDBs {
		made = append(made, "poddisruptionbudget/"+p.Name)
	}
	made = append(made, "configmap/"+cluster.MarkerConfigMap)
	add("    create in namespace %s: %s", ns, strings.Join(made, ", "))
	add("    keep in namespace %s: configmap/%s (the journal, for recover from any machine), lease/%s (one run at a time)",
		cluster.ExistingNamespace, kubeconfig.JournalConfigMap, kubeconfig.LeaseName)

	optedIn := inv.AllowedNamespaces()
	steps, _ := o.Scenario.AllSteps()
	add("the steps:")
	for _, st := range steps {
		what, err := x.stepTouches(ctx, o, st, place, optedIn)
		if err != nil {
			return nil, fmt.Errorf("step %s: %w", st.Name, err)
		}
		add("    %s (%s): %s", st.Name, st.Action, what)
	}
	add("after the run:")
	add("    put back every change above (journaled), take the labels and the fixtures down, delete configmap/%s and lease/%s",
		kubeconfig.JournalConfigMap, kubeconfig.LeaseName)
	return out, nil
}

// stepTouches says which objects one step would touch.
func (x *Existing) stepTouches(ctx context.Context, o Options, st scenarios.Step, place map[string][]string, optedIn []string) (string, error) {
	ns := fixtures.Namespace
	switch st.Action {
	case scenarios.ActionRelease, scenarios.ActionRollback:
		return fmt.Sprintf("update deployment %s/%s", ns, st.Target.Tier), nil
	case scenarios.ActionPodKill:
		switch {
		case st.Target.Tier != "":
			return fmt.Sprintf("delete %s the pods of deployment %s/%s", howMany(st.Target), ns, st.Target.Tier), nil
		case len(st.Target.Labels) > 0:
			return fmt.Sprintf("delete %s the fixtures' pods in namespace %s carrying %s", howMany(st.Target), ns, st.Target.Selector), nil
		default:
			nodes, err := x.stepNodes(ctx, o, st.Target.Selector, place)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("delete %s the fixtures' pods in namespace %s on node %s", howMany(st.Target), ns, strings.Join(nodes, ", ")), nil
		}
	case scenarios.ActionControlPlaneUpgrade:
		return fmt.Sprintf("record version %s in configmap %s/%s (the API server is not touched)", st.Version, cluster.ExistingNamespace, cluster.MarkerConfigMap), nil
	case scenarios.ActionWait, scenarios.ActionNote:
		return "nothing", nil
	}
	// The node actions.
	var nodes []string
	if st.Action == scenarios.ActionProvisionPool {
		spares, err := scenarios.SparePools(o.Scenario.System, o.Topology, st.Target.Selector)
		if err != nil {
			return "", err
		}
		for _, p := range spares {
			nodes = append(nodes, place[p.Name]...)
		}
	} else {
		var err error
		if nodes, err = x.stepNodes(ctx, o, st.Target.Selector, place); err != nil {
			return "", err
		}
	}
	which := strings.Join(nodes, ", ")
	if st.Action != scenarios.ActionPoolOutage && st.Action != scenarios.ActionProvisionPool && st.Target.Mode != scenarios.ModeAll && st.Target.Mode != "" {
		which = howMany(st.Target) + " " + which
	}
	pods := func() string {
		n, err := x.podsOn(ctx, nodes, optedIn)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("the pods of namespace %s there (the fixtures' and %d more now), DaemonSets' excepted", strings.Join(optedIn, ", "), n)
	}
	switch st.Action {
	case scenarios.ActionCordon:
		return "cordon node " + which, nil
	case scenarios.ActionDrain:
		verb := "evict"
		if st.DisableEviction {
			verb = "delete"
		}
		return fmt.Sprintf("cordon node %s, %s %s", which, verb, pods()), nil
	case scenarios.ActionNodeStop, scenarios.ActionPoolOutage, scenarios.ActionKubeletStop:
		return fmt.Sprintf("cordon and taint %s node %s, delete %s", cluster.LostTaint, which, pods()), nil
	case scenarios.ActionNodeStart, scenarios.ActionKubeletStart:
		return fmt.Sprintf("untaint and uncordon node %s", which), nil
	case scenarios.ActionProvisionPool:
		return fmt.Sprintf("untaint and uncordon spare node %s", which), nil
	}
	return "", fmt.Errorf("no listing for action %s", st.Action)
}

// stepNodes are the nodes a selector resolves to in the session: a pool's
// (the pool hosting a tier, for a tier), or those of the placed nodes
// that carry the labels.
func (x *Existing) stepNodes(ctx context.Context, o Options, sel scenarios.Selector, place map[string][]string) ([]string, error) {
	if len(sel.Labels) == 0 {
		p, err := scenarios.PoolFor(o.Scenario.System, o.Topology, sel)
		if err != nil {
			return nil, err
		}
		if p.Name == cluster.SystemPool {
			return []string{"(none: the control plane is never a target there)"}, nil
		}
		return place[p.Name], nil
	}
	list, err := x.Target.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: labels.SelectorFromSet(sel.Labels).String()})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range list.Items {
		if placed(place, n.Name) {
			out = append(out, n.Name)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return []string{"(none of the opted-in nodes carries " + sel.String() + ")"}, nil
	}
	return out, nil
}

// podsOn counts the pods of the opted-in namespaces on nodes now, besides
// the fixtures' and DaemonSets'.
func (x *Existing) podsOn(ctx context.Context, nodes, optedIn []string) (int, error) {
	n := 0
	for _, node := range nodes {
		list, err := x.Target.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
		if err != nil {
			return 0, err
		}
		for _, p := range list.Items {
			if p.Spec.NodeName == node && slices.Contains(optedIn, p.Namespace) && !cluster.IsDaemonSetPod(&p) && p.Labels["app.kubernetes.io/part-of"] != "gameday" {
				n++
			}
		}
	}
	return n, nil
}

// howMany says how many of its targets a step picks.
func howMany(t scenarios.Target) string {
	switch t.Mode {
	case scenarios.ModeOne:
		return "one of"
	case scenarios.ModeFixed:
		return fmt.Sprintf("%d of", t.Value)
	case scenarios.ModePercent:
		return fmt.Sprintf("%d%% of", t.Value)
	}
	return "all"
}
