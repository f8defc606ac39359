// Package kubeconfig is gameday's backend for a cluster it did not create,
// reached through a kubeconfig context: someone's staging cluster on EKS,
// GKE, AKS or on premises. A tool that breaks things on purpose owes such a
// cluster guards: the context is always named (never the current one), the
// API server it points at is said before anything happens, and gameday
// touches only nodes and namespaces opted in (Allowed), never kube-system
// or the control plane.
package kubeconfig

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/client-go/transport"
)

var (
	// ErrNoContext: no --context given. gameday never falls back to the
	// kubeconfig's current context: the wrong cluster is the worst mistake
	// a chaos tool makes.
	ErrNoContext = errors.New("no context named")
	// ErrUnknownContext: the named context is not in the kubeconfig.
	ErrUnknownContext = errors.New("no such context")
	// ErrKubeconfig: the kubeconfig cannot be read or makes no client.
	ErrKubeconfig = errors.New("unusable kubeconfig")
	// ErrUnreachable: the context's API server did not answer.
	ErrUnreachable = errors.New("the API server did not answer")
	// ErrRefused: the API server answered, and refused the context's
	// credentials (or they could not be had: a certificate it does not
	// trust, a login plugin that failed).
	ErrRefused = errors.New("the API server refused the credentials")
)

// maxKubeconfig bounds the kubeconfig read: a file larger than this is not one.
const maxKubeconfig = 4 << 20

// Target is an existing cluster, as one kubeconfig context reaches it.
type Target struct {
	// File is the kubeconfig read (empty: the default loading rules,
	// $KUBECONFIG or ~/.kube/config, whose files Files lists).
	File  string
	Files []string
	// Context is the context named; Cluster and Server are where it points.
	Context string
	Cluster string
	Server  string
	// Namespace is the context's namespace, if it sets one.
	Namespace string

	Config *rest.Config
	Client kubernetes.Interface
	// fence guards Client's writes once armed with the cluster's Lease.
	fence *fence
}

// Open resolves context in the kubeconfig file (empty: the default loading
// rules) without reaching the cluster. The context is required: an empty one
// is ErrNoContext, naming the contexts there are.
func Open(file, context string) (*Target, error) {
	raw, files, err := load(file)
	if err != nil {
		return nil, err
	}
	where := strings.Join(files, ", ")
	if context == "" {
		return nil, fmt.Errorf("%w: give --context (gameday never uses the current context%s); contexts in %s: %s",
			ErrNoContext, current(raw), where, contextList(raw))
	}
	kctx, ok := raw.Contexts[context]
	if !ok {
		return nil, fmt.Errorf("%w %q in %s; it has: %s", ErrUnknownContext, context, where, contextList(raw))
	}
	cl, ok := raw.Clusters[kctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("%w: context %q names cluster %q, which %s does not define", ErrKubeconfig, context, kctx.Cluster, where)
	}
	cfg, err := clientcmd.NewNonInteractiveClientConfig(*raw, context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: context %q: %v", ErrKubeconfig, context, err)
	}
	cfg.UserAgent = "gameday"
	cfg.QPS, cfg.Burst = 50, 100
	f := &fence{}
	fenced := rest.CopyConfig(cfg)
	fenced.Wrap(func(rt http.RoundTripper) http.RoundTripper { f.next = rt; return f })
	client, err := kubernetes.NewForConfig(fenced)
	if err != nil {
		return nil, fmt.Errorf("%w: context %q: %v", ErrKubeconfig, context, err)
	}
	return &Target{File: file, Files: files, Context: context, Cluster: kctx.Cluster, Server: cl.Server, Namespace: kctx.Namespace,
		Config: cfg, Client: client, fence: f}, nil
}

// load reads the kubeconfig: file, or the default loading rules' files
// ($KUBECONFIG's, else ~/.kube/config), each checked to be a regular file
// of a kubeconfig's size first, and relative paths in them resolved from
// the file's folder, as kubectl does.
func load(file string) (*clientcmdapi.Config, []string, error) {
	rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: file}
	files := []string{file}
	if file == "" {
		rules = clientcmd.NewDefaultClientConfigLoadingRules()
		files = nil
		for _, f := range rules.GetLoadingPrecedence() {
			if _, err := os.Stat(f); err == nil {
				files = append(files, f)
			}
		}
		if len(files) == 0 {
			return nil, nil, fmt.Errorf("%w: no kubeconfig at %s: give --kubeconfig", ErrKubeconfig, strings.Join(rules.GetLoadingPrecedence(), ", "))
		}
	}
	for _, f := range files {
		fi, err := os.Stat(f)
		switch {
		case err != nil:
			return nil, nil, fmt.Errorf("%w: %v", ErrKubeconfig, err)
		case fi.IsDir():
			return nil, nil, fmt.Errorf("%w: %s is a directory, not a kubeconfig file", ErrKubeconfig, f)
		case !fi.Mode().IsRegular():
			return nil, nil, fmt.Errorf("%w: %s is not a regular file", ErrKubeconfig, f)
		case fi.Size() > maxKubeconfig:
			return nil, nil, fmt.Errorf("%w: %s is %d bytes, over the %d a kubeconfig may be", ErrKubeconfig, f, fi.Size(), maxKubeconfig)
		}
	}
	raw, err := rules.Load()
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrKubeconfig, err)
	}
	return raw, files, nil
}

