package cluster

import (
	"context"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// CoreDNS is rolled, with a 1 s readiness probe, only once kube-proxy is
// ready on every in-service node (a spare, whose kubelet is stopped, never
// gets there and is not waited for).
func TestReadyDNSWaitsForKubeProxyThenRollsCoreDNS(t *testing.T) {
	ctx := context.Background()
	ready := corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}
	node := func(name string, spare bool) *corev1.Node {
		n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Status: ready}
		if spare {
			n.Spec.Taints = []corev1.Taint{{Key: OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoExecute}}
		}
		return n
	}
	proxy := func(name, node string, isReady bool) *corev1.Pod {
		st := corev1.ConditionFalse
		if isReady {
			st = corev1.ConditionTrue
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-proxy"}},
			Spec: corev1.PodSpec{NodeName: node}, Status: corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}}}
	}
	two := int32(2)
	coredns := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "coredns", Namespace: "kube-system", Generation: 1},
		Spec: appsv1.DeploymentSpec{Replicas: &two, Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{
			{Name: "coredns", ReadinessProbe: &corev1.Probe{PeriodSeconds: 10}}}}}},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}}
	client := fake.NewClientset(node("cp", false), node("w1", false), node("spare", true),
		proxy("kp-cp", "cp", true), proxy("kp-w1", "w1", false), coredns)
	start := time.Now()
	go func() {
		time.Sleep(500 * time.Millisecond)
		client.CoreV1().Pods("kube-system").Update(ctx, proxy("kp-w1", "w1", true), metav1.UpdateOptions{})
	}()
	if err := readyDNS(ctx, client, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Errorf("returned after %s, before kube-proxy was ready on w1", d)
	}
	d, _ := client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if p := d.Spec.Template.Spec.Containers[0].ReadinessProbe; p == nil || p.PeriodSeconds != 1 {
		t.Errorf("CoreDNS readiness probe %+v, want periodSeconds 1", p)
	}
}
