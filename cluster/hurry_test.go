package cluster

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"
	"sigs.k8s.io/kind/pkg/log"
)

func bootstrapToken(id, secret string, signing bool, expires string) *corev1.Secret {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.BootstrapTokenSecretPrefix + id, Namespace: "kube-system"},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		Data: map[string][]byte{
			bootstrapapi.BootstrapTokenIDKey:     []byte(id),
			bootstrapapi.BootstrapTokenSecretKey: []byte(secret),
		},
	}
	if signing {
		s.Data[bootstrapapi.BootstrapTokenUsageSigningKey] = []byte("true")
	}
	if expires != "" {
		s.Data[bootstrapapi.BootstrapTokenExpirationKey] = []byte(expires)
	}
	return s
}

// opaque is a Secret with a bootstrap token's data that is not of the token type.
func opaque(name, id, secret string) *corev1.Secret {
	s := bootstrapToken(id, secret, true, "")
	s.Name, s.Type = name, corev1.SecretTypeOpaque
	return s
}

// misnamed is a bootstrap token whose name does not match its id.
func misnamed(name, id, secret string) *corev1.Secret {
	s := bootstrapToken(id, secret, true, "")
	s.Name = name
	return s
}

func clusterInfo(kubeconfig string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.ConfigMapClusterInfo, Namespace: "kube-public"},
		Data: map[string]string{bootstrapapi.KubeConfigKey: kubeconfig}}
}

// The signature is the one kubeadm join verifies, for signing tokens only,
// never for an expired one.
func TestSignClusterInfoSignsAsTheBootstrapSigner(t *testing.T) {
	ctx := context.Background()
	const content = "apiVersion: v1\nkind: Config\nclusters: []\n"
	client := fake.NewClientset(clusterInfo(content),
		bootstrapToken("abcdef", "0123456789abcdef", true, ""),
		bootstrapToken("nosign", "0123456789abcdef", false, ""),
		bootstrapToken("old123", "0123456789abcdef", true, "2001-01-01T00:00:00Z"),
		opaque("bootstrap-token-opaque", "opaque", "0123456789abcdef"),
		misnamed("bootstrap-token-zzzzzz", "wrong1", "0123456789abcdef"))
	signed, err := signClusterInfo(ctx, client)
	if err != nil || !signed {
		t.Fatalf("signClusterInfo = %v, %v; want signed", signed, err)
	}
	cm, _ := client.CoreV1().ConfigMaps("kube-public").Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	sig := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+"abcdef"]
	if !jws.DetachedTokenIsValid(sig, content, "abcdef", "0123456789abcdef") {
		t.Errorf("signature %q does not verify as kubeadm join checks it", sig)
	}
	for _, id := range []string{"nosign", "old123", "opaque", "wrong1"} {
		if _, ok := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id]; ok {
			t.Errorf("signed for token %s, which is not for signing, has expired, is not a token or is misnamed", id)
		}
	}
	// Signed already: nothing to change, still signed.
	rv := cm.ResourceVersion
	if signed, err := signClusterInfo(ctx, client); err != nil || !signed {
		t.Fatalf("second signClusterInfo = %v, %v", signed, err)
	}
	cm, _ = client.CoreV1().ConfigMaps("kube-public").Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if cm.ResourceVersion != rv {
		t.Errorf("cluster-info was updated again though it was signed")
	}
}

func TestSignClusterInfoWithoutATokenIsNotSigned(t *testing.T) {
	client := fake.NewClientset(clusterInfo("x"))
	if signed, err := signClusterInfo(context.Background(), client); err != nil || signed {
		t.Fatalf("signClusterInfo with no token = %v, %v; want not signed, no error", signed, err)
	}
	if signed, _ := signClusterInfo(context.Background(), fake.NewClientset()); signed {
		t.Fatal("signed a cluster-info that does not exist")
	}
}

