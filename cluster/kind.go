package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"
	"sigs.k8s.io/kind/pkg/cluster/constants"
	kindnodes "sigs.k8s.io/kind/pkg/cluster/nodes"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster/internal/docker"
	"gameday.dev/gameday/progress"
)

// Errors a caller maps to a message and an exit code.
var (
	ErrInvalidName = errors.New("invalid cluster name")
	ErrExists      = errors.New("cluster already exists")
	ErrNotFound    = errors.New("no such cluster")
	// ErrNotReusable: a run asked to reuse a cluster that is not fit for it.
	ErrNotReusable = errors.New("cluster cannot be reused")
	ErrNotOurs     = errors.New("cluster was not created by gameday")
)

// ErrDockerUnreachable means the docker CLI is missing or its daemon does not answer.
var ErrDockerUnreachable = docker.ErrUnreachable

// CheckDocker fails with a message that says what to run when Docker is not usable.
func CheckDocker(ctx context.Context) error {
	if _, err := docker.Ping(ctx); err != nil {
		return fmt.Errorf("%w; start it (`sudo systemctl start docker`, or `sudo hack/setup-docker.sh` on a fresh Debian machine); `gameday doctor` checks the rest", err)
	}
	return nil
}

// MarkerConfigMap (in kube-system) records in the cluster itself that gameday made it.
const MarkerConfigMap = "gameday-cluster"

// ControlPlaneVersionAnno, on the marker ConfigMap, is the control plane's
// version as a scenario upgraded it. kind cannot upgrade a control plane in
// place, so the upgrade is recorded there.
const ControlPlaneVersionAnno = "gameday.dev/control-plane-version"

// UserAgent is how gameday's clients identify themselves: the API server
// records it as the field manager of every change they make, which is how
// a run tells its own changes from everyone else's.
const UserAgent = "gameday"

// Kind creates and deletes local clusters through kind's Go API, each on a
// docker network of its own that goes away with it.
type Kind struct {
	Store  *Store
	Logger log.Logger
}

func (k *Kind) provider() *kindcluster.Provider {
	return kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(k.Logger))
}

// deleter is the provider for deletes: what kind says by default there
// ("Deleted nodes: [...]") gameday's own status lines say already, so it
// shows with -v 1. (Create keeps kind's logger: its progress is kind's.)
func (k *Kind) deleter() *kindcluster.Provider {
	return kindcluster.NewProvider(kindcluster.ProviderWithDocker(), kindcluster.ProviderWithLogger(quieter{k.Logger}))
}

// quieter passes messages on one verbosity level down.
type quieter struct{ log.Logger }

func (q quieter) V(level log.Level) log.InfoLogger { return q.Logger.V(level + 1) }

// NetworkName is the docker network of cluster name.
func NetworkName(name string) string { return "gameday-" + name }

// ValidateName checks a cluster name: a DNS label short enough for kind's
// node names ("<name>-control-plane") to stay valid host names.
func ValidateName(name string) error {
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		return fmt.Errorf("%w %q: %s", ErrInvalidName, name, msgs[0])
	}
	if len(name) > 40 {
		return fmt.Errorf("%w %q: at most 40 characters", ErrInvalidName, name)
	}
	return nil
}

// CreateOptions are the inputs of Create.
type CreateOptions struct {
	Name     string
	Topology Topology
	Image    string
	// Retain keeps a half-created cluster for debugging instead of deleting it.
	Retain bool
	// Wait bounds the wait for every node to be Ready.
	Wait    time.Duration
	Timings Timings
	// MergeKubeconfig also writes the cluster's context into the user's kubeconfig.
	MergeKubeconfig bool
	// DeferDNS returns before cluster DNS serves (it is on its way), for a
	// caller that deploys meanwhile and calls WaitDNS itself.
	DeferDNS bool
	// Audit has the API server write an audit log of what players do
	// (AuditPolicy) to AuditLog(name), on the host.
	Audit bool
	// Ports are the NodePorts mapped to host ports (the services of the
	// system to deploy); nil: TrafficNodePorts (the default system's).
	Ports []PortMapping
	// Meanwhile, if set, runs as soon as kind's nodes have joined (the
	// kubeconfig is written, every spare is tainted out of service), while
	// Create brings them to the topology's state: to load images and deploy,
	// say. Create waits for it, and fails with its error.
	Meanwhile func(ctx context.Context, rec *Record, nodes []kindnodes.Node) error
}

