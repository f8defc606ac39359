package cluster

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"
	"sigs.k8s.io/kind/pkg/log"
)

// early runs hurry beside kind's create.
type early struct {
	cancel context.CancelFunc
	rolled chan bool     // hurry's result, once
	done   chan struct{} // closed when hurry has returned
}

func startHurry(ctx context.Context, hurry func(context.Context) bool) *early {
	ctx, cancel := context.WithCancel(ctx)
	e := &early{cancel: cancel, rolled: make(chan bool, 1), done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.rolled <- hurry(ctx)
	}()
	return e
}

// stop ends hurry and waits for it; it may be called more than once.
func (e *early) stop() {
	e.cancel()
	<-e.done
}

// takeOver is finish's turn: if hurry has released CoreDNS, nothing is left
// to do; otherwise hurry is stopped (it will not get further in this cluster
// than finish) and roll does the same work, with finish's own client and
// deadline: it releases CoreDNS if hurry held it, else rolls it. (Patching
// twice changes nothing.)
func (e *early) takeOver(roll func() error) error {
	select {
	case rolled := <-e.rolled:
		if rolled {
			return nil
		}
	default:
	}
	e.stop()
	return roll()
}

// hurry works on the cluster while kind is still creating it, so that what
// a fresh cluster would do only later is done by the time the workers have
// joined:
//
//   - it signs the cluster-info ConfigMap with the bootstrap token, as the
//     controller manager's bootstrap signer would. Workers discover the
//     cluster through that signature; kubeadm join looks for it every 5 s, and
//     on a busy machine the controller manager signs only after the joins'
//     first look, which costs each join 5 s or more.
//   - as soon as kubeadm has made CoreDNS's Deployment, it holds it at no
//     replica (see holdDNS), and once the API server's Service address
//     works on the control-plane node (see apiServiceServes) it releases it
//     (see releaseDNS and rollDNS), so that CoreDNS's first pods start as
//     early as they can work, with one poller of the address.
//
// It reports whether it released CoreDNS; when finish comes to CoreDNS and
// hurry has not, finish stops hurry and releases (or rolls) it itself. Every
// error is logged at debug level; hurry returns when it has released CoreDNS
// or when ctx ends.
func hurry(ctx context.Context, logger log.Logger, connect func() (kubernetes.Interface, error),
	reach func(context.Context, kubernetes.Interface) error, pin bool) (rolled bool) {
	debug := logger.V(1)
	var client kubernetes.Interface
	// The control plane's kubeconfig exists from kubeadm init's start; the API
	// server answers some seconds later, the first join some seconds after.
	// Each look is a few docker commands: once a second.
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
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
		return false
	}
	err = wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		done, err := signClusterInfo(ctx, client)
		if err != nil {
			debug.Infof("sign cluster-info: %v", err)
		}
		return done, nil
	})
	if err != nil {
		return false
	}
	debug.Infof("cluster-info is signed for the workers' discovery")
	err = wait.PollUntilContextCancel(ctx, 250*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := holdDNS(ctx, client, pin)
		if err != nil && !apierrors.IsNotFound(err) {
			debug.Infof("hold CoreDNS: %v", err)
		}
		return err == nil, nil
	})
	if err != nil {
		return false
	}
	debug.Infof("CoreDNS held at no replica until kube-proxy serves on the control plane")
	// Each look at the address is a command in the node: not too often.
	err = wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		return apiServiceServes(ctx, client, func(ctx context.Context) error { return reach(ctx, client) }) == "", nil
	})
	if err != nil {
		return false
	}
	if err := releaseDNS(ctx, client, pin); err != nil {
		debug.Infof("release CoreDNS early: %v", err)
		return false
	}
	debug.Infof("CoreDNS released")
	return true
}

// signClusterInfo adds to the cluster-info ConfigMap the signature of every
// valid bootstrap token meant for signing that it lacks, computed as the
// controller manager's bootstrap signer computes it (the same detached JWS,
// so that the signer, once it runs, finds nothing to change). Unlike the
// signer it never removes or recomputes a signature. It reports whether the
// ConfigMap is signed by at least one such token.
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
		if s.Type != bootstrapapi.SecretTypeBootstrapToken || id == "" || secret == "" ||
			s.Name != bootstrapapi.BootstrapTokenSecretPrefix+id ||
			string(s.Data[bootstrapapi.BootstrapTokenUsageSigningKey]) != "true" || expired(&s) {
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
