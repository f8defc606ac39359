package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
	"k8s.io/kubectl/pkg/drain"

	"gameday.dev/gameday/cluster/internal/docker"
)

// ContainerRuntime starts, stops and runs commands in node containers.
type ContainerRuntime interface {
	Stop(ctx context.Context, node string) error
	Start(ctx context.Context, node string) error
	Exec(ctx context.Context, node string, args ...string) error
}

// dockerRuntime is the ContainerRuntime of kind's docker provider.
type dockerRuntime struct{}

var _ ContainerRuntime = dockerRuntime{}

// stopTimeout is how long a stopped node's systemd gets to shut down before
// docker kills it; a lost node does not shut down politely.
const stopTimeout = 5

func (dockerRuntime) Stop(ctx context.Context, node string) error {
	_, err := docker.Run(ctx, "stop", "--time", strconv.Itoa(stopTimeout), node)
	if err != nil && docker.ThawFrozen(ctx, node) > 0 {
		_, err = docker.Run(ctx, "stop", "--time", strconv.Itoa(stopTimeout), node)
	}
	return err
}

func (dockerRuntime) Start(ctx context.Context, node string) error {
	_, err := docker.Run(ctx, "start", node)
	return err
}

func (dockerRuntime) Exec(ctx context.Context, node string, args ...string) error {
	_, err := docker.Run(ctx, append([]string{"exec", node}, args...)...)
	return err
}

// Nodes operates on the nodes of one cluster: the faults and operator actions
// of a scenario are made of these. A node's name is its container's name, as
// in kind.
type Nodes struct {
	Client kubernetes.Interface
	// Runtime reaches the nodes' machines (kind's containers).
	Runtime ContainerRuntime
	// Log receives the drain helper's progress; nil discards it.
	Log io.Writer
	// emulate: the machines are out of reach (a cluster gameday did not
	// create); node losses are emulated through the API.
	emulate bool
}

// NewNodes returns node operations for a kind cluster reached through client.
func NewNodes(client kubernetes.Interface) *Nodes {
	return &Nodes{Client: client, Runtime: dockerRuntime{}}
}

// NewEmulatedNodes returns node operations for a cluster whose machines
// gameday cannot reach: a node's loss is emulated through the API (Lose).
func NewEmulatedNodes(client kubernetes.Interface) *Nodes {
	return &Nodes{Client: client, emulate: true}
}

// Emulated reports whether node losses are emulated (no machine reached).
func (n *Nodes) Emulated() bool { return n.emulate }

// ErrNoMachine: the operation needs a node's machine, which gameday cannot
// reach on this cluster.
var ErrNoMachine = errors.New("gameday cannot reach the nodes' machines on this cluster")

// StopContainer stops a node's container: the node is lost, as a VM that
// dies. Where machines are out of reach, the loss is emulated (Lose).
func (n *Nodes) StopContainer(ctx context.Context, node string) error {
	if n.Emulated() {
		return n.Lose(ctx, node)
	}
	return n.Runtime.Stop(ctx, node)
}

// StartContainer starts a stopped node's container again (ends an emulated loss).
func (n *Nodes) StartContainer(ctx context.Context, node string) error {
	if n.Emulated() {
		return n.Return(ctx, node)
	}
	return n.Runtime.Start(ctx, node)
}

// StopKubelet stops the node's kubelet: its containers keep running but the
// control plane loses the node. Where machines are out of reach, the loss is
// emulated (Lose).
func (n *Nodes) StopKubelet(ctx context.Context, node string) error {
	if n.Emulated() {
		return n.Lose(ctx, node)
	}
	return n.Runtime.Exec(ctx, node, "systemctl", "stop", "kubelet.service")
}

// StartKubelet starts the node's kubelet again (ends an emulated loss).
func (n *Nodes) StartKubelet(ctx context.Context, node string) error {
	if n.Emulated() {
		return n.Return(ctx, node)
	}
	return n.Runtime.Exec(ctx, node, "systemctl", "start", "kubelet.service")
}