// Exists reports whether kind knows a cluster of that name.
func (k *Kind) Exists(name string) (bool, error) {
	names, err := k.provider().List()
	if err != nil {
		return false, err
	}
	return slices.Contains(names, name), nil
}

// Create creates a cluster for a topology and returns once every in-service
// node is Ready and every spare is out of service. On failure or interrupt it
// deletes whatever it created, unless o.Retain.
func (k *Kind) Create(ctx context.Context, o CreateOptions) (*Record, error) {
	if err := ValidateName(o.Name); err != nil {
		return nil, err
	}
	if o.Wait == 0 {
		o.Wait = 5 * time.Minute
	}
	if err := CheckDocker(ctx); err != nil {
		return nil, err
	}
	img, err := ResolveImage(ctx, o.Image)
	if err != nil {
		return nil, err
	}
	o.Image = img
	if exists, err := k.Exists(o.Name); err != nil {
		return nil, err
	} else if exists {
		if _, err := k.Store.Get(o.Name); err == nil {
			return nil, fmt.Errorf("%w: gameday's cluster %q is already up; pick another --name, or delete it with `gameday cluster down --name %s`", ErrExists, o.Name, o.Name)
		}
		return nil, fmt.Errorf("%w: a kind cluster named %q exists and is not gameday's; pick another --name", ErrExists, o.Name)
	}
	if err := docker.RemoveNetwork(ctx, NetworkName(o.Name)); err != nil {
		return nil, fmt.Errorf("a docker network %s is left from an earlier cluster and cannot be removed: %w", NetworkName(o.Name), err)
	}
	want := o.Ports
	if want == nil {
		want = TrafficNodePorts
	}
	ports, err := freePorts(want)
	if err != nil {
		return nil, err
	}
	rec := &Record{
		Name: o.Name, Backend: BackendKind, Topology: o.Topology, Image: o.Image,
		Kubeconfig: k.Store.KubeconfigPath(o.Name), Network: NetworkName(o.Name),
		Ports: ports, Timings: o.Timings, CreatedAt: time.Now().UTC(),
	}
	// The record goes first, so that even a crash mid-create leaves something
	// `gameday cluster down` recognises and deletes.
	if err := k.Store.Put(rec); err != nil {
		return nil, err
	}
	cleanup := func() {
		if o.Retain {
			// CoreDNS may be held at no replica (see holdDNS): a cluster kept to
			// be looked at gets it back, slow DNS rather than none.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if client, err := k.earlyClient(o.Name); err == nil {
				if err := releaseDNS(rctx, client, needsAddonPinning(o.Topology)); err != nil {
					k.Logger.V(1).Infof("release CoreDNS in the kept cluster: %v", err)
				}
			}
			cancel()
			k.Logger.Warnf("Keeping the half-created cluster %q (--retain); delete it with `gameday cluster down --name %s`", o.Name, o.Name)
			return
		}
		status := progress.For(k.Logger)
		status.Start(fmt.Sprintf("Deleting the half-created cluster %q", o.Name))
		status.End(k.deleteAll(rec) == nil)
	}

	kopts := KindOptions{Timings: o.Timings, Ports: ports}
	if o.Audit {
		dir := filepath.Dir(k.AuditLog(o.Name))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, AuditPolicyFile), []byte(AuditPolicy), 0o644); err != nil {
			return nil, err
		}
		// The API server would create its log readable by root only (the
		// node runs as root under Docker): made here first, it stays the
		// user's and readable (the server appends to a file that is there,
		// and keeps its mode when it rotates it).
		f, err := os.OpenFile(k.AuditLog(o.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, err
		}
		_ = f.Close()
		kopts.AuditDir = dir
	}
	cfg := KindConfig(o.Topology, kopts)
	h := startHurry(ctx, func(ctx context.Context) bool {
		return hurry(ctx, k.Logger, func() (kubernetes.Interface, error) { return k.earlyClient(o.Name) },
			func(ctx context.Context, client kubernetes.Interface) error {
				return k.reachAPIService(ctx, o.Name, client)
			},
			needsAddonPinning(o.Topology))
	})
	defer h.stop() // on every path, before the cluster is deleted: nothing may work on it after
	fail := func(err error) (*Record, error) {
		h.stop()
		cleanup()
		return nil, err
	}
	if err := k.kindCreate(ctx, rec, cfg, o); err != nil {
		return fail(err)
	}
	// finish and Meanwhile together: the first to fail stops the other.
	fctx, stopAll := context.WithCancel(ctx)
	defer stopAll()
	meanwhile := make(chan error, 1)
	if o.Meanwhile == nil {
		meanwhile <- nil
	} else if nodes, err := k.KindNodes(o.Name); err != nil {
		return fail(err)
	} else {
		go func() {
			err := o.Meanwhile(fctx, rec, nodes)
			if err != nil {
				stopAll()
			}
			meanwhile <- err
		}()
	}
	ferr := k.finish(fctx, rec, o, h)
	if ferr != nil {
		stopAll()
	}
	merr := <-meanwhile
	switch {
	case merr != nil && ctx.Err() == nil && errors.Is(ferr, context.Canceled):
		return fail(merr) // finish was stopped because of it
	case ferr != nil || merr != nil:
		return fail(errors.Join(ferr, merr))
	}
	return rec, nil
}

