package play

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
)

// gameCluster is the fixtures of shared on a fake cluster with two nodes.
func gameCluster(t *testing.T) *fake.Clientset {
	t.Helper()
	topo, _ := cluster.Builtin("shared")
	p := fixtures.DefaultParams("gameday.dev/mockapp:test")
	p.PDB = true
	objs, err := fixtures.Manifests(topo, p)
	if err != nil {
		t.Fatal(err)
	}
	all := []runtime.Object{objs.Namespace,
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "w1"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "w2"}, Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "gameday.dev/pool", Value: "app", Effect: corev1.TaintEffectNoSchedule}}}}}
	for _, d := range objs.Deployments {
		all = append(all, d)
	}
	for _, s := range objs.Services {
		all = append(all, s)
	}
	for _, b := range objs.PDBs {
		all = append(all, b)
	}
	return fake.NewClientset(all...)
}

func countWrites(actions []k8stesting.Action) int {
	n := 0
	for _, a := range actions {
		if a.GetVerb() == "update" || a.GetVerb() == "create" || a.GetVerb() == "delete" || a.GetVerb() == "patch" {
			n++
		}
	}
	return n
}

// Whatever the players changed, made or deleted is put back; what they left
// alone is not touched.
func TestRestorePutsBackWhatPlayersChanged(t *testing.T) {
	ctx := context.Background()
	ns := fixtures.Namespace
	c := gameCluster(t)
	snap, err := Take(ctx, c, ns)
	if err != nil {
		t.Fatal(err)
	}
	before := len(c.Actions())
	if err := Restore(ctx, c, snap); err != nil {
		t.Fatal(err)
	}
	if countWrites(c.Actions()[before:]) != 0 {
		t.Fatalf("Restore of an unchanged cluster wrote %d times", countWrites(c.Actions()[before:]))
	}

	// The players at work.
	w, _ := c.AppsV1().Deployments(ns).Get(ctx, string(fixtures.Workers), metav1.GetOptions{})
	w.Spec.Template.Spec.Containers[0].Args = append(w.Spec.Template.Spec.Containers[0].Args, "-debug")
	three := int32(3)
	w.Spec.Replicas = &three
	w.Annotations["deployment.kubernetes.io/revision"] = "7"
	c.AppsV1().Deployments(ns).Update(ctx, w, metav1.UpdateOptions{})
	c.CoreV1().Services(ns).Delete(ctx, string(fixtures.API), metav1.DeleteOptions{})
	c.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "debug"}}, metav1.CreateOptions{})
	one := intstr.FromInt32(1)
	c.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "mine"}, Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one}}, metav1.CreateOptions{})
	c.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "debug-shell", UID: types.UID("bare")}}, metav1.CreateOptions{})
	n1, _ := c.CoreV1().Nodes().Get(ctx, "w1", metav1.GetOptions{})
	n1.Spec.Unschedulable = true
	n1.Spec.Taints = append(n1.Spec.Taints, corev1.Taint{Key: "mine", Effect: corev1.TaintEffectNoExecute})
	c.CoreV1().Nodes().Update(ctx, n1, metav1.UpdateOptions{})

	if err := Restore(ctx, c, snap); err != nil {
		t.Fatal(err)
	}
	w, _ = c.AppsV1().Deployments(ns).Get(ctx, string(fixtures.Workers), metav1.GetOptions{})
	if *w.Spec.Replicas != 2 || w.Spec.Template.Spec.Containers[0].Args[len(w.Spec.Template.Spec.Containers[0].Args)-1] == "-debug" {
		t.Errorf("workers not put back: replicas %d, args %v", *w.Spec.Replicas, w.Spec.Template.Spec.Containers[0].Args)
	}
	if w.Annotations["deployment.kubernetes.io/revision"] != "7" {
		t.Error("the deployment controller's revision was put back too")
	}
	if _, err := c.CoreV1().Services(ns).Get(ctx, string(fixtures.API), metav1.GetOptions{}); err != nil {
		t.Errorf("the deleted api Service is not back: %v", err)
	}
	if l, _ := c.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("the players' ConfigMap is left: %v", l.Items)
	}
	if _, err := c.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "mine", metav1.GetOptions{}); err == nil {
		t.Error("the players' PodDisruptionBudget is left")
	}
	if l, _ := c.PolicyV1().PodDisruptionBudgets(ns).List(ctx, metav1.ListOptions{}); len(l.Items) != len(snap.PDBs) {
		t.Errorf("%d budgets, want the %d from before", len(l.Items), len(snap.PDBs))
	}
	if l, _ := c.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("the players' bare pod is left")
	}
	n1, _ = c.CoreV1().Nodes().Get(ctx, "w1", metav1.GetOptions{})
	if n1.Spec.Unschedulable || len(n1.Spec.Taints) != 0 {
		t.Errorf("node w1 not put back: unschedulable %v, taints %v", n1.Spec.Unschedulable, n1.Spec.Taints)
	}
	// And once back, nothing more to write.
	before = len(c.Actions())
	if err := Restore(ctx, c, snap); err != nil {
		t.Fatal(err)
	}
	if n := countWrites(c.Actions()[before:]); n != 0 {
		t.Errorf("a second Restore wrote %d times", n)
	}
}
