package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func TestLoseAndReturn(t *testing.T) {
	ctx := context.Background()
	pod := func(ns, name string, ds bool) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: corev1.PodSpec{NodeName: "n1"}}
		if ds {
			p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "DaemonSet", Name: "ds", Controller: ptr(true)}}
		}
		return p
	}
	client := fake.NewSimpleClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n2"}, Spec: corev1.NodeSpec{Unschedulable: true}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Annotations: map[string]string{AllowKey: "true"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Annotations: map[string]string{AllowKey: "true"}}},
		pod("shop", "web-1", false), pod("shop", "agent", true), pod("billing", "pay-1", false), pod("kube-system", "coredns-1", false),
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "ds"}},
	)
	n := NewEmulatedNodes(client)
	if !n.Emulated() {
		t.Fatal("not emulated")
	}
	if err := n.StopContainer(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	got, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if !Lost(got) || !got.Spec.Unschedulable {
		t.Fatalf("n1 after the loss: %+v", got.Spec)
	}
	pods, _ := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	left := map[string]bool{}
	for _, p := range pods.Items {
		left[p.Namespace+"/"+p.Name] = true
	}
	// Only the opted-in namespace's own pods went; its DaemonSet's stays, and
	// nothing of billing or kube-system (annotated or not) is touched.
	want := map[string]bool{"shop/agent": true, "billing/pay-1": true, "kube-system/coredns-1": true}
	if len(left) != len(want) {
		t.Errorf("pods left %v, want %v", left, want)
	}
	for p := range want {
		if !left[p] {
			t.Errorf("pod %s was deleted", p)
		}
	}
	if err := n.StartContainer(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	got, _ = client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if Lost(got) || got.Spec.Unschedulable {
		t.Errorf("n1 back: %+v", got.Spec)
	}
	// A node cordoned before its loss stays cordoned after it.
	if err := n.StopKubelet(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if err := n.StartKubelet(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	got, _ = client.CoreV1().Nodes().Get(ctx, "n2", metav1.GetOptions{})
	if Lost(got) || !got.Spec.Unschedulable {
		t.Errorf("n2 back: %+v", got.Spec)
	}
	// What needs a machine says so.
	if err := n.KeepKubeletDown(ctx, "n1"); err == nil {
		t.Error("a kubelet kept down without a machine")
	}
}

func ptr[T any](v T) *T { return &v }

// On a cluster gameday did not create, a drain moves the opted-in
// namespaces' pods only; kube-system's and the team's others stay.
func TestEmulatedDrainTouchesOptedInNamespacesOnly(t *testing.T) {
	pod := func(ns, name string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "rs", Controller: ptr(true)}}},
			Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	}
	client := fake.NewClientset(
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "gameday", Annotations: map[string]string{AllowKey: "true"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "billing"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "kube-system", Annotations: map[string]string{AllowKey: "true"}}},
		pod("gameday", "api-1"), pod("billing", "pay-1"), pod("kube-system", "coredns-1"),
	)
	// Deleting (no eviction API on the fake): what the drain takes away is gone at once.
	if err := NewEmulatedNodes(client).Drain(context.Background(), "n1", DrainOptions{Timeout: 5 * time.Second, Delete: true}); err != nil {
		t.Fatal(err)
	}
	pods, _ := client.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	var left []string
	for _, p := range pods.Items {
		left = append(left, p.Namespace+"/"+p.Name)
	}
	slices.Sort(left)
	if !slices.Equal(left, []string{"billing/pay-1", "kube-system/coredns-1"}) {
		t.Errorf("pods left %v, want billing's and kube-system's", left)
	}
}
