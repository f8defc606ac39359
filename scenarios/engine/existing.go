package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios/observe"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/system"
)

// Existing is the backend of a cluster gameday did not create, reached
// through a kubeconfig context. It never creates or deletes the cluster;
// for a session it labels the opted-in nodes of the topology's pools with
// their pool (Adopt) and deploys the fixtures into the team's opted-in
// namespace, and takes both down after the run. Node losses are emulated
// (cluster.Nodes.Lose).
type Existing struct {
	Target *kubeconfig.Target
	// PoolKey is the node label naming node groups ("": detected, see
	// kubeconfig.Discover).
	PoolKey string
	// Store keeps what gameday knows of such clusters (journals, the
	// topology of a session): a folder of its own, apart from kind's
	// clusters, so that no kind command ever takes one for its own.
	Store *cluster.Store
	// URLs are where the runner reaches the system's services, by name,
	// and Via the route there (nil: straight from here; see ProxyRoute).
	URLs map[string]string
	Via  *observe.Via
	// ImageRepo is where the fixtures' image is pushed for the nodes to
	// pull (--image-repo); "": the nodes have it already.
	ImageRepo string
}

var _ adopter = (*Existing)(nil)

// ExistingStore is where gameday keeps its state of clusters it did not
// create, beside (never inside) kind's.
func ExistingStore(kind *cluster.Store) *cluster.Store {
	return &cluster.Store{Dir: filepath.Join(kind.Dir, "existing")}
}

var unsafeName = regexp.MustCompile(`[^a-z0-9-]+`)

// ExistingName is the name gameday keeps a context's cluster under (its
// lock, its journal): the context's name made a DNS label, and a hash of
// the context and its API server, so that two kubeconfigs' "default"
// contexts, or prod_eu and prod-eu, never share a journal.
func ExistingName(context, server string) string {
	n := strings.Trim(unsafeName.ReplaceAllString(strings.ToLower(context), "-"), "-")
	if len(n) > 26 { // a cluster name has at most 40 characters
		n = strings.Trim(n[:26], "-")
	}
	if n == "" {
		n = "context"
	}
	sum := sha256.Sum256([]byte(context + "\n" + server))
	return "ctx-" + n + "-" + hex.EncodeToString(sum[:4])
}

// Capabilities: no machine, no control plane; node losses emulated.
func (x *Existing) Capabilities() cluster.Capabilities { return cluster.KubeconfigCapabilities }

// Create never happens: the cluster is the one the context names.
func (x *Existing) Create(context.Context, cluster.CreateOptions) (*cluster.Record, error) {
	return nil, errors.New("gameday does not create clusters through a kubeconfig: it runs on the one the context names")
}

// Delete never happens: gameday never deletes a cluster it did not create.
func (x *Existing) Delete(context.Context, string) error {
	return errors.New("gameday never deletes a cluster it did not create")
}

// Record is what gameday knows of the context's cluster: the topology of
// its last (or current) session, once adopted.
func (x *Existing) Record(name string) (*cluster.Record, error) {
	// The record kept in the cluster with the journal first: the session
	// the journal is of, whichever machine ran it.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if data, err := (kubeconfig.Mirror{Client: x.Target.Client}).Record(ctx); err == nil && data != "" {
		var kept cluster.Record
		if err := json.Unmarshal([]byte(data), &kept); err == nil {
			return &kept, nil
		}
	}
	rec, err := x.Store.Get(name)
	if !errors.Is(err, cluster.ErrNoRecord) {
		return rec, err
	}
	return &cluster.Record{Name: name, Backend: cluster.BackendKubeconfig, Kubeconfig: x.Target.File}, nil
}

// ClientFor is the record and the context's client.
func (x *Existing) ClientFor(name string) (*cluster.Record, kubernetes.Interface, error) {
	rec, err := x.Record(name)
	return rec, x.Target.Client, err
}

// Mirror keeps the journal's copy in the cluster, for recover from anywhere.
func (x *Existing) Mirror() Mirror { return kubeconfig.Mirror{Client: x.Target.Client} }

// ServiceURLs are where the runner reaches the system's services (--service-url).
func (x *Existing) ServiceURLs() map[string]string { return x.URLs }

// Pending reports whether a run left changes on the context's cluster to
// put back: its journal kept in the cluster is not empty (that copy is the
// authority: each record is written there before its change is made).
func (x *Existing) Pending(ctx context.Context, _ string) (bool, error) {
	left, err := x.Mirror().Read(ctx)
	return strings.TrimSpace(left) != "", err
}

// ProbeVia is the route to the services' URLs (nil: straight from here).
func (x *Existing) ProbeVia() *observe.Via { return x.Via }

