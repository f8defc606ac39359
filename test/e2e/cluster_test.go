//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"gameday.dev/gameday/cluster"
)

// env is one topology's cluster, shared by the specs of its Ordered container.
type env struct {
	// name is the cluster's, prefix-topoName: the --name of a run or game.
	topoName, name, prefix string
	topo                   cluster.Topology
	rec                    *cluster.Record
	client                 kubernetes.Interface
	nodes                  *cluster.Nodes
	status                 cluster.ClusterStatus
}

// again labels a spec that each topology runs, where it repeats on the
// second (shared) what the first (separate) shows: it is in the slow lane
// there (see e2e_suite_test.go), in the fast one on separate.
func (e *env) again() Labels {
	if e.topoName == "separate" {
		return Label()
	}
	return Label("slow")
}

// spareOf is a node of a spare pool, which has no Node object until it joins.
func (e *env) spareOf(ctx context.Context, pool string) string {
	GinkgoHelper()
	of, err := cluster.SpareNodes(ctx, e.client)
	Expect(err).NotTo(HaveOccurred())
	Expect(of[pool]).NotTo(BeEmpty(), "no node in spare pool %s", pool)
	return of[pool][0]
}

// expectNotJoined: a spare out of service is capacity that has not joined,
// as in a managed cluster: its container runs, its kubelet is down and stays
// down across a restart of its node, it has no Node object and no pod but
// DaemonSets' (not yet collected).
func (e *env) expectNotJoined(ctx context.Context, spare string) {
	GinkgoHelper()
	Expect(e.nodes.KubeletKeptDown(ctx, spare)).To(Succeed())
	Eventually(func() bool {
		_, err := e.client.CoreV1().Nodes().Get(ctx, spare, metav1.GetOptions{})
		return apierrors.IsNotFound(err)
	}).WithTimeout(time.Minute).Should(BeTrue(), "spare %s is listed as a Node", spare)
	Expect(nonDaemonSetPods(ctx, e.client, spare)).To(BeEmpty())
}

// workerOf returns a worker node of pool, found by its gameday.dev/pool label.
func (e *env) workerOf(ctx context.Context, pool string) string {
	GinkgoHelper()
	list, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: cluster.PoolLabel + "=" + pool})
	Expect(err).NotTo(HaveOccurred())
	Expect(list.Items).NotTo(BeEmpty(), "no node in pool %s", pool)
	return list.Items[0].Name
}

// Each built-in topology gets one cluster, made by `gameday up` and shared in
// order by every spec on that topology: the cluster, fixture and player
// specs; then the scenarios run and played on it with --reuse, each finding
// the cluster as the one before left it (reuse refuses a cluster that is not
// as gameday leaves one); last the node operations, which disturb it.
// separate goes first: its replay is the baseline that shared's is gated
// against. One cluster at a time: each is deleted before the next is made.
var _ = Describe("gameday on each built-in topology", Label("kind"), Ordered, ContinueOnFailure, func() {
	rs := newReplays()
	BeforeAll(func() { rs.root = GinkgoT().TempDir() })
	// What the cluster looked like when a spec failed (the first few).
	AfterEach(func() {
		// (A failed setup took its own, once for the specs it fails.)
		if r := CurrentSpecReport(); r.Failed() && !strings.HasPrefix(r.Failure.Message, setupFailed) {
			snapshotClusters(r.FullText() + ": " + r.Failure.Message)
		}
	})
	topology := func(topoName string, scenarioSpecs func(e *env)) {
		Context(topoName, Ordered, func() {
			e := &env{topoName: topoName, name: "e2e-" + topoName, prefix: "e2e"}
			setupAll(func() { e.up() })
			clusterSpecs(e)
			fixtureSpecs(e)
			Context("a player's kit", Ordered, func() { playerSpecs(e) })
			scenarioSpecs(e)
			nodeSpecs(e)
		})
	}
	topology("separate", func(e *env) {
		baselineSpecs(e, rs)
		harmGameSpecs(e, rs)
		killSpecs(e)
		outsideSpecs(e)
		ownImageSpecs(e)
		gateSpecs(e)
	})
	topology("shared", func(e *env) {
		replaySpecs(e, rs)
		sharedGameSpecs(e, rs)
		ctrlCGameSpecs(e)
		refusalSpecs(e)
	})
})

