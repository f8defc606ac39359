package engine

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/version"
	fakediscovery "k8s.io/client-go/discovery/fake"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
)

// reuseBackend is a backend with one cluster, made earlier; it makes none.
type reuseBackend struct {
	dir     string
	rec     *cluster.Record
	client  kubernetes.Interface
	deleted []string
}

func (b *reuseBackend) Create(context.Context, cluster.CreateOptions) (*cluster.Record, error) {
	return nil, errors.New("a reused cluster is not created")
}

func (b *reuseBackend) DeployFixtures(context.Context, string, fixtures.DeployOptions, log.Logger) error {
	return nil
}

func (b *reuseBackend) Delete(_ context.Context, name string) error {
	b.deleted = append(b.deleted, name)
	return nil
}

func (b *reuseBackend) Record(name string) (*cluster.Record, error) {
	if b.rec == nil || b.rec.Name != name {
		return nil, fmt.Errorf("%w %q", cluster.ErrNotFound, name)
	}
	return b.rec, nil
}

func (b *reuseBackend) ClientFor(name string) (*cluster.Record, kubernetes.Interface, error) {
	rec, err := b.Record(name)
	return rec, b.client, err
}

func (b *reuseBackend) ClusterDir(name string) string      { return filepath.Join(b.dir, name) }
func (b *reuseBackend) Capabilities() cluster.Capabilities { return cluster.KindCapabilities }

func (b *reuseBackend) AuditLog(name string) string {
	return filepath.Join(b.dir, name, "audit", "audit.log")
}

// A run reuses only a cluster made for its topology, with no run's journal
// left, as gameday leaves a cluster after a run (and, for a game, with the
// audit log); it keeps the cluster when it ends.
func TestReuse(t *testing.T) {
	rt := &kubeletRuntime{}
	old := newNodes
	newNodes = func(c kubernetes.Interface) *cluster.Nodes { return &cluster.Nodes{Client: c, Runtime: rt} }
	t.Cleanup(func() { newNodes = old })

	fresh := func(name string) cluster.Topology { t, _ := cluster.Builtin(name); return t }
	separate := fresh("separate")
	s, _, err := scenarios.Builtin("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	const name = "lab-separate"
	node := func(n, pool string, cordoned bool) *corev1.Node {
		p, _ := separate.Pool(pool)
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n, Labels: map[string]string{cluster.PoolLabel: pool}},
			Spec: corev1.NodeSpec{Unschedulable: cordoned, Taints: p.Taints},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
				NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.37.2"}}}
	}
	objs := func(cordoned bool) []runtime.Object {
		return []runtime.Object{node("cp", cluster.SystemPool, false), node("w1", "frontend", cordoned), node("w2", "backend", false),
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.MarkerConfigMap, Namespace: metav1.NamespaceSystem},
				Data: map[string]string{"spares": `{"backend-next":["w3"]}`}}}
	}
	backend := func(t *testing.T, topo cluster.Topology, cordoned bool) *reuseBackend {
		client := fake.NewClientset(objs(cordoned)...)
		client.Discovery().(*fakediscovery.FakeDiscovery).FakedServerVersion = &version.Info{GitVersion: "v1.37.2"}
		b := &reuseBackend{dir: t.TempDir(), rec: &cluster.Record{Name: name, Topology: topo, Image: "gameday/node:offline", Ports: cluster.TrafficNodePorts}, client: client}
		if err := os.MkdirAll(filepath.Dir(b.AuditLog(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		return b
	}
	reuse := func(b *reuseBackend, o Options) (*Session, error) {
		o.Scenario, o.Name, o.Reuse, o.Logger = s, name, true, log.NoopLogger{}
		if o.Topology.Name == "" {
			o.Topology = separate
		}
		sess := &Session{o: o, b: b, res: &Result{}}
		return sess, sess.reuse(context.Background())
	}
	for _, tc := range []struct {
		what  string
		setup func(b *reuseBackend)
		o     Options
		want  string
	}{
		{what: "no such cluster", setup: func(b *reuseBackend) { b.rec = nil }, want: "make it with `gameday up --topology separate --name " + name + "`"},
		{what: "another topology's", setup: func(b *reuseBackend) { b.rec.Topology = fresh("shared") }, want: "was made for topology shared:"},
		{what: "a pool resized", setup: func(b *reuseBackend) { b.rec.Topology.Pools[1].Size++ }, want: "was made for topology separate:"},
		{what: "a service not mapped", setup: func(b *reuseBackend) { b.rec.Ports = b.rec.Ports[:1] },
			want: "maps no host port to api (NodePort 30081) of system storefront"},
		{what: "a journal left", setup: func(b *reuseBackend) {
			os.MkdirAll(b.ClusterDir(name), 0o755)
			os.WriteFile(filepath.Join(b.ClusterDir(name), JournalFile), nil, 0o644)
		}, want: "`gameday recover --name " + name + "`"},
		{what: "another node image", o: Options{Image: "kindest/node:v1.35.0"}, want: "runs node image gameday/node:offline, not kindest/node:v1.35.0"},
		{what: "a game without the audit log", o: Options{audit: true}, want: "keeps no audit log"},
		{what: "a node left cordoned", setup: func(b *reuseBackend) { b.client = fake.NewClientset(objs(true)...) }, want: "node w1 is cordoned"},
		{what: "a spare's kubelet running", setup: func(*reuseBackend) { rt.kubeletUp = true }, want: "the kubelet of spare node w3 is running"},
		{what: "a node gone", setup: func(b *reuseBackend) {
			_ = b.client.CoreV1().Nodes().Delete(context.Background(), "w2", metav1.DeleteOptions{})
		}, want: "pool backend has 0 of its 1 nodes"},
		{what: "a taint left on a node", setup: func(b *reuseBackend) {
			n, _ := b.client.CoreV1().Nodes().Get(context.Background(), "w1", metav1.GetOptions{})
			n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "team", Value: "blue", Effect: corev1.TaintEffectNoSchedule})
			_, _ = b.client.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{})
		}, want: "node w1 has taint team=blue:NoSchedule, which pool frontend does not give"},
		{what: "a pool's taint removed", setup: func(b *reuseBackend) {
			n, _ := b.client.CoreV1().Nodes().Get(context.Background(), "w2", metav1.GetOptions{})
			n.Spec.Taints = nil
			_, _ = b.client.CoreV1().Nodes().Update(context.Background(), n, metav1.UpdateOptions{})
		}, want: "node w2 lacks taint gameday.dev/pool=backend:NoSchedule of pool backend"},
	} {
		t.Run(tc.what, func(t *testing.T) {
			rt.kubeletUp = false
			b := backend(t, fresh("separate"), false)
			if tc.setup != nil {
				tc.setup(b)
			}
			_, err := reuse(b, tc.o)
			if !errors.Is(err, cluster.ErrNotReusable) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrNotReusable saying %q", err, tc.want)
			}
		})
	}
	rt.kubeletUp = false
	b := backend(t, fresh("separate"), false)
	os.WriteFile(b.AuditLog(name), nil, 0o644)
	sess, err := reuse(b, Options{audit: true, Image: "gameday/node:offline"})
	if err != nil {
		t.Fatalf("a cluster fit for reuse: %v", err)
	}
	if err := sess.Close(); err != nil || len(b.deleted) != 0 {
		t.Errorf("a reused cluster is kept: deleted %v (%v)", b.deleted, err)
	}
}