// ProxyRoute is the route to the system's services through the context's
// API server (its service proxy, as the context's user), for a runner that
// reaches no NodePort or load balancer of the cluster: their URLs there and
// the transports to them.
func ProxyRoute(t *kubeconfig.Target, sys *system.System) (map[string]string, *observe.Via, error) {
	urls := map[string]string{}
	for _, sv := range sys.Services {
		u, err := t.ServiceProxyURL(fixtures.Namespace, sv.Name, fixtures.ServicePortName)
		if err != nil {
			return nil, nil, err
		}
		urls[sv.Name] = u
	}
	kept, err := t.Transport(true)
	if err != nil {
		return nil, nil, err
	}
	fresh, err := t.Transport(false)
	if err != nil {
		return nil, nil, err
	}
	return urls, &observe.Via{Kept: kept, Fresh: fresh,
		Name: "the API server's service proxy (each request also crosses the API server, which picks one of the Service's ready pods)"}, nil
}

// ClusterDir holds the context's journal.
func (x *Existing) ClusterDir(name string) string { return x.Store.ClusterDir(name) }

// AuditLog: gameday reads no audit log of a cluster it did not create.
func (x *Existing) AuditLog(string) string { return "" }

// DeployFixtures deploys onto the pools Adopt labelled.
func (x *Existing) DeployFixtures(ctx context.Context, name string, o fixtures.DeployOptions, logger log.Logger) error {
	rec, err := x.Record(name)
	if err != nil {
		return err
	}
	o.ImageRepo = x.ImageRepo
	var via http.RoundTripper
	if x.Via != nil {
		via = x.Via.Kept
	}
	return fixtures.DeployExisting(ctx, x.Target.Client, rec.Topology, o, x.URLs, via, logger)
}