// AuditLog is where the audit log of a cluster made with Audit is, on the host.
func (k *Kind) AuditLog(name string) string {
	return filepath.Join(k.Store.ClusterDir(name), "audit", AuditLogFile)
}

// earlyClient is a client of a cluster kind is still creating, from the
// control plane's own admin kubeconfig (kind writes the user's only at the end).
func (k *Kind) earlyClient(name string) (kubernetes.Interface, error) {
	cfg, err := k.provider().KubeConfig(name, false)
	if err != nil {
		return nil, err
	}
	rest, err := clientcmd.RESTConfigFromKubeConfig([]byte(cfg))
	if err != nil {
		return nil, err
	}
	rest.Timeout = 5 * time.Second
	return kubernetes.NewForConfig(rest)
}

// kindCreate runs kind's create, which cannot be cancelled: on interrupt it
// deletes the nodes under it so that it fails fast, then waits for it.
func (k *Kind) kindCreate(ctx context.Context, rec *Record, cfg *v1alpha4.Cluster, o CreateOptions) error {
	// kind reads the network name from its environment; gameday gives each
	// cluster its own network so that deleting the cluster leaves none behind.
	restore := setenv("KIND_EXPERIMENTAL_DOCKER_NETWORK", rec.Network)
	defer restore()
	errc := make(chan error, 1)
	go func() {
		errc <- k.provider().Create(rec.Name,
			kindcluster.CreateWithV1Alpha4Config(cfg),
			kindcluster.CreateWithNodeImage(o.Image),
			kindcluster.CreateWithRetain(o.Retain),
			kindcluster.CreateWithKubeconfigPath(rec.Kubeconfig),
			kindcluster.CreateWithDisplayUsage(false),
			kindcluster.CreateWithDisplaySalutation(false),
		)
	}()
	select {
	case err := <-errc:
		if err != nil {
			return fmt.Errorf("kind could not create cluster %q: %w", rec.Name, err)
		}
		return nil
	case <-ctx.Done():
		if !o.Retain {
			_ = k.deleter().Delete(rec.Name, rec.Kubeconfig)
		}
		<-errc
		return ctx.Err()
	}
}

