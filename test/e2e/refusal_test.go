//go:build e2e

package e2e

import (
	"os"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

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
horizon: 75s
maxDuration: 6m
`

// The system's refusal is a result, not a crash: the blocked drain is
// recorded and said in words, the run completes (exit 0), and the
// scenario's next step, a drain that deletes, runs.
var _ = Describe("a drain blocked by a PodDisruptionBudget", Label("kind", "scenario"), Ordered, func() {
	const prefix = "e2e-refusal"
	var run result
	var rep *reports.Report
	var es []timeline.Entry

	BeforeAll(func() {
		DeferCleanup(func() { gameday("cluster", "down", "--name", prefix+"-shared", "-q") })
		dir := GinkgoT().TempDir()
		file := filepath.Join(dir, "upgrade-drain.yaml")
		Expect(os.WriteFile(file, []byte(upgradeDrain), 0o644)).To(Succeed())
		out := filepath.Join(dir, "out")
		run = gameday("run", file, "--name", prefix, "--out", out)
		GinkgoWriter.Printf("stdout:\n%s\nstderr:\n%s", run.Stdout, run.Stderr)
		var err error
		rep, err = reports.Load(filepath.Join(out, "shared", "report.json"))
		Expect(err).NotTo(HaveOccurred())
		es = readTimeline(filepath.Join(out, "shared", "timeline.jsonl"))
	})

	It("completes: exit 0, not a failure of the run", func() {
		Expect(run.Code).To(Equal(0), "stderr:\n%s", run.Stderr)
		Expect(run.Stdout).To(MatchRegexp(`shared\s+completed\s+\d`))
	})

	It("records the refusal and says it in words, with the budget", func() {
		Expect(rep.Refusals).NotTo(BeEmpty())
		ref := rep.Refusals[0]
		Expect(ref.Step).To(Equal("node-group-upgrade"))
		Expect(ref.Message).To(MatchRegexp(`the drain of node e2e-refusal-shared-worker\d? was blocked \d+s by PodDisruptionBudget gameday/`))
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
