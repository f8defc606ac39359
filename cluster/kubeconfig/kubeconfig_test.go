package kubeconfig

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"gameday.dev/gameday/cluster"
)

const twoContexts = `apiVersion: v1
kind: Config
current-context: prod
clusters:
- name: staging-eu
  cluster: {server: SERVER}
- name: prod-eu
  cluster: {server: https://prod.example.invalid}
contexts:
- name: staging
  context: {cluster: staging-eu, user: me, namespace: shop}
- name: prod
  context: {cluster: prod-eu, user: me}
- name: dangling
  context: {cluster: gone, user: me}
users:
- name: me
  user: {token: abc}
`

func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(f, []byte(strings.Replace(twoContexts, "SERVER", server, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenNeedsANamedContext(t *testing.T) {
	f := writeKubeconfig(t, "https://staging.example.invalid")
	_, err := Open(f, "")
	if !errors.Is(err, ErrNoContext) {
		t.Fatalf("no context: %v, want ErrNoContext", err)
	}
	// It never falls back to the current one, and names the choices.
	for _, want := range []string{"never uses the current context, here prod", "dangling, prod, staging"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if _, err := Open(f, "stagin"); !errors.Is(err, ErrUnknownContext) || !strings.Contains(err.Error(), `"stagin"`) {
		t.Errorf("unknown context: %v", err)
	}
	if _, err := Open(f, "dangling"); !errors.Is(err, ErrKubeconfig) || !strings.Contains(err.Error(), `cluster "gone"`) {
		t.Errorf("a context naming no cluster: %v", err)
	}
	tg, err := Open(f, "staging")
	if err != nil {
		t.Fatal(err)
	}
	if tg.Server != "https://staging.example.invalid" || tg.Cluster != "staging-eu" || tg.Namespace != "shop" {
		t.Errorf("target %+v", tg)
	}
	if got := tg.String(); got != `context "staging" (cluster staging-eu, API server https://staging.example.invalid)` {
		t.Errorf("String() = %s", got)
	}
}

func TestOpenRefusesWhatIsNotAKubeconfig(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big")
	if err := os.WriteFile(big, make([]byte, maxKubeconfig+1), 0o600); err != nil {
		t.Fatal(err)
	}
	junk := filepath.Join(dir, "junk")
	if err := os.WriteFile(junk, []byte("clusters: [1, 2"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{dir, big, junk, filepath.Join(dir, "missing")} {
		if _, err := Open(f, "staging"); !errors.Is(err, ErrKubeconfig) {
			t.Errorf("%s: %v, want ErrKubeconfig", f, err)
		}
	}
}

func TestReach(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/version" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"major":"1","minor":"37","gitVersion":"v1.37.2"}`))
	}))
	defer srv.Close()
	tg, err := Open(writeKubeconfig(t, srv.URL), "staging")
	if err != nil {
		t.Fatal(err)
	}
	v, err := tg.Reach(context.Background(), 5*time.Second)
	if err != nil || v != "v1.37.2" {
		t.Fatalf("Reach = %q, %v", v, err)
	}

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	tg, err = Open(writeKubeconfig(t, closed), "staging")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Reach(context.Background(), 2*time.Second); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), closed) {
		t.Fatalf("unreachable: %v", err)
	}
}

func node(name string, labels map[string]string, taints ...corev1.Taint) *corev1.Node {
	return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.NodeSpec{Taints: taints},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
}

func ns(name string, annotations map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}}
}

const eks = "eks.amazonaws.com/nodegroup"

func TestDiscoverOnlyWhatIsOptedIn(t *testing.T) {
	in := map[string]string{AllowKey: Allowed}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	client := fake.NewSimpleClientset(
		// An opted-in control plane is still the control plane.
		node("cp", with(AllowKey, Allowed, "node-role.kubernetes.io/control-plane", "")),
		node("tainted-cp", with(AllowKey, Allowed, eks, "system"), corev1.Taint{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}),
		node("web-1", with(AllowKey, Allowed, eks, "web")),
		node("api-1", with(AllowKey, Allowed, eks, "api", "cloud.google.com/gke-nodepool", "other")),
		node("api-2", with(eks, "api")),                  // not opted in
		node("api-3", with(AllowKey, "yes", eks, "api")), // "yes" is not "true"
		node("loose", in),                                // opted in, in no pool
		ns("kube-system", with(AllowKey, Allowed)),       // never, annotated or not
		ns("shop", with(AllowKey, Allowed)),
		ns("billing", nil),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "labelled", Labels: in}}, // a label is not the annotation
	)
	inv, err := Discover(context.Background(), client, "")
	if err != nil {
		t.Fatal(err)
	}
	if inv.PoolKey != eks {
		t.Errorf("pool key %q, want EKS's (the first of PoolKeys an opted-in node carries)", inv.PoolKey)
	}
	allowed := map[string]bool{}
	for _, n := range inv.Nodes {
		allowed[n.Name] = n.Allowed
		if n.Why == "" {
			t.Errorf("node %s: no reason", n.Name)
		}
	}
	want := map[string]bool{"cp": false, "tainted-cp": false, "web-1": true, "api-1": true, "api-2": false, "api-3": false, "loose": false}
	for n, w := range want {
		if allowed[n] != w {
			t.Errorf("node %s allowed=%v, want %v", n, allowed[n], w)
		}
	}
	if got := strings.Join(inv.PoolNames(), ","); got != "api,web" {
		t.Errorf("pools %s", got)
	}
	if got := strings.Join(inv.AllowedNamespaces(), ","); got != "shop" {
		t.Errorf("namespaces %s", got)
	}
	if err := inv.Usable(); err != nil {
		t.Error(err)
	}

	// The key given wins over detection.
	inv, err = Discover(context.Background(), client, "cloud.google.com/gke-nodepool")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(inv.PoolNames(), ","); got != "other" {
		t.Errorf("pools by GKE's key: %s", got)
	}
}

