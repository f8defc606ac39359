package steps

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilversion "k8s.io/apimachinery/pkg/util/version"
	"k8s.io/client-go/kubernetes"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/scenarios"
)

type nodeOp int

const (
	opCordon nodeOp = iota
	opDrain
	opContainerStop
	opContainerStart
	opKubeletStop
	opKubeletStart
)

// nodeStep is every action on a target's nodes: cordon, drain, stop and
// start a node's container or its kubelet.
type nodeStep struct {
	restoring
	op nodeOp
}

func (s nodeStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	nodes, err := SelectNodes(ctx, env, st.Target.Selector)
	if err != nil {
		return Outcome{}, err
	}
	idx, err := Pick(env, st.Target, len(nodes))
	if err != nil {
		return Outcome{}, err
	}
	picked := make([]corev1.Node, len(idx))
	for i, j := range idx {
		picked[i] = nodes[j]
	}
	// A drain the cluster refuses (PodDisruptionBudgets) is the system's
	// answer: the step's outcome, not an error; the scenario goes on.
	var mu sync.Mutex
	var refused []string
	out, err := forNodes(picked, func(n corev1.Node) error {
		err := s.apply(ctx, env, st, n)
		if blocked := (*cluster.DrainBlockedError)(nil); errors.As(err, &blocked) {
			mu.Lock()
			refused = append(refused, blocked.Error())
			mu.Unlock()
			return nil
		}
		return err
	})
	if len(refused) > 0 {
		slices.Sort(refused)
		out.Blocked, out.Message = true, strings.Join(refused, "; ")
	}
	return out, err
}

func (s nodeStep) apply(ctx context.Context, env *Env, st scenarios.Step, n corev1.Node) error {
	rec := Record{Step: st.Name, Action: st.Action, Target: n.Name}
	switch s.op {
	case opCordon, opDrain:
		if !n.Spec.Unschedulable {
			rec.Kind = KindSchedulable
			if err := env.Journal.Add(rec); err != nil {
				return err
			}
		}
		if s.op == opCordon {
			return env.Nodes.Cordon(ctx, n.Name)
		}
		return env.Nodes.Drain(ctx, n.Name, cluster.DrainOptions{Timeout: st.Timeout, Delete: st.DisableEviction})
	case opContainerStop:
		return stopContainer(ctx, env, st, n.Name)
	case opKubeletStop:
		rec.Kind = KindKubelet
		if err := env.Journal.Add(rec); err != nil {
			return err
		}
		return env.Nodes.StopKubelet(ctx, n.Name)
	case opContainerStart:
		if err := env.Nodes.StartContainer(ctx, n.Name); err != nil {
			return err
		}
	case opKubeletStart:
		if err := env.Nodes.StartKubelet(ctx, n.Name); err != nil {
			return err
		}
	}
	_, err := env.Nodes.WaitReady(ctx, n.Name, true, env.readyTimeout(st))
	return err
}

func stopContainer(ctx context.Context, env *Env, st scenarios.Step, node string) error {
	if err := env.Journal.Add(Record{Step: st.Name, Action: st.Action, Kind: KindContainer, Target: node}); err != nil {
		return err
	}
	return env.Nodes.StopContainer(ctx, node)
}

// forNodes runs fn on every node at once (a node group acts on its nodes
// together) and reports them as the outcome's targets.
func forNodes(nodes []corev1.Node, fn func(corev1.Node) error) (Outcome, error) {
	names := make([]string, len(nodes))
	for i, n := range nodes {
		names[i] = n.Name
	}
	return forNames(names, func(name string) error { return fn(nodes[slices.Index(names, name)]) })
}

// forNames is forNodes for nodes known by name (spares have no Node yet).
func forNames(names []string, fn func(string) error) (Outcome, error) {
	var wg sync.WaitGroup
	errs := make([]error, len(names))
	for i, n := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(n)
		}()
	}
	wg.Wait()
	return Outcome{Targets: slices.Clone(names)}, errors.Join(errs...)
}

// poolOutageStep loses every node of a pool at once: their containers stop,
// as when a node group's machines are terminated.
type poolOutageStep struct{ restoring }

func (poolOutageStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	pool, err := scenarios.PoolFor(env.System, env.Topology, st.Target.Selector)
	if err != nil {
		return Outcome{}, err
	}
	nodes, err := SelectNodes(ctx, env, scenarios.Selector{Pool: pool.Name})
	if err != nil {
		return Outcome{}, err
	}
	if len(nodes) == 0 {
		return Outcome{}, fmt.Errorf("pool %s has no nodes", pool.Name)
	}
	out, err := forNodes(nodes, func(n corev1.Node) error { return stopContainer(ctx, env, st, n.Name) })
	out.Message = fmt.Sprintf("pool %s lost: %d nodes stopped", pool.Name, len(nodes))
	if env.Nodes.Emulated() {
		out.Message = fmt.Sprintf("pool %s lost: %d nodes (emulated: cordoned, tainted, their opted-in pods deleted)", pool.Name, len(nodes))
	}
	return out, err
}

// provisionPoolStep brings the spare pools that replace a pool into service.
// At the control plane's version they join; at the replaced pool's own
// version (what a node group's automatic replacement uses) they join only if
// the control plane has not moved to another version.
type provisionPoolStep struct{ restoring }