func setenv(key, value string) func() {
	old, had := os.LookupEnv(key)
	os.Setenv(key, value)
	return func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	}
}

// finish brings a freshly created cluster to the topology's state.
func (k *Kind) finish(ctx context.Context, rec *Record, o CreateOptions, h *early) error {
	client, err := Client(rec)
	if err != nil {
		return err
	}
	nodes := NewNodes(client)
	status := progress.For(k.Logger)
	defer status.End(false)

	// kind returns once every node has joined, but a kubelet may register its
	// Node object a moment later: wait for all of them.
	deadline := time.Now().Add(o.Wait)
	want := o.Topology.Workers() + 1
	var all *corev1.NodeList
	err = wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Until(deadline), true, func(ctx context.Context) (bool, error) {
		list, lerr := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if lerr != nil {
			return false, nil // the API server may be busy right after create
		}
		all = list
		return len(all.Items) == want, nil
	})
	if err != nil {
		got := 0
		if all != nil {
			got = len(all.Items)
		}
		return fmt.Errorf("%d of the topology's %d nodes registered after %s: %w", got, want, o.Wait, err)
	}
	var spares, inService []string
	sparesOf := map[string][]string{}
	for _, n := range all.Items {
		if p, ok := o.Topology.Pool(n.Labels[PoolLabel]); ok && p.Spare {
			spares = append(spares, n.Name)
			sparesOf[p.Name] = append(sparesOf[p.Name], n.Name)
		} else {
			inService = append(inService, n.Name)
		}
	}
	for _, names := range sparesOf {
		slices.Sort(names)
	}
	// The marker names the spares before their Node objects go.
	if err := writeMarker(ctx, client, rec, sparesOf); err != nil {
		return err
	}
	// Both at once: spares need no Ready node, and the wait needs no spare.
	status.Start(fmt.Sprintf("Taking %d spare nodes out of service, waiting for %d nodes to be Ready", len(spares), len(inService)))
	err = forEach(append(spares, inService...), func(n string) error {
		if slices.Contains(spares, n) {
			return nodes.TakeOutOfService(ctx, n)
		}
		_, err := nodes.WaitReady(ctx, n, true, time.Until(deadline))
		return err
	})
	if err != nil {
		return err
	}
	pin := needsAddonPinning(o.Topology)
	if pin {
		status.Start("Pinning cluster add-ons to the control-plane node")
		if err := pinAddons(ctx, client); err != nil {
			return err
		}
	}
	status.Start("Starting cluster DNS once kube-proxy serves on the control plane")
	reach := func(ctx context.Context) error { return k.reachAPIService(ctx, rec.Name, client) }
	if err := h.takeOver(func() error { return rollDNS(ctx, client, deadline, reach, pin) }); err != nil {
		return err
	}
	if !o.DeferDNS {
		status.Start("Waiting for cluster DNS")
		if err := WaitDNS(ctx, client, time.Until(deadline)); err != nil {
			return err
		}
	}
	if o.MergeKubeconfig {
		status.Start("Merging the kubeconfig into your default kubeconfig")
		rec.MergedKubeconfig = true
		if err := k.Store.Put(rec); err != nil {
			return err
		}
		if err := k.provider().ExportKubeConfig(rec.Name, "", false); err != nil {
			return err
		}
	}
	status.End(true)
	return nil
}

