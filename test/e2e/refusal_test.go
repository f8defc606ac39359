//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

// A routine node group upgrade, written as a newcomer would from the docs:
// a single-replica frontend with its PodDisruptionBudget, and a drain of
// its pool. The budget blocks the drain, as on EKS (PodEvictionFailure);
// the operator then drains deleting pods, and brings up the new node group.
const upgradeDrain = `apiVersion: gameday.dev/v1alpha1
kind: Scenario
name: upgrade-drain
topologies: [shared]
fixtures:
  replicas: {frontend: 1, api: 2, workers: 2}
  pdb: true
timeline:
  - name: node-group-upgrade
    at: 0s
    action: drain
    target: {pool: app}
    timeout: 20s
  - name: force-drain
    actor: operator
    action: drain
    disableEviction: true
    target: {pool: app}
    timeout: 1m
  - name: new-node-group
    actor: operator
    action: provision-pool
    target: {pool: app}
horizon: 60s
maxDuration: 6m
`

// The system's refusal is a result, not a crash: the blocked drain is
// recorded and said in words, the run completes (exit 0), and the
// scenario's next step, a drain that deletes, runs.
//
// The same run holds its cluster: a recover or a cluster down from another
// terminal, while it runs, exits 2 naming it and changes nothing. Kept
// after it (reused), the cluster's spare stays out of service across a
// restart of its node container.
func refusalSpecs(e *env) {
	Context("a drain blocked by a PodDisruptionBudget", Label("scenario"), Ordered, func() {
		prefix, name := e.prefix, e.name
		var run result
		var rep *reports.Report
		var es []timeline.Entry
		var others []result // recover and cluster down while the run held the cluster
		var runPID int

		setupAll(func() {
			// The scenario's fixtures (one frontend, budgets) stay on the reused
			// cluster after it: put the default ones back for the specs after.
			DeferCleanup(func() { mustGameday("fixtures", "deploy", "--name", name) })
			dir := GinkgoT().TempDir()
			file := filepath.Join(dir, "upgrade-drain.yaml")
			Expect(os.WriteFile(file, []byte(upgradeDrain), 0o644)).To(Succeed())
			out := filepath.Join(dir, "out")
			cmd := exec.Command(*gamedayBin, "run", file, "--name", prefix, "--out", out, "--reuse")
			cmd.Env = suiteEnv()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			Expect(cmd.Start()).To(Succeed())
			putBack(cmd, name)
			runPID = cmd.Process.Pid
			// Once its first fault is under way, two others try the cluster.
			Eventually(func() bool {
				b, _ := os.ReadFile(filepath.Join(out, "shared", "timeline.jsonl"))
				return bytes.Contains(b, []byte(`"step":"node-group-upgrade"`))
			}).WithTimeout(5 * time.Minute).WithPolling(500 * time.Millisecond).Should(BeTrue())
			others = append(others, gameday("recover", "--name", name), gameday("cluster", "down", "--name", name))
			err := cmd.Wait()
			run = result{Stdout: stdout.String(), Stderr: stderr.String()}
			if ee, ok := err.(*exec.ExitError); ok {
				run.Code = ee.ExitCode()
			}
			GinkgoWriter.Printf("stdout:\n%s\nstderr:\n%s", run.Stdout, run.Stderr)
			rep, err = reports.Load(filepath.Join(out, "shared", "report.json"))
			Expect(err).NotTo(HaveOccurred())
			es = readTimeline(filepath.Join(out, "shared", "timeline.jsonl"))
		})

		It("refuses a recover and a cluster down while the run holds the cluster: exit 2, naming the run", func() {
			for _, o := range others {
				Expect(o.Code).To(Equal(2), o.Stderr)
				Expect(o.Stderr).To(ContainSubstring(fmt.Sprintf(`cluster %q is in use by `+"`gameday run ", name)))
				Expect(o.Stderr).To(ContainSubstring(fmt.Sprintf("(pid %d, since ", runPID)))
			}
			Expect(others).To(HaveLen(2))
		})

		It("completes untouched by them: no change it did not make, its spare back out of service", func() {
			Expect(run.Code).To(Equal(0), "stderr:\n%s", run.Stderr)
			for _, c := range rep.Changes {
				Expect(c.Actor).NotTo(Equal(reports.ActorOutside), c.Message)
			}
			Expect(leftovers(name)).NotTo(BeEmpty(), "the reused cluster is kept")
		})

		It("keeps the spare out of service across a restart of its node container", func() {
			ctx := context.Background()
			var st cluster.ClusterStatus
			Expect(jsonOf(mustGameday("cluster", "status", "--name", name, "-o", "json").Stdout, &st)).To(Succeed())
			var spare string
			for _, n := range st.Nodes {
				if n.Spare {
					spare = n.Name
				}
			}
			Expect(spare).NotTo(BeEmpty(), "the shared topology's spare pool app-next")
			docker("restart", spare)
			kubeletActive := func() string {
				out, _ := exec.CommandContext(ctx, "docker", "exec", spare, "systemctl", "is-active", "kubelet.service").Output()
				return strings.TrimSpace(string(out))
			}
			// systemd is up again when it answers at all; the kubelet must not be.
			Eventually(kubeletActive).WithTimeout(time.Minute).WithPolling(time.Second).Should(Equal("inactive"))
			Consistently(kubeletActive).WithTimeout(20 * time.Second).WithPolling(2 * time.Second).Should(Equal("inactive"))
			// Nor has it joined: no Node object registered.
			Expect(jsonOf(mustGameday("cluster", "status", "--name", name, "-o", "json").Stdout, &st)).To(Succeed())
			for _, n := range st.Nodes {
				if n.Name == spare {
					Expect(n.Joined).To(BeFalse(), "spare %s registered a Node after its container restarted", spare)
				}
			}
			r := mustGameday("recover", "--name", name)
			Expect(r.Stdout).To(ContainSubstring("nothing to recover"))
		})

		It("completes: exit 0, not a failure of the run", func() {
			Expect(run.Code).To(Equal(0), "stderr:\n%s", run.Stderr)
			Expect(run.Stdout).To(MatchRegexp(`shared\s+completed\s+\d`))
		})

		It("records the refusal and says it in words, with the budget", func() {
			Expect(rep.Refusals).NotTo(BeEmpty())
			ref := rep.Refusals[0]
			Expect(ref.Step).To(Equal("node-group-upgrade"))
			Expect(ref.Message).To(MatchRegexp(`the drain of node ` + name + `-worker\d? was blocked \d+s by PodDisruptionBudget gameday/`))
			Expect(ref.Message).To(ContainSubstring("gameday/frontend"), "the single frontend's budget is among those that blocked it")
			Expect(strings.Join(rep.Explanation, "\n")).To(ContainSubstring("The cluster refused step node-group-upgrade (drain, scenario)"))
		})

		It("runs the scenario's next step, a drain that deletes pods, after the refusal", func() {
			forced := stepTime(es, "force-drain", "start")
			ended := map[string]bool{}
			for _, e := range es {
				if e.Kind == timeline.KindStep && e.Phase == "end" && (e.Step == "force-drain" || e.Step == "new-node-group") {
					Expect(e.Error).To(BeEmpty(), e.Step)
					Expect(e.Blocked).To(BeFalse(), e.Step)
					ended[e.Step] = true
				}
			}
			Expect(ended).To(HaveLen(2), "the forced drain and the new node group both ran to their end")
			var evictedOrDeleted bool
			for _, e := range es {
				if e.Kind == timeline.KindPod && e.Tier == "frontend" && e.Deleted && e.Time.After(forced) {
					evictedOrDeleted = true
				}
			}
			Expect(evictedOrDeleted).To(BeTrue(), "the forced drain took the frontend's pod off the old pool")
		})
	})
}