func TestUsableSaysWhatToDo(t *testing.T) {
	none := fake.NewSimpleClientset(node("a", map[string]string{eks: "web"}))
	inv, err := Discover(context.Background(), none, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Usable(); !errors.Is(err, ErrNoTarget) || !strings.Contains(err.Error(), "kubectl label node NAME gameday.dev/allow=true") {
		t.Errorf("no node opted in: %v", err)
	}
	loose := fake.NewSimpleClientset(node("a", map[string]string{AllowKey: Allowed, "team": "web"}))
	inv, err = Discover(context.Background(), loose, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Usable(); !errors.Is(err, ErrNoTarget) || !strings.Contains(err.Error(), "--pool-label") {
		t.Errorf("opted in, no pool label: %v", err)
	}
	inv, err = Discover(context.Background(), loose, "team")
	if err != nil {
		t.Fatal(err)
	}
	if err := inv.Usable(); err != nil {
		t.Errorf("with --pool-label team: %v", err)
	}
}

func TestCapabilities(t *testing.T) {
	k := cluster.KubeconfigCapabilities
	if k.StopMachine || k.StopKubelet || k.UpgradeControlPlane || k.LoadImage || !k.EmulateNodeLoss {
		t.Errorf("kubeconfig can %v", k.Can())
	}
	if len(cluster.KindCapabilities.Cannot()) != 2 || cluster.KindCapabilities.EmulateNodeLoss {
		t.Errorf("kind cannot %v", cluster.KindCapabilities.Cannot())
	}
}

func TestOpenResolvesPathsFromTheFilesFolder(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "kubeconfig")
	data := strings.Replace(twoContexts, "cluster: {server: SERVER}", "cluster: {server: https://staging.example.invalid, certificate-authority: ca.crt}", 1)
	if err := os.WriteFile(f, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(f, "staging")
	// The file is found beside the kubeconfig (and refused for what it holds),
	// not looked for in the working folder.
	if err == nil || strings.Contains(err.Error(), "no such file") {
		t.Fatalf("CA beside the kubeconfig: %v", err)
	}
}

func TestReachRefusedCredentials(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}`))
	}))
	defer srv.Close()
	tg, err := Open(writeKubeconfig(t, srv.URL), "staging")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tg.Reach(context.Background(), 5*time.Second); !errors.Is(err, ErrRefused) {
		t.Fatalf("401: %v, want ErrRefused", err)
	}
	// A server that takes the connection and never answers: unreachable at the timeout.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	tg, err = Open(writeKubeconfig(t, hang.URL), "staging")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := tg.Reach(context.Background(), time.Second); !errors.Is(err, ErrUnreachable) || time.Since(start) > 5*time.Second {
		t.Fatalf("a server that never answers: %v after %s", err, time.Since(start))
	}
}

func TestRKEControlPlaneIsNever(t *testing.T) {
	for _, key := range []string{"node-role.kubernetes.io/controlplane", "node-role.kubernetes.io/etcd", "node-role.kubernetes.io/master"} {
		n := node("x", map[string]string{AllowKey: Allowed, key: "true"})
		if ok, why := AllowNode(n); ok || !strings.HasPrefix(why, "never") {
			t.Errorf("%s: allowed=%v %s", key, ok, why)
		}
	}
}

// None of gameday's own labels names the node groups: it sets or reads
// them itself for the run (pool, replaces, allow).
func TestOwnLabelsAreNoPoolLabel(t *testing.T) {
	for _, key := range []string{"gameday.dev/pool", "gameday.dev/replaces", "gameday.dev/allow"} {
		if _, err := Discover(context.Background(), fake.NewClientset(), key); !errors.Is(err, ErrOwnLabel) {
			t.Errorf("--pool-label %s: %v", key, err)
		}
	}
}
