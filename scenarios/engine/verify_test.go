package engine

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/scenarios/steps"
)

// A recovered cluster passes; a pod left on a spare (e.g. Terminating under
// a stopped kubelet) fails the check, DaemonSet pods aside.
func TestVerifyRecoveredSpareEmpty(t *testing.T) {
	topo, _ := cluster.Builtin("separate")
	node := func(name, pool string, spare bool) *corev1.Node {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{cluster.PoolLabel: pool}},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"}},
		}
		if spare {
			n.Spec.Unschedulable = true
			n.Spec.Taints = []corev1.Taint{{Key: cluster.OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoExecute}}
			n.Status.Conditions[0].Status = corev1.ConditionFalse
		}
		return n
	}
	pod := func(name, node, owner string) *corev1.Pod {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "gameday"}, Spec: corev1.PodSpec{NodeName: node}}
		if owner != "" {
			p.OwnerReferences = []metav1.OwnerReference{{Kind: owner, Name: "x", Controller: new(bool)}}
			*p.OwnerReferences[0].Controller = true
		}
		return p
	}
	base := []runtime.Object{
		node("cp", cluster.SystemPool, false), node("w1", "frontend", false), node("w2", "backend", false),
		// The spare w3 has not joined: no Node, its DaemonSet pod not yet collected.
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.MarkerConfigMap, Namespace: metav1.NamespaceSystem},
			Data: map[string]string{"spares": `{"backend-next":["w3"]}`}},
		pod("api-1", "w2", "ReplicaSet"), pod("kindnet-w3", "w3", "DaemonSet"),
	}
	rt := &kubeletRuntime{}
	apiServer := "v1.37.2"
	check := func(extra ...runtime.Object) error {
		client := fake.NewClientset(append(append([]runtime.Object{}, base...), extra...)...)
		client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: apiServer}
		return verifyRecovered(context.Background(), &steps.Env{Client: client, Nodes: &cluster.Nodes{Client: client, Runtime: rt}, Topology: topo}, nil)
	}
	if err := check(); err != nil {
		t.Fatalf("a recovered cluster: %v", err)
	}
	err := check(pod("api-0", "w3", "ReplicaSet"))
	if err == nil || !strings.Contains(err.Error(), "pod gameday/api-0 is left on spare node w3") {
		t.Fatalf("a pod left on the spare: %v", err)
	}
	// A spare that stayed joined, even tainted and cordoned, is capacity in
	// the cluster that should not be there.
	err = check(node("w3", "backend-next", true))
	if err == nil || !strings.Contains(err.Error(), "spare node w3 has joined") {
		t.Fatalf("a spare left registered: %v", err)
	}
	// An API server left at the upgrade's version.
	apiServer = "v1.38.0"
	if err := check(); err == nil || !strings.Contains(err.Error(), "the API server reports v1.38.0, its node cp runs v1.37.2") {
		t.Fatalf("an API server left upgraded: %v", err)
	}
	apiServer = "v1.37.2"
	// A spare whose kubelet runs (or would start with its node) is in
	// service the moment its node restarts, taint or no taint.
	rt.kubeletUp = true
	if err := check(); err == nil || !strings.Contains(err.Error(), "the kubelet of spare node w3 is running or would start with its node") {
		t.Fatalf("a spare with its kubelet up: %v", err)
	}
}

// kubeletRuntime answers the check of a spare's kubelet.
type kubeletRuntime struct{ kubeletUp bool }

func (r *kubeletRuntime) Stop(context.Context, string) error  { return nil }
func (r *kubeletRuntime) Start(context.Context, string) error { return nil }
func (r *kubeletRuntime) Exec(_ context.Context, _ string, args ...string) error {
	if strings.Contains(strings.Join(args, " "), "is-active") && r.kubeletUp {
		return errors.New("exit status 1")
	}
	return nil
}
