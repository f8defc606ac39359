//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	kindv1alpha4 "sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

// existing is a kind cluster gameday did not create: made by the test
// through kind's Go API, its workers labelled as EKS labels a managed node
// group's nodes, as someone's staging cluster would be.
type existing struct {
	name, context, kubeconfig string
	client                    kubernetes.Interface
	// registry is a registry's host:port that the nodes pull from.
	registry string
}

const eksNodeGroup = "eks.amazonaws.com/nodegroup"

// existingWorkers are the test cluster's workers: node group and opt-in.
var existingWorkers = []struct {
	group string
	allow bool
}{{"web", true}, {"api", true}, {"api", false}, {"api-next", true}}

func (x *existing) create() {
	GinkgoHelper()
	image, err := cluster.ResolveImage(context.Background(), "")
	Expect(err).NotTo(HaveOccurred())
	cfg := &kindv1alpha4.Cluster{
		TypeMeta: kindv1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
		Nodes:    []kindv1alpha4.Node{{Role: kindv1alpha4.ControlPlaneRole}},
		// This machine's kernel has cgroup v1, which kubelet refuses by default.
		KubeadmConfigPatches: []string{"kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\nfailCgroupV1: false\n"},
	}
	// A registry the nodes pull from, as a team's would be: in this
	// process (go-containerregistry's), on Docker's bridge address, which
	// the nodes reach; their containerd told it speaks plain HTTP.
	x.registry = startRegistry()
	cfg.ContainerdConfigPatches = []string{fmt.Sprintf("[plugins.\"io.containerd.grpc.v1.cri\".registry.mirrors.%q]\n  endpoint = [%q]\n", x.registry, "http://"+x.registry)}
	for _, w := range existingWorkers {
		labels := map[string]string{eksNodeGroup: w.group}
		if w.allow {
			labels[kubeconfig.AllowKey] = kubeconfig.Allowed
		}
		cfg.Nodes = append(cfg.Nodes, kindv1alpha4.Node{Role: kindv1alpha4.WorkerRole, Labels: labels})
	}
	p := kindcluster.NewProvider(kindcluster.ProviderWithDocker())
	_ = p.Delete(x.name, "") // left by a crashed suite
	x.kubeconfig = filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	// A network of its own, removed with it.
	os.Setenv("KIND_EXPERIMENTAL_DOCKER_NETWORK", x.name)
	defer os.Unsetenv("KIND_EXPERIMENTAL_DOCKER_NETWORK")
	start := time.Now()
	Expect(p.Create(x.name, kindcluster.CreateWithV1Alpha4Config(cfg), kindcluster.CreateWithNodeImage(image),
		kindcluster.CreateWithKubeconfigPath(x.kubeconfig), kindcluster.CreateWithWaitForReady(2*time.Minute),
		kindcluster.CreateWithDisplayUsage(false), kindcluster.CreateWithDisplaySalutation(false))).To(Succeed())
	AddReportEntry("kind create (not gameday) "+x.name, time.Since(start).Round(100*time.Millisecond).String())
	DeferCleanup(func() {
		Expect(p.Delete(x.name, x.kubeconfig)).To(Succeed())
		_ = exec.Command("docker", "network", "rm", x.name).Run()
	})
	x.context = "kind-" + x.name
	rc, err := clientcmd.BuildConfigFromFlags("", x.kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	x.client, err = kubernetes.NewForConfig(rc)
	Expect(err).NotTo(HaveOccurred())
	// Namespaces as a team would have them: one opted in, one not.
	ctx := context.Background()
	for name, annotations := range map[string]map[string]string{
		"shop":    {kubeconfig.AllowKey: kubeconfig.Allowed},
		"billing": nil,
		// Where gameday deploys its fixtures: the team's, opted in.
		fixtures.Namespace: {kubeconfig.AllowKey: kubeconfig.Allowed},
	} {
		_, err := x.client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: annotations}}, metav1.CreateOptions{})
		Expect(err).NotTo(HaveOccurred())
	}
	// Every worker Ready (kind waits for the control plane only).
	Eventually(func() int {
		nodes, err := x.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return -1
		}
		ready := 0
		for i := range nodes.Items {
			if cluster.IsReady(&nodes.Items[i]) {
				ready++
			}
		}
		return ready
	}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Equal(1 + len(existingWorkers)))
	// ... and kube-system settled: its workloads' status no longer changes
	// their resourceVersions.
	Eventually(func() []string {
		var unsettled []string
		ds, err := x.client.AppsV1().DaemonSets("kube-system").List(ctx, metav1.ListOptions{})
		if err != nil {
			return []string{err.Error()}
		}
		for _, d := range ds.Items {
			st := d.Status
			if st.ObservedGeneration != d.Generation || st.NumberReady != st.DesiredNumberScheduled || st.NumberAvailable != st.DesiredNumberScheduled ||
				st.UpdatedNumberScheduled != st.DesiredNumberScheduled {
				unsettled = append(unsettled, "daemonset/"+d.Name)
			}
		}
		deps, err := x.client.AppsV1().Deployments("kube-system").List(ctx, metav1.ListOptions{})
		if err != nil {
			return []string{err.Error()}
		}
		for _, d := range deps.Items {
			st := d.Status
			if st.ObservedGeneration != d.Generation || st.ReadyReplicas != *d.Spec.Replicas || st.AvailableReplicas != *d.Spec.Replicas ||
				st.UpdatedReplicas != *d.Spec.Replicas || st.Replicas != *d.Spec.Replicas {
				unsettled = append(unsettled, "deployment/"+d.Name)
			}
		}
		return unsettled
	}).WithTimeout(3 * time.Minute).WithPolling(time.Second).Should(BeEmpty())
}