// forEach runs fn on every item concurrently and returns the first error.
func forEach(items []string, fn func(string) error) error {
	var wg sync.WaitGroup
	errs := make([]error, len(items))
	for i, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(it)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// needsAddonPinning: cluster add-ons must stay on the control-plane node (the
// system pool) so that a pool fault measures the apps, not a DNS outage. A
// pool without a NoSchedule or NoExecute taint could otherwise host them.
func needsAddonPinning(t Topology) bool {
	for _, p := range t.Pools {
		tainted := false
		for _, tn := range p.Taints {
			tainted = tainted || tn.Effect == corev1.TaintEffectNoSchedule || tn.Effect == corev1.TaintEffectNoExecute
		}
		if !tainted && !p.Spare {
			return true
		}
	}
	return false
}

const (
	controlPlaneLabel = "node-role.kubernetes.io/control-plane"
	pinToControlPlane = `"nodeSelector":{"` + controlPlaneLabel + `":""}`
)

// coreDNSPatch probes CoreDNS's readiness every second (see rollDNS) and,
// with pin, pins it as pinAddons does: one roll for both when applied early.
// replicas ("": unchanged) sets its replica count, annotations ("": none)
// the Deployment's annotations (a JSON object; null deletes one).
func coreDNSPatch(pin bool, replicas, annotations string) []byte {
	spec := `"containers":[{"name":"coredns","readinessProbe":{"periodSeconds":1}}]`
	if pin {
		spec = pinToControlPlane + "," + spec
	}
	patch := `{"spec":{`
	if replicas != "" {
		patch += `"replicas":` + replicas + `,`
	}
	patch += `"template":{"spec":{` + spec + `}}}`
	if annotations != "" {
		patch += `,"metadata":{"annotations":` + annotations + `}`
	}
	return []byte(patch + `}`)
}

// heldReplicas, on CoreDNS's Deployment while holdDNS keeps it at no
// replica, is the count releaseDNS gives back.
const heldReplicas = "gameday.dev/held-replicas"

// holdDNS scales CoreDNS to no replica, its count kept in an annotation, and
// applies coreDNSPatch: no CoreDNS pod starts before releaseDNS, so none
// sends its first request to the API server's Service address before that
// address works (see rollDNS), and none is rolled later (while the first
// pods of the system look their services up). Held already, it changes
// nothing.
func holdDNS(ctx context.Context, client kubernetes.Interface, pin bool) error {
	d, err := client.AppsV1().Deployments(metav1.NamespaceSystem).Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		return err
	}
	if _, held := d.Annotations[heldReplicas]; held {
		return nil
	}
	n := int32(1)
	if d.Spec.Replicas != nil {
		n = *d.Spec.Replicas
	}
	return patchDNS(ctx, client, coreDNSPatch(pin, "0", fmt.Sprintf(`{%q:"%d"}`, heldReplicas, n)))
}

// releaseDNS applies coreDNSPatch and gives a held CoreDNS its replicas
// back; one that was not held rolls with the patch.
func releaseDNS(ctx context.Context, client kubernetes.Interface, pin bool) error {
	d, err := client.AppsV1().Deployments(metav1.NamespaceSystem).Get(ctx, "coredns", metav1.GetOptions{})
	if err != nil {
		return err
	}
	held, ok := d.Annotations[heldReplicas]
	if !ok {
		return patchDNS(ctx, client, coreDNSPatch(pin, "", ""))
	}
	n, err := strconv.ParseInt(held, 10, 32)
	if err != nil || n < 0 {
		return fmt.Errorf("CoreDNS's annotation %s=%q is not a replica count", heldReplicas, held)
	}
	return patchDNS(ctx, client, coreDNSPatch(pin, strconv.FormatInt(n, 10), fmt.Sprintf(`{%q:null}`, heldReplicas)))
}

func patchDNS(ctx context.Context, client kubernetes.Interface, patch []byte) error {
	_, err := client.AppsV1().Deployments(metav1.NamespaceSystem).Patch(ctx, "coredns", types.StrategicMergePatchType, patch, metav1.PatchOptions{})
	return err
}

func pinAddons(ctx context.Context, client kubernetes.Interface) error {
	patch := []byte(`{"spec":{"template":{"spec":{` + pinToControlPlane + `}}}}`)
	for _, ns := range []string{"kube-system", "local-path-storage"} {
		deps, err := client.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, d := range deps.Items {
			if _, err := client.AppsV1().Deployments(ns).Patch(ctx, d.Name, types.StrategicMergePatchType, patch, metav1.PatchOptions{}); err != nil {
				return fmt.Errorf("pin %s/%s to the control plane: %w", ns, d.Name, err)
			}
		}
	}
	return nil
}