// hurry waits for the API server, signs cluster-info, holds CoreDNS at no
// replica at once, and releases it (its replicas back, the patch applied)
// only once kube-proxy is ready on the control-plane node.
func TestHurrySignsHoldsThenReleasesCoreDNSOnceKubeProxyServes(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	proxy := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "kube-proxy-x", Namespace: "kube-system", Labels: map[string]string{"k8s-app": "kube-proxy"}},
		Spec: corev1.PodSpec{NodeName: "gd-control-plane"}}
	client := fake.NewClientset(clusterInfo("kc"), bootstrapToken("abcdef", "0123456789abcdef", true, ""), proxy,
		dnsNode("gd-control-plane", true, false, true))
	attempts := 0
	connect := func() (kubernetes.Interface, error) {
		if attempts++; attempts < 2 {
			return nil, errors.New("no kubeconfig yet")
		}
		return client, nil
	}
	done := make(chan struct{})
	reach := func(context.Context, kubernetes.Interface) error { return nil }
	var rolled bool
	go func() { rolled = hurry(ctx, log.NoopLogger{}, connect, reach, true); close(done) }()

	notYet := time.After(2500 * time.Millisecond) // the second look at the API server is 1 s after the first
	for waiting := true; waiting; {
		select {
		case <-done:
			t.Fatal("hurry returned before CoreDNS existed and kube-proxy was ready")
		case <-notYet:
			waiting = false
		}
	}
	cm, _ := client.CoreV1().ConfigMaps("kube-public").Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if _, ok := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+"abcdef"]; !ok {
		t.Error("cluster-info not signed while waiting for kube-proxy")
	}
	// kubeadm makes CoreDNS after cluster-info: hurry holds it as soon as it is there.
	client.AppsV1().Deployments("kube-system").Create(ctx, coreDNS(1, appsv1.DeploymentStatus{}), metav1.CreateOptions{})
	deadline := time.Now().Add(3 * time.Second)
	var d *appsv1.Deployment
	for {
		d, _ = client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
		if d.Annotations[heldReplicas] != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d.Annotations[heldReplicas] != "2" || d.Spec.Replicas == nil || *d.Spec.Replicas != 0 {
		t.Fatalf("CoreDNS replicas %v, annotation %q: want held at 0 with 2 kept", d.Spec.Replicas, d.Annotations[heldReplicas])
	}
	select {
	case <-done:
		t.Fatal("hurry returned before kube-proxy was ready")
	default:
	}
	proxy.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	client.CoreV1().Pods("kube-system").UpdateStatus(ctx, proxy, metav1.UpdateOptions{})
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatal("hurry did not return once kube-proxy was ready")
	}
	if !rolled {
		t.Error("hurry released CoreDNS and says it did not")
	}
	d, _ = client.AppsV1().Deployments("kube-system").Get(ctx, "coredns", metav1.GetOptions{})
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("CoreDNS replicas %v after the release, want its 2 back", d.Spec.Replicas)
	}
	if _, ok := d.Annotations[heldReplicas]; ok {
		t.Errorf("annotation %s left on CoreDNS after the release", heldReplicas)
	}
	if p := d.Spec.Template.Spec.Containers[0].ReadinessProbe; p.PeriodSeconds != 1 {
		t.Errorf("CoreDNS readiness period %d, want 1", p.PeriodSeconds)
	}
	if d.Spec.Template.Spec.NodeSelector["node-role.kubernetes.io/control-plane"] != "" || len(d.Spec.Template.Spec.NodeSelector) != 1 {
		t.Errorf("CoreDNS node selector %v, want pinned to the control plane", d.Spec.Template.Spec.NodeSelector)
	}
}

// With no CoreDNS yet, hurry keeps looking for it (kubeadm makes it late)
// until it is stopped, and then says it did not release it.
func TestHurryWithoutCoreDNSSaysItDidNotRoll(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	proxy := kubeProxy("kube-proxy-x", "gd-control-plane", true)
	client := fake.NewClientset(clusterInfo("kc"), bootstrapToken("abcdef", "0123456789abcdef", true, ""), proxy,
		dnsNode("gd-control-plane", true, false, true))
	connect := func() (kubernetes.Interface, error) { return client, nil }
	reach := func(context.Context, kubernetes.Interface) error { return nil }
	if hurry(ctx, log.NoopLogger{}, connect, reach, false) {
		t.Fatal("hurry says it released a CoreDNS that does not exist")
	}
	if ctx.Err() == nil {
		t.Fatal("hurry gave up on CoreDNS before it was stopped")
	}
	cm, _ := client.CoreV1().ConfigMaps("kube-public").Get(context.Background(), bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if _, ok := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+"abcdef"]; !ok {
		t.Error("hurry never got as far as CoreDNS: cluster-info is not signed")
	}
}

// finish takes over from hurry: nothing to do if hurry rolled CoreDNS;
// otherwise hurry is stopped (its context cancelled) and finish rolls it.
func TestTakeOver(t *testing.T) {
	t.Run("hurry rolled", func(t *testing.T) {
		e := startHurry(context.Background(), func(context.Context) bool { return true })
		<-e.done
		if err := e.takeOver(func() error { t.Error("rolled again though hurry had"); return nil }); err != nil {
			t.Fatal(err)
		}
		e.stop() // again, as Create's defer does: must not block
	})
	t.Run("hurry still waiting", func(t *testing.T) {
		stopped := make(chan struct{})
		e := startHurry(context.Background(), func(ctx context.Context) bool {
			<-ctx.Done()
			close(stopped)
			return false
		})
		rolls := 0
		if err := e.takeOver(func() error {
			select {
			case <-stopped:
			default:
				t.Error("finish rolled while hurry was still at work")
			}
			rolls++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if rolls != 1 {
			t.Errorf("rolled %d times, want 1", rolls)
		}
		e.stop()
	})
	t.Run("hurry gave up", func(t *testing.T) {
		e := startHurry(context.Background(), func(context.Context) bool { return false })
		<-e.done
		want := errors.New("roll failed")
		if err := e.takeOver(func() error { return want }); !errors.Is(err, want) {
			t.Fatalf("takeOver = %v, want finish's own roll and its error", err)
		}
	})
}
