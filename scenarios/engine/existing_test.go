package engine

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/steps"
)

const eksKey = "eks.amazonaws.com/nodegroup"

func existingNode(name, group string, allowed bool, extra map[string]string) *corev1.Node {
	l := map[string]string{eksKey: group}
	if allowed {
		l[cluster.AllowKey] = "true"
	}
	for k, v := range extra {
		l[k] = v
	}
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

func cordoned(n *corev1.Node) *corev1.Node { n.Spec.Unschedulable = true; return n }

func optedInNamespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{cluster.AllowKey: "true"}}}
}

func separateOn(t *testing.T, groups map[string][]string) scenarios.Scenario {
	t.Helper()
	s, _, err := scenarios.Builtin("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	topo := cluster.Topology{Name: "staging", Pools: []cluster.Pool{
		{Name: "frontend", Size: 1, NodeGroups: groups["frontend"]},
		{Name: "backend", Size: 1, NodeGroups: groups["backend"]},
		{Name: "backend-next", Size: 1, Spare: true, Replaces: "backend", NodeGroups: groups["backend-next"]},
	}}
	s.Topologies = []cluster.Topology{topo}
	return *s
}

func TestExistingPlacementAndAdoption(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset(
		existingNode("web-1", "web", true, nil),
		existingNode("api-1", "api", true, map[string]string{cluster.PoolLabel: "old"}),
		existingNode("api-2", "api", false, nil), // not opted in: never placed on, never labelled
		existingNode("next-1", "api-next", true, nil),
		optedInNamespace(fixtures.Namespace),
	)
	x := &Existing{Target: &kubeconfig.Target{Context: "staging", Client: client}, Store: &cluster.Store{Dir: t.TempDir()}}
	s := separateOn(t, map[string][]string{"frontend": {"web"}, "backend": {"api"}, "backend-next": {"api-next"}})
	o := Options{Scenario: &s, Topology: s.Topologies[0], Name: ExistingName("staging", "https://staging.example")}
	place, err := x.Placement(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if place != "pool frontend = node web-1; pool backend = node api-1; spare pool (held out of service until provisioned) backend-next = node next-1" {
		t.Errorf("placement %q", place)
	}
	if err := x.CheckFit(ctx, o); err != nil {
		t.Fatal(err)
	}

	j, err := OpenJournal(filepath.Join(t.TempDir(), JournalFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	env := &steps.Env{Client: client, Nodes: cluster.NewEmulatedNodes(client), Topology: o.Topology, Journal: j}
	if err := x.Adopt(ctx, env, o); err != nil {
		t.Fatal(err)
	}
	pools := map[string]string{}
	nodes, _ := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	for _, n := range nodes.Items {
		pools[n.Name] = n.Labels[cluster.PoolLabel]
	}
	if pools["web-1"] != "frontend" || pools["api-1"] != "backend" || pools["api-2"] != "" || pools["next-1"] != "backend-next" {
		t.Errorf("pool labels %v", pools)
	}
	// The spare is held out of service, and named a spare of backend.
	next, _ := client.CoreV1().Nodes().Get(ctx, "next-1", metav1.GetOptions{})
	if cluster.InService(next) || !next.Spec.Unschedulable || next.Labels[cluster.ReplacesLabel] != "backend" {
		t.Errorf("spare next-1: %+v %v", next.Spec, next.Labels)
	}
	if of, err := cluster.SpareNodes(ctx, client); err != nil || len(of["backend-next"]) != 1 {
		t.Errorf("spares %v, %v", of, err)
	}
	rec, err := x.Record(o.Name)
	if err != nil || rec.Topology.Name != "staging" || rec.Backend != cluster.BackendKubeconfig {
		t.Errorf("record %+v, %v", rec, err)
	}
	// Taken down: every label as it was, api-1's earlier one included.
	recs := j.Records()
	if got := len(recordsOf(recs, steps.TeardownOrder)); got != 6 {
		t.Fatalf("%d teardown records, want 6 (the fixtures, three pool labels, a replaces label, a spare held out): %+v", got, recs)
	}
	if recs[0].Kind != steps.KindFixtures {
		t.Errorf("first record %+v: the fixtures come first (their teardown takes the marker too)", recs[0])
	}
	if err := steps.RecoverKinds(ctx, env, recs, []steps.Kind{steps.KindHeldOut, steps.KindReplacesLabel, steps.KindPoolLabel}, nil); err != nil {
		t.Fatal(err)
	}
	next, _ = client.CoreV1().Nodes().Get(ctx, "next-1", metav1.GetOptions{})
	if !cluster.InService(next) || next.Spec.Unschedulable || next.Labels[cluster.ReplacesLabel] != "" {
		t.Errorf("spare next-1 after teardown: %+v %v", next.Spec, next.Labels)
	}
	nodes, _ = client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	for _, n := range nodes.Items {
		want := map[string]string{"api-1": "old"}[n.Name]
		if got := n.Labels[cluster.PoolLabel]; got != want {
			t.Errorf("%s: pool label %q after teardown, want %q", n.Name, got, want)
		}
	}
}

func TestExistingRefusesWhatItCannotHold(t *testing.T) {
	ctx := context.Background()
	s := separateOn(t, map[string][]string{"frontend": {"web"}, "backend": {"api"}})
	o := Options{Scenario: &s, Topology: s.Topologies[0], Name: "ctx-staging"}
	for _, c := range []struct {
		name    string
		objects []runtime.Object
		want    string
	}{
		{"namespace not opted in", []runtime.Object{existingNode("web-1", "web", true, nil), existingNode("api-1", "api", true, nil)},
			"is not opted in: `kubectl create namespace gameday && kubectl annotate namespace gameday gameday.dev/allow=true`"},
		{"namespace there, not annotated", []runtime.Object{existingNode("web-1", "web", true, nil), existingNode("api-1", "api", true, nil),
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fixtures.Namespace}}},
			"is not opted in: `kubectl annotate namespace gameday gameday.dev/allow=true`"},
		{"a pool short of opted-in nodes", []runtime.Object{existingNode("web-1", "web", true, nil), existingNode("api-1", "api", false, nil), optedInNamespace(fixtures.Namespace)},
			"pool backend needs 1 opted-in node(s) of node group(s) api"},
		{"a node not opted in in gameday's pool", []runtime.Object{existingNode("web-1", "web", true, nil), existingNode("api-1", "api", true, nil),
			existingNode("x", "other", false, map[string]string{cluster.PoolLabel: "backend"}), optedInNamespace(fixtures.Namespace)},
			"node x, not opted in (or the control plane), is labelled gameday.dev/pool=backend"},
		{"a node cordoned before the run", []runtime.Object{existingNode("web-1", "web", true, nil), cordoned(existingNode("api-1", "api", true, nil)), optedInNamespace(fixtures.Namespace)},
			"node api-1 of pool backend is cordoned"},
	} {
		client := fake.NewSimpleClientset(c.objects...)
		x := &Existing{Target: &kubeconfig.Target{Context: "staging", Client: client}, Store: &cluster.Store{Dir: t.TempDir()}}
		err := x.CheckFit(ctx, o)
		if !errors.Is(err, cluster.ErrNotReusable) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestExistingName(t *testing.T) {
	names := map[string]bool{}
	for _, c := range [][2]string{
		{"kind-e2e-existing", "https://127.0.0.1:6443"},
		{"arn:aws:eks:eu-west-1:123456789012:cluster/staging", "https://ABC.gr7.eu-west-1.eks.amazonaws.com"},
		{"gke_proj_europe-west1_staging", "https://34.1.2.3"},
		{"///", "https://x"},
		// The same name elsewhere, and two names that read alike: all apart.
		{"default", "https://a.example"}, {"default", "https://b.example"}, {"prod_eu", "https://p"}, {"prod-eu", "https://p"},
	} {
		got := ExistingName(c[0], c[1])
		if err := cluster.ValidateName(got); err != nil {
			t.Errorf("%q: %v", got, err)
		}
		if !strings.HasPrefix(got, "ctx-") || names[got] {
			t.Errorf("ExistingName(%q, %q) = %q", c[0], c[1], got)
		}
		names[got] = true
	}
	if got := ExistingName("kind-e2e-existing", "https://127.0.0.1:6443"); !strings.HasPrefix(got, "ctx-kind-e2e-existing-") {
		t.Errorf("%q does not say the context", got)
	}
}

// A run killed on one machine is recovered from another, with a state
// folder of its own: from the journal kept in the cluster.
func TestRecoverFromAnotherMachine(t *testing.T) {
	ctx := context.Background()
	lost := existingNode("api-1", "api", true, map[string]string{cluster.PoolLabel: "backend"})
	lost.Spec.Unschedulable = true
	lost.Spec.Taints = []corev1.Taint{{Key: cluster.LostTaint, Value: "schedulable", Effect: corev1.TaintEffectNoSchedule}}
	client := fake.NewSimpleClientset(lost, optedInNamespace(fixtures.Namespace))
	m := kubeconfig.Mirror{Client: client}
	for _, r := range []string{
		`{"step":"adopt","action":"gameday-adopt","kind":"pool-label","target":"api-1"}`,
		`{"step":"api-lost","action":"pool-outage","kind":"container","target":"api-1"}`,
	} {
		if err := m.Append(ctx, []byte(r)); err != nil {
			t.Fatal(err)
		}
	}
	x := &Existing{Target: &kubeconfig.Target{Context: "staging", Client: client}, Store: &cluster.Store{Dir: t.TempDir()}}
	n, err := Recover(ctx, x, ExistingName("staging", ""), log.NoopLogger{})
	if err != nil || n != 1 {
		t.Fatalf("recover: %d changes, %v", n, err)
	}
	got, _ := client.CoreV1().Nodes().Get(ctx, "api-1", metav1.GetOptions{})
	if cluster.Lost(got) || got.Spec.Unschedulable || got.Labels[cluster.PoolLabel] != "" {
		t.Errorf("api-1 after recovery: %+v %v", got.Spec, got.Labels)
	}
	if left, _ := m.Read(ctx); left != "" {
		t.Errorf("the journal kept in the cluster is still there: %q", left)
	}
}

// --dry-run's listing names every object of the cluster a session would
// touch, the opted-in nodes of each pool and only those, and changes nothing.
func TestExistingTouches(t *testing.T) {
	ctx := context.Background()
	pod := func(ns, name, node string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: node}}
	}
	client := fake.NewSimpleClientset(
		existingNode("web-1", "web", true, nil),
		existingNode("api-1", "api", true, nil),
		existingNode("api-2", "api", false, nil),
		existingNode("next-1", "api-next", true, nil),
		optedInNamespace(fixtures.Namespace), optedInNamespace("shop"),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing"}},
		pod("shop", "cart-1", "api-1"), pod("billing", "ledger-1", "api-1"), pod("shop", "cart-2", "api-2"),
	)
	x := &Existing{Target: &kubeconfig.Target{Context: "staging", Client: client}, Store: &cluster.Store{Dir: t.TempDir()}}
	s := separateOn(t, map[string][]string{"frontend": {"web"}, "backend": {"api"}, "backend-next": {"api-next"}})
	o := Options{Scenario: &s, Topology: s.Topologies[0], Name: "staging"}
	client.ClearActions()
	lines, err := x.Touches(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"label node web-1 gameday.dev/pool=frontend",
		"label node next-1 gameday.dev/pool=backend-next and gameday.dev/replaces=backend",
		"hold node next-1 out of service",
		"create in namespace gameday: deployment/api, deployment/workers, deployment/frontend, service/frontend, service/api, configmap/gameday-cluster",
		"bad-release (release): update deployment gameday/workers",
		"control-plane-upgrade (control-plane-upgrade): record version v1.38.0 in configmap gameday/gameday-cluster",
		"node-group-health-check-2-pool-outage (pool-outage): cordon and taint gameday.dev/lost node api-1, delete the pods of namespace gameday, shop there (the fixtures' and 1 more now)",
		"provision-pool (provision-pool): untaint and uncordon spare node next-1",
		"api-pod-killed (pod-kill): delete one of the pods of deployment gameday/api",
		"after the run:",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("listing lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "api-2") {
		t.Errorf("a node not opted in is listed:\n%s", got)
	}
	for _, a := range client.Actions() {
		if v := a.GetVerb(); v != "get" && v != "list" {
			t.Errorf("the listing changed the cluster: %s %s", v, a.GetResource().Resource)
		}
	}
}