// rollDNS makes the cluster's DNS ready in seconds rather than ~30: CoreDNS
// starts with the cluster, before kube-proxy has programmed the Service
// address of the API server on its node, so its first lists fail and it
// waits out client-go's growing backoff, then up to 10 s more for its next
// readiness probe. Once kube-proxy serves on the control-plane node (where
// CoreDNS runs: pinned there with pin, or every other pool is tainted),
// CoreDNS is released (see holdDNS: hurry holds it at no replica from the
// moment it exists, so that its first pods start now) or, if it was not
// held, rolled once; probed every second, new pods sync at once. WaitDNS
// waits for them. (hurry does the same earlier, while workers join; then
// this changes nothing.)
func rollDNS(ctx context.Context, client kubernetes.Interface, deadline time.Time, reach func(context.Context) error, pin bool) error {
	var why string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Until(deadline), true, func(ctx context.Context) (bool, error) {
		why = apiServiceServes(ctx, client, reach)
		return why == "", nil
	})
	if err != nil {
		return fmt.Errorf("cluster DNS: %s: %w", why, err)
	}
	if err := releaseDNS(ctx, client, pin); err != nil {
		return fmt.Errorf("cluster DNS: start CoreDNS: %w", err)
	}
	return nil
}

// apiServiceServes says why the API server's Service address does not work
// yet on the control-plane node, or "" when it does: kube-proxy is ready
// there and reach, a request from that node to the address, gets an answer.
// A ready kube-proxy may not have programmed the address yet, and CoreDNS's
// first request to an address with no rule hangs until it times out.
func apiServiceServes(ctx context.Context, client kubernetes.Interface, reach func(context.Context) error) string {
	if why := kubeProxyServes(ctx, client, true); why != "" {
		return why
	}
	if err := reach(ctx); err != nil {
		return "the API server's Service address does not answer on the control-plane node: " + err.Error()
	}
	return ""
}

// reachAPIService asks the API server's Service address, from the cluster's
// control-plane node, whether the API server is healthy.
func (k *Kind) reachAPIService(ctx context.Context, name string, client kubernetes.Interface) error {
	svc, err := client.CoreV1().Services(metav1.NamespaceDefault).Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		return err
	}
	nodes, err := k.KindNodes(name)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		if role, err := n.Role(); err != nil || role != constants.ControlPlaneNodeRoleValue {
			continue
		}
		// The answer must be the API server's, checked against the cluster's
		// CA: where outside traffic is intercepted, something else may answer
		// an address no rule leads anywhere yet.
		addr := net.JoinHostPort(svc.Spec.ClusterIP, "443")
		return n.CommandContext(ctx, "curl", "--silent", "--fail", "--output", "/dev/null", "--max-time", "1",
			"--cacert", "/etc/kubernetes/pki/ca.crt", "https://"+addr+"/healthz").Run()
	}
	return fmt.Errorf("no control-plane node")
}

// kubeProxyServes says why kube-proxy does not serve yet on every Ready,
// in-service node, or "" when it does. A spare, whose kubelet is stopped, is
// never waited for, nor is a node that is down. With controlPlane, it looks at
// the control-plane nodes only, and waits for them to be Ready too.
func kubeProxyServes(ctx context.Context, client kubernetes.Interface, controlPlane bool) string {
	opts := metav1.ListOptions{}
	if controlPlane {
		opts.LabelSelector = controlPlaneLabel
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, opts)
	if err != nil {
		return err.Error()
	}
	pods, err := client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-proxy"})
	if err != nil {
		return err.Error()
	}
	if len(nodes.Items) == 0 {
		return "no node yet"
	}
	for _, n := range nodes.Items {
		if controlPlane && !IsReady(&n) {
			return "node " + n.Name + " is not Ready"
		}
		if !IsReady(&n) || !InService(&n) {
			continue
		}
		i := slices.IndexFunc(pods.Items, func(p corev1.Pod) bool { return p.Spec.NodeName == n.Name })
		if i < 0 || !podReady(&pods.Items[i]) {
			return "kube-proxy is not ready on node " + n.Name
		}
	}
	return ""
}

