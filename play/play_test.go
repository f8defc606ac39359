package play

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestValidatePlayers(t *testing.T) {
	if err := ValidatePlayers([]string{"alice", "bob-2", "c", "systems-amy"}); err != nil {
		t.Fatal(err)
	}
	for _, bad := range [][]string{
		nil, {"Alice"}, {"al ice"}, {"-bob"}, {"bob-"}, {"a.b"}, {"x_y"}, {""},
		{string(make([]byte, 64))}, {"admin"}, {"system"}, {"system:masters"}, {"gameday"}, {"alice", "alice"},
	} {
		if err := ValidatePlayers(bad); !errors.Is(err, ErrBadPlayer) {
			t.Errorf("ValidatePlayers(%q) = %v, want ErrBadPlayer", bad, err)
		}
	}
}

// The app namespace's rights are exactly the on-call engineer's; nothing
// in them reaches RBAC, Secrets, or other namespaces.
func TestRightsAreAnOnCallEngineers(t *testing.T) {
	r := RightsFor("app")
	if len(r.Roles) != 1 || r.Roles[0].Namespace != "app" || len(r.RoleBindings) != 1 || r.RoleBindings[0].Namespace != "app" {
		t.Fatalf("changes are granted outside the app namespace: %+v %+v", r.Roles, r.RoleBindings)
	}
	can := func(rules []rbacv1.PolicyRule, group, resource, verb string) bool {
		return slices.ContainsFunc(rules, func(p rbacv1.PolicyRule) bool {
			return (slices.Contains(p.APIGroups, group) || slices.Contains(p.APIGroups, "*")) &&
				(slices.Contains(p.Resources, resource) || slices.Contains(p.Resources, "*")) && slices.Contains(p.Verbs, verb)
		})
	}
	app := r.Roles[0].Rules
	for _, want := range [][3]string{
		{"apps", "deployments", "patch"}, {"apps", "replicasets", "delete"}, {"", "pods", "delete"}, {"", "services", "update"},
		{"", "configmaps", "create"}, {"policy", "poddisruptionbudgets", "patch"}, {"autoscaling", "horizontalpodautoscalers", "create"},
		{"", "pods/exec", "create"}, {"", "pods/log", "get"}, {"", "pods/eviction", "create"},
	} {
		if !can(app, want[0], want[1], want[2]) {
			t.Errorf("players cannot %s %s.%s in the app namespace", want[2], want[1], want[0])
		}
	}
	var cluster []rbacv1.PolicyRule
	for _, cr := range r.ClusterRoles {
		cluster = append(cluster, cr.Rules...)
	}
	for _, rules := range [][]rbacv1.PolicyRule{app, cluster} {
		for _, never := range [][3]string{
			{"rbac.authorization.k8s.io", "roles", "create"}, {"rbac.authorization.k8s.io", "clusterrolebindings", "create"},
			{"", "secrets", "get"}, {"", "nodes", "delete"}, {"", "namespaces", "delete"}, {"", "nodes", "create"},
			{"admissionregistration.k8s.io", "validatingadmissionpolicies", "delete"},
		} {
			if can(rules, never[0], never[1], never[2]) {
				t.Errorf("players can %s %s.%s", never[2], never[1], never[0])
			}
		}
	}
	if !can(cluster, "", "nodes", "patch") || !can(cluster, "", "nodes", "list") {
		t.Error("players cannot cordon or list nodes")
	}
	for _, b := range r.ClusterRoleBindings {
		if b.RoleRef.Name == "view" && b.Subjects[0].Name == PlayersGroup {
			return
		}
	}
	t.Error("players cannot read as Kubernetes' view role does")
}

