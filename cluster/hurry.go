package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"
	"sigs.k8s.io/kind/pkg/log"
)

// hurry works on the cluster while kind is still creating it, so that what
// a fresh cluster would do only later is done by the time the workers have
// joined:
//
//   - it signs the cluster-info ConfigMap with the bootstrap token, as the
//     controller manager's bootstrap signer would. Workers discover the
//     cluster through that signature; kubeadm join looks for it every 5 s, and
//     on a busy machine the controller manager signs only after the joins'
//     first look, which costs each join 5 s or more.
//   - once the API server's Service address works on the control-plane
//     node (see apiServiceServes), it applies CoreDNS's
//     patch (see rollDNS), so that CoreDNS rolls while the workers join.
//
// It is an optimisation only: every error is logged at debug level and
// finish still waits on every condition itself. It returns when ctx ends.
func hurry(ctx context.Context, logger log.Logger, connect func() (kubernetes.Interface, error),
	reach func(context.Context, kubernetes.Interface) error, dnsPatch []byte) {
	debug := logger.V(1)
	var client kubernetes.Interface
	// The control plane's kubeconfig exists from kubeadm init's start; the API
	// server answers some seconds later.
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		if client == nil {
			c, err := connect()
			if err != nil {
				return false, nil
			}
			client = c
		}
		_, err := client.Discovery().ServerVersion()
		return err == nil, nil
	})
	if err != nil {
		return
	}
	err = wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		done, err := signClusterInfo(ctx, client)
		if err != nil {
			debug.Infof("sign cluster-info: %v", err)
		}
		return done, nil
	})
	if err != nil {
		return
	}
	debug.Infof("cluster-info is signed for the workers' discovery")
	err = wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return apiServiceServes(ctx, client, func(ctx context.Context) error { return reach(ctx, client) }) == "", nil
	})
	if err != nil {
		return
	}
	if _, err := client.AppsV1().Deployments(metav1.NamespaceSystem).Patch(ctx, "coredns", types.StrategicMergePatchType, dnsPatch, metav1.PatchOptions{}); err != nil {
		debug.Infof("roll CoreDNS early: %v", err)
		return
	}
	debug.Infof("CoreDNS rolled while the workers join")
}

// signClusterInfo adds to the cluster-info ConfigMap the signature of every
// bootstrap token meant for signing that it lacks, exactly as the controller
// manager's bootstrap signer computes it (so that the signer, once it runs,
// finds nothing to change). It reports whether the ConfigMap is signed by at
// least one token.
func signClusterInfo(ctx context.Context, client kubernetes.Interface) (bool, error) {
	cm, err := client.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if err != nil {
		return false, err
	}
	content, ok := cm.Data[bootstrapapi.KubeConfigKey]
	if !ok {
		return false, fmt.Errorf("no %s in cluster-info yet", bootstrapapi.KubeConfigKey)
	}
	secrets, err := client.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{FieldSelector: "type=" + string(bootstrapapi.SecretTypeBootstrapToken)})
	if err != nil {
		return false, err
	}
	signed, changed := false, false
	for _, s := range secrets.Items {
		id, secret := string(s.Data[bootstrapapi.BootstrapTokenIDKey]), string(s.Data[bootstrapapi.BootstrapTokenSecretKey])
		if id == "" || secret == "" || string(s.Data[bootstrapapi.BootstrapTokenUsageSigningKey]) != "true" || expired(&s) {
			continue
		}
		key := bootstrapapi.JWSSignatureKeyPrefix + id
		if _, ok := cm.Data[key]; ok {
			signed = true
			continue
		}
		sig, err := jws.ComputeDetachedSignature(content, id, secret)
		if err != nil {
			return false, err
		}
		cm.Data[key] = sig
		signed, changed = true, true
	}
	if !changed {
		return signed, nil
	}
	_, err = client.CoreV1().ConfigMaps(metav1.NamespacePublic).Update(ctx, cm, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return false, nil // the signer was quicker: look again
	}
	return err == nil, err
}

func expired(s *corev1.Secret) bool {
	exp := string(s.Data[bootstrapapi.BootstrapTokenExpirationKey])
	if exp == "" {
		return false
	}
	t, err := time.Parse(time.RFC3339, exp)
	return err != nil || time.Now().After(t)
}