func (provisionPoolStep) Apply(ctx context.Context, env *Env, st scenarios.Step) (Outcome, error) {
	spares, err := scenarios.SparePools(env.System, env.Topology, st.Target.Selector)
	if err != nil {
		return Outcome{}, err
	}
	of, err := cluster.SpareNodes(ctx, env.Client)
	if err != nil {
		return Outcome{}, err
	}
	var nodes, names []string
	for _, sp := range spares {
		nodes = append(nodes, of[sp.Name]...)
		names = append(names, sp.Name)
	}
	if len(nodes) == 0 {
		return Outcome{}, fmt.Errorf("spare pools %s have no nodes", strings.Join(names, ", "))
	}
	cp, err := ControlPlaneVersion(ctx, env.Client)
	if err != nil {
		return Outcome{}, err
	}
	version := cp
	if st.Version == scenarios.VersionPool {
		if version, err = poolVersion(ctx, env, nodes[0]); err != nil {
			return Outcome{}, err
		}
		if !sameMinor(version, cp) {
			return Outcome{Blocked: true, Message: fmt.Sprintf(
				"replacement nodes for pool %s cannot join: they run %s and the control plane runs %s (version skew)",
				strings.Join(names, ", "), version, cp)}, nil
		}
	}
	out, err := forNames(nodes, func(name string) error {
		if n, err := env.Client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{}); err != nil || !cluster.InService(n) {
			if err := env.Journal.Add(Record{Step: st.Name, Action: st.Action, Kind: KindOutOfService, Target: name}); err != nil {
				return err
			}
		}
		return env.Nodes.BringIntoService(ctx, name, version, env.readyTimeout(st))
	})
	out.Message = fmt.Sprintf("pool %s in service at %s", strings.Join(names, ", "), version)
	return out, err
}

// sameMinor reports whether two Kubernetes versions share major and minor:
// a node joins a control plane of its minor version ("v1.29.4-eks-a1" and
// "v1.29.6" do), as the skew this models refuses the next minor's.
func sameMinor(a, b string) bool {
	va, errA := utilversion.ParseGeneric(a)
	vb, errB := utilversion.ParseGeneric(b)
	if errA != nil || errB != nil {
		return a == b
	}
	return va.Major() == vb.Major() && va.Minor() == vb.Minor()
}

// poolVersion is the version a spare pool's node joins at on its own: its
// image's (NodeImageVersion) on kind; where machines are out of reach, the
// version its kubelet reports.
func poolVersion(ctx context.Context, env *Env, node string) (string, error) {
	if !env.Nodes.Emulated() {
		return NodeImageVersion(ctx, env.Client)
	}
	n, err := env.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	return n.Status.NodeInfo.KubeletVersion, nil
}

// NodeImageVersion is the version a node of the cluster's image joins at
// with its own kubelet: the control-plane node's kubelet's, which no
// upgrade changes.
func NodeImageVersion(ctx context.Context, client kubernetes.Interface) (string, error) {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: cluster.PoolLabel + "=" + cluster.SystemPool})
	if err != nil {
		return "", err
	}
	if len(nodes.Items) == 0 {
		return "", fmt.Errorf("no control-plane node (label %s=%s)", cluster.PoolLabel, cluster.SystemPool)
	}
	return nodes.Items[0].Status.NodeInfo.KubeletVersion, nil
}

func restoreContainer(ctx context.Context, env *Env, r Record) error {
	if err := env.Nodes.StartContainer(ctx, r.Target); err != nil {
		return err
	}
	_, err := env.Nodes.WaitReady(ctx, r.Target, true, env.readyTimeout(scenarios.Step{}))
	return err
}

func restoreKubelet(ctx context.Context, env *Env, r Record) error {
	if err := env.Nodes.StartKubelet(ctx, r.Target); err != nil {
		return err
	}
	_, err := env.Nodes.WaitReady(ctx, r.Target, true, env.readyTimeout(scenarios.Step{}))
	return err
}

func restoreSchedulable(ctx context.Context, env *Env, r Record) error {
	return env.Nodes.Uncordon(ctx, r.Target)
}

func restoreOutOfService(ctx context.Context, env *Env, r Record) error {
	return RetireSpare(ctx, env, r.Target)
}

// RetireSpare takes a spare node back out of service. Its pods move off
// first, without a gap in service, while its kubelet can still stop them; a
// kubelet stopped under running pods would leave them Terminating, and
// running, for good. A surge left by a vacate cut short goes back first,
// whatever follows.
func RetireSpare(ctx context.Context, env *Env, node string) error {
	timeout := env.readyTimeout(scenarios.Step{})
	vacated := env.Nodes.Unsurge(ctx)
	if env.Nodes.Emulated() {
		// Held out again through the API (its opted-in pods deleted): a
		// vacate would move other namespaces' pods too, which are not gameday's.
		return errors.Join(vacated, env.Nodes.TakeOutOfService(ctx, node))
	}
	if _, err := env.Client.CoreV1().Nodes().Get(ctx, node, metav1.GetOptions{}); apierrors.IsNotFound(err) {
		// It never joined, or left already: only its kubelet must stay down.
	} else if err := env.Nodes.StartKubelet(ctx, node); err != nil {
		vacated = errors.Join(vacated, err)
	} else if _, err := env.Nodes.WaitReady(ctx, node, true, timeout); err != nil {
		vacated = errors.Join(vacated, err)
	} else if err := env.Nodes.Vacate(ctx, node, timeout); errors.Is(err, cluster.ErrUngraceful) {
		// Empty all the same: the spare can leave service.
		if env.Log != nil {
			fmt.Fprintf(env.Log, "%s: %v\n", node, err)
		}
	} else {
		vacated = errors.Join(vacated, err)
	}
	// Out of service whatever the vacate did, on a context of its own if
	// recovery's ran out: the spare must not stay in.
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	return errors.Join(vacated, env.Nodes.TakeOutOfService(cleanup, node))
}