// exec runs a command on a node's machine, ErrNoMachine where there is none to reach.
func (n *Nodes) exec(ctx context.Context, node string, args ...string) error {
	if n.Emulated() {
		return fmt.Errorf("node %s: %w", node, ErrNoMachine)
	}
	return n.Runtime.Exec(ctx, node, args...)
}

// LostTaint marks a node whose loss gameday emulates (Lose): NoSchedule,
// and the node cordoned, so that nothing new lands there.
const LostTaint = "gameday.dev/lost"

// AllowKey opts a node in (a label, "true") and a namespace in (an
// annotation, "true") on a cluster gameday did not create: it touches
// nothing else there.
const AllowKey = "gameday.dev/allow"

// Lost reports whether a node carries LostTaint.
func Lost(node *corev1.Node) bool {
	for _, t := range node.Spec.Taints {
		if t.Key == LostTaint {
			return true
		}
	}
	return false
}

// Lose emulates a node's loss through the API, where its machine cannot be
// stopped: cordoned and tainted LostTaint (nothing new lands there), the
// taint's value remembering whether it was cordoned before, for Return;
// then every pod there of a namespace opted in (annotated AllowKey: "true")
// is deleted at once, as the processes of a machine that dies are gone at
// once. DaemonSet pods stay (they are the node's own), and so does every
// pod of a namespace not opted in: gameday touches nothing there. The node
// stays Ready: the report says what was emulated.
func (n *Nodes) Lose(ctx context.Context, node string) error {
	if err := n.markLost(ctx, node); err != nil {
		return err
	}
	return n.deleteOptedInPods(ctx, node)
}

// deleteOptedInPods deletes at once every pod on node of a namespace
// opted in, but DaemonSets'.
func (n *Nodes) deleteOptedInPods(ctx context.Context, node string) error {
	pods, err := n.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return err
	}
	allowed := n.optedIn(ctx)
	// A second's grace, not a forced delete: the kubelet, which runs on,
	// stops the containers before the Pod object goes, so that no
	// StatefulSet's pod runs twice.
	grace := int64(1)
	var deleted []corev1.Pod
	for _, p := range pods.Items {
		if IsDaemonSetPod(&p) || p.DeletionTimestamp != nil || !allowed(p.Namespace) {
			continue
		}
		err := n.Client.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &grace})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("pod %s/%s on lost node %s: %w", p.Namespace, p.Name, node, err)
		}
		deleted = append(deleted, p)
	}
	// Gone, not only going: a node held out of service is checked empty.
	return wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, p := range deleted {
			cur, err := n.Client.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
			if err == nil && cur.UID == p.UID {
				return false, nil
			}
		}
		return true, nil
	})
}

// SystemNamespaces are never opted in, annotated or not.
var SystemNamespaces = []string{metav1.NamespaceSystem, "kube-public", "kube-node-lease"}

// optedIn says whether a namespace is opted in (annotated AllowKey: "true",
// and not one of SystemNamespaces); an unreadable namespace is not.
func (n *Nodes) optedIn(ctx context.Context) func(ns string) bool {
	seen := map[string]bool{}
	var mu sync.Mutex
	return func(name string) bool {
		mu.Lock()
		defer mu.Unlock()
		if ok, known := seen[name]; known {
			return ok
		}
		ns, err := n.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		ok := err == nil && ns.Annotations[AllowKey] == "true" && !slices.Contains(SystemNamespaces, name)
		seen[name] = ok
		return ok
	}
}

// controlPlaneKeys are the labels and taints that mark a node of the
// control plane: kubeadm's, the older master, RKE's controlplane and etcd.
var controlPlaneKeys = []string{"node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master",
	"node-role.kubernetes.io/controlplane", "node-role.kubernetes.io/etcd"}

// IsControlPlane reports whether a node is the control plane's: by its
// labels or taints, or gameday's own system pool.
func IsControlPlane(n *corev1.Node) bool {
	for _, k := range controlPlaneKeys {
		if _, ok := n.Labels[k]; ok {
			return true
		}
	}
	for _, t := range n.Spec.Taints {
		if slices.Contains(controlPlaneKeys, t.Key) {
			return true
		}
	}
	return n.Labels[PoolLabel] == SystemPool
}

