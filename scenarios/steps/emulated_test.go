package steps

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/scenarios"
)

// On a cluster gameday did not create: the control plane's upgrade is the
// provider stand-in's record, the node group's own replacement is refused
// for the skew it makes, a provision at the control plane's version brings
// the held-out spare in, and recovery puts every one back.
func TestEmulatedUpgradeAndProvision(t *testing.T) {
	ctx := context.Background()
	optedIn := func(n *corev1.Node, replaces string) *corev1.Node {
		n.Labels[cluster.AllowKey] = "true"
		if replaces != "" {
			n.Labels[cluster.ReplacesLabel] = replaces
		}
		return n
	}
	client := fake.NewClientset(
		optedIn(node("web-1", "app", true), ""),
		optedIn(node("next-1", "app-next", true), "app"),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: cluster.ExistingNamespace, Annotations: map[string]string{cluster.AllowKey: "true"}}},
	)
	client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: kubeletVersion}
	if err := cluster.EnsureExistingMarker(ctx, client); err != nil {
		t.Fatal(err)
	}
	topo, _ := cluster.Builtin("shared")
	j := &memJournal{}
	env := &Env{Client: client, Nodes: cluster.NewEmulatedNodes(client), Topology: topo, Journal: j}
	if err := HoldOut(ctx, env, "next-1"); err != nil {
		t.Fatal(err)
	}

	out, err := Apply(ctx, env, scenarios.Step{Name: "upgrade", Action: scenarios.ActionControlPlaneUpgrade, Version: "v1.38.0"})
	if err != nil || !strings.Contains(out.Message, "emulated: recorded by the provider's stand-in") {
		t.Fatalf("upgrade: %+v, %v", out, err)
	}
	if v, err := ControlPlaneVersion(ctx, client); err != nil || v != "v1.38.0" {
		t.Errorf("control plane %s, %v", v, err)
	}
	sel := scenarios.Target{Selector: scenarios.Selector{Pool: "app"}, Mode: scenarios.ModeAll}
	out, err = Apply(ctx, env, scenarios.Step{Name: "replace", Action: scenarios.ActionProvisionPool, Target: sel, Version: scenarios.VersionPool})
	if err != nil || !out.Blocked || !strings.Contains(out.Message, "they run v1.37.2 and the control plane runs v1.38.0 (version skew)") {
		t.Fatalf("the node group's own replacement: %+v, %v", out, err)
	}
	out, err = Apply(ctx, env, scenarios.Step{Name: "provision", Action: scenarios.ActionProvisionPool, Target: sel, Version: scenarios.VersionControlPlane})
	if err != nil || out.Blocked {
		t.Fatalf("provision: %+v, %v", out, err)
	}
	n, _ := client.CoreV1().Nodes().Get(ctx, "next-1", metav1.GetOptions{})
	if !cluster.InService(n) || n.Spec.Unschedulable {
		t.Errorf("the provisioned spare: %+v", n.Spec)
	}

	// Recovery: the spare held out again, the record gone; teardown: back as before the run.
	if err := Recover(ctx, env, j.records(), nil); err != nil {
		t.Fatal(err)
	}
	n, _ = client.CoreV1().Nodes().Get(ctx, "next-1", metav1.GetOptions{})
	if cluster.InService(n) {
		t.Error("the spare is in service after recovery")
	}
	if v, _ := ControlPlaneVersion(ctx, client); v != kubeletVersion {
		t.Errorf("control plane %s after recovery", v)
	}
	if err := RecoverKinds(ctx, env, j.records(), TeardownOrder, nil); err != nil {
		t.Fatal(err)
	}
	n, _ = client.CoreV1().Nodes().Get(ctx, "next-1", metav1.GetOptions{})
	if !cluster.InService(n) || n.Spec.Unschedulable {
		t.Errorf("the spare after teardown: %+v", n.Spec)
	}
}

// On a cluster gameday did not create, the fixtures' namespace is the
// team's: a pod-kill by pool or by labels picks only the fixtures' pods,
// never a team's pod beside them.
func TestSelectPodsOnlyTheFixturesOnAnExistingCluster(t *testing.T) {
	ctx := context.Background()
	n := node("web-1", "app", true)
	n.Labels[cluster.AllowKey] = "true"
	pod := func(name string, l map[string]string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: cluster.ExistingNamespace, Labels: l}, Spec: corev1.PodSpec{NodeName: "web-1"}}
	}
	client := fake.NewClientset(n,
		pod("api-1", map[string]string{"app": "db", "app.kubernetes.io/part-of": "gameday", "gameday.dev/tier": "api"}),
		pod("teams-db-0", map[string]string{"app": "db"}))
	topo, _ := cluster.Builtin("shared")
	env := &Env{Client: client, Nodes: cluster.NewEmulatedNodes(client), Topology: topo}
	for _, sel := range []scenarios.Selector{{Pool: "app"}, {Labels: map[string]string{"app": "db"}}} {
		pods, err := SelectPods(ctx, env, sel)
		if err != nil {
			t.Fatal(err)
		}
		if len(pods) != 1 || pods[0].Name != "api-1" {
			var names []string
			for _, p := range pods {
				names = append(names, p.Name)
			}
			t.Errorf("%v picks %v, want only the fixtures' api-1", sel, names)
		}
	}
}
