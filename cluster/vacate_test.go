package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// vacateCluster is a fake cluster with a Deployment "api" of two replicas,
// one on node "keep" and one on the spare "spare", and a bare pod and a
// DaemonSet pod on the spare. A loop stands in for the controllers: it
// keeps the Deployment's pods at its replicas, creating Ready pods on
// "keep" and removing the cheapest by pod-deletion-cost first, as a
// ReplicaSet does.
type vacateCluster struct {
	client  *fake.Clientset
	nodes   *Nodes
	mu      sync.Mutex
	seen    []int32  // the Deployment's replicas, at each update
	deleted []string // pods deleted by Vacate (its drain), in order
	gaps    []string // a pod scaled away before its replacement was Ready
}

func newVacateCluster(t *testing.T, replicas int32, annotations map[string]string) *vacateCluster {
	t.Helper()
	labels := map[string]string{"app": "api"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "ns", UID: "dep", Annotations: annotations},
		Spec:       appsv1.DeploymentSpec{Replicas: ptrTo(replicas), Selector: &metav1.LabelSelector{MatchLabels: labels}},
		Status:     appsv1.DeploymentStatus{Replicas: replicas, UpdatedReplicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas},
	}
	rs := &appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "api-rs", Namespace: "ns", UID: "rs",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: "api", UID: "dep", Controller: ptrTo(true)}}}}
	objs := []runtime.Object{
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "keep"}},
		&corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "spare"}},
		dep, rs,
		&appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: "ns"}},
		podOn("api-0", "keep", labels, "ReplicaSet", "api-rs"),
		podOn("api-1", "spare", labels, "ReplicaSet", "api-rs"),
		podOn("bare", "spare", nil, "", ""),
		podOn("proxy", "spare", nil, "DaemonSet", "proxy"),
	}
	c := &vacateCluster{client: fake.NewClientset(objs...)}
	c.nodes = &Nodes{Client: c.client}
	// The fake clientset ignores field selectors; the drain and Vacate list
	// a node's pods by spec.nodeName.
	c.client.PrependReactor("list", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sel := a.(k8stesting.ListAction).GetListRestrictions().Fields
		if sel == nil || sel.Empty() {
			return false, nil, nil
		}
		obj, err := c.client.Tracker().List(corev1.SchemeGroupVersion.WithResource("pods"), corev1.SchemeGroupVersion.WithKind("Pod"), a.GetNamespace())
		if err != nil {
			return true, nil, err
		}
		list := obj.(*corev1.PodList)
		list.Items = slices.DeleteFunc(list.Items, func(p corev1.Pod) bool {
			return !sel.Matches(fields.Set{"spec.nodeName": p.Spec.NodeName})
		})
		return true, list, nil
	})
	c.client.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if a.GetSubresource() != "" {
			return false, nil, nil
		}
		d := a.(k8stesting.UpdateAction).GetObject().(*appsv1.Deployment)
		c.seen = append(c.seen, *d.Spec.Replicas)
		// Its rollout settles at once: the status follows the spec.
		r := *d.Spec.Replicas
		d.Status = appsv1.DeploymentStatus{Replicas: r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r}
		return false, nil, nil
	})
	c.client.PrependReactor("delete", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.deleted = append(c.deleted, a.(k8stesting.DeleteAction).GetName())
		return false, nil, nil
	})
	// The drain asks discovery whether evictions are served; without them it deletes.
	c.client.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "pods", Kind: "Pod", Namespaced: true}}}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go c.replicaSet(ctx, labels)
	return c
}

func podOn(name, node string, labels map[string]string, ownerKind, owner string) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: labels},
		Spec:       corev1.PodSpec{NodeName: node},
		Status:     corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	}
	if ownerKind != "" {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: ownerKind, Name: owner, UID: types.UID("owner-" + owner), Controller: ptrTo(true)}}
	}
	return p
}

func (c *vacateCluster) replicaSet(ctx context.Context, labels map[string]string) {
	next := 100
	pods := corev1.SchemeGroupVersion.WithResource("pods")
	for ctx.Err() == nil {
		time.Sleep(2 * time.Millisecond)
		d, err := c.client.AppsV1().Deployments("ns").Get(ctx, "api", metav1.GetOptions{})
		if err != nil {
			continue
		}
		want := *d.Spec.Replicas
		list, err := c.client.CoreV1().Pods("ns").List(ctx, metav1.ListOptions{LabelSelector: "app=api"})
		if err != nil {
			continue
		}
		// A pod created on an earlier round becomes Ready on this one.
		for _, p := range list.Items {
			if !podReady(&p) {
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
				_ = c.client.Tracker().Update(pods, &p, "ns")
			}
		}
		switch n := int32(len(list.Items)); {
		case n < want:
			next++
			p := podOn(fmt.Sprintf("api-%d", next), "keep", labels, "ReplicaSet", "api-rs")
			p.Status.Conditions = nil // not Ready yet
			_, _ = c.client.CoreV1().Pods("ns").Create(ctx, p, metav1.CreateOptions{})
		case n > want:
			cost := func(p corev1.Pod) int {
				v, _ := strconv.Atoi(p.Annotations[deletionCostAnno])
				return v
			}
			// As a ReplicaSet ranks them: the lowest cost first, then, as
			// the pods here are all Ready and doubled up, the newest.
			newness := func(p corev1.Pod) int {
				v, _ := strconv.Atoi(strings.TrimPrefix(p.Name, "api-"))
				return v
			}
			sort.Slice(list.Items, func(i, j int) bool {
				a, b := list.Items[i], list.Items[j]
				if cost(a) != cost(b) {
					return cost(a) < cost(b)
				}
				return newness(a) > newness(b)
			})
			victim := list.Items[0]
			var readyOff int32
			for _, p := range list.Items[1:] {
				if p.Spec.NodeName != "spare" && podReady(&p) {
					readyOff++
				}
			}
			c.mu.Lock()
			if readyOff < want {
				c.gaps = append(c.gaps, fmt.Sprintf("%s went with %d of %d replicas Ready elsewhere", victim.Name, readyOff, want))
			}
			c.mu.Unlock()
			// Straight to the tracker: the reactors below see only what
			// Vacate and its drain delete.
			_ = c.client.Tracker().Delete(pods, "ns", victim.Name)
		}
	}
}

