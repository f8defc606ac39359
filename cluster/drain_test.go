package cluster

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// A drain whose evictions a PodDisruptionBudget blocks until its timeout is
// the cluster's refusal, said with the budget and the pods it kept; a drain
// that deletes instead of evicting goes through.
func TestDrainBlockedByABudget(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "frontend-1", Namespace: "gameday", Labels: map[string]string{"tier": "frontend"},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "frontend-x", Controller: ptrTo(true)}}},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	one := intstr.FromInt32(1)
	pdb := &policyv1.PodDisruptionBudget{ObjectMeta: metav1.ObjectMeta{Name: "frontend", Namespace: "gameday"},
		Spec: policyv1.PodDisruptionBudgetSpec{MinAvailable: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"tier": "frontend"}}},
		// Its status may read otherwise by the time the drain gives up (a
		// replacement just Ready): what counts is the API server's refusal.
		Status: policyv1.PodDisruptionBudgetStatus{DisruptionsAllowed: 1}}
	client := fake.NewClientset(node, pod, pdb)
	// The API server serves evictions, and answers one a budget forbids 429.
	client.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "pods/eviction", Kind: "Eviction", Group: "policy", Version: "v1"}}}}
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "eviction" {
			return false, nil, nil
		}
		return true, nil, apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
	})
	n := NewNodes(client)
	ctx := context.Background()

	err := n.Drain(ctx, "n1", DrainOptions{Timeout: 2 * time.Second})
	var blocked *DrainBlockedError
	if !errors.As(err, &blocked) {
		t.Fatalf("err = %v, want a DrainBlockedError", err)
	}
	if blocked.Node != "n1" || len(blocked.Budgets) != 1 || blocked.Budgets[0] != "gameday/frontend" ||
		len(blocked.Pods) != 1 || blocked.Pods[0] != "gameday/frontend-1" || blocked.For < time.Second {
		t.Errorf("blocked = %+v", blocked)
	}
	// How long it was blocked is the drain's own measure: 2s, or more on a busy machine.
	want := fmt.Sprintf("the drain of node n1 was blocked %s by PodDisruptionBudget gameday/frontend (gameday/frontend-1 left on it)", blocked.For.Round(time.Second))
	if blocked.Error() != want || blocked.For < 2*time.Second {
		t.Errorf("message %q, want %q", blocked.Error(), want)
	}

	// Deleting instead of evicting: the budget does not hold it back.
	if err := n.Drain(ctx, "n1", DrainOptions{Timeout: 5 * time.Second, Delete: true}); err != nil {
		t.Fatalf("drain deleting pods: %v", err)
	}
	if _, err := client.CoreV1().Pods("gameday").Get(ctx, "frontend-1", metav1.GetOptions{}); err == nil {
		t.Error("the pod is still there after a drain that deletes")
	}
}

// A drain whose pods do not go in time, with no budget refusing anything
// (here: evictions accepted, the pod never deleted, as a pod stuck
// Terminating on a stopped node), is a refusal too: the node could not be
// drained in time.
func TestDrainThatCannotFinish(t *testing.T) {
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n1"}}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "gameday",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "api-x", Controller: ptrTo(true)}}},
		Spec: corev1.PodSpec{NodeName: "n1"}, Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	client := fake.NewClientset(node, pod)
	client.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{
		{Name: "pods/eviction", Kind: "Eviction", Group: "policy", Version: "v1"}}}}
	client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		return a.GetSubresource() == "eviction", nil, nil // accepted, and the pod stays
	})
	err := NewNodes(client).Drain(context.Background(), "n1", DrainOptions{Timeout: 2 * time.Second})
	var blocked *DrainBlockedError
	if !errors.As(err, &blocked) {
		t.Fatalf("err = %v, want a DrainBlockedError", err)
	}
	if want := "the drain of node n1 did not finish in 2s (gameday/api-1 left on it)"; blocked.Error() != want || len(blocked.Budgets) != 0 {
		t.Errorf("message %q, want %q (budgets %v)", blocked.Error(), want, blocked.Budgets)
	}
	// Cut short by its caller, a drain is not the cluster's refusal.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := NewNodes(client).Drain(ctx, "n1", DrainOptions{Timeout: 10 * time.Second}); errors.As(err, &blocked) {
		t.Errorf("a drain cut short by its context is reported as refused: %v", err)
	}
}