func (n *Nodes) markLost(ctx context.Context, node string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := n.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil || Lost(obj) {
			return err
		}
		was := "schedulable"
		if obj.Spec.Unschedulable {
			was = "cordoned"
		}
		obj.Spec.Unschedulable = true
		obj.Spec.Taints = append(obj.Spec.Taints, corev1.Taint{Key: LostTaint, Value: was, Effect: corev1.TaintEffectNoSchedule})
		_, err = n.Client.CoreV1().Nodes().Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
}

// Return ends an emulated loss: the taint removed, and the node uncordoned
// unless it was cordoned before it was lost.
func (n *Nodes) Return(ctx context.Context, node string) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := n.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil || !Lost(obj) {
			return err
		}
		var taints []corev1.Taint
		for _, t := range obj.Spec.Taints {
			if t.Key == LostTaint {
				obj.Spec.Unschedulable = t.Value == "cordoned"
				continue
			}
			taints = append(taints, t)
		}
		obj.Spec.Taints = taints
		_, err = n.Client.CoreV1().Nodes().Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
}

// Cordon marks a node unschedulable.
func (n *Nodes) Cordon(ctx context.Context, node string) error {
	return n.setUnschedulable(ctx, node, true)
}

// Uncordon marks a node schedulable again.
func (n *Nodes) Uncordon(ctx context.Context, node string) error {
	return n.setUnschedulable(ctx, node, false)
}

func (n *Nodes) setUnschedulable(ctx context.Context, node string, desired bool) error {
	obj, err := n.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return err
	}
	h := drain.NewCordonHelper(obj)
	if !h.UpdateIfRequired(desired) {
		return nil
	}
	err, patchErr := h.PatchOrReplaceWithContext(ctx, n.Client, false)
	if patchErr != nil {
		return patchErr
	}
	return err
}

// DrainOptions tune Drain.
type DrainOptions struct {
	// Timeout bounds the whole drain; an eviction blocked by a
	// PodDisruptionBudget past it fails the drain. Zero means 2 minutes.
	Timeout time.Duration
	// GracePeriod overrides the pods' termination grace period when positive.
	GracePeriod time.Duration
	// Force deletes pods that no controller manages too, as `kubectl drain
	// --force`; without it they fail the drain.
	Force bool
	// Delete deletes the pods instead of evicting them: what an operator
	// does when PodDisruptionBudgets block a drain that must happen.
	Delete bool
}

// DrainBlockedError is a drain the cluster refused: its evictions blocked
// by PodDisruptionBudgets, or its pods not gone, until the drain's timeout.
// It is the system's answer, not a failure of the tool.
type DrainBlockedError struct {
	Node string
	// For is how long the drain tried.
	For time.Duration
	// Budgets are the PodDisruptionBudgets (namespace/name) that refused an
	// eviction of a pod of the node, as the API server answered.
	Budgets []string
	// Pods are the pods left on the node (namespace/name).
	Pods []string
}

func (e *DrainBlockedError) Error() string {
	left := strings.Join(e.Pods, ", ")
	if left == "" {
		left = "no pod"
	}
	if len(e.Budgets) == 0 {
		return fmt.Sprintf("the drain of node %s did not finish in %s (%s left on it)", e.Node, e.For.Round(time.Second), left)
	}
	return fmt.Sprintf("the drain of node %s was blocked %s by PodDisruptionBudget %s (%s left on it)",
		e.Node, e.For.Round(time.Second), strings.Join(e.Budgets, ", "), left)
}

// refusals notes, from the drain helper's error output, the pods whose
// eviction the API server refused for their disruption budget.
type refusals struct {
	mu   sync.Mutex
	out  io.Writer
	pods map[string]bool // namespace/name
}

