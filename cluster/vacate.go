package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
)

const (
	// deletionCostAnno ranks a ReplicaSet's pods for scale-down, lowest
	// cost first (a Kubernetes annotation, on by default since 1.22).
	deletionCostAnno = "controller.kubernetes.io/pod-deletion-cost"
	// VacateReplicasAnno holds a Deployment's replicas while Vacate surges
	// it, so that a vacate cut short (a crash mid-surge) is undone by the next.
	VacateReplicasAnno = "gameday.dev/vacate-replicas"
	// rolloutWait bounds the wait for a Deployment's rollout to settle
	// before its pods move; past it, the drain moves them.
	rolloutWait = 45 * time.Second
)

// Vacate empties a node that is about to leave service without a gap in
// service, as an operator retiring a node pool would: it cordons the node;
// for each Deployment with pods on it, it surges the Deployment by that many
// replicas, which land elsewhere, marks the pods on the node the cheapest to
// delete, and once the surge is Ready scales the Deployment back, so that its
// ReplicaSet removes exactly the pods on the node. A forced drain then
// evicts what is left (pods of no Deployment, a surge that found no room)
// and waits for every pod but DaemonSet pods to be gone. The node's kubelet must run, so
// that its pods really stop.
func (n *Nodes) Vacate(ctx context.Context, node string, timeout time.Duration) error {
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	// One deadline for every wait below, however many Deployments move.
	deadline := time.Now().Add(timeout)
	if err := n.Cordon(ctx, node); err != nil {
		return fmt.Errorf("vacate %s: %w", node, err)
	}
	if err := n.Unsurge(ctx); err != nil {
		return fmt.Errorf("vacate %s: put back a surge left by an earlier vacate: %w", node, err)
	}
	owners, err := n.deploymentsOn(ctx, node)
	if err != nil {
		return fmt.Errorf("vacate %s: %w", node, err)
	}
	var moves []error
	for _, o := range owners {
		if err := n.moveOff(ctx, node, o.deployment, o.pods, deadline); err != nil {
			moves = append(moves, fmt.Errorf("vacate %s: move %s/%s: %w", node, o.deployment.Namespace, o.deployment.Name, err))
		}
	}
	// Forced: a pod that no controller manages goes too, for the node is
	// leaving service whatever runs on it. A move that could not happen
	// gracefully (no room for the surge, a rollout that did not settle) is
	// then done by the drain: only a drain that fails fails the vacate.
	if err := n.Drain(ctx, node, DrainOptions{Timeout: max(time.Until(deadline), 30*time.Second), Force: true}); err != nil {
		return errors.Join(append(moves, fmt.Errorf("vacate: %w", err))...)
	}
	if len(moves) > 0 {
		return fmt.Errorf("%w: %w", ErrUngraceful, errors.Join(moves...))
	}
	return nil
}

// ErrUngraceful: Vacate emptied the node, but moved some pods by the drain
// rather than by a surge first (a gap in their service is possible).
var ErrUngraceful = errors.New("the node is empty, but not every pod moved before it stopped")

type podsOf struct {
	deployment *appsv1.Deployment
	pods       []string
}

// deploymentsOn finds the Deployments with running pods on node, through
// each pod's ReplicaSet.
func (n *Nodes) deploymentsOn(ctx context.Context, node string) ([]podsOf, error) {
	pods, err := n.Client.CoreV1().Pods(metav1.NamespaceAll).List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", node).String(),
	})
	if err != nil {
		return nil, err
	}
	var out []podsOf
	index := map[types.UID]int{}
	for _, p := range pods.Items {
		rs := metav1.GetControllerOf(&p)
		if p.Spec.NodeName != node || rs == nil || rs.Kind != "ReplicaSet" || p.DeletionTimestamp != nil ||
			p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed { // a finished pod runs nowhere: the drain deletes it
			continue
		}
		set, err := n.Client.AppsV1().ReplicaSets(p.Namespace).Get(ctx, rs.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue // gone with its Deployment: the drain takes the pod
		} else if err != nil {
			return nil, err
		}
		owner := metav1.GetControllerOf(set)
		if owner == nil || owner.Kind != "Deployment" {
			continue
		}
		i, ok := index[owner.UID]
		if !ok {
			d, err := n.Client.AppsV1().Deployments(p.Namespace).Get(ctx, owner.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				continue
			} else if err != nil {
				return nil, err
			}
			i = len(out)
			index[owner.UID] = i
			out = append(out, podsOf{deployment: d})
		}
		out[i].pods = append(out[i].pods, p.Name)
	}
	return out, nil
}