func (e *env) up() {
	GinkgoHelper()
	var ok bool
	e.topo, ok = cluster.Builtin(e.topoName)
	Expect(ok).To(BeTrue())
	// A cluster left by a crashed run is gameday's (same GAMEDAY_HOME): clear it.
	if r := gameday("cluster", "down", "--name", e.name, "-q"); r.Code != 0 {
		Expect(r.Stderr).To(ContainSubstring("no such cluster"))
	}
	// One topology also merges its context into the (stand-in) user
	// kubeconfig; cluster down must take it out again.
	merge := e.topoName == "separate"
	args := []string{"up", "--topology", e.topoName, "--name", e.name}
	if merge {
		args = append(args, "--merge-kubeconfig")
	}
	r := mustGameday(args...)
	AddReportEntry("gameday up (cluster + fixtures serving) "+e.topoName, r.Duration.Round(100*time.Millisecond).String())
	if merge {
		Expect(os.ReadFile(userKubeconfig)).To(ContainSubstring("kind-"+e.name), "--merge-kubeconfig")
	}
	DeferCleanup(func() {
		mustGameday("cluster", "down", "--name", e.name)
		Expect(leftovers(e.name)).To(BeEmpty(), "cluster down left these behind")
		Expect(listed(e.name)).To(BeFalse())
		if merge {
			Expect(os.ReadFile(userKubeconfig)).NotTo(ContainSubstring("kind-"+e.name), "cluster down leaves the merged context")
		}
	})
	store := &cluster.Store{Dir: home}
	var err error
	e.rec, err = store.Get(e.name)
	Expect(err).NotTo(HaveOccurred())
	e.client, err = cluster.Client(e.rec)
	Expect(err).NotTo(HaveOccurred())
	e.nodes = cluster.NewNodes(e.client)
	e.nodes.Log = GinkgoWriter
}

