//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

// A scenario that only watches: whatever changes during it is made by the
// test, with the control plane's own kubectl, as a person would.
const watchOnly = `apiVersion: gameday.dev/v1alpha1
kind: Scenario
name: outside-change
topologies: [separate]
timeline:
  - name: watch
    at: 0s
    action: note
    message: the run only watches; someone else changes the app
  - name: quiet
    action: wait
    duration: 80s
horizon: 60s
maxDuration: 5m
`

// The seed's lesson: a change nobody declared is the one that hurts. During
// a run, the test scales the API to zero with kubectl (not through gameday)
// and back 20 s later; the report must list it as a change in flight, made
// by the outside with kubectl's field manager, and name it as the cause.
var _ = Describe("a change made outside the run", Label("kind", "scenario"), Ordered, func() {
	const prefix = "e2e-outside"
	const name = prefix + "-separate"
	var rep *reports.Report
	var es []timeline.Entry
	var scaledAt, backAt time.Time

	BeforeAll(func() {
		DeferCleanup(func() { gameday("cluster", "down", "--name", name, "-q") })
		dir := GinkgoT().TempDir()
		file := filepath.Join(dir, "outside-change.yaml")
		Expect(os.WriteFile(file, []byte(watchOnly), 0o644)).To(Succeed())
		out := filepath.Join(dir, "out")
		cmd := exec.Command(*gamedayBin, "run", file, "--name", prefix, "--out", out)
		cmd.Env = suiteEnv()
		stdout, stderr := &syncBuffer{}, &syncBuffer{}
		cmd.Stdout, cmd.Stderr = stdout, stderr
		Expect(cmd.Start()).To(Succeed())
		Eventually(stderr.String).WithTimeout(8*time.Minute).WithPolling(200*time.Millisecond).Should(ContainSubstring("watch:"),
			"the timeline starts")
		kubectl := func(args ...string) {
			GinkgoHelper()
			docker(append([]string{"exec", name + "-control-plane", "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf",
				"-n", "gameday"}, args...)...)
		}
		scaledAt = time.Now()
		kubectl("scale", "deployment/api", "--replicas=0")
		// The outage the test makes lasts 20 s: its own choice, not a wait.
		time.Sleep(20 * time.Second)
		backAt = time.Now()
		kubectl("scale", "deployment/api", "--replicas=2")
		Expect(cmd.Wait()).To(Succeed(), "stderr:\n%s", stderr.String())
		GinkgoWriter.Printf("stdout of the run:\n%s", stdout.String())
		var err error
		rep, err = reports.Load(filepath.Join(out, "separate", "report.json"))
		Expect(err).NotTo(HaveOccurred())
		es = readTimeline(filepath.Join(out, "separate", "timeline.jsonl"))
	})

	It("lists the scale as a change in flight, made outside the run by kubectl-scale", func() {
		Expect(rep.ChangesInFlight).NotTo(BeEmpty())
		ch := rep.ChangesInFlight[0]
		Expect(ch.Actor).To(Equal(reports.ActorOutside))
		Expect(ch.Manager).To(Equal("kubectl-scale"))
		Expect(ch.Message).To(Equal("deployment/api was scaled 2 -> 0 by kubectl-scale"))
		// Observed within a second or two of the command, by the informers.
		var seen time.Time
		for _, e := range es {
			if e.Kind == timeline.KindChange && e.Object == "deployment/api" && e.To == "0" {
				seen = e.Time
				break
			}
		}
		Expect(seen.Sub(scaledAt)).To(BeNumerically("<", 3*time.Second))
		Expect(rep.FirstFault).To(Equal(ch.Message), "the first fault is the outside change")
		var back bool
		for _, c := range rep.Changes {
			back = back || (c.Object == "deployment/api" && c.To == "2" && c.Actor == reports.ActorOutside)
		}
		Expect(back).To(BeTrue(), "the scale back is a change too: %+v", rep.Changes)
	})

	It("measures the API's outage and names the change as its cause", func() {
		var api reports.Service
		for _, s := range rep.Services {
			if s.Name == "api" {
				api = s
			}
		}
		Expect(api.DowntimeSeconds).To(BeNumerically(">=", 15), "scaled to zero for %s", backAt.Sub(scaledAt))
		Expect(api.DowntimeSeconds).To(BeNumerically("<=", backAt.Sub(scaledAt).Seconds()+10))
		Expect(api.TimeToImpactSeconds).NotTo(BeNil())
		Expect(*api.TimeToImpactSeconds).To(BeNumerically("<", 5))
		Expect(api.MitigatedBy).To(ContainSubstring("scaled 0 -> 2 by kubectl-scale"))
		why := strings.Join(rep.Explanation, "\n")
		Expect(why).To(ContainSubstring("after deployment/api was scaled 2 -> 0 by kubectl-scale at +0:00, a change the scenario did not make"))
		Expect(why).NotTo(ContainSubstring("its pool `backend` was hit"), "the pools were not what failed")
		Expect(rep.HorizonReached).To(BeTrue())
		Expect(rep.HorizonSeconds).To(Equal(60.0))
	})
})
