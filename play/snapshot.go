package play

import (
	"context"
	"errors"
	"fmt"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Snapshot is what players may change, as it was when the game began: the
// app namespace's Deployments, Services, ConfigMaps, PodDisruptionBudgets
// and HorizontalPodAutoscalers, and every node's schedulability and taints.
// Restore puts it all back; objects players made are removed.
type Snapshot struct {
	Namespace    string
	Deployments  []appsv1.Deployment
	Services     []corev1.Service
	ConfigMaps   []corev1.ConfigMap
	PDBs         []policyv1.PodDisruptionBudget
	HPAs         []autoscalingv2.HorizontalPodAutoscaler
	Nodes        map[string]NodeSpec
	ReplicaSets  []types.UID // the ReplicaSets there were (owned by the Deployments)
	PodsBareUIDs []types.UID // pods with no owner there were
}

// NodeSpec is the part of a node players may change.
type NodeSpec struct {
	Unschedulable bool           `json:"unschedulable,omitempty"`
	Taints        []corev1.Taint `json:"taints,omitempty"`
}

// Take snapshots the namespace and the nodes.
func Take(ctx context.Context, client kubernetes.Interface, ns string) (*Snapshot, error) {
	s := &Snapshot{Namespace: ns, Nodes: map[string]NodeSpec{}}
	opts := metav1.ListOptions{}
	ds, err := client.AppsV1().Deployments(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.Deployments = ds.Items
	svcs, err := client.CoreV1().Services(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.Services = svcs.Items
	cms, err := client.CoreV1().ConfigMaps(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.ConfigMaps = cms.Items
	pdbs, err := client.PolicyV1().PodDisruptionBudgets(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.PDBs = pdbs.Items
	hpas, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	s.HPAs = hpas.Items
	rss, err := client.AppsV1().ReplicaSets(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, rs := range rss.Items {
		s.ReplicaSets = append(s.ReplicaSets, rs.UID)
	}
	pods, err := client.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, p := range pods.Items {
		if len(p.OwnerReferences) == 0 {
			s.PodsBareUIDs = append(s.PodsBareUIDs, p.UID)
		}
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, n := range nodes.Items {
		s.Nodes[n.Name] = NodeSpec{Unschedulable: n.Spec.Unschedulable, Taints: n.Spec.Taints}
	}
	return s, nil
}

// Restore puts back everything the snapshot holds: each object's spec (and
// labels and annotations) as it was, objects deleted made again, objects
// made since deleted (and ReplicaSets and bare pods that were not there),
// each node's schedulability and taints. It goes on past a failure and
// returns every error; it changes nothing that is as it was.
func Restore(ctx context.Context, client kubernetes.Interface, s *Snapshot) error {
	ns := s.Namespace
	apps, core := client.AppsV1(), client.CoreV1()
	get, del, up := metav1.GetOptions{}, metav1.DeleteOptions{}, metav1.UpdateOptions{}
	errs := []error{
		// Deployments first: their pods then come back on the old template.
		restoreAll(s.Deployments, kindOps[appsv1.Deployment]{kind: "deployment",
			list: func() ([]appsv1.Deployment, error) {
				l, err := apps.Deployments(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
			get: func(n string) (*appsv1.Deployment, error) { return apps.Deployments(ns).Get(ctx, n, get) },
			create: func(o *appsv1.Deployment) error {
				_, err := apps.Deployments(ns).Create(ctx, fresh(o.ObjectMeta, func(m metav1.ObjectMeta) *appsv1.Deployment { return &appsv1.Deployment{ObjectMeta: m, Spec: o.Spec} }), metav1.CreateOptions{})
				return err
			},
			update: func(o *appsv1.Deployment) error { _, err := apps.Deployments(ns).Update(ctx, o, up); return err },
			del:    func(n string) error { return apps.Deployments(ns).Delete(ctx, n, del) },
			meta:   func(o *appsv1.Deployment) *metav1.ObjectMeta { return &o.ObjectMeta },
			same:   func(g, w *appsv1.Deployment) bool { return apiequality.Semantic.DeepEqual(g.Spec, w.Spec) },
			apply:  func(g, w *appsv1.Deployment) { g.Spec = w.Spec },
		}),
		restoreAll(s.Services, kindOps[corev1.Service]{kind: "service",
			list: func() ([]corev1.Service, error) {
				l, err := core.Services(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
			get: func(n string) (*corev1.Service, error) { return core.Services(ns).Get(ctx, n, get) },
			create: func(o *corev1.Service) error {
				spec := corev1.ServiceSpec{Type: o.Spec.Type, Ports: o.Spec.Ports, Selector: o.Spec.Selector}
				_, err := core.Services(ns).Create(ctx, fresh(o.ObjectMeta, func(m metav1.ObjectMeta) *corev1.Service { return &corev1.Service{ObjectMeta: m, Spec: spec} }), metav1.CreateOptions{})
				return err
			},
			update: func(o *corev1.Service) error { _, err := core.Services(ns).Update(ctx, o, up); return err },
			del:    func(n string) error { return core.Services(ns).Delete(ctx, n, del) },
			meta:   func(o *corev1.Service) *metav1.ObjectMeta { return &o.ObjectMeta },
			// the address is the cluster's to give; the rest is the service
			same: func(g, w *corev1.Service) bool {
				return g.Spec.Type == w.Spec.Type && apiequality.Semantic.DeepEqual(g.Spec.Ports, w.Spec.Ports) && apiequality.Semantic.DeepEqual(g.Spec.Selector, w.Spec.Selector)
			},
			apply: func(g, w *corev1.Service) {
				g.Spec.Type, g.Spec.Ports, g.Spec.Selector = w.Spec.Type, w.Spec.Ports, w.Spec.Selector
			},
		}),
		restoreAll(s.ConfigMaps, kindOps[corev1.ConfigMap]{kind: "configmap",
			list: func() ([]corev1.ConfigMap, error) {
				l, err := core.ConfigMaps(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
			get: func(n string) (*corev1.ConfigMap, error) { return core.ConfigMaps(ns).Get(ctx, n, get) },
			create: func(o *corev1.ConfigMap) error {
				_, err := core.ConfigMaps(ns).Create(ctx, fresh(o.ObjectMeta, func(m metav1.ObjectMeta) *corev1.ConfigMap {
					return &corev1.ConfigMap{ObjectMeta: m, Data: o.Data, BinaryData: o.BinaryData}
				}), metav1.CreateOptions{})
				return err
			},
			update: func(o *corev1.ConfigMap) error { _, err := core.ConfigMaps(ns).Update(ctx, o, up); return err },
			del:    func(n string) error { return core.ConfigMaps(ns).Delete(ctx, n, del) },
			meta:   func(o *corev1.ConfigMap) *metav1.ObjectMeta { return &o.ObjectMeta },
			same: func(g, w *corev1.ConfigMap) bool {
				return apiequality.Semantic.DeepEqual(g.Data, w.Data) && apiequality.Semantic.DeepEqual(g.BinaryData, w.BinaryData)
			},
			apply: func(g, w *corev1.ConfigMap) { g.Data, g.BinaryData = w.Data, w.BinaryData },
		}),
		restoreAll(s.PDBs, kindOps[policyv1.PodDisruptionBudget]{kind: "poddisruptionbudget",
			list: func() ([]policyv1.PodDisruptionBudget, error) {
				l, err := client.PolicyV1().PodDisruptionBudgets(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
			get: func(n string) (*policyv1.PodDisruptionBudget, error) {
				return client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, n, get)
			},
			create: func(o *policyv1.PodDisruptionBudget) error {
				_, err := client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, fresh(o.ObjectMeta, func(m metav1.ObjectMeta) *policyv1.PodDisruptionBudget {
					return &policyv1.PodDisruptionBudget{ObjectMeta: m, Spec: o.Spec}
				}), metav1.CreateOptions{})
				return err
			},
			update: func(o *policyv1.PodDisruptionBudget) error {
				_, err := client.PolicyV1().PodDisruptionBudgets(ns).Update(ctx, o, up)
				return err
			},
			del:   func(n string) error { return client.PolicyV1().PodDisruptionBudgets(ns).Delete(ctx, n, del) },
			meta:  func(o *policyv1.PodDisruptionBudget) *metav1.ObjectMeta { return &o.ObjectMeta },
			same:  func(g, w *policyv1.PodDisruptionBudget) bool { return apiequality.Semantic.DeepEqual(g.Spec, w.Spec) },
			apply: func(g, w *policyv1.PodDisruptionBudget) { g.Spec = w.Spec },
		}),
		restoreAll(s.HPAs, kindOps[autoscalingv2.HorizontalPodAutoscaler]{kind: "horizontalpodautoscaler",
			list: func() ([]autoscalingv2.HorizontalPodAutoscaler, error) {
				l, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				return l.Items, nil
			},
			get: func(n string) (*autoscalingv2.HorizontalPodAutoscaler, error) {
				return client.AutoscalingV2().HorizontalPodAutoscalers(ns).Get(ctx, n, get)
			},
			create: func(o *autoscalingv2.HorizontalPodAutoscaler) error {
				_, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Create(ctx, fresh(o.ObjectMeta, func(m metav1.ObjectMeta) *autoscalingv2.HorizontalPodAutoscaler {
					return &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: m, Spec: o.Spec}
				}), metav1.CreateOptions{})
				return err
			},
			update: func(o *autoscalingv2.HorizontalPodAutoscaler) error {
				_, err := client.AutoscalingV2().HorizontalPodAutoscalers(ns).Update(ctx, o, up)
				return err
			},
			del:  func(n string) error { return client.AutoscalingV2().HorizontalPodAutoscalers(ns).Delete(ctx, n, del) },
			meta: func(o *autoscalingv2.HorizontalPodAutoscaler) *metav1.ObjectMeta { return &o.ObjectMeta },
			same: func(g, w *autoscalingv2.HorizontalPodAutoscaler) bool {
				return apiequality.Semantic.DeepEqual(g.Spec, w.Spec)
			},
			apply: func(g, w *autoscalingv2.HorizontalPodAutoscaler) { g.Spec = w.Spec },
		}),
	}
	add := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", what, err))
		}
	}
	// What players made beside the Deployments' own: ReplicaSets no
	// Deployment owns now and that were not there, bare pods that were not.
	if rss, err := apps.ReplicaSets(ns).List(ctx, metav1.ListOptions{}); err != nil {
		add("list replicasets", err)
	} else {
		for _, rs := range rss.Items {
			if metav1.GetControllerOf(&rs) == nil && !slices.Contains(s.ReplicaSets, rs.UID) {
				add("delete replicaset "+rs.Name, ignoreGone(apps.ReplicaSets(ns).Delete(ctx, rs.Name, del)))
			}
		}
	}
	if pods, err := core.Pods(ns).List(ctx, metav1.ListOptions{}); err != nil {
		add("list pods", err)
	} else {
		for _, p := range pods.Items {
			if len(p.OwnerReferences) == 0 && !slices.Contains(s.PodsBareUIDs, p.UID) {
				add("delete pod "+p.Name, ignoreGone(core.Pods(ns).Delete(ctx, p.Name, del)))
			}
		}
	}
	for name, want := range s.Nodes {
		add("node "+name, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			n, err := core.Nodes().Get(ctx, name, get)
			if apierrors.IsNotFound(err) {
				return nil // a node gone is the scenario's business (its own records)
			}
			if err != nil {
				return err
			}
			if n.Spec.Unschedulable == want.Unschedulable && apiequality.Semantic.DeepEqual(taintSet(n.Spec.Taints), taintSet(want.Taints)) {
				return nil
			}
			n.Spec.Unschedulable, n.Spec.Taints = want.Unschedulable, want.Taints
			_, err = core.Nodes().Update(ctx, n, up)
			return err
		}))
	}
	return errors.Join(errs...)
}

// kindOps are one kind's calls, for restoreAll.
type kindOps[T any] struct {
	kind   string
	list   func() ([]T, error)
	get    func(name string) (*T, error)
	create func(*T) error
	update func(*T) error
	del    func(name string) error
	meta   func(*T) *metav1.ObjectMeta
	same   func(got, want *T) bool // the parts players may change are as they were
	apply  func(got, want *T)      // puts those parts back onto got
}

// restoreAll brings one kind back to want: objects not in want deleted,
// those in it made again or put back, each only if it differs.
func restoreAll[T any](want []T, ops kindOps[T]) error {
	var errs []error
	add := func(what string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s %s: %w", ops.kind, what, err))
		}
	}
	wanted := map[string]bool{}
	for i := range want {
		wanted[ops.meta(&want[i]).Name] = true
	}
	cur, err := ops.list()
	if err != nil {
		return fmt.Errorf("list %ss: %w", ops.kind, err)
	}
	for i := range cur {
		if n := ops.meta(&cur[i]).Name; !wanted[n] {
			add(n, ignoreGone(ops.del(n)))
		}
	}
	for i := range want {
		w := &want[i]
		name := ops.meta(w).Name
		add(name, retry.RetryOnConflict(retry.DefaultRetry, func() error {
			got, err := ops.get(name)
			if apierrors.IsNotFound(err) {
				return ops.create(w)
			}
			if err != nil {
				return err
			}
			gm, wm := ops.meta(got), ops.meta(w)
			if ops.same(got, w) && apiequality.Semantic.DeepEqual(gm.Labels, wm.Labels) && sameAnnotations(gm.Annotations, wm.Annotations) {
				return nil
			}
			ops.apply(got, w)
			gm.Labels, gm.Annotations = wm.Labels, keepManaged(gm.Annotations, wm.Annotations)
			return ops.update(got)
		}))
	}
	return errors.Join(errs...)
}

// managed annotations are the controllers', never put back.
var managed = []string{"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"}

func sameAnnotations(got, want map[string]string) bool {
	return apiequality.Semantic.DeepEqual(keepManaged(nil, got), keepManaged(nil, want))
}

// keepManaged is want's annotations with the managed ones taken from got.
func keepManaged(got, want map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range want {
		if !slices.Contains(managed, k) {
			out[k] = v
		}
	}
	for _, k := range managed {
		if v, ok := got[k]; ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// fresh makes an object to create again from its old metadata: name,
// labels and annotations only.
func fresh[T any](m metav1.ObjectMeta, make func(metav1.ObjectMeta) *T) *T {
	return make(metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, Labels: m.Labels, Annotations: keepManaged(nil, m.Annotations)})
}

// taintSet compares taints without the time the node controller stamps.
func taintSet(ts []corev1.Taint) []corev1.Taint {
	out := make([]corev1.Taint, len(ts))
	for i, t := range ts {
		out[i] = corev1.Taint{Key: t.Key, Value: t.Value, Effect: t.Effect}
	}
	return out
}

func ignoreGone(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
