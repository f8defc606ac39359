package play

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/steps"
)

// ErrInUse: a node group the game's system stands on cannot be deleted from
// the console.
var ErrInUse = errors.New("node group in use")

// ClusterProvider is the console's provider on a gameday cluster: its node
// groups are the topology's pools, and the capacity a new group brings is a
// spare pool's, brought into service; every such change is journaled, so
// that the game's recovery takes it back out.
type ClusterProvider struct {
	Env *steps.Env // client, nodes, topology, journal
	// ReadyTimeout bounds the wait for a new group's nodes; zero: 2 minutes.
	ReadyTimeout time.Duration

	mu      sync.Mutex
	created map[string]createdGroup // by the group's console name
}

type createdGroup struct {
	pool    string // the spare pool whose capacity it is
	version string
}

// ControlPlaneVersion is the version the control plane runs (its recorded upgrade).
func (p *ClusterProvider) ControlPlaneVersion(ctx context.Context) (string, error) {
	return steps.ControlPlaneVersion(ctx, p.Env.Client)
}

// NodeGroups lists the pools in service and the groups the console made.
// Capacity that has not joined (a spare pool out of service) is no group.
func (p *ClusterProvider) NodeGroups(ctx context.Context) ([]NodeGroup, error) {
	nodes, err := p.Env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	of := func(pool string) []corev1.Node {
		var out []corev1.Node
		for _, n := range nodes.Items {
			if n.Labels[cluster.PoolLabel] == pool {
				out = append(out, n)
			}
		}
		return out
	}
	var gs []NodeGroup
	for _, pool := range p.Env.Topology.Pools {
		if pool.Spare {
			continue
		}
		gs = append(gs, group(pool.Name, "", pool.Size, of(pool.Name)))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for name, c := range p.created {
		sp, _ := p.Env.Topology.Pool(c.pool)
		gs = append(gs, group(name, c.version, sp.Size, of(c.pool)))
	}
	slices.SortFunc(gs, func(a, b NodeGroup) int {
		switch {
		case a.Name < b.Name:
			return -1
		case a.Name > b.Name:
			return 1
		}
		return 0
	})
	return gs, nil
}

// group describes nodes as a provider would: how many serve, and why the
// others do not.
func group(name, version string, desired int, nodes []corev1.Node) NodeGroup {
	g := NodeGroup{Name: name, Version: version, Desired: desired, Status: StatusActive}
	notReady := 0
	for _, n := range nodes {
		if version == "" {
			g.Version = n.Status.NodeInfo.KubeletVersion
		}
		if cluster.IsReady(&n) && cluster.InService(&n) {
			g.Size++
		} else {
			notReady++
		}
	}
	if g.Size < desired {
		g.Status = StatusDegraded
		g.Health = append(g.Health, fmt.Sprintf("NodeNotReady: %d of %d instances are not ready", desired-g.Size, desired))
	}
	return g
}

// Provision brings the first spare pool not in service into service as the
// group name, each node journaled before it is changed. The spare is chosen
// and reserved in one step, so that two groups created at once never get
// the same capacity.
func (p *ClusterProvider) Provision(ctx context.Context, name, version string) (NodeGroup, error) {
	sp, nodes, err := p.reserve(ctx, name, version)
	if err != nil {
		return NodeGroup{}, err
	}
	timeout := p.ReadyTimeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	var errs []error
	for _, n := range nodes {
		if err := p.Env.Journal.Add(steps.Record{Step: "console:" + name, Action: scenarios.ActionProvisionPool, Kind: steps.KindOutOfService, Target: n}); err != nil {
			return NodeGroup{}, err
		}
		errs = append(errs, p.Env.Nodes.BringIntoService(ctx, n, version, timeout))
	}
	if err := errors.Join(errs...); err != nil {
		return NodeGroup{}, err
	}
	return NodeGroup{Name: name, Version: version, Size: len(nodes), Desired: sp.Size, Status: StatusActive}, nil
}

// reserve picks a spare pool out of service that no group has and gives it
// to the group name.
func (p *ClusterProvider) reserve(ctx context.Context, name, version string) (cluster.Pool, []string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	used := map[string]bool{}
	for _, c := range p.created {
		used[c.pool] = true
	}
	of, err := cluster.SpareNodes(ctx, p.Env.Client)
	if err != nil {
		return cluster.Pool{}, nil, err
	}
	for _, sp := range p.Env.Topology.Pools {
		if !sp.Spare || used[sp.Name] {
			continue
		}
		nodes := of[sp.Name]
		joined, err := p.joined(ctx, nodes)
		if err != nil {
			return sp, nil, err
		}
		if len(nodes) == 0 || joined {
			continue // in service already (the scenario's own provisioning)
		}
		if p.created == nil {
			p.created = map[string]createdGroup{}
		}
		p.created[name] = createdGroup{pool: sp.Name, version: version}
		return sp, nodes, nil
	}
	return cluster.Pool{}, nil, errors.New("no capacity left for a new node group in this cluster")
}

// Retire takes a group the console made back out of service; the topology's
// own pools carry the system and are refused.
func (p *ClusterProvider) Retire(ctx context.Context, name string) error {
	p.mu.Lock()
	c, ok := p.created[name]
	if ok {
		delete(p.created, name)
	}
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s is one of the cluster's own node groups; gameday's console only deletes groups made in it", ErrInUse, name)
	}
	of, err := cluster.SpareNodes(ctx, p.Env.Client)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range of[c.pool] {
		errs = append(errs, steps.RetireSpare(ctx, p.Env, n))
	}
	return errors.Join(errs...)
}

// joined reports whether any of the nodes has joined and serves.
func (p *ClusterProvider) joined(ctx context.Context, nodes []string) (bool, error) {
	for _, name := range nodes {
		n, err := p.Env.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return false, err
		case cluster.InService(n):
			return true, nil
		}
	}
	return false, nil
}

// NodesOf names the nodes of a group the console made (none for another).
func (p *ClusterProvider) NodesOf(ctx context.Context, group string) []string {
	p.mu.Lock()
	c, ok := p.created[group]
	p.mu.Unlock()
	if !ok {
		return nil
	}
	of, err := cluster.SpareNodes(ctx, p.Env.Client)
	if err != nil {
		return nil
	}
	return of[c.pool]
}