// WaitKubeProxy waits until kube-proxy is ready on every node of a new
// cluster of topology t that is to serve (the control plane and every pool
// but the spares), whether the node is Ready yet or not. A pod that starts on
// a node before kube-proxy there has programmed the Services' addresses sends
// its first requests, DNS lookups included, nowhere and waits out its
// clients' timeouts: seconds before a new system serves.
func WaitKubeProxy(ctx context.Context, client kubernetes.Interface, t Topology, timeout time.Duration) error {
	var why string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		why = kubeProxyOnEveryServingNode(ctx, client, t)
		return why == "", nil
	})
	if err != nil {
		return fmt.Errorf("kube-proxy: %s: %w", why, err)
	}
	return nil
}

func kubeProxyOnEveryServingNode(ctx context.Context, client kubernetes.Interface, t Topology) string {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err.Error()
	}
	// A spare's Node object goes once it is taken out of service.
	want := 1
	for _, p := range t.Pools {
		if !p.Spare {
			want += p.Size
		}
	}
	serving := slices.DeleteFunc(nodes.Items, func(n corev1.Node) bool {
		p, ok := t.Pool(n.Labels[PoolLabel])
		return ok && p.Spare
	})
	if len(serving) < want {
		return fmt.Sprintf("%d of the topology's %d nodes in service registered", len(serving), want)
	}
	pods, err := client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: "k8s-app=kube-proxy"})
	if err != nil {
		return err.Error()
	}
	for _, n := range serving {
		if !slices.ContainsFunc(pods.Items, func(p corev1.Pod) bool { return p.Spec.NodeName == n.Name && podReady(&p) }) {
			return "kube-proxy is not ready on node " + n.Name
		}
	}
	return ""
}

// WaitDNS waits until cluster DNS serves pods on every in-service node:
// kube-proxy ready on each, and every CoreDNS replica of its Deployment's
// latest spec and available.
func WaitDNS(ctx context.Context, client kubernetes.Interface, timeout time.Duration) error {
	var why string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		if why = kubeProxyServes(ctx, client, false); why != "" {
			return false, nil
		}
		d, err := client.AppsV1().Deployments(metav1.NamespaceSystem).Get(ctx, "coredns", metav1.GetOptions{})
		if err != nil {
			why = err.Error()
			return false, nil
		}
		s, want := d.Status, int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		if _, held := d.Annotations[heldReplicas]; held {
			why = fmt.Sprintf("CoreDNS is held at no replica until kube-proxy serves on the control plane (by hand: `kubectl -n kube-system scale deployment coredns --replicas=%s`)", d.Annotations[heldReplicas])
			return false, nil
		}
		why = fmt.Sprintf("CoreDNS %d of %d replicas updated and ready", s.UpdatedReplicas, want)
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.AvailableReplicas == want && s.Replicas == want, nil
	})
	if err != nil {
		return fmt.Errorf("cluster DNS: %s: %w", why, err)
	}
	return nil
}

func writeMarker(ctx context.Context, client kubernetes.Interface, rec *Record, spares map[string][]string) error {
	topo, err := json.Marshal(rec.Topology)
	if err != nil {
		return err
	}
	sp, err := json.Marshal(spares)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: MarkerConfigMap, Namespace: metav1.NamespaceSystem, Labels: map[string]string{"app.kubernetes.io/managed-by": "gameday"}},
		Data:       map[string]string{"name": rec.Name, "topology": string(topo), markerSparesKey: string(sp)},
	}
	_, err = client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Create(ctx, cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// Client returns a clientset for a cluster from its kubeconfig.
func Client(rec *Record) (kubernetes.Interface, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", rec.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig of cluster %q: %w", rec.Name, err)
	}
	cfg.QPS, cfg.Burst = 50, 100
	cfg.UserAgent = UserAgent
	cfg.Timeout = 15 * time.Second
	return kubernetes.NewForConfig(cfg)
}