func clusterSpecs(e *env) {
	ctx := context.Background()

	It("puts every node in its pool, tainted for it, and every in-service node Ready", func() {
		list, err := e.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		spares := 0
		for _, p := range e.topo.Pools {
			if p.Spare {
				spares += p.Size
			}
		}
		// Spares have not joined: no Node.
		Expect(list.Items).To(HaveLen(e.topo.Workers() + 1 - spares))
		perPool := map[string]int{}
		for _, n := range list.Items {
			pool := n.Labels[cluster.PoolLabel]
			perPool[pool]++
			if pool == cluster.SystemPool {
				Expect(n.Labels).To(HaveKey("node-role.kubernetes.io/control-plane"))
				Expect(cluster.IsReady(&n)).To(BeTrue(), "control plane not Ready")
				continue
			}
			p, ok := e.topo.Pool(pool)
			Expect(ok).To(BeTrue(), "node %s has pool label %q, not a pool of %s", n.Name, pool, e.topoName)
			for _, want := range p.Taints {
				Expect(n.Spec.Taints).To(ContainElement(And(
					HaveField("Key", want.Key), HaveField("Value", want.Value), HaveField("Effect", want.Effect))),
					"node %s lacks its pool's taint %s", n.Name, want.ToString())
			}
			if !p.Spare {
				Expect(cluster.IsReady(&n)).To(BeTrue(), "node %s of pool %s not Ready", n.Name, pool)
				Expect(n.Spec.Unschedulable).To(BeFalse())
				Expect(cluster.InService(&n)).To(BeTrue())
			}
		}
		for _, p := range e.topo.Pools {
			if p.Spare {
				Expect(perPool[p.Name]).To(BeZero(), "spare pool %s", p.Name)
				continue
			}
			Expect(perPool[p.Name]).To(Equal(p.Size), "pool %s", p.Name)
		}
		Expect(perPool[cluster.SystemPool]).To(Equal(1))
	})

	It("keeps spare pools out of service", func() {
		for _, p := range e.topo.Pools {
			if !p.Spare {
				continue
			}
			e.expectNotJoined(ctx, e.spareOf(ctx, p.Name))
		}
	})

	It("reports the kubeconfig and each node's pool and readiness in status -o json", func() {
		r := mustGameday("cluster", "status", "--name", e.name, "-o", "json")
		Expect(json.Unmarshal([]byte(r.Stdout), &e.status)).To(Succeed())
		Expect(e.status.Kubeconfig).To(Equal(e.rec.Kubeconfig))
		Expect(e.status.Kubeconfig).To(BeAnExistingFile())
		Expect(e.status.APIError).To(BeEmpty())
		Expect(e.status.Nodes).To(HaveLen(e.topo.Workers() + 1))
		for _, n := range e.status.Nodes {
			p, _ := e.topo.Pool(n.Pool)
			Expect(n.Container).To(Equal("running"))
			Expect(n.Ready).To(Equal(!p.Spare), "node %s (pool %s)", n.Name, n.Pool)
			Expect(n.InService).To(Equal(!p.Spare), "node %s (pool %s)", n.Name, n.Pool)
			Expect(n.Joined).To(Equal(!p.Spare), "node %s (pool %s)", n.Name, n.Pool)
			Expect(n.Pool).NotTo(BeEmpty(), "node %s", n.Name)
		}
		Expect(listed(e.name)).To(BeTrue())
	})

	It("refuses a second cluster of the same name and leaves the first alone", func() {
		r := gameday("cluster", "up", "--topology", e.topoName, "--name", e.name)
		Expect(r.Code).To(Equal(2))
		Expect(strings.TrimSpace(r.Stderr)).To(HavePrefix("ERROR: cluster already exists"))
		Expect(strings.Count(strings.TrimSpace(r.Stderr), "\n")).To(BeZero(), "not a one-line error")
		running := strings.Split(docker("ps", "--filter", "label=io.x-k8s.kind.cluster="+e.name, "--format", "{{.Names}}"), "\n")
		Expect(running).To(ConsistOf(nodeNames(e.status)), "the existing cluster's nodes must all still run")
	})
}