// The helper's line for an eviction refused with 429, e.g.
// error when evicting pods/"api-1" -n "gameday" (will retry after 1s): Cannot evict pod as it would violate the pod's disruption budget.
var refusedEviction = regexp.MustCompile(`error when evicting pods/"([^"]+)" -n "([^"]+)".*disruption budget`)

func (r *refusals) Write(p []byte) (int, error) {
	r.mu.Lock()
	for _, m := range refusedEviction.FindAllSubmatch(p, -1) {
		r.pods[string(m[2])+"/"+string(m[1])] = true
	}
	r.mu.Unlock()
	return r.out.Write(p)
}

func (r *refusals) refused(pod string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pods[pod]
}

// Drain cordons a node and evicts its pods through the eviction API, so that
// PodDisruptionBudgets are respected; DaemonSet pods stay, as with
// `kubectl drain --ignore-daemonsets --delete-emptydir-data`.
func (n *Nodes) Drain(ctx context.Context, node string, o DrainOptions) error {
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Minute
	}
	out := n.Log
	if out == nil {
		out = io.Discard
	}
	errOut := &refusals{out: out, pods: map[string]bool{}}
	grace := -1
	if o.GracePeriod > 0 {
		grace = int(o.GracePeriod.Seconds())
	}
	h := &drain.Helper{
		Ctx:                 ctx,
		Client:              n.Client,
		GracePeriodSeconds:  grace,
		IgnoreAllDaemonSets: true,
		DeleteEmptyDirData:  true,
		Force:               o.Force,
		DisableEviction:     o.Delete,
		Timeout:             o.Timeout,
		// An eviction a budget refuses is retried, as kubectl does, but not
		// in a tight loop against the API server.
		EvictErrorRetryDelay: time.Second,
		Out:                  out,
		ErrOut:               errOut,
	}
	if n.Emulated() {
		// On a cluster gameday did not create, a drain moves the pods of
		// opted-in namespaces only: the others are not gameday's to touch
		// (and a bare pod of theirs must not fail the drain: Force lets the
		// filter below skip it).
		h.Force = true
		allowed := n.optedIn(ctx)
		h.AdditionalFilters = append(h.AdditionalFilters, func(p corev1.Pod) drain.PodDeleteStatus {
			if !allowed(p.Namespace) {
				return drain.MakePodDeleteStatusSkip()
			}
			return drain.MakePodDeleteStatusOkay()
		})
	}
	if err := n.Cordon(ctx, node); err != nil {
		return fmt.Errorf("drain %s: %w", node, err)
	}
	start := time.Now()
	err := drain.RunNodeDrain(h, node)
	if err == nil {
		return nil
	}
	if took := time.Since(start); ctx.Err() == nil && took >= o.Timeout-time.Second {
		// The drain tried until its timeout: the cluster did not let it
		// finish. Say what is left on the node and which budgets refused.
		if blocked, lerr := n.blockedBy(ctx, node, errOut); lerr == nil {
			blocked.For = took
			return blocked
		}
	}
	return fmt.Errorf("drain %s: %w", node, err)
}

// blockedBy says what a drain left on a node (pods not a DaemonSet's, not
// finished) and which PodDisruptionBudgets refused an eviction of one of
// them (policy/v1: an empty selector selects every pod of its namespace).
func (n *Nodes) blockedBy(ctx context.Context, node string, r *refusals) (*DrainBlockedError, error) {
	pods, err := n.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	if err != nil {
		return nil, err
	}
	e := &DrainBlockedError{Node: node}
	budgets := map[string][]policyv1.PodDisruptionBudget{}
	for _, p := range pods.Items {
		if p.Spec.NodeName != node || IsDaemonSetPod(&p) || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		name := p.Namespace + "/" + p.Name
		e.Pods = append(e.Pods, name)
		if !r.refused(name) {
			continue
		}
		if _, ok := budgets[p.Namespace]; !ok {
			list, err := n.Client.PolicyV1().PodDisruptionBudgets(p.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return nil, err
			}
			budgets[p.Namespace] = list.Items
		}
		for _, b := range budgets[p.Namespace] {
			sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
			if err != nil || !sel.Matches(labels.Set(p.Labels)) {
				continue
			}
			if bn := b.Namespace + "/" + b.Name; !slices.Contains(e.Budgets, bn) {
				e.Budgets = append(e.Budgets, bn)
			}
		}
	}
	slices.Sort(e.Budgets)
	slices.Sort(e.Pods)
	return e, nil
}