func (c *vacateCluster) podsOn(t *testing.T, node string) []string {
	t.Helper()
	list, err := c.client.CoreV1().Pods("ns").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range list.Items {
		if p.Spec.NodeName == node {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	return names
}

func (c *vacateCluster) deployment(t *testing.T) *appsv1.Deployment {
	t.Helper()
	d, err := c.client.AppsV1().Deployments("ns").Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestVacateMovesPodsBeforeRemovingThem(t *testing.T) {
	c := newVacateCluster(t, 2, nil)
	if err := c.nodes.Vacate(context.Background(), "spare", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if got := c.podsOn(t, "spare"); !slices.Equal(got, []string{"proxy"}) {
		t.Errorf("pods left on the spare: %v, want only the DaemonSet's", got)
	}
	if got := c.podsOn(t, "keep"); len(got) != 2 || !slices.Contains(got, "api-0") {
		t.Errorf("pods on keep: %v, want api-0 and the one that replaced api-1", got)
	}
	d := c.deployment(t)
	if *d.Spec.Replicas != 2 || d.Annotations[VacateReplicasAnno] != "" {
		t.Errorf("deployment replicas %d, annotations %v: want 2 and no vacate annotation", *d.Spec.Replicas, d.Annotations)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The Deployment's pod on the spare was scaled away, not drained, and
	// only once its replacement was Ready; the drain took the bare pod.
	if !slices.Equal(c.deleted, []string{"bare"}) {
		t.Errorf("the drain deleted %v, want only the bare pod", c.deleted)
	}
	if len(c.gaps) > 0 {
		t.Errorf("gaps in service: %v", c.gaps)
	}
	if !slices.Equal(c.seen, []int32{3, 2}) {
		t.Errorf("replicas updated to %v, want a surge of one and back: [3 2]", c.seen)
	}
	n, _ := c.client.CoreV1().Nodes().Get(context.Background(), "spare", metav1.GetOptions{})
	if !n.Spec.Unschedulable {
		t.Error("the spare is not cordoned")
	}
}

// A vacate cut short left the Deployment surged to 3 with its replicas (2)
// in an annotation: the next vacate scales it back first.
func TestVacateUndoesASurgeLeftBehind(t *testing.T) {
	c := newVacateCluster(t, 3, map[string]string{VacateReplicasAnno: "2"})
	if err := c.nodes.Vacate(context.Background(), "spare", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	d := c.deployment(t)
	if *d.Spec.Replicas != 2 || d.Annotations[VacateReplicasAnno] != "" {
		t.Errorf("deployment replicas %d, annotations %v: want 2 and no vacate annotation", *d.Spec.Replicas, d.Annotations)
	}
	if got := c.podsOn(t, "spare"); !slices.Equal(got, []string{"proxy"}) {
		t.Errorf("pods left on the spare: %v", got)
	}
}

// With no room for the surge, the Deployment still goes back to its
// replicas, the drain still empties the node, and the error says so.
func TestVacateWithoutRoomStillEmptiesTheNode(t *testing.T) {
	c := newVacateCluster(t, 2, nil)
	c.client.PrependReactor("create", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, fmt.Errorf("no room")
	})
	err := c.nodes.Vacate(context.Background(), "spare", 300*time.Millisecond)
	if !errors.Is(err, ErrUngraceful) || !strings.Contains(err.Error(), "replicas Ready off the node") {
		t.Fatalf("err = %v, want ErrUngraceful with the surge's timeout", err)
	}
	if d := c.deployment(t); *d.Spec.Replicas != 2 || d.Annotations[VacateReplicasAnno] != "" {
		t.Errorf("deployment replicas %d, annotations %v: want 2 and no vacate annotation", *d.Spec.Replicas, d.Annotations)
	}
	if got := c.podsOn(t, "spare"); !slices.Equal(got, []string{"proxy"}) {
		t.Errorf("pods left on the spare: %v", got)
	}
}

// A surge left behind on a Deployment with no pod on the node is put back
// too, and Surged lists it until then.
func TestUnsurgeWithNoPodOnTheNode(t *testing.T) {
	c := newVacateCluster(t, 2, nil)
	other := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "other", Namespace: "ns", Annotations: map[string]string{VacateReplicasAnno: "1"}},
		Spec:       appsv1.DeploymentSpec{Replicas: ptrTo(int32(2))},
	}
	if _, err := c.client.AppsV1().Deployments("ns").Create(context.Background(), other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.nodes.Surged(context.Background()); !slices.Equal(got, []string{"ns/other"}) {
		t.Fatalf("surged = %v, want ns/other", got)
	}
	if err := c.nodes.Vacate(context.Background(), "spare", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	d, _ := c.client.AppsV1().Deployments("ns").Get(context.Background(), "other", metav1.GetOptions{})
	if *d.Spec.Replicas != 1 || d.Annotations[VacateReplicasAnno] != "" {
		t.Errorf("other: replicas %d, annotations %v: want 1 and no vacate annotation", *d.Spec.Replicas, d.Annotations)
	}
	if got, _ := c.nodes.Surged(context.Background()); len(got) != 0 {
		t.Errorf("still surged: %v", got)
	}
}