// nodeSpecs break nodes; they run last on each cluster.
func nodeSpecs(e *env) {
	ctx := context.Background()
	firstPool := func() cluster.Pool { return e.topo.Pools[0] } // in service on both built-ins

	It("drains a node, respecting PodDisruptionBudgets, down to its DaemonSet pods", e.again(), func() {
		pool := firstPool()
		target := e.workerOf(ctx, pool.Name)
		pauseImage := imageOnNode(target, "pause")
		ns := createNamespace(ctx, e.client, "drain")
		deploy := pinnedDeployment("sleeper", pool, pauseImage, 2)
		_, err := e.client.AppsV1().Deployments(ns).Create(ctx, deploy, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int32 {
			d, _ := e.client.AppsV1().Deployments(ns).Get(ctx, "sleeper", metav1.GetOptions{})
			return d.Status.ReadyReplicas
		}).WithTimeout(2 * time.Minute).WithPolling(500 * time.Millisecond).Should(Equal(int32(2)))
		Expect(nonDaemonSetPods(ctx, e.client, target)).NotTo(BeEmpty())

		// A budget that allows no disruption blocks the drain until its timeout.
		minAvailable := intstr.FromInt32(2)
		_, err = e.client.PolicyV1().PodDisruptionBudgets(ns).Create(ctx, &policyv1.PodDisruptionBudget{
			ObjectMeta: metav1.ObjectMeta{Name: "sleeper"},
			Spec:       policyv1.PodDisruptionBudgetSpec{MinAvailable: &minAvailable, Selector: deploy.Spec.Selector},
		}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int32 {
			pdb, _ := e.client.PolicyV1().PodDisruptionBudgets(ns).Get(ctx, "sleeper", metav1.GetOptions{})
			return pdb.Status.ExpectedPods
		}).WithTimeout(time.Minute).Should(Equal(int32(2)))
		err = e.nodes.Drain(ctx, target, cluster.DrainOptions{Timeout: 10 * time.Second})
		Expect(err).To(HaveOccurred(), "drain must not evict past the PodDisruptionBudget")
		Expect(podsOf(ctx, e.client, target, ns)).NotTo(BeEmpty(), "the budgeted pods stay")

		Expect(e.client.PolicyV1().PodDisruptionBudgets(ns).Delete(ctx, "sleeper", metav1.DeleteOptions{})).To(Succeed())
		start := time.Now()
		Expect(e.nodes.Drain(ctx, target, cluster.DrainOptions{Timeout: 2 * time.Minute})).To(Succeed())
		AddReportEntry("drain "+e.topoName, time.Since(start).Round(100*time.Millisecond).String())
		Expect(nonDaemonSetPods(ctx, e.client, target)).To(BeEmpty())
		Expect(daemonSetPods(ctx, e.client, target)).NotTo(BeEmpty(), "DaemonSet pods stay on a drained node")
		n, err := e.client.CoreV1().Nodes().Get(ctx, target, metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(n.Spec.Unschedulable).To(BeTrue())

		Expect(e.nodes.Uncordon(ctx, target)).To(Succeed())
		Expect(e.client.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})).To(Succeed())
	})

	// A node lost two ways: its container stops (docker stop may itself take
	// up to its 5 s timeout before the kubelet dies), as the scenarios lose
	// one, or its kubelet stops while the container runs on (slow lane).
	for _, loss := range []struct {
		what        string
		stop, start func(*cluster.Nodes, context.Context, string) error
		slack       time.Duration
		lane        Labels
	}{
		{"container", (*cluster.Nodes).StopContainer, (*cluster.Nodes).StartContainer, 8 * time.Second, e.again()},
		{"kubelet", (*cluster.Nodes).StopKubelet, (*cluster.Nodes).StartKubelet, 3 * time.Second, Label("slow")},
	} {
		It("loses a node whose "+loss.what+" stops, within the grace period, and gets it back when it starts", loss.lane, func() {
			target := e.workerOf(ctx, firstPool().Name)
			start := time.Now()
			Expect(loss.stop(e.nodes, ctx, target)).To(Succeed())
			_, err := e.nodes.WaitReady(ctx, target, false, 2*time.Minute)
			Expect(err).NotTo(HaveOccurred())
			took := time.Since(start)
			AddReportEntry(loss.what+" stop -> NotReady "+e.topoName, took.Round(100*time.Millisecond).String())
			Expect(took).To(BeNumerically("<=", e.rec.Timings.NotReadyWithin()+loss.slack), "configured: NotReady within %s", e.rec.Timings.NotReadyWithin())
			if loss.what == "kubelet" {
				Expect(docker("inspect", "--format", "{{.State.Running}}", target)).To(Equal("true"), "the container keeps running")
			}

			start = time.Now()
			Expect(loss.start(e.nodes, ctx, target)).To(Succeed())
			_, err = e.nodes.WaitReady(ctx, target, true, 2*time.Minute)
			Expect(err).NotTo(HaveOccurred())
			AddReportEntry(loss.what+" start -> Ready "+e.topoName, time.Since(start).Round(100*time.Millisecond).String())
		})
	}

	It("brings a spare pool into service and takes it out again", func() {
		for _, p := range e.topo.Pools {
			if !p.Spare {
				continue
			}
			spare := e.spareOf(ctx, p.Name)
			Expect(e.nodes.BringIntoService(ctx, spare, "", 2*time.Minute)).To(Succeed())
			n, err := e.client.CoreV1().Nodes().Get(ctx, spare, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(cluster.IsReady(n)).To(BeTrue())
			Expect(n.Spec.Unschedulable).To(BeFalse())
			Expect(cluster.InService(n)).To(BeTrue())
			// Joined again, its kubelet registered it in its pool, as at creation.
			Expect(n.Labels).To(HaveKeyWithValue(cluster.PoolLabel, p.Name))
			Expect(n.Labels).To(HaveKeyWithValue(cluster.ReplacesLabel, p.Replaces))
			for _, want := range p.Taints {
				Expect(n.Spec.Taints).To(ContainElement(And(HaveField("Key", want.Key), HaveField("Value", want.Value), HaveField("Effect", want.Effect))))
			}
			// A new pod range (the replays' specs check pods there serve).
			Expect(n.Spec.PodCIDR).NotTo(BeEmpty())

			Expect(e.nodes.TakeOutOfService(ctx, spare)).To(Succeed())
			e.expectNotJoined(ctx, spare)
		}
	})
}

