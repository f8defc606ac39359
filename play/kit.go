package play

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Credentials is a player's identity on the cluster: a client certificate
// whose common name is the player's name, in PlayersGroup.
type Credentials struct {
	Player   string
	CertPEM  []byte
	KeyPEM   []byte
	NotAfter time.Time
}

// Issue makes a player's credentials through the cluster's own
// CertificateSigningRequest API (signer kubernetes.io/kube-apiserver-client,
// signed by the controller manager with the cluster's CA), approved by
// gameday, valid for validity. The request is deleted once signed.
func Issue(ctx context.Context, client kubernetes.Interface, player string, validity time.Duration) (*Credentials, error) {
	if err := ValidatePlayers([]string{player}); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: player, Organization: []string{PlayersGroup}},
	}, key)
	if err != nil {
		return nil, err
	}
	seconds := int32(validity.Seconds())
	csr := &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "gameday-player-" + player + "-", Labels: map[string]string{Label: "true"}},
		Spec: certv1.CertificateSigningRequestSpec{
			Request:           pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}),
			SignerName:        certv1.KubeAPIServerClientSignerName,
			ExpirationSeconds: &seconds,
			Usages:            []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth},
		},
	}
	csr, err = client.CertificatesV1().CertificateSigningRequests().Create(ctx, csr, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("request a certificate for %s: %w", player, err)
	}
	defer client.CertificatesV1().CertificateSigningRequests().Delete(context.WithoutCancel(ctx), csr.Name, metav1.DeleteOptions{})
	csr.Status.Conditions = append(csr.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: certv1.CertificateApproved, Status: corev1.ConditionTrue,
		Reason: "GamedayPlayer", Message: "a player of a game day, approved by gameday",
	})
	if _, err := client.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{}); err != nil {
		return nil, fmt.Errorf("approve the certificate of %s: %w", player, err)
	}
	var cert []byte
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		got, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, csr.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, err
		}
		if err != nil {
			return false, nil
		}
		for _, c := range got.Status.Conditions {
			if c.Type == certv1.CertificateFailed || c.Type == certv1.CertificateDenied {
				return false, fmt.Errorf("%s: %s", c.Type, c.Message)
			}
		}
		cert = got.Status.Certificate
		return len(cert) > 0, nil
	})
	if err != nil {
		return nil, fmt.Errorf("the certificate of %s was not signed: %w", player, err)
	}
	block, _ := pem.Decode(cert)
	if block == nil {
		return nil, fmt.Errorf("the certificate of %s is not PEM", player)
	}
	parsed, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the certificate of %s: %w", player, err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &Credentials{Player: player, CertPEM: cert, NotAfter: parsed.NotAfter,
		KeyPEM: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})}, nil
}

// WriteKubeconfig writes a kubeconfig for the player's credentials to path
// (mode 0600), for the cluster the admin kubeconfig adminPath points at: the
// same server and CA, the player's identity, one context named after the
// cluster and the player, the app namespace its default.
func WriteKubeconfig(path, adminPath, clusterName, namespace string, c *Credentials) error {
	admin, err := clientcmd.LoadFromFile(adminPath)
	if err != nil {
		return err
	}
	ctx, ok := admin.Contexts[admin.CurrentContext]
	if !ok {
		return fmt.Errorf("%s: no current context", adminPath)
	}
	server, ok := admin.Clusters[ctx.Cluster]
	if !ok {
		return fmt.Errorf("%s: no cluster %q", adminPath, ctx.Cluster)
	}
	name := clusterName + "-" + c.Player
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[clusterName] = server.DeepCopy()
	cfg.AuthInfos[c.Player] = &clientcmdapi.AuthInfo{ClientCertificateData: c.CertPEM, ClientKeyData: c.KeyPEM}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: clusterName, AuthInfo: c.Player, Namespace: namespace}
	cfg.CurrentContext = name
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return clientcmd.WriteToFile(*cfg, path)
}