// versions are the resourceVersions of what gameday must not touch, read
// with the control plane's own kubectl: nodes not opted in, the control
// plane, kube-system's objects and the namespace without the annotation.
func (x *existing) versions() map[string]string {
	GinkgoHelper()
	out := map[string]string{}
	kubectl := func(args ...string) string {
		return docker(append([]string{"exec", x.name + "-control-plane", "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"}, args...)...)
	}
	// A node's status is the kubelet's to report now and then (a new
	// resourceVersion each time): of nodes, what anyone else changes (spec,
	// labels, annotations) and who has ever written to them.
	var nodes corev1.NodeList
	Expect(json.Unmarshal([]byte(kubectl("get", "nodes", "-o", "json")), &nodes)).To(Succeed())
	for _, n := range nodes.Items {
		if ok, _ := kubeconfig.AllowNode(&n); !ok {
			var managers []string
			for _, m := range n.ManagedFields {
				if m.Subresource != "status" {
					managers = append(managers, m.Manager+"/"+string(m.Operation))
				}
			}
			b, err := json.Marshal([]any{n.Spec, n.Labels, n.Annotations, managers})
			Expect(err).NotTo(HaveOccurred())
			out["node/"+n.Name] = string(b)
		}
	}
	for _, kind := range []string{"deployments", "daemonsets", "configmaps", "services"} {
		for _, ns := range []string{"kube-system", "billing"} {
			for _, line := range strings.Fields(kubectl("get", kind, "-n", ns, "-o", `jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion}{" "}{end}`)) {
				name, rv, _ := strings.Cut(line, "=")
				out[ns+"/"+kind+"/"+name] = rv
			}
		}
	}
	Expect(out).To(HaveKey("node/" + x.name + "-control-plane"))
	return out
}

