package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/cluster/internal/docker"
)

// NodeStatus is one node as gameday sees it: its container and its Kubernetes state.
type NodeStatus struct {
	Name      string `json:"name"`
	Role      string `json:"role"`
	Pool      string `json:"pool"`
	Spare     bool   `json:"spare"`
	Container string `json:"container"` // running, stopped, missing
	// Joined: the node has a Node object (a spare out of service has none).
	Joined      bool     `json:"joined"`
	Ready       bool     `json:"ready"`
	Schedulable bool     `json:"schedulable"`
	InService   bool     `json:"inService"`
	Taints      []string `json:"taints"`
}

// ClusterStatus is a cluster's record joined with the live state of its nodes.
type ClusterStatus struct {
	Name       string        `json:"name"`
	Backend    string        `json:"backend"`
	Topology   string        `json:"topology"`
	Image      string        `json:"image"`
	Kubeconfig string        `json:"kubeconfig"`
	Ports      []PortMapping `json:"ports"`
	CreatedAt  time.Time     `json:"createdAt"`
	// APIError is set when the API server could not be asked; Nodes then
	// holds only what the containers tell.
	APIError string       `json:"apiError,omitempty"`
	Nodes    []NodeStatus `json:"nodes"`
}

// Record returns the record of a cluster gameday created, or ErrNotOurs /
// ErrNotFound.
func (k *Kind) Record(name string) (*Record, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	rec, err := k.Store.Get(name)
	if errors.Is(err, ErrNoRecord) {
		if exists, _ := k.Exists(name); exists {
			return nil, fmt.Errorf("%w: %q has no gameday record; gameday only works on clusters it created", ErrNotOurs, name)
		}
		return nil, fmt.Errorf("%w %q: create it with `gameday cluster up --name %s`", ErrNotFound, name, name)
	}
	return rec, err
}

// Status reports the state of every node of a cluster gameday created.
func (k *Kind) Status(ctx context.Context, name string) (*ClusterStatus, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if err := CheckDocker(ctx); err != nil {
		return nil, err
	}
	rec, err := k.Record(name)
	if err != nil {
		return nil, err
	}
	st := &ClusterStatus{
		Name: rec.Name, Backend: rec.Backend, Topology: rec.Topology.Name, Image: rec.Image,
		Kubeconfig: rec.Kubeconfig, Ports: rec.Ports, CreatedAt: rec.CreatedAt,
	}
	containers, err := docker.ClusterContainerStates(ctx, name)
	if err != nil {
		return nil, err
	}
	byName := map[string]*NodeStatus{}
	for c, running := range containers {
		ns := &NodeStatus{Name: c, Container: "stopped", Role: "worker"}
		if running {
			ns.Container = "running"
		}
		byName[c] = ns
	}
	client, err := Client(rec)
	var nodes *corev1.NodeList
	if err == nil {
		actx, cancel := context.WithTimeout(ctx, 10*time.Second)
		nodes, err = client.CoreV1().Nodes().List(actx, metav1.ListOptions{})
		cancel()
	}
	if err != nil {
		st.APIError = err.Error()
	} else {
		for _, n := range nodes.Items {
			ns, ok := byName[n.Name]
			if !ok {
				ns = &NodeStatus{Name: n.Name, Container: "missing"}
				byName[n.Name] = ns
			}
			k.fillNode(ns, &n, rec.Topology)
		}
		// A spare that has not joined has no Node: its pool is in the marker.
		if spares, err := SpareNodes(ctx, client); err == nil {
			for pool, names := range spares {
				for _, name := range names {
					if ns, ok := byName[name]; ok && ns.Pool == "" {
						ns.Pool, ns.Spare, ns.Taints = pool, true, []string{}
					}
				}
			}
		}
	}
	for _, ns := range byName {
		st.Nodes = append(st.Nodes, *ns)
	}
	sort.Slice(st.Nodes, func(i, j int) bool { return st.Nodes[i].Name < st.Nodes[j].Name })
	return st, nil
}

func (k *Kind) fillNode(ns *NodeStatus, n *corev1.Node, t Topology) {
	ns.Pool = n.Labels[PoolLabel]
	ns.Role = "worker"
	if _, cp := n.Labels["node-role.kubernetes.io/control-plane"]; cp {
		ns.Role = "control-plane"
	}
	if p, ok := t.Pool(ns.Pool); ok {
		ns.Spare = p.Spare
	}
	ns.Joined = true
	ns.Ready = IsReady(n)
	ns.Schedulable = !n.Spec.Unschedulable
	ns.InService = InService(n)
	ns.Taints = []string{}
	for _, tn := range n.Spec.Taints {
		ns.Taints = append(ns.Taints, tn.ToString())
	}
}

// ListEntry is one cluster gameday created.
type ListEntry struct {
	Name      string    `json:"name"`
	Topology  string    `json:"topology"`
	Nodes     int       `json:"nodes"`
	Running   int       `json:"running"`
	Image     string    `json:"image"`
	CreatedAt time.Time `json:"createdAt"`
	// Exists is false for a record whose cluster is gone; `cluster down` clears it.
	Exists bool `json:"exists"`
}

// List returns the clusters gameday created.
func (k *Kind) List(ctx context.Context) ([]ListEntry, error) {
	if err := CheckDocker(ctx); err != nil {
		return nil, err
	}
	recs, err := k.Store.List()
	if err != nil {
		return nil, err
	}
	out := []ListEntry{}
	for _, r := range recs {
		e := ListEntry{Name: r.Name, Topology: r.Topology.Name, Nodes: r.Topology.Workers() + 1, Image: r.Image, CreatedAt: r.CreatedAt}
		containers, err := docker.ClusterContainerStates(ctx, r.Name)
		if err != nil {
			return nil, err
		}
		e.Exists = len(containers) > 0
		for _, running := range containers {
			if running {
				e.Running++
			}
		}
		out = append(out, e)
	}
	return out, nil
}
