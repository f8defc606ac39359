package observe

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios/timeline"
)

// Real informers on the fake clientset: objects present at the start are
// remembered, not changes; every later change is written once per field,
// with the field manager that owns the changed field (the fake clientset
// tracks managed fields as the API server does).
func TestWatchWritesChangesWithTheirManager(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	two := int32(2)
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: fixtures.Namespace,
		Annotations: map[string]string{fixtures.ReleaseAnno: "v1"}}, Spec: appsv1.DeploymentSpec{Replicas: &two}}
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	client := fake.NewClientset(dep, node)
	path := filepath.Join(t.TempDir(), "timeline.jsonl")
	tl, err := timeline.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	obs, err := Watch(ctx, client, tl, true)
	if err != nil {
		t.Fatal(err)
	}
	defer obs.Stop()

	zero := int32(0)
	d := dep.DeepCopy()
	d.Spec.Replicas = &zero
	if _, err := client.AppsV1().Deployments(fixtures.Namespace).Update(ctx, d, metav1.UpdateOptions{FieldManager: "kubectl-scale"}); err != nil {
		t.Fatal(err)
	}
	n := node.DeepCopy()
	n.Spec.Unschedulable = true
	n.Spec.Taints = []corev1.Taint{{Key: "node.kubernetes.io/unschedulable", Effect: corev1.TaintEffectNoSchedule}} // the cluster's own
	n.Status.Conditions[0].Status = corev1.ConditionUnknown
	if _, err := client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{FieldManager: "kubectl-cordon"}); err != nil {
		t.Fatal(err)
	}
	// An uncordon removes the field: the API records no manager for it.
	n, err = client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	n.Spec.Unschedulable = false
	if _, err := client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{FieldManager: "gameday"}); err != nil {
		t.Fatal(err)
	}
	// A node taken out of service: its readiness is no one's change then.
	n, _ = client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: cluster.OutOfServiceTaint, Effect: corev1.TaintEffectNoExecute})
	if _, err := client.CoreV1().Nodes().Update(ctx, n, metav1.UpdateOptions{FieldManager: "gameday"}); err != nil {
		t.Fatal(err)
	}
	n, _ = client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	n.Status.Conditions[0].Status = corev1.ConditionFalse
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{FieldManager: "kube-controller-manager"}); err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().Nodes().Delete(ctx, "n1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	want := []string{
		"deployment/api replicas 2 -> 0 by kubectl-scale",
		"node/n1 ready true -> false by ",
		"node/n1 unschedulable false -> true by kubectl-cordon",
		"node/n1 unschedulable true -> false by ",
		"node/n1 ready false -> n/a by ",
		"node/n1 taints  -> " + cluster.OutOfServiceTaint + "=:NoExecute by gameday",
		"node/n1 deleted  ->  by ",
	}
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		tl.Flush()
		got = nil
		f, _ := os.Open(path)
		es, _ := timeline.Read(f)
		f.Close()
		for _, e := range es {
			if e.Kind == timeline.KindChange {
				got = append(got, e.Object+" "+e.Field+" "+e.From+" -> "+e.To+" by "+e.Manager)
			}
		}
	}
	if len(got) != len(want) {
		t.Fatalf("changes:\n%q\nwant:\n%q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: %q, want %q", i, got[i], want[i])
		}
	}
	if obs.FirstChange().IsZero() {
		t.Error("FirstChange is zero after changes")
	}
}

// A rollout restart changes only the pod template's annotations: a change.
func TestTemplateOfSeesARolloutRestart(t *testing.T) {
	var tpl corev1.PodTemplateSpec
	tpl.Spec.Containers = []corev1.Container{{Name: "app", Image: "mockapp:1"}}
	before := templateOf(tpl)
	tpl.Annotations = map[string]string{"kubectl.kubernetes.io/restartedAt": "2026-12-02T03:30:00Z"}
	if after := templateOf(tpl); after == before {
		t.Errorf("a restart leaves the template's summary as it was: %q", after)
	}
}
