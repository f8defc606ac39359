package cluster

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

var readyStatus = corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}

func dnsNode(name string, controlPlane, spare, ready bool) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}}
	if ready {
		n.Status = readyStatus
	}
	if controlPlane {
		n.Labels[controlPlaneLabel] = ""
	}
	if spare {
		n.Spec.Taints = []corev1.Taint{{Key: OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoExecute}}
	}
	return n
}

func kubeProxy(name, node string, isReady bool) *corev1.Pod {
	st := corev1.ConditionFalse
	if isReady {
		st = corev1.ConditionTrue
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-proxy"}},
		Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
}

func coreDNS(generation int64, status appsv1.DeploymentStatus) *appsv1.Deployment {
	two := int32(2)
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system", Generation: generation},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "coredns", ReadinessProbe: &corev1.Probe{PeriodSeconds: 10}}}}}},
		Status: status}
}

// CoreDNS, which runs on the control plane and was not held, is rolled with
// a 1 s readiness probe once kube-proxy is ready there and the API server's Service address
// answers there, not before; the workers' kube-proxy is not waited for.
func TestRollDNSWaitsForKubeProxyOnTheControlPlane(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(dnsNode("cp", true, false, true), dnsNode("w1", false, false, true),
		kubeProxy("kp-cp", "cp", false), kubeProxy("kp-w1", "w1", false),
		coreDNS(1, appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}))
	var answers atomic.Bool
	reach := func(context.Context) error {
		if !answers.Load() {
			return errors.New("timed out")
		}
		return nil
	}
	start := time.Now()
	go func() {
		time.Sleep(500 * time.Millisecond)
		client.CoreV1().Pods("kube-system").Update(ctx, kubeProxy("kp-cp", "cp", true), metav1.UpdateOptions{})
		// kube-proxy is ready; its rules for the address come a moment later
		time.Sleep(500 * time.Millisecond)
		if d, _ := client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{}); d.Spec.Template.Spec.Containers[0].ReadinessProbe.PeriodSeconds != 10 {
			t.Error("CoreDNS rolled before the API server's Service address answered")
		}
		answers.Store(true)
	}()
	if err := rollDNS(ctx, client, time.Now().Add(10*time.Second), reach, false); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("returned after %s, before the API server's Service address answered on the control plane", d)
	}
	d, _ := client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if p := d.Spec.Template.Spec.Containers[0].ReadinessProbe; p == nil || p.PeriodSeconds != 1 {
		t.Errorf("CoreDNS readiness probe %+v, want periodSeconds 1", p)
	}
}

// A control-plane node that is not Ready yet (no CNI) is waited for, not skipped.
func TestKubeProxyServesWaitsForTheControlPlaneToBeReady(t *testing.T) {
	client := fake.NewClientset(dnsNode("cp", true, false, false), kubeProxy("kp-cp", "cp", false))
	if why := kubeProxyServes(context.Background(), client, true); !strings.Contains(why, "not Ready") {
		t.Errorf("kubeProxyServes on a NotReady control plane = %q, want it waited for", why)
	}
	if why := kubeProxyServes(context.Background(), fake.NewClientset(), true); why == "" {
		t.Error("kubeProxyServes with no node at all says it serves")
	}
}

// WaitDNS returns only once kube-proxy serves on every in-service node (not
// the spare, whose kubelet is stopped) and every CoreDNS replica is of the
// latest spec and available.
func TestWaitDNSWaitsForKubeProxyEverywhereAndTheRoll(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(dnsNode("cp", true, false, true), dnsNode("w1", false, false, true), dnsNode("spare", false, true, true),
		kubeProxy("kp-cp", "cp", true), kubeProxy("kp-w1", "w1", false),
		coreDNS(2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 3, UpdatedReplicas: 1, AvailableReplicas: 2}))
	if err := WaitDNS(ctx, client, 600*time.Millisecond); err == nil || !strings.Contains(err.Error(), "kube-proxy is not ready on node w1") {
		t.Fatalf("WaitDNS with w1's kube-proxy not ready: %v, want a timeout naming w1", err)
	}
	client.CoreV1().Pods("kube-system").Update(ctx, kubeProxy("kp-w1", "w1", true), metav1.UpdateOptions{})
	if err := WaitDNS(ctx, client, 600*time.Millisecond); err == nil || !strings.Contains(err.Error(), "1 of 2 replicas updated") {
		t.Fatalf("WaitDNS during the roll: %v, want a timeout naming 1 of 2 replicas", err)
	}
	start := time.Now()
	go func() {
		time.Sleep(300 * time.Millisecond)
		done := coreDNS(2, appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2})
		client.AppsV1().Deployments("kube-system").UpdateStatus(ctx, done, metav1.UpdateOptions{})
	}()
	if err := WaitDNS(ctx, client, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("returned after %s, before the roll ended", d)
	}
}