func contextList(raw *clientcmdapi.Config) string {
	var names []string
	for n := range raw.Contexts {
		names = append(names, n)
	}
	if len(names) == 0 {
		return "none"
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func current(raw *clientcmdapi.Config) string {
	if raw.CurrentContext == "" {
		return ""
	}
	return ", here " + raw.CurrentContext
}

// Reach asks the API server its version, bounded by timeout (a login
// plugin's prompt included): ErrUnreachable when it does not answer,
// ErrRefused when it refuses the credentials.
func (t *Target) Reach(ctx context.Context, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := rest.CopyConfig(t.Config)
	cfg.Timeout = timeout
	dc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrKubeconfig, err)
	}
	type answer struct {
		v   string
		err error
	}
	done := make(chan answer, 1)
	go func() {
		v, err := dc.Discovery().ServerVersion()
		if err != nil {
			done <- answer{err: err}
			return
		}
		done <- answer{v: v.GitVersion}
	}()
	select {
	case a := <-done:
		var unknownAuthority x509.UnknownAuthorityError
		var invalid x509.CertificateInvalidError
		switch {
		case a.err == nil:
			return a.v, nil
		case apierrors.IsUnauthorized(a.err) || apierrors.IsForbidden(a.err) || errors.As(a.err, &unknownAuthority) || errors.As(a.err, &invalid):
			return "", fmt.Errorf("%w: context %q, server %s: %v", ErrRefused, t.Context, t.Server, a.err)
		}
		return "", fmt.Errorf("%w: context %q, server %s: %v", ErrUnreachable, t.Context, t.Server, a.err)
	case <-ctx.Done():
		if err := context.Cause(ctx); errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("%w: context %q, server %s: no answer within %s", ErrUnreachable, t.Context, t.Server, timeout)
		}
		return "", ctx.Err()
	}
}

// String is how the target is said before anything happens:
// `context "staging" (cluster staging-eu, API server https://...)`.
func (t *Target) String() string {
	return fmt.Sprintf("context %q (cluster %s, API server %s)", t.Context, t.Cluster, t.Server)
}

// ServiceProxyURL is the API server's proxy to a Service's named port
// (the path `kubectl proxy` serves it at): requests there reach one of the
// Service's ready endpoints, as the API server picks, from wherever the API
// server answers.
func (t *Target) ServiceProxyURL(namespace, service, port string) (string, error) {
	u, _, err := rest.DefaultServerUrlFor(t.Config)
	if err != nil {
		return "", err
	}
	return u.JoinPath("api", "v1", "namespaces", namespace, "services", "http:"+service+":"+port, "proxy").String(), nil
}

// Transport speaks to the API server as the context's user (its TLS, its
// credentials, exec plugins included), on kept-alive connections or a new
// connection per request.
func (t *Target) Transport(keepAlive bool) (http.RoundTripper, error) {
	tc, err := t.Config.TransportConfig()
	if err != nil {
		return nil, err
	}
	tlsConfig, err := transport.TLSConfigFor(tc)
	if err != nil {
		return nil, err
	}
	base := &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: tlsConfig, TLSHandshakeTimeout: 10 * time.Second,
		DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 16}
	if t.Config.Proxy != nil {
		base.Proxy = t.Config.Proxy
	}
	if tc.DialHolder != nil && tc.DialHolder.Dial != nil {
		base.DialContext = tc.DialHolder.Dial
	}
	return transport.HTTPWrappersForConfig(tc, base)
}

// ErrNoProxy: the context's user may not reach Services through the API
// server's proxy.
var ErrNoProxy = errors.New("no route to the services through the API server")

// CanProxy says whether the context's user may use the API server's
// service proxy in namespace ns (get services/proxy), asked of the API
// server itself (a SelfSubjectAccessReview); ErrNoProxy when it may not.
func (t *Target) CanProxy(ctx context.Context, ns string) error {
	r, err := t.Client.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authorizationv1.SelfSubjectAccessReview{
		Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: ns, Verb: "get", Resource: "services", Subresource: "proxy"}}}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("ask the API server whether the probes may go through its service proxy: %w", err)
	}
	if !r.Status.Allowed {
		return fmt.Errorf("%w: context %q may not get services/proxy in namespace %s (%s): give --service-url, or grant it",
			ErrNoProxy, t.Context, ns, strings.TrimSpace(r.Status.Reason+" "+r.Status.EvaluationError))
	}
	return nil
}