// moveOff surges d by its pods on node, waits for its replicas to be Ready
// off the node, and scales it back, which removes the pods on the node.
func (n *Nodes) moveOff(ctx context.Context, node string, d *appsv1.Deployment, pods []string, deadline time.Time) error {
	// A rollout in flight spreads a scale over two ReplicaSets, and the
	// deletion cost ranks pods within one: let it finish first.
	var err error
	if d, err = n.waitRolledOut(ctx, d.Namespace, d.Name, deadline); err != nil {
		return err
	}
	for _, p := range pods {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%q}}}`, deletionCostAnno, strconv.Itoa(math.MinInt32))
		if _, err := n.Client.CoreV1().Pods(d.Namespace).Patch(ctx, p, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); apierrors.IsNotFound(err) {
			continue // gone already
		} else if err != nil {
			return err
		}
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	if v, ok := d.Annotations[VacateReplicasAnno]; ok {
		if r, err := strconv.Atoi(v); err == nil {
			want = int32(r)
		}
	}
	if err := n.updateDeployment(ctx, d.Namespace, d.Name, func(d *appsv1.Deployment) {
		if d.Annotations == nil {
			d.Annotations = map[string]string{}
		}
		d.Annotations[VacateReplicasAnno] = strconv.Itoa(int(want))
		d.Spec.Replicas = ptrTo(want + int32(len(pods)))
	}); err != nil {
		return err
	}
	selector, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return errors.Join(err, n.unsurge(ctx, d.Namespace+"/"+d.Name))
	}
	var ready int32
	waitErr := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Until(deadline), true, func(ctx context.Context) (bool, error) {
		list, err := n.Client.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: selector.String()})
		if err != nil {
			return false, nil
		}
		ready = 0
		for _, p := range list.Items {
			if p.Spec.NodeName != node && p.DeletionTimestamp == nil && podReady(&p) {
				ready++
			}
		}
		return ready >= want, nil
	})
	if waitErr != nil {
		waitErr = fmt.Errorf("%d of %d replicas Ready off the node in time: %w", ready, want, waitErr)
	}
	// Back to its replicas even when the surge found no room or the time
	// ran out (on a context of its own then): the drain evicts what is left.
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := n.unsurge(cleanup, d.Namespace+"/"+d.Name); err != nil || waitErr != nil {
		return errors.Join(waitErr, err)
	}
	// The ReplicaSet removes the pods on the node; give it the moment it
	// takes, so that the drain finds nothing of this Deployment's (pods it
	// did not remove in time, the drain evicts).
	_ = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, max(time.Until(deadline), 10*time.Second), true, func(ctx context.Context) (bool, error) {
		for _, p := range pods {
			got, err := n.Client.CoreV1().Pods(d.Namespace).Get(ctx, p, metav1.GetOptions{})
			if err == nil && got.DeletionTimestamp == nil {
				return false, nil
			}
		}
		return true, nil
	})
	return nil
}

// waitRolledOut waits until a Deployment has no rollout in flight: every
// replica updated and available, no old one left.
// It waits at most rolloutWait of the time left, which keeps the rest for
// the drain that follows if the rollout does not settle.
func (n *Nodes) waitRolledOut(ctx context.Context, ns, name string, deadline time.Time) (*appsv1.Deployment, error) {
	var d *appsv1.Deployment
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, min(time.Until(deadline)/2, rolloutWait), true, func(ctx context.Context) (bool, error) {
		got, err := n.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		d = got
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.Replicas == want && s.AvailableReplicas == want, nil
	})
	if err != nil {
		if d == nil {
			return nil, fmt.Errorf("a rollout still in flight: %w", err)
		}
		s := d.Status
		return nil, fmt.Errorf("a rollout still in flight (generation %d observed %d, replicas %d, updated %d, available %d): %w",
			d.Generation, s.ObservedGeneration, s.Replicas, s.UpdatedReplicas, s.AvailableReplicas, err)
	}
	return d, nil
}

// Unsurge scales every Deployment that a vacate cut short left surged back
// to its replicas (recovery runs it whether or not a vacate follows).
func (n *Nodes) Unsurge(ctx context.Context) error { return n.unsurge(ctx, "") }

// Surged lists the Deployments a vacate left surged, as namespace/name.
func (n *Nodes) Surged(ctx context.Context) ([]string, error) {
	list, err := n.Client.AppsV1().Deployments(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range list.Items {
		if _, ok := d.Annotations[VacateReplicasAnno]; ok {
			out = append(out, d.Namespace+"/"+d.Name)
		}
	}
	return out, nil
}

// unsurge scales a Deployment surged by Vacate back to its replicas; with
// key "" every such Deployment in the cluster.
func (n *Nodes) unsurge(ctx context.Context, key string) error {
	list, err := n.Client.AppsV1().Deployments(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range list.Items {
		if _, ok := d.Annotations[VacateReplicasAnno]; !ok || (key != "" && key != d.Namespace+"/"+d.Name) {
			continue
		}
		errs = append(errs, n.updateDeployment(ctx, d.Namespace, d.Name, func(d *appsv1.Deployment) {
			if r, err := strconv.Atoi(d.Annotations[VacateReplicasAnno]); err == nil {
				d.Spec.Replicas = ptrTo(int32(r))
			}
			delete(d.Annotations, VacateReplicasAnno)
		}))
	}
	return errors.Join(errs...)
}

func (n *Nodes) updateDeployment(ctx context.Context, ns, name string, change func(*appsv1.Deployment)) error {
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		d, err := n.Client.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		change(d)
		_, err = n.Client.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{})
		return err
	})
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func ptrTo[T any](v T) *T { return &v }

// IsDaemonSetPod reports whether a DaemonSet runs the pod: such pods stay on
// a drained or vacated node.
func IsDaemonSetPod(p *corev1.Pod) bool {
	c := metav1.GetControllerOf(p)
	return c != nil && c.Kind == "DaemonSet"
}