// IsReady reports whether a node's Ready condition is True.
func IsReady(node *corev1.Node) bool {
	for _, c := range node.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// WaitReady waits until the node's readiness equals ready and returns how long that took.
func (n *Nodes) WaitReady(ctx context.Context, node string, ready bool, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		obj, err := n.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return false, nil // the API server may be briefly busy; keep waiting
		}
		return IsReady(obj) == ready, nil
	})
	if err != nil {
		state := "Ready"
		if !ready {
			state = "NotReady"
		}
		return time.Since(start), fmt.Errorf("node %s not %s after %s: %w", node, state, timeout, err)
	}
	return time.Since(start), nil
}

// TakeOutOfService keeps a spare node from serving, as capacity that has
// not joined the cluster: tainted (NoExecute, so nothing runs there but
// DaemonSets) and cordoned while its kubelet still runs, then its kubelet
// stopped and disabled (so that it stays down when its container restarts),
// its kubelet's own binary back, its pod network's config removed (the node
// gets a new range when it joins again), and its Node object deleted. A
// spare whose Node is gone already only has its kubelet kept down.
func (n *Nodes) TakeOutOfService(ctx context.Context, node string) error {
	if n.Emulated() {
		return n.holdOut(ctx, node)
	}
	err := n.setOutOfServiceTaint(ctx, node, true)
	if err == nil {
		err = n.Cordon(ctx, node)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if err := n.KeepKubeletDown(ctx, node); err != nil {
		return err
	}
	if err := rememberSpare(ctx, n.Client, node); err != nil {
		return fmt.Errorf("spare %s: %w", node, err)
	}
	// The Node first: its pod network's agent, still running there, then
	// finds no range to write the config for.
	err = n.Client.CoreV1().Nodes().Delete(ctx, node, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("spare %s: delete its Node: %w", node, err)
	}
	if err := n.exec(ctx, node, "sh", "-c", unjoinScript); err != nil {
		return fmt.Errorf("spare %s: %w", node, err)
	}
	return nil
}

// KubeletVersionsDir holds, on a node image built by gameday, kubelets that
// report other versions (DIR/VERSION/kubelet): a spare joining at the
// version of an upgraded control plane runs one.
const KubeletVersionsDir = "/usr/local/lib/gameday"

// CNIConfig is the pod network's config on a node (kind's kindnet, or
// gameday's stand-in), written for the node's pod range.
const CNIConfig = "/etc/cni/net.d/10-kindnet.conflist"

// unjoinScript puts back a spare's own kubelet and removes its pod network's
// config (the node gets a new range when it joins); joinScript "$1" does
// the same, then runs the kubelet of version $1 where the image has one.
// Every copy goes through a temporary file: a node stopped halfway leaves
// no truncated kubelet.
const (
	unjoinScript = `d=` + KubeletVersionsDir + `; set -e; if [ -f $d/kubelet.orig ]; then mv $d/kubelet.orig /usr/bin/kubelet; fi; rm -f ` + CNIConfig
	joinScript   = unjoinScript + `; if [ -n "$1" ] && [ -x "$d/$1/kubelet" ]; then ` +
		`cp /usr/bin/kubelet $d/kubelet.tmp && mv $d/kubelet.tmp $d/kubelet.orig; ` +
		`cp "$d/$1/kubelet" /usr/bin/kubelet.new && mv /usr/bin/kubelet.new /usr/bin/kubelet; fi`
)

// KeepKubeletDown stops a node's kubelet and disables it, so that it stays
// down when the node's container starts again.
func (n *Nodes) KeepKubeletDown(ctx context.Context, node string) error {
	return n.exec(ctx, node, "systemctl", "disable", "--now", "kubelet.service")
}

// KubeletKeptDown checks what TakeOutOfService promises of a spare's
// kubelet: not running, and not started when its node container starts.
func (n *Nodes) KubeletKeptDown(ctx context.Context, node string) error {
	if err := n.exec(ctx, node, "sh", "-c", "! systemctl is-enabled --quiet kubelet.service && ! systemctl is-active --quiet kubelet.service"); err != nil {
		return fmt.Errorf("the kubelet of spare node %s is running or would start with its node: %w", node, err)
	}
	return nil
}

// BringIntoService undoes TakeOutOfService: the node joins, with the
// kubelet of version where its image has one (else its own), registers its
// Node (labelled and tainted out of service by its kubelet's flags), and
// once it is Ready it is untainted and uncordoned.
func (n *Nodes) BringIntoService(ctx context.Context, node, version string, timeout time.Duration) error {
	if n.Emulated() {
		return n.ReleaseHold(ctx, node, false)
	}
	if err := n.exec(ctx, node, "sh", "-c", joinScript, "sh", version); err != nil {
		return fmt.Errorf("spare %s: kubelet at %s: %w", node, version, err)
	}
	if err := n.exec(ctx, node, "systemctl", "enable", "--now", "kubelet.service"); err != nil {
		return err
	}
	if _, err := n.WaitReady(ctx, node, true, timeout); err != nil {
		return err
	}
	if err := n.setOutOfServiceTaint(ctx, node, false); err != nil {
		return err
	}
	return n.Uncordon(ctx, node)
}

// holdOut keeps a spare node out of service where its machine is out of
// reach (a node group that has not been provisioned, on a cluster gameday
// did not create): cordoned and tainted OutOfServiceTaint NoSchedule, and
// the opted-in namespaces' pods there deleted (what other namespaces run
// there stays: gameday does not touch it).
func (n *Nodes) holdOut(ctx context.Context, node string) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := n.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if !InService(obj) && obj.Spec.Unschedulable {
			return nil
		}
		obj.Spec.Unschedulable = true
		if InService(obj) {
			obj.Spec.Taints = append(obj.Spec.Taints, corev1.Taint{Key: OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoSchedule})
		}
		_, err = n.Client.CoreV1().Nodes().Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return err
	}
	return n.deleteOptedInPods(ctx, node)
}

