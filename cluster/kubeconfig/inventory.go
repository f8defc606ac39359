package kubeconfig

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"gameday.dev/gameday/cluster"
)

const (
	// AllowKey opts a node in (a label, "true") and a namespace in (an
	// annotation, "true"): gameday touches nothing else on the cluster.
	AllowKey = cluster.AllowKey
	// Allowed is the value that opts in.
	Allowed = "true"
)

// PoolKeys are the node labels that name a node's pool (its node group),
// tried in this order when none is given: EKS's managed node groups, GKE's
// node pools and AKS's agent pools. gameday's own pool label is not one:
// on a cluster it did not create, it is what gameday sets for a run, from
// these (and takes off after).
var PoolKeys = []string{
	"eks.amazonaws.com/nodegroup",
	"cloud.google.com/gke-nodepool",
	"kubernetes.azure.com/agentpool",
}

// Never are namespaces gameday never touches, annotated or not.
var Never = cluster.SystemNamespaces

// ErrNoTarget: the cluster has nothing gameday may touch (no node opted in,
// or none of them in a pool).
var ErrNoTarget = errors.New("nothing opted in")

// Node is one node as gameday sees it on an existing cluster.
type Node struct {
	Name string `json:"name"`
	// Pool is the value of the inventory's pool key ("" when the node has none).
	Pool         string `json:"pool"`
	ControlPlane bool   `json:"controlPlane"`
	Ready        bool   `json:"ready"`
	Schedulable  bool   `json:"schedulable"`
	// Allowed: gameday may act on the node; Why says why it may or may not.
	Allowed bool   `json:"allowed"`
	Why     string `json:"why"`
	Version string `json:"version"`
}

// Namespace is one namespace and whether gameday may act in it.
type Namespace struct {
	Name    string `json:"name"`
	Allowed bool   `json:"allowed"`
	Why     string `json:"why"`
}

// Inventory is what gameday may touch on an existing cluster.
type Inventory struct {
	// PoolKey is the node label pools are read from.
	PoolKey    string      `json:"poolKey"`
	Nodes      []Node      `json:"nodes"`
	Namespaces []Namespace `json:"namespaces"`
}

// AllowNode says whether gameday may act on n, and why (or why not): the
// control plane never, else only a node labelled gameday.dev/allow=true.
func AllowNode(n *corev1.Node) (bool, string) {
	if isControlPlane(n) {
		return false, "never: the control plane"
	}
	if v, ok := n.Labels[AllowKey]; ok && v == Allowed {
		return true, "opted in (" + AllowKey + "=" + Allowed + ")"
	}
	return false, "not opted in (no label " + AllowKey + "=" + Allowed + ")"
}

// AllowNamespace says whether gameday may act in ns, and why (or why not):
// kube-system and the cluster's own namespaces never, else only a namespace
// annotated gameday.dev/allow: "true".
func AllowNamespace(ns *corev1.Namespace) (bool, string) {
	if slices.Contains(Never, ns.Name) {
		return false, "never: the cluster's own"
	}
	if v, ok := ns.Annotations[AllowKey]; ok && v == Allowed {
		return true, "opted in (annotation " + AllowKey + ": \"" + Allowed + "\")"
	}
	return false, "not opted in (no annotation " + AllowKey + ": \"" + Allowed + "\")"
}

func isControlPlane(n *corev1.Node) bool { return cluster.IsControlPlane(n) }

// ErrOwnLabel: gameday's own pool label named as the node groups' label.
var ErrOwnLabel = errors.New("gameday's own pool label")