// placement is which opted-in nodes make up each in-service pool of a
// topology on the cluster, or why they cannot.
func (x *Existing) placement(ctx context.Context, o Options) (map[string][]string, error) {
	inv, err := kubeconfig.Discover(ctx, x.Target.Client, x.PoolKey)
	if err != nil {
		return nil, err
	}
	if err := inv.Usable(); err != nil {
		return nil, fmt.Errorf("%w: %w", cluster.ErrNotReusable, err)
	}
	if !slices.Contains(inv.AllowedNamespaces(), fixtures.Namespace) {
		fix := fmt.Sprintf("kubectl annotate namespace %s %s=%s", fixtures.Namespace, kubeconfig.AllowKey, kubeconfig.Allowed)
		if !slices.ContainsFunc(inv.Namespaces, func(ns kubeconfig.Namespace) bool { return ns.Name == fixtures.Namespace }) {
			fix = fmt.Sprintf("kubectl create namespace %s && %s", fixtures.Namespace, fix)
		}
		return nil, fmt.Errorf("%w: namespace %s, where gameday deploys its fixtures, is not opted in: `%s`", cluster.ErrNotReusable, fixtures.Namespace, fix)
	}
	if err := fixtures.CheckExisting(o.Scenario.System); err != nil {
		return nil, fmt.Errorf("%w: %w", cluster.ErrNotReusable, err)
	}
	// A cluster gameday made keeps its marker in kube-system: it is run on
	// by name, as gameday's own, never adopted.
	if _, err := x.Target.Client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, cluster.MarkerConfigMap, metav1.GetOptions{}); err == nil {
		return nil, fmt.Errorf("%w: context %q reaches a cluster gameday made (its marker is in kube-system): run on it with --name, as gameday's own",
			cluster.ErrNotReusable, x.Target.Context)
	}
	groups := inv.Pools()
	out := map[string][]string{}
	var problems []string
	for _, p := range o.Topology.Pools {
		var nodes []string
		for _, g := range p.Groups() {
			for _, n := range groups[g] {
				// A node cordoned or NotReady before the run is someone's
				// business already: not gameday's to break, nor to put back.
				if !n.Ready || !n.Schedulable {
					problems = append(problems, fmt.Sprintf("node %s of pool %s is %s", n.Name, p.Name, map[bool]string{true: "cordoned", false: "not Ready"}[n.Ready]))
					continue
				}
				nodes = append(nodes, n.Name)
			}
		}
		if len(nodes) < p.Size {
			what := "pool"
			if p.Spare {
				what = "spare pool"
			}
			problems = append(problems, fmt.Sprintf("%s %s needs %d opted-in node(s) of node group(s) %s (label %s), and has %d",
				what, p.Name, p.Size, strings.Join(p.Groups(), ", "), inv.PoolKey, len(nodes)))
		}
		out[p.Name] = nodes
	}
	// A node not opted in that carries gameday's pool label would take the
	// fixtures' pods: refused, never relabelled.
	labelled, err := x.Target.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: cluster.PoolLabel})
	if err != nil {
		return nil, err
	}
	for _, n := range labelled.Items {
		if ok, _ := kubeconfig.AllowNode(&n); !ok {
			if _, ours := o.Topology.Pool(n.Labels[cluster.PoolLabel]); ours {
				problems = append(problems, fmt.Sprintf("node %s, not opted in (or the control plane), is labelled %s=%s: gameday's fixtures could land there",
					n.Name, cluster.PoolLabel, n.Labels[cluster.PoolLabel]))
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: context %q cannot hold topology %s: %s", cluster.ErrNotReusable, x.Target.Context, o.Topology.Name, strings.Join(problems, "; "))
	}
	return out, nil
}

// Placement says which opted-in nodes make up each pool of o's topology on
// the cluster ("frontend = web-1; backend = api-1, api-2"), or why they
// cannot. It changes nothing.
func (x *Existing) Placement(ctx context.Context, o Options) (string, error) {
	place, err := x.placement(ctx, o)
	if err != nil {
		return "", err
	}
	var parts []string
	for _, p := range o.Topology.Pools {
		what := "pool"
		if p.Spare {
			what = "spare pool (held out of service until provisioned)"
		}
		parts = append(parts, fmt.Sprintf("%s %s = node %s", what, p.Name, strings.Join(place[p.Name], ", ")))
	}
	return strings.Join(parts, "; "), nil
}

// CheckFit says whether the context's cluster can serve a session of o:
// no run's journal left, the namespace opted in, each pool's node groups
// with enough opted-in nodes. It changes nothing.
func (x *Existing) CheckFit(ctx context.Context, o Options) error {
	if left, err := x.Mirror().Read(ctx); err != nil {
		return err
	} else if strings.TrimSpace(left) != "" {
		return fmt.Errorf("%w: context %q is left by a run that did not finish (its journal is kept in the cluster, %s/%s): `gameday recover %s`, from any machine, puts back what that run changed",
			cluster.ErrNotReusable, x.Target.Context, cluster.ExistingNamespace, kubeconfig.JournalConfigMap, recoverArg(x, o.Name))
	}
	// (A journal here without a copy in the cluster was recovered from
	// elsewhere, or its changes never made: settled aside when a run opens.)
	_, err := x.placement(ctx, o)
	return err
}

// Adopt labels the opted-in nodes of each pool with gameday's pool label
// (journaled, taken down after the run), records the session's topology,
// and journals the fixtures about to be deployed.
func (x *Existing) Adopt(ctx context.Context, env *steps.Env, o Options) error {
	place, err := x.placement(ctx, o)
	if err != nil {
		return err
	}
	rec := &cluster.Record{Name: o.Name, Backend: cluster.BackendKubeconfig, Topology: o.Topology, Kubeconfig: x.Target.File}
	if err := x.Store.Put(rec); err != nil {
		return err
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := (kubeconfig.Mirror{Client: env.Client}).PutRecord(ctx, data); err != nil {
		return err
	}
	// The fixtures first in the journal: what takes them down takes the
	// marker too, made next.
	if err := steps.DeployingFixtures(env, fixtures.Namespace); err != nil {
		return err
	}
	if err := cluster.EnsureExistingMarker(ctx, env.Client); err != nil {
		return err
	}
	for _, p := range o.Topology.Pools {
		for _, n := range place[p.Name] {
			if err := steps.Adopt(ctx, env, n, p.Name, p.Replaces); err != nil {
				return fmt.Errorf("node %s into pool %s: %w", n, p.Name, err)
			}
			if p.Spare {
				if err := steps.HoldOut(ctx, env, n); err != nil {
					return fmt.Errorf("spare node %s of pool %s: %w", n, p.Name, err)
				}
			}
		}
	}
	// Nodes labelled by an earlier session for another topology's pool that
	// this one does not use would still take pods: none is left so.
	nodes, err := env.Client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: cluster.PoolLabel})
	if err != nil {
		return err
	}
	for _, n := range nodes.Items {
		if !placed(place, n.Name) && n.Labels[cluster.PoolLabel] != cluster.SystemPool {
			if ok, _ := kubeconfig.AllowNode(&n); ok {
				if err := steps.Adopt(ctx, env, n.Name, "", ""); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func placed(place map[string][]string, node string) bool {
	for _, ns := range place {
		if slices.Contains(ns, node) {
			return true
		}
	}
	return false
}