var _ = Describe("an existing cluster gameday did not create", Label("kind", "existing"), Ordered, ContinueOnFailure, func() {
	x := &existing{name: "e2e-existing"}
	var before map[string]string
	setupAll(func() {
		x.create()
		before = x.versions()
	})

	It("is shown as gameday sees it: the context's API server, pools from EKS's node-group label, only opted-in nodes and namespaces", func() {
		r := mustGameday("cluster", "status", "--kubeconfig", x.kubeconfig, "--context", x.context)
		GinkgoWriter.Print(r.Stdout)
		Expect(r.Stderr).To(MatchRegexp(`Target: context "` + x.context + `" \(cluster ` + x.context + `, API server https://127\.0\.0\.1:\d+\)`))
		Expect(r.Stdout).To(ContainSubstring("pools:      by node label " + eksNodeGroup + ": api (1 node), api-next (1 node), web (1 node)"))
		Expect(r.Stdout).To(ContainSubstring("namespaces: opted in: gameday, shop; never: kube-node-lease, kube-public, kube-system"))
		Expect(r.Stdout).To(MatchRegexp(x.name + `-control-plane\s+-\s+v1\.\d+\.\d+\s+Ready\s+yes\s+never: the control plane`))
		Expect(r.Stdout).To(ContainSubstring("cannot stop and start a node's machine"))

		var st struct {
			Server    string
			Inventory kubeconfig.Inventory
		}
		Expect(json.Unmarshal([]byte(mustGameday("cluster", "status", "--kubeconfig", x.kubeconfig, "--context", x.context, "-o", "json").Stdout), &st)).To(Succeed())
		Expect(st.Inventory.PoolKey).To(Equal(eksNodeGroup))
		allowed := map[string]bool{}
		for _, n := range st.Inventory.Nodes {
			allowed[n.Pool] = allowed[n.Pool] || n.Allowed
			if n.Pool == "api" && !n.Allowed {
				Expect(n.Why).To(ContainSubstring("not opted in"))
			}
		}
		Expect(allowed).To(Equal(map[string]bool{"web": true, "api": true, "api-next": true, "": false}))
	})

	It("refuses a missing context, an unknown one or an unreadable kubeconfig in one line, exit 2; an unreachable server exit 1", func() {
		for _, args := range [][]string{
			{"--kubeconfig", x.kubeconfig},                            // no context: never the current one
			{"--kubeconfig", x.kubeconfig, "--context", "kind-other"}, // not in the file
			{"--kubeconfig", filepath.Dir(x.kubeconfig), "--context", x.context},
			{"--kubeconfig", x.kubeconfig, "--context", x.context, "--name", "gameday"},
		} {
			r := gameday(append([]string{"cluster", "status"}, args...)...)
			Expect(r.Code).To(Equal(2), "%v: %s", args, r.Stderr)
			Expect(strings.Count(strings.TrimSpace(r.Stderr), "\n")).To(BeZero(), "one line: %s", r.Stderr)
			Expect(r.Stdout).To(BeEmpty())
		}
		r := gameday("cluster", "status", "--kubeconfig", x.kubeconfig)
		Expect(r.Stderr).To(ContainSubstring("gameday never uses the current context, here " + x.context))

		// The same cluster behind a port nothing listens on.
		data, err := os.ReadFile(x.kubeconfig)
		Expect(err).NotTo(HaveOccurred())
		gone := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
		Expect(os.WriteFile(gone, regexp.MustCompile(`https://127\.0\.0\.1:\d+`).ReplaceAll(data, []byte("https://127.0.0.1:9")), 0o600)).To(Succeed())
		r = gameday("cluster", "status", "--kubeconfig", gone, "--context", x.context)
		Expect(r.Code).To(Equal(1), r.Stderr)
		Expect(r.Stderr).To(ContainSubstring("the API server did not answer"))
		Expect(r.Stderr).To(ContainSubstring("https://127.0.0.1:9"))
	})

	It("exits 2 where nothing is opted in, saying how to opt in", func() {
		r := gameday("cluster", "status", "--kubeconfig", x.kubeconfig, "--context", x.context, "--pool-label", "example.com/no-such-label")
		Expect(r.Code).To(Equal(2), r.Stderr)
		Expect(r.Stderr).To(ContainSubstring("none in a pool (label example.com/no-such-label)"))
	})

	It("refuses a run it cannot do there before anything happens: a step needing a machine, no --yes without a terminal, a wrong context", func() {
		dir := x.scenarioDir()
		for _, c := range []struct {
			args []string
			want string
		}{
			{[]string{"cascading-outage", "--yes", "--name", "lab"}, "--name is for clusters gameday creates"},
			{[]string{"cascading-outage", "--yes", "--topology", filepath.Join(dir, "bad-shared.yaml")}, "may only add nodeGroups to them"},
			{[]string{filepath.Join(dir, "lost.yaml")}, "give --yes to run without asking"},
			{[]string{filepath.Join(dir, "lost.yaml"), "--yes", "--service-url", "frontend=http://127.0.0.1:1"}, "give --service-url api=URL"},
			{[]string{filepath.Join(dir, "lost.yaml"), "--yes", "--context", "kind-other"}, `no such context "kind-other"`},
			{[]string{filepath.Join(dir, "lost.yaml"), "--yes", "--pool-label", "example.com/none"}, "none in a pool"},
		} {
			args := append([]string{"run"}, c.args...)
			if !slices.Contains(c.args, "--context") {
				args = append(args, "--context", x.context)
			}
			args = append(args, "--kubeconfig", x.kubeconfig)
			if !slices.Contains(c.args, "--service-url") {
				args = append(args, x.serviceURLs()...)
			}
			r := gameday(args...)
			Expect(r.Code).To(Equal(2), "%v: %s", args, r.Stderr)
			Expect(r.Stderr).To(ContainSubstring(c.want), "%v", args)
		}
		Expect(x.versions()).To(Equal(before))
		Expect(x.adopted()).To(BeEmpty(), "nothing labelled")
	})

	It("lists with --dry-run every object each step would touch there, and changes nothing", func() {
		dir := x.scenarioDir()
		r := gameday(append([]string{"run", "cascading-outage", "--dry-run", "--kubeconfig", x.kubeconfig, "--context", x.context,
			"--topology", filepath.Join(dir, "separate.yaml"), "--image-repo", x.registry + "/team/gameday"}, x.serviceURLs()...)...)
		Expect(r.Code).To(Equal(0), r.Stderr)
		Expect(r.Stdout).To(ContainSubstring("every object it touches on that cluster:"))
		// The opted-in nodes by name, the not-opted-in one never.
		Expect(r.Stdout).To(ContainSubstring("label node " + x.name + "-worker " + cluster.PoolLabel + "=frontend"))
		Expect(r.Stdout).To(MatchRegexp(`node-group-health-check-2-pool-outage \(pool-outage\): cordon and taint gameday.dev/lost node ` + x.name + `-worker2, delete the pods of namespace gameday, shop there`))
		Expect(r.Stdout).To(ContainSubstring("provision-pool (provision-pool): untaint and uncordon spare node " + x.name + "-worker4"))
		Expect(r.Stdout).To(ContainSubstring("bad-release (release): update deployment gameday/workers"))
		Expect(r.Stdout).NotTo(ContainSubstring(x.name + "-worker3"))
		Expect(r.Stdout).NotTo(ContainSubstring("billing"))
		Expect(x.versions()).To(Equal(before))
		Expect(x.adopted()).To(BeEmpty(), "nothing labelled")
	})

	Context("the seed incident run there through the kubeconfig backend, shared and separate made of its node groups", Label("slow"), Ordered, func() {
		var run result
		out := ""
		setupAll(func() {
			x.loadImage()
			out = filepath.Join(GinkgoT().TempDir(), "out")
			dir := x.scenarioDir()
			run = gameday(append([]string{"run", "cascading-outage", "--kubeconfig", x.kubeconfig, "--context", x.context, "--yes", "--out", out,
				"--topology", filepath.Join(dir, "shared.yaml") + "," + filepath.Join(dir, "separate.yaml")}, x.serviceURLs()...)...)
			GinkgoWriter.Print(run.Stdout)
		})

		It("is scored on both, says which backend ran and what it emulated, and shared scores lower", func() {
			Expect(run.Code).To(Equal(0), run.Stderr)
			Expect(run.Stderr).To(MatchRegexp(`Target: context "` + x.context + `"`))
			scores := map[string]float64{}
			for _, topo := range []string{"shared", "separate"} {
				r, err := reports.Load(filepath.Join(out, topo, "report.json"))
				Expect(err).NotTo(HaveOccurred())
				Expect(r.Backend).To(Equal(cluster.BackendKubeconfig))
				for _, step := range []string{"control-plane-upgrade (control-plane-upgrade)", "node-group-health-check-2-pool-outage (pool-outage)", "provision-pool (provision-pool)"} {
					Expect(r.Emulated).To(ContainElement(ContainSubstring(step+": emulated through the API")), topo)
				}
				Expect(r.BlastRadius.NodesLost).To(BeNumerically(">", 0), "%s: the emulated loss counts as a loss", topo)
				scores[topo] = r.Score
				es := readTimeline(filepath.Join(out, topo, "timeline.jsonl"))
				var blocked bool
				for _, e := range es {
					if e.Kind == timeline.KindStep && e.Phase == "end" && e.Step == "node-group-health-check-3-provision-pool" {
						blocked = e.Blocked
						Expect(e.Message).To(ContainSubstring("version skew"))
					}
				}
				Expect(blocked).To(BeTrue(), "%s: the node group's own replacement was blocked by the recorded upgrade", topo)
			}
			Expect(run.Stdout).To(ContainSubstring("emulated: control-plane-upgrade (control-plane-upgrade)"))
			Expect(scores["separate"]).To(BeNumerically(">", scores["shared"]), "%v", scores)
			AddReportEntry("cascading-outage on an existing cluster", fmt.Sprintf("%v", scores))
		})

		It("puts everything back: no label, taint, cordon, fixture or marker of gameday's left", func() {
			Expect(x.adopted()).To(BeEmpty())
			ctx := context.Background()
			deps, err := x.client.AppsV1().Deployments(fixtures.Namespace).List(ctx, metav1.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(deps.Items).To(BeEmpty())
			cms, err := x.client.CoreV1().ConfigMaps(fixtures.Namespace).List(ctx, metav1.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			for _, cm := range cms.Items {
				Expect(cm.Name).To(Equal("kube-root-ca.crt"), "only the namespace's own config map is left")
			}
			nodes, err := x.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			for _, n := range nodes.Items {
				Expect(n.Spec.Unschedulable).To(BeFalse(), n.Name)
				Expect(cluster.Lost(&n)).To(BeFalse(), n.Name)
				Expect(cluster.InService(&n)).To(BeTrue(), n.Name)
				Expect(n.Labels).NotTo(HaveKey(cluster.ReplacesLabel), n.Name)
			}
		})
	})

	Context("a run stopped or killed there", Ordered, func() {
		// Another machine: a state folder of its own, and only the kubeconfig.
		elsewhere := func(args ...string) result {
			GinkgoHelper()
			cmd := exec.Command(*gamedayBin, args...)
			cmd.Env = append(os.Environ(), "GAMEDAY_HOME="+GinkgoT().TempDir(), "KUBECONFIG=/nonexistent")
			var out, errOut strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &errOut
			err := cmd.Run()
			r := result{Stdout: out.String(), Stderr: errOut.String()}
			if ee, ok := err.(*exec.ExitError); ok {
				r.Code = ee.ExitCode()
			}
			GinkgoWriter.Printf("$ (elsewhere) gameday %s -> exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
			return r
		}
		// start runs the short scenario and waits for its first fault.
		// With extra, or else probed at the NodePorts (--service-url).
		start := func(extra ...string) (*exec.Cmd, *syncBuffer) {
			GinkgoHelper()
			args := append([]string{"run", filepath.Join(x.scenarioDir(), "lost.yaml"), "--topology", "staging-separate",
				"--kubeconfig", x.kubeconfig, "--context", x.context, "--yes", "--out", GinkgoT().TempDir()}, extra...)
			if len(extra) == 0 {
				args = append(args, x.serviceURLs()...)
			}
			cmd := exec.Command(*gamedayBin, args...)
			cmd.Env = suiteEnv()
			stderr := &syncBuffer{}
			cmd.Stderr = stderr
			Expect(cmd.Start()).To(Succeed())
			DeferCleanup(func() { _ = cmd.Process.Kill() })
			Eventually(stderr.String).WithTimeout(4*time.Minute).WithPolling(200*time.Millisecond).Should(ContainSubstring("api-lost:"), stderr.String)
			return cmd, stderr
		}
		clean := func() {
			GinkgoHelper()
			Expect(x.adopted()).To(BeEmpty())
			deps, err := x.client.AppsV1().Deployments(fixtures.Namespace).List(context.Background(), metav1.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(deps.Items).To(BeEmpty())
			_, err = x.client.CoreV1().ConfigMaps(fixtures.Namespace).Get(context.Background(), kubeconfig.JournalConfigMap, metav1.GetOptions{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the journal kept in the cluster is gone: %v", err)
			_, err = x.client.CoordinationV1().Leases(cluster.ExistingNamespace).Get(context.Background(), kubeconfig.LeaseName, metav1.GetOptions{})
			Expect(apierrors.IsNotFound(err)).To(BeTrue(), "the Lease is gone: %v", err)
		}

		It("stops from another machine with gameday stop: the run puts everything back, exits 130, and stop says so", func() {
			// The fixtures' image pushed to the team's registry and pulled
			// from there by the nodes; probed at the NodePorts.
			cmd, stderr := start(append([]string{"--image-repo", x.registry + "/team/gameday"}, x.serviceURLs()...)...)
			// Its tiers run the image pushed to the registry, pulled by the
			// nodes (the frontend's: the API's pool is lost by now).
			dep, err := x.client.AppsV1().Deployments(fixtures.Namespace).Get(context.Background(), "frontend", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(dep.Spec.Template.Spec.Containers[0].Image).To(HavePrefix(x.registry+"/team/gameday@sha256:"), "the tier's image")
			Expect(dep.Status.ReadyReplicas).To(BeNumerically(">", 0), "pulled and running")
			// Meanwhile, a second run anywhere is refused by the cluster's Lease.
			other := elsewhere(append([]string{"run", filepath.Join(x.scenarioDir(), "lost.yaml"), "--topology", "staging-separate",
				"--kubeconfig", x.kubeconfig, "--context", x.context, "--yes"}, x.serviceURLs()...)...)
			Expect(other.Code).To(Equal(2), other.Stderr)
			Expect(other.Stderr).To(ContainSubstring("the cluster is in use by another gameday"))
			r := elsewhere("stop", "--kubeconfig", x.kubeconfig, "--context", x.context)
			Expect(r.Code).To(Equal(0), r.Stderr)
			Expect(r.Stdout).To(ContainSubstring("the run stopped and put back everything it changed"))
			err = cmd.Wait()
			var ee *exec.ExitError
			Expect(errors.As(err, &ee)).To(BeTrue(), "the run ended with %v", err)
			Expect(ee.ExitCode()).To(Equal(130), stderr.String())
			Expect(stderr.String()).To(ContainSubstring("Stopped by `gameday stop`"))
			clean()
		})

		It("recovers a run killed with -9 from another machine, from the journal kept in the cluster", func() {
			// Probed through the API server's service proxy (no --service-url):
			// its steady state held there before its first fault.
			cmd, stderr := start("--image-repo", x.registry+"/team/gameday")
			Expect(stderr.String()).To(ContainSubstring("through the API server's service proxy"))
			Expect(cmd.Process.Signal(syscall.SIGKILL)).To(Succeed())
			_ = cmd.Wait()
			Expect(x.adopted()).NotTo(BeEmpty(), "the killed run left its labels")
			r := elsewhere("recover", "--kubeconfig", x.kubeconfig, "--context", x.context)
			Expect(r.Code).To(Equal(0), r.Stderr)
			Expect(r.Stdout).To(MatchRegexp(`context ` + x.context + `: \d+ changes put back, and what gameday set up taken down`))
			clean()
		})
	})

	It("leaves what is not opted in untouched, as the control plane's own kubectl sees", func() {
		Expect(x.versions()).To(Equal(before))
	})
})

// scenarioDir holds a scenario for the existing cluster and its two
// topologies, made of the cluster's node groups: the API's pool lost for
// 15 s (emulated), then back.
func (x *existing) scenarioDir() string {
	GinkgoHelper()
	dir := filepath.Join(os.TempDir(), "gameday-e2e-existing")
	Expect(os.MkdirAll(dir, 0o755)).To(Succeed())
	files := map[string]string{
		"staging-shared.yaml": `apiVersion: gameday.dev/v1alpha1
kind: Topology
name: staging-shared
pools:
- name: app
  size: 2
  nodeGroups: [web, api]
`,
		"staging-separate.yaml": `apiVersion: gameday.dev/v1alpha1
kind: Topology
name: staging-separate
pools:
- name: frontend
  nodeGroups: [web]
- name: backend
  nodeGroups: [api]
`,
		"shared.yaml": `apiVersion: gameday.dev/v1alpha1
kind: Topology
name: shared
pools:
- name: app
  size: 2
  nodeGroups: [web, api]
- name: app-next
  spare: true
  replaces: app
  nodeGroups: [api-next]
`,
		"separate.yaml": `apiVersion: gameday.dev/v1alpha1
kind: Topology
name: separate
pools:
- name: frontend
  nodeGroups: [web]
- name: backend
  nodeGroups: [api]
- name: backend-next
  spare: true
  replaces: backend
  nodeGroups: [api-next]
`,
		"bad-shared.yaml": `apiVersion: gameday.dev/v1alpha1
kind: Topology
name: shared
pools:
- name: app
  size: 3
  nodeGroups: [web, api, api-next]
`,
		"lost.yaml": `apiVersion: gameday.dev/v1alpha1
kind: Scenario
name: api-pool-lost
topologies: [staging-shared.yaml, staging-separate.yaml]
fixtures:
  degrade: true
probes: {rate: 10, timeout: 2s}
objectives:
  - {service: frontend, successRatio: 0.99, latency: 1s, window: 5s}
  - {service: api, successRatio: 0.99, latency: 1s, window: 5s}
steadyState: {duration: 5s}
timeline:
  - name: api-lost
    at: 0s
    action: pool-outage
    target: {tier: api}
  - name: api-back
    at: 15s
    action: node-start
    target: {tier: api}
horizon: 35s
maxDuration: 3m
`,
	}
	for name, body := range files {
		Expect(os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)).To(Succeed())
	}
	return dir
}

// startRegistry serves an image registry on Docker's bridge address, for
// the suite, and returns its host:port.
func startRegistry() string {
	GinkgoHelper()
	gw := docker("network", "inspect", "bridge", "-f", "{{(index .IPAM.Config 0).Gateway}}")
	l, err := net.Listen("tcp", net.JoinHostPort(gw, "0"))
	Expect(err).NotTo(HaveOccurred())
	srv := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0)))}
	go func() { _ = srv.Serve(l) }()
	DeferCleanup(srv.Close)
	return l.Addr().String()
}

// serviceURLs are the system's NodePorts on the control-plane node's
// address, which this machine reaches on kind's network.
func (x *existing) serviceURLs() []string {
	GinkgoHelper()
	ip := docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", x.name+"-control-plane")
	return []string{"--service-url", fmt.Sprintf("frontend=http://%s:30080,api=http://%s:30081", ip, ip)}
}

// loadImage puts the fixtures' image on the nodes, as a team would before
// a run without a registry to push it to (kind's own image loading).
func (x *existing) loadImage() {
	GinkgoHelper()
	bin := filepath.Join(filepath.Dir(*gamedayBin), "mockapp")
	img, err := fixtures.BuildImage(bin, runtime.GOARCH, GinkgoT().TempDir())
	Expect(err).NotTo(HaveOccurred())
	nodes, err := kindcluster.NewProvider(kindcluster.ProviderWithDocker()).ListNodes(x.name)
	Expect(err).NotTo(HaveOccurred())
	Expect(fixtures.LoadImage(context.Background(), nodes, img)).To(Succeed())
}

// adopted lists the nodes that carry gameday's pool label or its lost taint.
func (x *existing) adopted() []string {
	GinkgoHelper()
	nodes, err := x.client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, n := range nodes.Items {
		if _, ok := n.Labels[cluster.PoolLabel]; ok || cluster.Lost(&n) {
			out = append(out, n.Name)
		}
	}
	return out
}
