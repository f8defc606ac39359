package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
)

// fakeCluster is the shared topology on the fake clientset: a control-plane
// node, pool app (2 nodes) with two pods of each tier, the spare app-next out
// of service, the fixtures deployed and gameday's marker. Its container
// runtime flips nodes' readiness as a kubelet would.
type fakeCluster struct {
	env     *Env
	client  *fake.Clientset
	runtime *fakeRuntime
	journal *memJournal
}

const (
	kubeletVersion = "v1.37.2"
	apiServerRepo  = "registry.k8s.io/kube-apiserver"
)

func newFakeCluster(t *testing.T) *fakeCluster {
	t.Helper()
	topo, _ := cluster.Builtin("shared")
	objs := []runtime.Object{
		node("gameday-control-plane", cluster.SystemPool, true),
		node("gameday-worker", "app", true),
		node("gameday-worker2", "app", true),
		// The spare gameday-worker3 (pool app-next) has not joined: no Node.
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.MarkerConfigMap, Namespace: metav1.NamespaceSystem},
			Data: map[string]string{"spares": `{"app-next":["gameday-worker3"]}`}},
		&corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: "kube-apiserver-gameday-control-plane", Namespace: metav1.NamespaceSystem, Annotations: map[string]string{corev1.MirrorPodAnnotationKey: "static"}},
			Spec:       corev1.PodSpec{NodeName: "gameday-control-plane", Containers: []corev1.Container{{Name: "kube-apiserver", Image: apiServerRepo + ":" + kubeletVersion}}},
		},
	}
	manifests, err := fixtures.Manifests(topo, fixtures.DefaultParams("mockapp:test"))
	if err != nil {
		t.Fatal(err)
	}
	objs = append(objs, manifests.Namespace)
	for _, d := range manifests.Deployments {
		objs = append(objs, d)
		for i, n := range []string{"gameday-worker", "gameday-worker2"} {
			objs = append(objs, &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", d.Name, i), Namespace: fixtures.Namespace, Labels: d.Spec.Template.Labels,
					OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: d.Name + "-rs", UID: "rs", Controller: ptr(true)}}},
				Spec: corev1.PodSpec{NodeName: n},
			})
		}
	}
	client := fake.NewClientset(objs...)
	// The drain helper asks discovery whether evictions are served; without
	// them it deletes pods, which the fake clientset supports (the e2e drains
	// through real evictions).
	client.Resources = []*metav1.APIResourceList{{GroupVersion: "v1", APIResources: []metav1.APIResource{{Name: "pods", Kind: "Pod", Namespaced: true}}}}
	client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: kubeletVersion}
	// RBAC answers as on a cluster whose API server serves.
	client.PrependReactor("create", "subjectaccessreviews", func(a k8stesting.Action) (bool, runtime.Object, error) {
		sar := a.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
		sar.Status.Allowed = true
		return true, sar, nil
	})
	rt := &fakeRuntime{client: client, stopped: map[string]string{"gameday-worker3": "kubelet"}, images: map[string]bool{
		apiServerRepo + ":" + kubeletVersion: true, apiServerRepo + ":v1.38.0": true},
		spares: map[string]string{"gameday-worker3": "app-next"}, kubelets: map[string]string{}}
	j := &memJournal{}
	return &fakeCluster{
		env: &Env{
			Client: client, Nodes: &cluster.Nodes{Client: client, Runtime: rt}, Topology: topo,
			Releases: map[fixtures.Tier]string{fixtures.Frontend: "v1", fixtures.API: "v1", fixtures.Workers: "v1"},
			Rand:     NewRand(1, 2), Journal: j,
		},
		client: client, runtime: rt, journal: j,
	}
}

func node(name, pool string, ready bool) *corev1.Node {
	status := corev1.ConditionFalse
	if ready {
		status = corev1.ConditionTrue
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{cluster.PoolLabel: pool}},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: status}},
			NodeInfo:   corev1.NodeSystemInfo{KubeletVersion: kubeletVersion},
		},
	}
}

