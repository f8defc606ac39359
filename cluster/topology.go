// Package cluster creates, inspects and breaks the local Kubernetes clusters
// gameday runs its scenarios on: topologies (node pools), the kind backend,
// and node operations (stop, start, cordon, drain).
package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
)

const (
	// PoolLabel is carried by every node: the name of the node pool it belongs to.
	PoolLabel = "gameday.dev/pool"
	// ReplacesLabel is carried by spare nodes: the pool they stand in for.
	ReplacesLabel = "gameday.dev/replaces"
	// OutOfServiceTaint keeps a spare node out of service until a step brings it in.
	OutOfServiceTaint = "gameday.dev/out-of-service"
	// SystemPool is the control-plane node's pool; it hosts the cluster add-ons
	// and is never a fault target.
	SystemPool = "system"

	// MaxWorkers bounds a topology's worker nodes: every node is a container on
	// this machine, and a laptop or CI runner has only so many cores.
	MaxWorkers = 8
)

// Topology is a cluster layout: one control-plane node (pool "system") and
// worker node pools.
type Topology struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Pools       []Pool `json:"pools"`
}

// Pool is a group of identical worker nodes.
type Pool struct {
	Name   string            `json:"name"`
	Size   int               `json:"size"`
	Labels map[string]string `json:"labels,omitempty"`
	Taints []corev1.Taint    `json:"taints,omitempty"`
	// Spare pools are created with the cluster (kind cannot add nodes later)
	// and kept out of service until a step brings them in.
	Spare bool `json:"spare,omitempty"`
	// Replaces names the pool a spare pool stands in for.
	Replaces string `json:"replaces,omitempty"`
	// NodeGroups are, on a cluster gameday did not create, the node groups
	// (values of its pool label: an EKS node group, a GKE node pool...)
	// whose opted-in nodes make up this pool; empty: the one named as the pool.
	NodeGroups []string `json:"nodeGroups,omitempty"`
}

// Groups are the node groups that make up p on a cluster gameday did not
// create: its NodeGroups, else its own name.
func (p Pool) Groups() []string {
	if len(p.NodeGroups) > 0 {
		return p.NodeGroups
	}
	return []string{p.Name}
}

// SameLayout reports whether u has t's name and pools (their sizes, labels,
// taints and spares): a cluster made for one serves a run planned for the
// other. Descriptions may differ.
func (t Topology) SameLayout(u Topology) bool {
	a, aerr := json.Marshal(t.Pools)
	b, berr := json.Marshal(u.Pools)
	return t.Name == u.Name && aerr == nil && berr == nil && bytes.Equal(a, b)
}

// Workers is the number of worker nodes, spares included.
func (t Topology) Workers() int {
	n := 0
	for _, p := range t.Pools {
		n += p.Size
	}
	return n
}

// Pool returns the pool with the given name.
func (t Topology) Pool(name string) (Pool, bool) {
	for _, p := range t.Pools {
		if p.Name == name {
			return p, true
		}
	}
	return Pool{}, false
}

// NodeLabels is every label a node of pool p carries.
func (p Pool) NodeLabels() map[string]string {
	l := map[string]string{PoolLabel: p.Name}
	for k, v := range p.Labels {
		l[k] = v
	}
	if p.Replaces != "" {
		l[ReplacesLabel] = p.Replaces
	}
	return l
}

func poolTaint(pool string) corev1.Taint {
	return corev1.Taint{Key: PoolLabel, Value: pool, Effect: corev1.TaintEffectNoSchedule}
}

// builtins are the topologies gameday ships. Each has three worker nodes,
// so that the same scenario compares fairly; shared and separate keep one
// of them spare.
var builtins = map[string]Topology{
	"shared": {
		Name:        "shared",
		Description: "every tier on one node pool, as in the incident",
		Pools: []Pool{
			{Name: "app", Size: 2, Taints: []corev1.Taint{poolTaint("app")}},
			{Name: "app-next", Size: 1, Spare: true, Replaces: "app", Taints: []corev1.Taint{poolTaint("app")}},
		},
	},
	"separate": {
		Name:        "separate",
		Description: "the frontend and the backend on node pools of their own",
		Pools: []Pool{
			{Name: "frontend", Size: 1, Taints: []corev1.Taint{poolTaint("frontend")}},
			{Name: "backend", Size: 1, Taints: []corev1.Taint{poolTaint("backend")}},
			{Name: "backend-next", Size: 1, Spare: true, Replaces: "backend", Taints: []corev1.Taint{poolTaint("backend")}},
		},
	},
	"tiered": {
		Name:        "tiered",
		Description: "the frontend, the backend and the workers on node pools of their own",
		Pools: []Pool{
			{Name: "frontend", Size: 1, Taints: []corev1.Taint{poolTaint("frontend")}},
			{Name: "backend", Size: 1, Taints: []corev1.Taint{poolTaint("backend")}},
			{Name: "workers", Size: 1, Taints: []corev1.Taint{poolTaint("workers")}},
		},
	},
}

// Builtin returns the built-in topology with the given name.
func Builtin(name string) (Topology, bool) {
	t, ok := builtins[name]
	if !ok {
		return Topology{}, false
	}
	return t.deepCopy(), true
}

// BuiltinNames lists the built-in topologies, sorted.
func BuiltinNames() []string {
	names := make([]string, 0, len(builtins))
	for n := range builtins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (t Topology) deepCopy() Topology {
	out := t
	out.Pools = make([]Pool, len(t.Pools))
	for i, p := range t.Pools {
		out.Pools[i] = p
		if p.Labels != nil {
			out.Pools[i].Labels = map[string]string{}
			for k, v := range p.Labels {
				out.Pools[i].Labels[k] = v
			}
		}
		out.Pools[i].Taints = append([]corev1.Taint(nil), p.Taints...)
		out.Pools[i].NodeGroups = append([]string(nil), p.NodeGroups...)
	}
	return out
}

// String is a one-line summary such as "shared: app×2, app-next×1 (spare)".
func (t Topology) String() string {
	s := t.Name + ":"
	for i, p := range t.Pools {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf(" %s×%d", p.Name, p.Size)
		if p.Spare {
			s += " (spare)"
		}
	}
	return s
}