// Discover reads the cluster's nodes and namespaces and what gameday may
// touch of them. poolKey is the node label naming pools; empty, the first
// of PoolKeys an opted-in node carries.
func Discover(ctx context.Context, client kubernetes.Interface, poolKey string) (*Inventory, error) {
	if strings.HasPrefix(poolKey, "gameday.dev/") {
		return nil, fmt.Errorf("%w: %s is one of gameday's own labels (it sets or reads them for a run on a cluster it did not create); name your node groups' label", ErrOwnLabel, poolKey)
	}
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing nodes: %w", err)
	}
	nss, err := client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing namespaces: %w", err)
	}
	inv := &Inventory{PoolKey: poolKey}
	if inv.PoolKey == "" {
		inv.PoolKey = detectPoolKey(nodes.Items)
	}
	for i := range nodes.Items {
		n := &nodes.Items[i]
		allowed, why := AllowNode(n)
		pool := ""
		if inv.PoolKey != "" {
			pool = n.Labels[inv.PoolKey]
		}
		if allowed && pool == "" {
			allowed, why = false, "in no pool (no label "+orKeys(inv.PoolKey)+")"
		}
		inv.Nodes = append(inv.Nodes, Node{Name: n.Name, Pool: pool, ControlPlane: isControlPlane(n), Ready: cluster.IsReady(n),
			Schedulable: !n.Spec.Unschedulable, Allowed: allowed, Why: why, Version: n.Status.NodeInfo.KubeletVersion})
	}
	sort.Slice(inv.Nodes, func(i, j int) bool {
		a, b := inv.Nodes[i], inv.Nodes[j]
		if a.Pool != b.Pool {
			return a.Pool < b.Pool
		}
		return a.Name < b.Name
	})
	for i := range nss.Items {
		allowed, why := AllowNamespace(&nss.Items[i])
		inv.Namespaces = append(inv.Namespaces, Namespace{Name: nss.Items[i].Name, Allowed: allowed, Why: why})
	}
	sort.Slice(inv.Namespaces, func(i, j int) bool { return inv.Namespaces[i].Name < inv.Namespaces[j].Name })
	return inv, nil
}

// detectPoolKey is the first of PoolKeys an opted-in node carries, or "".
func detectPoolKey(nodes []corev1.Node) string {
	for _, k := range PoolKeys {
		for i := range nodes {
			if ok, _ := AllowNode(&nodes[i]); ok && nodes[i].Labels[k] != "" {
				return k
			}
		}
	}
	return ""
}

func orKeys(key string) string {
	if key != "" {
		return key
	}
	return strings.Join(PoolKeys, " or ")
}

// Pools are the opted-in nodes by pool, each pool's nodes sorted by name.
func (inv *Inventory) Pools() map[string][]Node {
	out := map[string][]Node{}
	for _, n := range inv.Nodes {
		if n.Allowed {
			out[n.Pool] = append(out[n.Pool], n)
		}
	}
	return out
}

// PoolNames are the pools with an opted-in node, sorted.
func (inv *Inventory) PoolNames() []string {
	var names []string
	for p := range inv.Pools() {
		names = append(names, p)
	}
	sort.Strings(names)
	return names
}

// AllowedNamespaces are the namespaces opted in, sorted.
func (inv *Inventory) AllowedNamespaces() []string {
	var out []string
	for _, ns := range inv.Namespaces {
		if ns.Allowed {
			out = append(out, ns.Name)
		}
	}
	return out
}

// Usable says why gameday can do nothing on the cluster (ErrNoTarget), or nil.
func (inv *Inventory) Usable() error {
	if len(inv.Pools()) > 0 {
		return nil
	}
	opted := 0
	for _, n := range inv.Nodes {
		if ok := strings.HasPrefix(n.Why, "in no pool"); ok {
			opted++
		}
	}
	if opted > 0 {
		return fmt.Errorf("%w: %d opted-in node(s), none in a pool (label %s); name the label with --pool-label", ErrNoTarget, opted, orKeys(inv.PoolKey))
	}
	return fmt.Errorf("%w: no node is labelled %s=%s (the control plane never is); label the nodes gameday may break: kubectl label node NAME %s=%s",
		ErrNoTarget, AllowKey, Allowed, AllowKey, Allowed)
}