// Held twice, CoreDNS keeps the count it had before the first hold; released,
// it gets that count back and the annotation goes; released without a hold,
// its count is left as it is and only the patch is applied (a roll). While
// held, WaitDNS does not take its zero replicas for ready.
func TestHoldAndReleaseDNS(t *testing.T) {
	ctx := context.Background()
	client := fake.NewClientset(dnsNode("cp", true, false, true), kubeProxy("kp-cp", "cp", true),
		coreDNS(1, appsv1.DeploymentStatus{ObservedGeneration: 1}))
	for range 2 {
		if err := holdDNS(ctx, client, false); err != nil {
			t.Fatal(err)
		}
	}
	d, _ := client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if *d.Spec.Replicas != 0 || d.Annotations[heldReplicas] != "2" {
		t.Fatalf("held twice: replicas %d, annotation %q; want 0 and 2", *d.Spec.Replicas, d.Annotations[heldReplicas])
	}
	if p := d.Spec.Template.Spec.Containers[0].ReadinessProbe; p.PeriodSeconds != 1 {
		t.Errorf("held CoreDNS's readiness period %d, want 1 (its first pods start patched)", p.PeriodSeconds)
	}
	if err := WaitDNS(ctx, client, 600*time.Millisecond); err == nil || !strings.Contains(err.Error(), "held") {
		t.Fatalf("WaitDNS on a held CoreDNS: %v, want a timeout saying it is held", err)
	}
	if err := releaseDNS(ctx, client, false); err != nil {
		t.Fatal(err)
	}
	d, _ = client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if *d.Spec.Replicas != 2 {
		t.Errorf("released: replicas %d, want 2", *d.Spec.Replicas)
	}
	if _, ok := d.Annotations[heldReplicas]; ok {
		t.Error("released: the annotation is still there")
	}

	three := int32(3)
	notHeld := coreDNS(1, appsv1.DeploymentStatus{})
	notHeld.Spec.Replicas = &three
	client = fake.NewClientset(notHeld)
	if err := releaseDNS(ctx, client, true); err != nil {
		t.Fatal(err)
	}
	d, _ = client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if *d.Spec.Replicas != 3 || d.Spec.Template.Spec.Containers[0].ReadinessProbe.PeriodSeconds != 1 || len(d.Spec.Template.Spec.NodeSelector) != 1 {
		t.Errorf("released without a hold: replicas %d, template %+v; want 3 and the patch", *d.Spec.Replicas, d.Spec.Template.Spec)
	}

	bad := coreDNS(1, appsv1.DeploymentStatus{})
	bad.Annotations = map[string]string{heldReplicas: "two"}
	if err := releaseDNS(ctx, fake.NewClientset(bad), false); err == nil {
		t.Error("released with an annotation that is no count: no error")
	}
}

// WaitKubeProxy waits for every node of the topology to register and for
// kube-proxy on every one that is to serve, Ready or not yet; a spare's is
// never waited for.
func TestWaitKubeProxyOnEveryServingNode(t *testing.T) {
	ctx := context.Background()
	topo, _ := Builtin("shared") // a control plane, two app nodes, one spare
	pool := func(n *corev1.Node, p string) *corev1.Node { n.Labels[PoolLabel] = p; return n }
	client := fake.NewClientset(dnsNode("cp", true, false, true), pool(dnsNode("w1", false, false, false), "app"),
		pool(dnsNode("spare", false, false, true), "app-next"),
		kubeProxy("kp-cp", "cp", true), kubeProxy("kp-w1", "w1", true), kubeProxy("kp-w2", "w2", false))
	if err := WaitKubeProxy(ctx, client, topo, 600*time.Millisecond); err == nil || !strings.Contains(err.Error(), "2 of the topology's 3 nodes in service") {
		t.Fatalf("with w2 not registered: %v, want a timeout saying 2 of 3 nodes", err)
	}
	client.CoreV1().Nodes().Create(ctx, pool(dnsNode("w2", false, false, true), "app"), metav1.CreateOptions{})
	if err := WaitKubeProxy(ctx, client, topo, 600*time.Millisecond); err == nil || !strings.Contains(err.Error(), "not ready on node w2") {
		t.Fatalf("with w2's kube-proxy not ready: %v, want a timeout naming w2", err)
	}
	client.CoreV1().Pods("kube-system").Update(ctx, kubeProxy("kp-w2", "w2", true), metav1.UpdateOptions{})
	if err := WaitKubeProxy(ctx, client, topo, 2*time.Second); err != nil {
		t.Fatalf("kube-proxy ready on every node but the spare: %v", err)
	}
	client.CoreV1().Nodes().Delete(ctx, "spare", metav1.DeleteOptions{}) // taken out of service
	if err := WaitKubeProxy(ctx, client, topo, 2*time.Second); err != nil {
		t.Fatalf("with the spare's Node object gone: %v", err)
	}
}