func nodeNames(st cluster.ClusterStatus) []string {
	var names []string
	for _, n := range st.Nodes {
		names = append(names, n.Name)
	}
	return names
}

func podsOn(ctx context.Context, client kubernetes.Interface, node string, daemonSet bool) []string {
	GinkgoHelper()
	pods, err := client.CoreV1().Pods("").List(ctx, metav1.ListOptions{FieldSelector: "spec.nodeName=" + node})
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		ds := false
		for _, o := range p.OwnerReferences {
			ds = ds || o.Kind == "DaemonSet"
		}
		if ds == daemonSet {
			out = append(out, p.Namespace+"/"+p.Name)
		}
	}
	return out
}

// podsOf lists the pods of namespace ns on node.
func podsOf(ctx context.Context, client kubernetes.Interface, node, ns string) []string {
	GinkgoHelper()
	var out []string
	for _, p := range nonDaemonSetPods(ctx, client, node) {
		if strings.HasPrefix(p, ns+"/") {
			out = append(out, p)
		}
	}
	return out
}

func nonDaemonSetPods(ctx context.Context, client kubernetes.Interface, node string) []string {
	GinkgoHelper()
	return podsOn(ctx, client, node, false)
}

func daemonSetPods(ctx context.Context, client kubernetes.Interface, node string) []string {
	GinkgoHelper()
	return podsOn(ctx, client, node, true)
}

// imageOnNode finds an image already in the node's containerd, so the test
// pulls nothing (there may be no registry).
func imageOnNode(node, contains string) string {
	GinkgoHelper()
	out := docker("exec", node, "crictl", "images", "-o", "json")
	var imgs struct {
		Images []struct {
			RepoTags []string `json:"repoTags"`
		} `json:"images"`
	}
	Expect(json.Unmarshal([]byte(out), &imgs)).To(Succeed())
	for _, i := range imgs.Images {
		for _, t := range i.RepoTags {
			if strings.Contains(t, contains) {
				return t
			}
		}
	}
	Fail(fmt.Sprintf("no %q image on node %s", contains, node))
	return ""
}

func createNamespace(ctx context.Context, client kubernetes.Interface, prefix string) string {
	GinkgoHelper()
	ns, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return ns.Name
}

// pinnedDeployment runs replicas of a do-nothing pod on pool's nodes.
func pinnedDeployment(name string, pool cluster.Pool, image string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	var tolerations []corev1.Toleration
	for _, t := range pool.Taints {
		tolerations = append(tolerations, corev1.Toleration{Key: t.Key, Operator: corev1.TolerationOpEqual, Value: t.Value, Effect: t.Effect})
	}
	zero := int64(0)
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					NodeSelector:                  map[string]string{cluster.PoolLabel: pool.Name},
					Tolerations:                   tolerations,
					TerminationGracePeriodSeconds: &zero,
					Containers: []corev1.Container{{
						Name: "pause", Image: image, ImagePullPolicy: corev1.PullNever,
					}},
				},
			},
		},
	}
}
