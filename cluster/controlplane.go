package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
)

// APIServerManifest is where kubeadm keeps the API server's static pod on a
// control-plane node: the kubelet restarts the API server when it changes.
const APIServerManifest = "/etc/kubernetes/manifests/kube-apiserver.yaml"

// ErrNoAPIServerImage: the node holds no image for the version asked, so the API
// server cannot be restarted into it (no registry to pull from).
var ErrNoAPIServerImage = errors.New("no API server image at that version on the node")

// ControlPlaneNode is the name of the cluster's control-plane node (pool
// system).
func (n *Nodes) ControlPlaneNode(ctx context.Context) (string, error) {
	nodes, err := n.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: PoolLabel + "=" + SystemPool})
	if err != nil {
		return "", err
	}
	if len(nodes.Items) == 0 {
		return "", fmt.Errorf("no control-plane node (label %s=%s)", PoolLabel, SystemPool)
	}
	return nodes.Items[0].Name, nil
}

// APIServerImage is the image the API server's static pod on node runs, as
// its mirror pod shows it.
func (n *Nodes) APIServerImage(ctx context.Context, node string) (string, error) {
	pod, err := n.Client.CoreV1().Pods(metav1.NamespaceSystem).Get(ctx, "kube-apiserver-"+node, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("the API server's pod on %s: %w", node, err)
	}
	for _, c := range pod.Spec.Containers {
		if c.Name == "kube-apiserver" {
			return c.Image, nil
		}
	}
	return "", fmt.Errorf("the API server's pod on %s has no kube-apiserver container", node)
}

// WithTag is image (repository:tag) with its tag replaced.
func WithTag(image, tag string) string {
	repo := image
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		repo = image[:i]
	}
	return repo + ":" + tag
}

// imageTag is the tag of repository:tag, "" without one.
func imageTag(image string) string {
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}

// rbacProbes are requests every cluster's RBAC bootstrap policy allows:
// one through a ClusterRoleBinding, one through a RoleBinding.
var rbacProbes = []authorizationv1.SubjectAccessReviewSpec{
	{User: "system:kube-scheduler", ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: "list", Resource: "nodes"}},
	{User: "system:serviceaccount:kube-system:bootstrap-signer", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system"},
		ResourceAttributes: &authorizationv1.ResourceAttributes{Namespace: metav1.NamespaceSystem, Verb: "list", Resource: "secrets"}},
}

// restartAPIServer "$1" points the API server's static pod at image $1 and
// restarts it there, unless it runs that image already; one restart at a
// time (a recovery's restore waits for an upgrade interrupted mid-restart,
// whose script goes on in the node without gameday). The kubelet is
// stopped meanwhile and the old pod removed by hand: a kubelet that replaces
// a static pod itself lets the old one terminate for its whole grace period
// and starts the new one at a later sync, some 40 s without an API server
// on this machine, against some 5 s this way.
const restartAPIServer = `set -e
exec 9>/run/gameday-apiserver.lock
flock 9
m=` + APIServerManifest + `
if grep -Eq "^\s*image:\s*$1\s*$" $m && [ -n "$(crictl ps --name kube-apiserver --state running -q)" ]; then exit 0; fi
trap 'systemctl start kubelet' EXIT
systemctl stop kubelet
sed -i -E "s#^(\s*image:\s*)\S*kube-apiserver:\S+\s*\$#\1$1#" $m
grep -Eq "^\s*image:\s*$1\s*$" $m || { echo "no kube-apiserver image line in $m" >&2; exit 1; }
pods=$(crictl pods --name kube-apiserver -q)
if [ -n "$pods" ]; then crictl rmp -f $pods >/dev/null; fi`

// RunAPIServer restarts the API server on a control-plane node into image,
// as an in-place upgrade of a one-node control plane does: the static pod's
// manifest names the new image and the kubelet starts it. It returns once
// the API server is ready again and reports the image's tag as its
// version. An image the node does not hold is ErrNoAPIServerImage, with
// nothing changed; an image already running is a no-op.
func (n *Nodes) RunAPIServer(ctx context.Context, node, image string, timeout time.Duration) error {
	version := imageTag(image)
	if version == "" {
		return fmt.Errorf("image %q has no tag", image)
	}
	if err := n.exec(ctx, node, "crictl", "inspecti", "-q", image); err != nil {
		if strings.Contains(err.Error(), "no such image") {
			return fmt.Errorf("%w: %s on %s", ErrNoAPIServerImage, image, node)
		}
		return fmt.Errorf("look for image %s on %s: %w", image, node, err)
	}
	if err := n.exec(ctx, node, "sh", "-c", restartAPIServer, "sh", image); err != nil {
		return fmt.Errorf("restart the API server on %s into %s: %w", node, image, err)
	}
	var last string
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		v, err := n.Client.Discovery().ServerVersion()
		switch {
		case err != nil:
			last = err.Error()
			return false, nil // restarting: keep waiting
		case v.GitVersion != version:
			last = "reports " + v.GitVersion
			return false, nil
		}
		if rc := n.Client.Discovery().RESTClient(); rc != nil {
			if _, err := rc.Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
				last = "not ready: " + err.Error()
				return false, nil
			}
		}
		// Ready, it may still refuse what RBAC allows for a moment, until
		// its authorizer's caches fill (a player's kubectl was refused so):
		// wait until it allows what the bootstrap policy grants, through a
		// ClusterRoleBinding and through a namespace's RoleBinding.
		for _, a := range rbacProbes {
			r, err := n.Client.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: a}, metav1.CreateOptions{})
			if err != nil || !r.Status.Allowed {
				last = fmt.Sprintf("RBAC not serving yet (%s %s for %s)", a.ResourceAttributes.Verb, a.ResourceAttributes.Resource, a.User)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("the API server on %s did not come back at %s within %s (last: %s): %w", node, version, timeout, last, err)
	}
	return nil
}