// fakeRuntime stands for docker: stopping a node's container or kubelet
// makes the node NotReady, starting it makes it Ready; a spare's kubelet,
// started, registers its Node as kubeadm's flags say (pool label, tainted
// out of service), at the version of the kubelet it was given.
type fakeRuntime struct {
	client   *fake.Clientset
	mu       sync.Mutex
	stopped  map[string]string // node -> "container" or "kubelet"
	calls    []string
	images   map[string]bool   // the control-plane node's images
	spares   map[string]string // spare node -> its pool
	kubelets map[string]string // spare node -> the version its kubelet was given
}

func (r *fakeRuntime) set(ctx context.Context, name string, ready bool, what string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf("%s %s %v", what, name, ready))
	_, wasStopped := r.stopped[name]
	if ready {
		delete(r.stopped, name)
	} else {
		r.stopped[name] = what
	}
	n, err := r.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && r.spares[name] != "" {
		// A kubelet registers its Node as it starts, never while it runs;
		// a spare that has not joined stays unknown.
		if !ready || !wasStopped {
			return nil
		}
		n = node(name, r.spares[name], true)
		n.Labels[cluster.ReplacesLabel] = "app"
		n.Spec.Taints = []corev1.Taint{{Key: cluster.OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoExecute}}
		if v := r.kubelets[name]; v != "" {
			n.Status.NodeInfo.KubeletVersion = v
		}
		_, err = r.client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: map[bool]corev1.ConditionStatus{true: corev1.ConditionTrue, false: corev1.ConditionFalse}[ready]}}
	_, err = r.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

func (r *fakeRuntime) Stop(ctx context.Context, node string) error {
	return r.set(ctx, node, false, "container")
}
func (r *fakeRuntime) Start(ctx context.Context, node string) error {
	return r.set(ctx, node, true, "container")
}
func (r *fakeRuntime) Exec(ctx context.Context, node string, args ...string) error {
	switch strings.Join(args, " ") {
	case "systemctl stop kubelet.service", "systemctl disable --now kubelet.service":
		return r.set(ctx, node, false, "kubelet")
	case "systemctl start kubelet.service", "systemctl enable --now kubelet.service":
		return r.set(ctx, node, true, "kubelet")
	}
	switch {
	case len(args) == 5 && args[0] == "sh" && args[3] == "sh" && !strings.Contains(args[2], cluster.APIServerManifest):
		// the join script: a spare gets the kubelet of version args[4] (the image has v1.38.0's)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.kubelets[node] = ""
		if args[4] == "v1.38.0" {
			r.kubelets[node] = args[4]
		}
		return nil
	case len(args) == 3 && args[0] == "sh" && strings.Contains(args[2], "kubelet.orig"):
		// the unjoin script: the spare's own kubelet back
		r.mu.Lock()
		defer r.mu.Unlock()
		r.kubelets[node] = ""
		return nil
	case len(args) == 4 && args[0] == "crictl" && args[1] == "inspecti":
		if !r.images[args[3]] {
			return fmt.Errorf(`level=error msg="no such image \"%s\" present"`, args[3])
		}
		return nil
	case len(args) == 5 && args[0] == "sh" && strings.Contains(args[2], cluster.APIServerManifest):
		// The API server restarts into the image the manifest names.
		image := args[4]
		r.mu.Lock()
		r.calls = append(r.calls, "api-server "+image)
		r.mu.Unlock()
		pod, err := r.client.CoreV1().Pods(metav1.NamespaceSystem).Get(ctx, "kube-apiserver-"+node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		pod.Spec.Containers[0].Image = image
		if _, err := r.client.CoreV1().Pods(metav1.NamespaceSystem).Update(ctx, pod, metav1.UpdateOptions{}); err != nil {
			return err
		}
		r.client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: image[strings.LastIndex(image, ":")+1:]}
		return nil
	}
	return fmt.Errorf("unexpected exec %v", args)
}

func (fc *fakeCluster) serverVersion(t *testing.T) string {
	t.Helper()
	v, err := fc.client.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	return v.GitVersion
}

func (r *fakeRuntime) isStopped(node string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.stopped[node]
	return ok
}

// memJournal keeps the first record per key, as the engine's journal does.
type memJournal struct {
	mu   sync.Mutex
	recs []Record
}

func (j *memJournal) Add(r Record) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !slices.ContainsFunc(j.recs, func(o Record) bool { return o.Key() == r.Key() }) {
		j.recs = append(j.recs, r)
	}
	return nil
}

func (j *memJournal) records() []Record {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.recs)
}

func ptr[T any](v T) *T { return &v }