// Grant makes the objects (twice is fine), Revoke removes every one it made
// and nothing else.
func TestGrantThenRevoke(t *testing.T) {
	ctx := context.Background()
	other := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "someone-elses"}}
	client := fake.NewClientset(other, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "app", Labels: map[string]string{"team": "shop"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "strict", Labels: map[string]string{podSecurityEnforce: "restricted"}}})
	r := RightsFor("app")
	for range 2 {
		if err := Grant(ctx, client, r); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{}); len(l.Items) != len(r.ClusterRoleBindings) {
		t.Fatalf("%d cluster role bindings, want %d", len(l.Items), len(r.ClusterRoleBindings))
	}
	if _, err := client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().Get(ctx, r.PolicyBinding.Name, metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	// Players' pods are held to Pod Security's baseline during the game.
	if ns, _ := client.CoreV1().Namespaces().Get(ctx, "app", metav1.GetOptions{}); ns.Labels[podSecurityEnforce] != "baseline" {
		t.Errorf("namespace app labels %v, want pod security enforced at baseline", ns.Labels)
	}
	if err := Revoke(ctx, client, "app"); err != nil {
		t.Fatal(err)
	}
	if ns, _ := client.CoreV1().Namespaces().Get(ctx, "app", metav1.GetOptions{}); len(ns.Labels) != 1 || ns.Labels["team"] != "shop" || len(ns.Annotations) != 0 {
		t.Errorf("namespace app after Revoke: labels %v, annotations %v; want as before the game", ns.Labels, ns.Annotations)
	}
	// A level the namespace had is its own: kept, and not taken away.
	if err := Grant(ctx, client, RightsFor("strict")); err != nil {
		t.Fatal(err)
	}
	if err := Revoke(ctx, client, "strict"); err != nil {
		t.Fatal(err)
	}
	if ns, _ := client.CoreV1().Namespaces().Get(ctx, "strict", metav1.GetOptions{}); ns.Labels[podSecurityEnforce] != "restricted" {
		t.Errorf("namespace strict labels %v, want its own level kept", ns.Labels)
	}
	crs, _ := client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if len(crs.Items) != 1 || crs.Items[0].Name != "someone-elses" {
		t.Errorf("cluster roles after Revoke: %v", crs.Items)
	}
	for _, n := range []int{
		len(must(client.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})).Items),
		len(must(client.RbacV1().Roles("app").List(ctx, metav1.ListOptions{})).Items),
		len(must(client.RbacV1().RoleBindings("app").List(ctx, metav1.ListOptions{})).Items),
		len(must(client.AdmissionregistrationV1().ValidatingAdmissionPolicies().List(ctx, metav1.ListOptions{})).Items),
		len(must(client.AdmissionregistrationV1().ValidatingAdmissionPolicyBindings().List(ctx, metav1.ListOptions{})).Items),
	} {
		if n != 0 {
			t.Errorf("Revoke left %d objects of a kind", n)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// signer stands in for the controller manager: it signs approved requests
// for the kube-apiserver-client signer with a test CA.
func signer(t *testing.T, client *fake.Clientset) {
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test-ca"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign}
	w, err := client.CertificatesV1().CertificateSigningRequests().Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev := range w.ResultChan() {
			csr, ok := ev.Object.(*certv1.CertificateSigningRequest)
			if !ok || ev.Type != watch.Modified || len(csr.Status.Certificate) > 0 || csr.Spec.SignerName != certv1.KubeAPIServerClientSignerName {
				continue
			}
			approved := slices.ContainsFunc(csr.Status.Conditions, func(c certv1.CertificateSigningRequestCondition) bool { return c.Type == certv1.CertificateApproved })
			if !approved {
				continue
			}
			block, _ := pem.Decode(csr.Spec.Request)
			req, err := x509.ParseCertificateRequest(block.Bytes)
			if err != nil {
				t.Error(err)
				return
			}
			tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: req.Subject, NotBefore: time.Now(),
				NotAfter: time.Now().Add(time.Duration(*csr.Spec.ExpirationSeconds) * time.Second), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, req.PublicKey, caKey)
			if err != nil {
				t.Error(err)
				return
			}
			csr.Status.Certificate = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
			client.CertificatesV1().CertificateSigningRequests().UpdateStatus(context.Background(), csr, metav1.UpdateOptions{})
		}
	}()
	t.Cleanup(w.Stop)
}

// A player's certificate names them, puts them in the players' group, and
// is approved by gameday; the request does not outlive the issue.
func TestIssueMakesTheirIdentity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client := fake.NewClientset()
	signer(t, client)
	c, err := Issue(ctx, client, "alice", 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(c.CertPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "alice" || !slices.Equal(cert.Subject.Organization, []string{PlayersGroup}) {
		t.Errorf("certificate subject %v, want CN alice, O %s", cert.Subject, PlayersGroup)
	}
	if d := time.Until(c.NotAfter); d < 119*time.Minute || d > 121*time.Minute {
		t.Errorf("valid for %s, want 2h", d)
	}
	if l, _ := client.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{}); len(l.Items) != 0 {
		t.Errorf("%d certificate requests left", len(l.Items))
	}
	if _, err := Issue(ctx, client, "Not A Name", time.Hour); !errors.Is(err, ErrBadPlayer) {
		t.Errorf("Issue for a bad name = %v, want ErrBadPlayer before any request", err)
	}
}

// The player's kubeconfig reaches the admin's server with the admin's CA, as
// the player, in the app namespace, readable by its owner only.
func TestWriteKubeconfig(t *testing.T) {
	dir := t.TempDir()
	admin := clientcmdapi.NewConfig()
	admin.Clusters["kind-x"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:4321", CertificateAuthorityData: []byte("ca")}
	admin.AuthInfos["kind-x"] = &clientcmdapi.AuthInfo{ClientCertificateData: []byte("admin-cert"), ClientKeyData: []byte("admin-key")}
	admin.Contexts["kind-x"] = &clientcmdapi.Context{Cluster: "kind-x", AuthInfo: "kind-x"}
	admin.CurrentContext = "kind-x"
	adminPath := filepath.Join(dir, "admin")
	if err := clientcmd.WriteToFile(*admin, adminPath); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "players", "alice", "kubeconfig")
	if err := WriteKubeconfig(path, adminPath, "gd", "app", &Credentials{Player: "alice", CertPEM: []byte("cert"), KeyPEM: []byte("key")}); err != nil {
		t.Fatal(err)
	}
	got, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := got.Contexts[got.CurrentContext]
	if ctx == nil || ctx.Namespace != "app" || got.Clusters[ctx.Cluster].Server != "https://127.0.0.1:4321" ||
		string(got.Clusters[ctx.Cluster].CertificateAuthorityData) != "ca" || string(got.AuthInfos[ctx.AuthInfo].ClientCertificateData) != "cert" {
		t.Errorf("player kubeconfig %+v", got)
	}
	if len(got.AuthInfos) != 1 {
		t.Error("the admin's credentials are in the player's kubeconfig")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
}
