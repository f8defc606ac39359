package play

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/scenarios/steps"
)

// kubelets flips a node's readiness as its kubelet starts and stops; the
// spare s1's kubelet, started, registers its Node (tainted out of service)
// at the version the join script gave it (the image has v1.38.0's).
type kubelets struct {
	client  *fake.Clientset
	version *string
}

func (k kubelets) set(ctx context.Context, name string, ready bool) error {
	n, err := k.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) && name == "s1" {
		if !ready {
			return nil
		}
		s1 := node("s1", "app-next", true, false, true)
		s1.Status.NodeInfo.KubeletVersion = "v1.37.2"
		if *k.version == "v1.38.0" {
			s1.Status.NodeInfo.KubeletVersion = *k.version
		}
		_, err = k.client.CoreV1().Nodes().Create(ctx, &s1, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: st}}
	_, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}
func (k kubelets) Stop(ctx context.Context, n string) error  { return k.set(ctx, n, false) }
func (k kubelets) Start(ctx context.Context, n string) error { return k.set(ctx, n, true) }
func (k kubelets) Exec(ctx context.Context, n string, args ...string) error {
	switch strings.Join(args, " ") {
	case "systemctl enable --now kubelet.service", "systemctl start kubelet.service":
		return k.set(ctx, n, true)
	case "systemctl disable --now kubelet.service", "systemctl stop kubelet.service":
		return k.set(ctx, n, false)
	}
	if len(args) == 5 && args[0] == "sh" && args[3] == "sh" { // the join script
		*k.version = args[4]
	}
	return nil
}

type records struct {
	mu   sync.Mutex
	recs []steps.Record
}

func (r *records) Add(rec steps.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recs = append(r.recs, rec)
	return nil
}

func providerCluster(t *testing.T) (*ClusterProvider, *fake.Clientset, *records) {
	t.Helper()
	topo, _ := cluster.Builtin("shared")
	withVersion := func(n corev1.Node) *corev1.Node { n.Status.NodeInfo.KubeletVersion = "v1.37.2"; return &n }
	client := fake.NewClientset(
		withVersion(node("cp", cluster.SystemPool, true, true, false)),
		withVersion(node("w1", "app", false, true, false)), // the pool is lost
		withVersion(node("w2", "app", false, true, false)),
		// The spare s1 (pool app-next) has not joined: no Node.
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: cluster.MarkerConfigMap, Namespace: metav1.NamespaceSystem,
			Annotations: map[string]string{cluster.ControlPlaneVersionAnno: "v1.38.0"}},
			Data: map[string]string{"spares": `{"app-next":["s1"]}`}},
	)
	rec := &records{}
	env := &steps.Env{Client: client, Nodes: &cluster.Nodes{Client: client, Runtime: kubelets{client, new(string)}}, Topology: topo, Journal: rec}
	return &ClusterProvider{Env: env}, client, rec
}

func TestClusterProviderNodeGroups(t *testing.T) {
	p, _, _ := providerCluster(t)
	ctx := context.Background()
	if v, err := p.ControlPlaneVersion(ctx); err != nil || v != "v1.38.0" {
		t.Fatalf("control plane version %q, %v; want the recorded upgrade", v, err)
	}
	gs, err := p.NodeGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 1 || gs[0].Name != "app" || gs[0].Status != StatusDegraded || gs[0].Size != 0 || gs[0].Desired != 2 || gs[0].Version != "v1.37.2" {
		t.Fatalf("node groups %+v, want app degraded, 0 of 2 (no group for the spare capacity)", gs)
	}
	if len(gs[0].Health) != 1 || !strings.HasPrefix(gs[0].Health[0], "NodeNotReady: 2 of 2") {
		t.Errorf("health %v", gs[0].Health)
	}
}

// A group made in the console is a spare pool's capacity, journaled before
// it joins; the cluster's own groups cannot be deleted from the console.
func TestClusterProviderProvisionsFromTheSpare(t *testing.T) {
	p, client, rec := providerCluster(t)
	ctx := context.Background()
	g, err := p.Provision(ctx, "workers-v138", "v1.38.0")
	if err != nil {
		t.Fatal(err)
	}
	if g.Size != 1 || g.Status != StatusActive {
		t.Errorf("new group %+v", g)
	}
	if len(rec.recs) != 1 || rec.recs[0].Kind != steps.KindOutOfService || rec.recs[0].Target != "s1" {
		t.Errorf("journal %+v, want s1's out-of-service record before it joined", rec.recs)
	}
	s1, _ := client.CoreV1().Nodes().Get(ctx, "s1", metav1.GetOptions{})
	if !cluster.IsReady(s1) || !cluster.InService(s1) || s1.Spec.Unschedulable {
		t.Errorf("s1 not in service: %+v", s1.Spec)
	}
	if v := s1.Status.NodeInfo.KubeletVersion; v != "v1.38.0" {
		t.Errorf("s1 joined at %s, want the group's v1.38.0", v)
	}
	gs, _ := p.NodeGroups(ctx)
	if len(gs) != 2 || gs[1].Name != "workers-v138" || gs[1].Version != "v1.38.0" || gs[1].Size != 1 {
		t.Errorf("groups %+v", gs)
	}
	if _, err := p.Provision(ctx, "again", "v1.38.0"); err == nil {
		t.Error("a second group got capacity that is not there")
	}
	if err := p.Retire(ctx, "app"); !errors.Is(err, ErrInUse) {
		t.Errorf("Retire(app) = %v, want ErrInUse", err)
	}
	// Deleted, its capacity leaves the cluster: no Node until it joins again.
	if err := p.Retire(ctx, "workers-v138"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Nodes().Get(ctx, "s1", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("s1's Node after the group's deletion: %v, want none", err)
	}
}