// Delete deletes a cluster gameday created: its nodes, its docker network and
// its record. It refuses a kind cluster gameday has no record of.
func (k *Kind) Delete(ctx context.Context, name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	if err := CheckDocker(ctx); err != nil {
		return err
	}
	rec, err := k.Store.Get(name)
	exists, lerr := k.Exists(name)
	if lerr != nil {
		return lerr
	}
	if errors.Is(err, ErrNoRecord) {
		if exists {
			return fmt.Errorf("%w: %q has no gameday record, so gameday leaves it alone; if it is yours, delete it with `kind delete cluster --name %s`", ErrNotOurs, name, name)
		}
		return fmt.Errorf("%w %q: `gameday cluster list` shows the clusters gameday made", ErrNotFound, name)
	}
	if err != nil {
		return err
	}
	if err := k.deleteAll(rec); err != nil {
		return err
	}
	left, err := docker.ClusterContainers(ctx, name)
	if err != nil {
		return err
	}
	if len(left) > 0 {
		return fmt.Errorf("cluster %q deleted but containers remain: %v", name, left)
	}
	return nil
}

// deleteAll removes everything a create made; it runs on its own context so
// that cleanup after an interrupt still completes.
func (k *Kind) deleteAll(rec *Record) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := k.deleteNodes(ctx, rec); err != nil {
		return err
	}
	if rec.MergedKubeconfig {
		// With no nodes left, this only removes the context from the default kubeconfig.
		if err := k.deleter().Delete(rec.Name, ""); err != nil {
			return err
		}
	}
	if err := docker.RemoveNetwork(ctx, rec.Network); err != nil {
		return err
	}
	return k.Store.Remove(rec.Name)
}

// deleteNodes deletes the cluster's node containers. On cgroup v1 hosts a
// node can be unkillable while a nested runc is frozen mid-kill (a node
// deleted while its kubelet starts a pod); each retry thaws those first.
func (k *Kind) deleteNodes(ctx context.Context, rec *Record) error {
	var err error
	for attempt := 1; attempt <= 3; attempt++ {
		if err = k.deleter().Delete(rec.Name, rec.Kubeconfig); err == nil {
			return nil
		}
		containers, _ := docker.ClusterContainers(ctx, rec.Name)
		thawed := 0
		for _, c := range containers {
			thawed += docker.ThawFrozen(ctx, c)
		}
		k.Logger.V(1).Infof("deleting cluster %q (attempt %d): %v; thawed %d frozen cgroups", rec.Name, attempt, err, thawed)
		if thawed == 0 && len(containers) == 0 {
			return nil
		}
	}
	return err
}

// freePorts picks a free host port on 127.0.0.1 for each mapping.
func freePorts(want []PortMapping) ([]PortMapping, error) {
	out := make([]PortMapping, len(want))
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for i, p := range want {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("no free port on 127.0.0.1: %w", err)
		}
		ls = append(ls, l)
		out[i] = p
		out[i].HostPort = int32(l.Addr().(*net.TCPAddr).Port)
	}
	return out, nil
}

// NewKind returns the kind backend with gameday's default state folder.
func NewKind(logger log.Logger) (*Kind, error) {
	store, err := DefaultStore()
	if err != nil {
		return nil, err
	}
	return &Kind{Store: store, Logger: logger}, nil
}

// KindNodes returns kind's handles on a cluster's nodes (to exec in them or
// load images), for a cluster gameday created.
func (k *Kind) KindNodes(name string) ([]kindnodes.Node, error) {
	if _, err := k.Record(name); err != nil {
		return nil, err
	}
	return k.provider().ListNodes(name)
}

// ClientFor returns the record and a clientset of a cluster gameday created.
func (k *Kind) ClientFor(name string) (*Record, kubernetes.Interface, error) {
	rec, err := k.Record(name)
	if err != nil {
		return nil, nil, err
	}
	client, err := Client(rec)
	return rec, client, err
}
