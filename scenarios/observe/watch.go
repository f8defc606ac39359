package observe

import (
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios/timeline"
)

// Cluster watches a cluster through informers, writes every change that
// matters to the timeline, and answers the engine's conditions from its caches.
type Cluster struct {
	Nodes       corelisters.NodeLister
	Pods        corelisters.PodNamespaceLister
	Deployments appslisters.DeploymentNamespaceLister

	tl     *timeline.Writer
	mu     sync.Mutex
	last   map[string]string
	fields map[string]map[string]watched // per object, its fields as last seen
	first  time.Time                     // the first change seen
	key    []byte                        // keys the digests of data
	cancel context.CancelFunc
}

// Watch starts the informers and returns once their caches are in sync.
// systemMarker watches gameday's marker in kube-system (a cluster gameday
// made); on one it did not make, its marker is in the fixtures' namespace,
// whose config maps are watched anyway, and kube-system is not read.
func Watch(ctx context.Context, client kubernetes.Interface, tl *timeline.Writer, systemMarker bool) (*Cluster, error) {
	ctx, cancel := context.WithCancel(ctx)
	all := informers.NewSharedInformerFactory(client, 0)
	ns := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(fixtures.Namespace))
	// gameday's marker, where the control plane's version is recorded.
	marker := informers.NewSharedInformerFactoryWithOptions(client, 0, informers.WithNamespace(metav1.NamespaceSystem),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) {
			o.FieldSelector = fields.OneTermEqualSelector("metadata.name", cluster.MarkerConfigMap).String()
		}))
	c := &Cluster{tl: tl, last: map[string]string{}, fields: map[string]map[string]watched{}, cancel: cancel, key: make([]byte, 32)}
	if _, err := rand.Read(c.key); err != nil {
		cancel()
		return nil, err
	}
	nodes := all.Core().V1().Nodes()
	events := all.Core().V1().Events()
	pods := ns.Core().V1().Pods()
	deps := ns.Apps().V1().Deployments()
	c.Nodes = nodes.Lister()
	c.Pods = pods.Lister().Pods(fixtures.Namespace)
	c.Deployments = deps.Lister().Deployments(fixtures.Namespace)

	handlers := []struct {
		inf cache.SharedIndexInformer
		fn  func(obj any, deleted bool)
	}{
		{nodes.Informer(), c.node},
		{pods.Informer(), c.pod},
		{deps.Informer(), c.deployment},
		{events.Informer(), c.event},
	}
	var synced []cache.InformerSynced
	for _, h := range handlers {
		fn := h.fn
		if _, err := h.inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc:    func(obj any) { fn(obj, false) },
			UpdateFunc: func(_, obj any) { fn(obj, false) },
			DeleteFunc: func(obj any) { fn(unwrap(obj), true) },
		}); err != nil {
			cancel()
			return nil, err
		}
		synced = append(synced, h.inf.HasSynced)
	}
	// Changes: every object a change can be made to, whoever makes it.
	changing := []cache.SharedIndexInformer{nodes.Informer(), deps.Informer(),
		ns.Policy().V1().PodDisruptionBudgets().Informer(), ns.Core().V1().Services().Informer(),
		ns.Core().V1().ConfigMaps().Informer(), ns.Core().V1().Secrets().Informer()}
	if systemMarker {
		changing = append(changing, marker.Core().V1().ConfigMaps().Informer())
	}
	for _, inf := range changing {
		reg, err := inf.AddEventHandler(cache.ResourceEventHandlerDetailedFuncs{
			AddFunc:    func(obj any, initial bool) { c.change(obj, initial, false) },
			UpdateFunc: func(_, obj any) { c.change(obj, false, false) },
			DeleteFunc: func(obj any) { c.change(unwrap(obj), false, true) },
		})
		if err != nil {
			cancel()
			return nil, err
		}
		synced = append(synced, reg.HasSynced)
	}
	syncCtx, syncCancel := context.WithTimeout(ctx, time.Minute)
	defer syncCancel()
	// The nodes first: a pod's entry names its node's pool, from the nodes'
	// cache, which the pods' first entries must find filled.
	all.Start(ctx.Done())
	if !cache.WaitForCacheSync(syncCtx.Done(), nodes.Informer().HasSynced) {
		cancel()
		return nil, fmt.Errorf("the nodes' informer did not sync within a minute")
	}
	ns.Start(ctx.Done())
	marker.Start(ctx.Done())
	if !cache.WaitForCacheSync(syncCtx.Done(), synced...) {
		cancel()
		return nil, fmt.Errorf("informers did not sync within a minute")
	}
	return c, nil
}

