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
		{Name: "backend-next", Size: 1, Spare: true, Replaces: "backend"},
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
		optedInNamespace(fixtures.Namespace),
	)
	x := &Existing{Target: &kubeconfig.Target{Context: "staging", Client: client}, Store: &cluster.Store{Dir: t.TempDir()}}
	s := separateOn(t, map[string][]string{"frontend": {"web"}, "backend": {"api"}})
	o := Options{Scenario: &s, Topology: s.Topologies[0], Name: ExistingName("staging")}
	place, err := x.Placement(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if place != "pool frontend = node web-1; pool backend = node api-1" {
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
	if pools["web-1"] != "frontend" || pools["api-1"] != "backend" || pools["api-2"] != "" {
		t.Errorf("pool labels %v", pools)
	}
	rec, err := x.Record(o.Name)
	if err != nil || rec.Topology.Name != "staging" || rec.Backend != cluster.BackendKubeconfig {
		t.Errorf("record %+v, %v", rec, err)
	}
	// Taken down: every label as it was, api-1's earlier one included.
	recs := j.Records()
	if got := len(recordsOf(recs, steps.TeardownOrder)); got != 3 {
		t.Fatalf("%d teardown records, want 3 (two labels, the fixtures): %+v", got, recs)
	}
	if err := steps.RecoverKinds(ctx, env, recs, []steps.Kind{steps.KindPoolLabel}, nil); err != nil {
		t.Fatal(err)
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
			"namespace gameday, where gameday deploys its fixtures, is not opted in"},
		{"a pool short of opted-in nodes", []runtime.Object{existingNode("web-1", "web", true, nil), existingNode("api-1", "api", false, nil), optedInNamespace(fixtures.Namespace)},
			"pool backend needs 1 opted-in node(s) of node group(s) api"},
		{"a node not opted in in gameday's pool", []runtime.Object{existingNode("web-1", "web", true, nil), existingNode("api-1", "api", true, nil),
			existingNode("x", "other", false, map[string]string{cluster.PoolLabel: "backend"}), optedInNamespace(fixtures.Namespace)},
			"node x, not opted in, is labelled gameday.dev/pool=backend"},
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
	for in, want := range map[string]string{
		"kind-e2e-existing": "ctx-kind-e2e-existing",
		"arn:aws:eks:eu-west-1:123456789012:cluster/staging": "ctx-arn-aws-eks-eu-west-1-12345-93ba88a7",
		"gke_proj_europe-west1_staging":                      "ctx-gke-proj-europe-west1-staging",
		"///":                                                "ctx-context",
	} {
		got := ExistingName(in)
		if got != want {
			t.Errorf("ExistingName(%q) = %q, want %q", in, got, want)
		}
		if err := cluster.ValidateName(got); err != nil {
			t.Errorf("%q: %v", got, err)
		}
	}
}