// ReleaseHold brings a node held out of service (holdOut) back: untainted,
// and cordoned or not as cordoned says.
func (n *Nodes) ReleaseHold(ctx context.Context, node string, cordoned bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := n.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		taints := withoutTaint(obj.Spec.Taints, OutOfServiceTaint)
		if len(taints) == len(obj.Spec.Taints) && obj.Spec.Unschedulable == cordoned {
			return nil
		}
		obj.Spec.Taints, obj.Spec.Unschedulable = taints, cordoned
		_, err = n.Client.CoreV1().Nodes().Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
}

// InService reports whether a node is free of the out-of-service taint.
func InService(node *corev1.Node) bool {
	for _, t := range node.Spec.Taints {
		if t.Key == OutOfServiceTaint {
			return false
		}
	}
	return true
}

func (n *Nodes) setOutOfServiceTaint(ctx context.Context, node string, present bool) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		obj, err := n.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
		if err != nil {
			return err
		}
		taints := withoutTaint(obj.Spec.Taints, OutOfServiceTaint)
		if present {
			taints = append(taints, corev1.Taint{Key: OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoExecute})
		}
		if len(taints) == len(obj.Spec.Taints) && InService(obj) == !present {
			return nil
		}
		obj.Spec.Taints = taints
		_, err = n.Client.CoreV1().Nodes().Update(ctx, obj, metav1.UpdateOptions{})
		return err
	})
}

// withoutTaint is taints without those of key.
func withoutTaint(taints []corev1.Taint, key string) []corev1.Taint {
	var out []corev1.Taint
	for _, t := range taints {
		if t.Key != key {
			out = append(out, t)
		}
	}
	return out
}