// Stop stops the informers.
func (c *Cluster) Stop() { c.cancel() }

func unwrap(obj any) any {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return obj
}

// change writes what changed in obj since it was last seen; objects of the
// first list are only remembered.
func (c *Cluster) change(obj any, initial, deleted bool) {
	object, now := fieldsOf(obj, c.key)
	if object == "" {
		return
	}
	meta, _ := obj.(metav1.Object)
	c.mu.Lock()
	defer c.mu.Unlock()
	before, seen := c.fields[object]
	if deleted {
		delete(c.fields, object)
	} else {
		c.fields[object] = now
	}
	if initial && !seen {
		return
	}
	es := changes(object, before, now, meta, deleted)
	if len(es) > 0 && c.first.IsZero() {
		c.first = time.Now()
	}
	for _, e := range es {
		c.tl.Write(e)
	}
}

// FirstChange is when the first change was seen (zero: none yet).
func (c *Cluster) FirstChange() time.Time {
	if c == nil {
		return time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first
}

// changed reports whether key's summary differs from the last one written.
func (c *Cluster) changed(key, summary string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last[key] == summary {
		return false
	}
	c.last[key] = summary
	return true
}

func (c *Cluster) node(obj any, deleted bool) {
	n, ok := obj.(*corev1.Node)
	if !ok {
		return
	}
	ready, sched, in, lost := cluster.IsReady(n), !n.Spec.Unschedulable, cluster.InService(n), cluster.Lost(n)
	if !c.changed("node/"+n.Name, fmt.Sprint(ready, sched, in, lost, deleted)) {
		return
	}
	c.tl.Write(timeline.Entry{Kind: timeline.KindNode, Name: n.Name, Pool: n.Labels[cluster.PoolLabel],
		Ready: timeline.Bool(ready), Schedulable: timeline.Bool(sched), InService: timeline.Bool(in), Lost: lost, Deleted: deleted})
}

func (c *Cluster) pod(obj any, deleted bool) {
	p, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	ready, waiting, restarts := fixtures.PodState(p)
	e := timeline.Entry{Kind: timeline.KindPod, Name: p.Name, Tier: p.Labels[fixtures.TierLabel], Node: p.Spec.NodeName,
		PodPhase: string(p.Status.Phase), Ready: timeline.Bool(ready), Waiting: waiting, Restarts: restarts,
		Release: p.Annotations[fixtures.ReleaseAnno], Deleted: deleted || p.DeletionTimestamp != nil}
	if n, err := c.Nodes.Get(p.Spec.NodeName); err == nil {
		e.Pool = n.Labels[cluster.PoolLabel]
	}
	if !c.changed("pod/"+p.Name, fmt.Sprint(e.Node, e.PodPhase, ready, waiting, restarts, e.Deleted)) {
		return
	}
	c.tl.Write(e)
}

func (c *Cluster) deployment(obj any, deleted bool) {
	d, ok := obj.(*appsv1.Deployment)
	if !ok {
		return
	}
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	rel := d.Annotations[fixtures.ReleaseAnno]
	if !c.changed("deployment/"+d.Name, fmt.Sprint(want, d.Status.ReadyReplicas, rel, deleted)) {
		return
	}
	ready := d.Status.ReadyReplicas
	c.tl.Write(timeline.Entry{Kind: timeline.KindDeployment, Name: d.Name, Tier: d.Labels[fixtures.TierLabel], Replicas: want,
		ReadyCount: &ready, Release: rel, Deleted: deleted})
}

func (c *Cluster) event(obj any, deleted bool) {
	ev, ok := obj.(*corev1.Event)
	if !ok || deleted {
		return
	}
	if ev.Namespace != fixtures.Namespace && ev.InvolvedObject.Kind != "Node" {
		return
	}
	key := "event/" + ev.Namespace + "/" + ev.Name
	if !c.changed(key, fmt.Sprint(ev.Count, ev.Series != nil)) {
		return
	}
	t := ev.LastTimestamp.Time
	if t.IsZero() {
		t = ev.EventTime.Time
	}
	if t.IsZero() {
		t = time.Now()
	}
	c.tl.Write(timeline.Entry{Time: t, Kind: timeline.KindEvent, Reason: ev.Reason, EventType: ev.Type,
		Object: ev.InvolvedObject.Kind + "/" + ev.InvolvedObject.Name, Message: ev.Message})
}

// PodsMatching lists cached fixture pods carrying every label.
func (c *Cluster) PodsMatching(set map[string]string) []*corev1.Pod {
	pods, _ := c.Pods.List(labels.SelectorFromSet(set))
	return pods
}
