//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/engine"
	"gameday.dev/gameday/scenarios/timeline"
)

// readTimeline reads a run's timeline.
func readTimeline(path string) []timeline.Entry {
	GinkgoHelper()
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	es, err := timeline.Read(f)
	Expect(err).NotTo(HaveOccurred())
	return es
}

// stepTime is when a step started or ended.
func stepTime(es []timeline.Entry, step, phase string) time.Time {
	GinkgoHelper()
	for _, e := range es {
		if e.Kind == timeline.KindStep && e.Step == step && e.Phase == phase {
			return e.Time
		}
	}
	Fail("no " + phase + " of step " + step + " in the timeline")
	return time.Time{}
}

// probeStats counts an endpoint's probes in [from, to): total, ok, degraded.
func probeStats(es []timeline.Entry, endpoint string, from, to time.Time) (total, ok, degraded int) {
	for _, e := range es {
		if e.Kind != timeline.KindProbe || e.Endpoint != endpoint || e.Time.Before(from) || !e.Time.Before(to) {
			continue
		}
		total++
		if e.OK != nil && *e.OK {
			ok++
			if e.Degraded {
				degraded++
			}
		}
	}
	return
}

// endpoints lists the probed endpoints of a timeline.
func endpoints(es []timeline.Entry) []string {
	var eps []string
	for _, e := range es {
		if e.Kind == timeline.KindProbe && !slices.Contains(eps, e.Endpoint) {
			eps = append(eps, e.Endpoint)
		}
	}
	return eps
}

// replays are the seed's replays, one per topology, each on its topology's
// cluster (--reuse): separate's first, a healthy baseline; then shared's, as
// the change under test (the frontend moved onto the workers' pool) gated
// against it, so the two runs also show the gate. The games of the same
// scenario take them as par.
type replays struct {
	root  string            // the runs' folders' parent, kept to the end of the suite's container
	dir   map[string]string // topology -> its run folder
	tl    map[string][]timeline.Entry
	rep   map[string]*reports.Report
	gated result // shared's run, gated against separate's
}

func newReplays() *replays {
	return &replays{dir: map[string]string{}, tl: map[string][]timeline.Entry{}, rep: map[string]*reports.Report{}}
}

// replay runs cascading-outage on e's cluster and reads what it wrote.
func (rs *replays) replay(e *env, extra ...string) result {
	GinkgoHelper()
	out, err := os.MkdirTemp(rs.root, "run-")
	Expect(err).NotTo(HaveOccurred())
	r := gameday(append([]string{"run", "cascading-outage", "--topology", e.topoName, "--name", e.prefix, "--reuse", "--out", out}, extra...)...)
	Expect(r.Stdout).To(MatchRegexp(e.topoName+`\s+completed\s+\d`), "stderr:\n%s", r.Stderr)
	d := filepath.Join(out, e.topoName)
	rs.dir[e.topoName], rs.tl[e.topoName] = d, readTimeline(filepath.Join(d, "timeline.jsonl"))
	rs.rep[e.topoName], err = reports.Load(filepath.Join(d, "report.json"))
	Expect(err).NotTo(HaveOccurred())
	AddReportEntry("score "+e.topoName, fmt.Sprintf("%s/100: %v", reports.ScoreText(rs.rep[e.topoName].Score), rs.rep[e.topoName].Components))
	return r
}

// outage is the window in which the pool is lost and no replacement
// serves: from 5 s after the automation stopped its nodes (requests in
// flight settle) to the operator's new pool.
func outage(es []timeline.Entry) (time.Time, time.Time) {
	GinkgoHelper()
	return stepTime(es, "node-group-health-check-2-pool-outage", "end").Add(5 * time.Second), stepTime(es, "provision-pool", "start")
}

// baselineSpecs replay the seed on separate: the baseline.
func baselineSpecs(e *env, rs *replays) {
	Context("gameday run cascading-outage, the baseline", Label("scenario"), Ordered, func() {
		tl := rs.tl
		setupAll(func() { rs.replay(e) })

		It("on separate, the frontend keeps answering, degraded where it needs the API", func() {
			from, to := outage(tl["separate"])
			for _, ep := range []string{"frontend /", "frontend /app", "frontend /static/app.js"} {
				total, ok, _ := probeStats(tl["separate"], ep, from, to)
				Expect(total).To(BeNumerically(">", 20), ep)
				Expect(ok).To(Equal(total), "%s failed %d of %d probes with its own pool up", ep, total-ok, total)
			}
			total, ok, degraded := probeStats(tl["separate"], "frontend /items", from, to)
			Expect(ok).To(Equal(total), "a page that needs the API still renders (degraded)")
			Expect(degraded).To(Equal(total), "and says it is degraded")
			_, ok, _ = probeStats(tl["separate"], "api /api/items", from, to)
			Expect(ok).To(BeZero(), "the API is down with its pool")
		})
	})
}

// replaySpecs replay the seed on shared, gated against separate's replay,
// and compare the two.
func replaySpecs(e *env, rs *replays) {
	Context("gameday run cascading-outage", Label("scenario"), Ordered, func() {
		tl, rep, dir := rs.tl, rs.rep, rs.dir
		setupAll(func() {
			Expect(dir).To(HaveKey("separate"), "the baseline replay on separate ran")
			rs.gated = rs.replay(e, "--baseline", filepath.Join(dir["separate"], "report.json"), "--max-regression", "5")
		})

		It("on shared, the frontend fails while the pool is lost", func() {
			from, to := outage(tl["shared"])
			Expect(to.Sub(from)).To(BeNumerically(">=", 10*time.Second), "the outage lasts until the operator acts")
			for _, ep := range []string{"frontend /", "frontend /app", "frontend /items", "api /api/items"} {
				total, ok, _ := probeStats(tl["shared"], ep, from, to)
				Expect(total).To(BeNumerically(">", 20), ep)
				Expect(ok).To(BeZero(), "%s answered %d of %d probes while pool app was lost", ep, ok, total)
			}
		})

		It("keeps the spare pool out of service until provision-pool, and serves from it after", func() {
			for topo, spare := range map[string]string{"shared": "app-next", "separate": "backend-next"} {
				es := tl[topo]
				provisioned := stepTime(es, "provision-pool", "end")
				var blocked bool
				var before, after int
				for _, e := range es {
					if e.Kind == timeline.KindStep && e.Phase == "end" && e.Step == "node-group-health-check-3-provision-pool" {
						blocked = e.Blocked
					}
					if e.Kind == timeline.KindPod && e.Pool == spare && e.Ready != nil && *e.Ready && !e.Deleted {
						if e.Time.Before(provisioned) {
							before++
						} else {
							after++
						}
					}
				}
				Expect(blocked).To(BeTrue(), "%s: the node group's own replacement was blocked by the version skew", topo)
				Expect(before).To(BeZero(), "%s: a pod was ready on %s before provision-pool", topo, spare)
				Expect(after).To(BeNumerically(">", 0), "%s: no pod became ready on %s after provision-pool", topo, spare)
			}
		})

		It("recovers: every node Ready and uncordoned, every tier on its release, the spare pool empty, nothing left over", func() {
			for _, topo := range []string{"shared", "separate"} {
				var verified *timeline.Entry
				for i, e := range tl[topo] {
					if e.Kind == timeline.KindRun && e.Phase == "verified" {
						verified = &tl[topo][i]
					}
					if e.Kind == timeline.KindRecord && e.Phase == "recovered" {
						Expect(e.Error).To(BeEmpty(), "%s: recovering %s %s", topo, e.RecordKind, e.Name)
					}
				}
				Expect(verified).NotTo(BeNil(), "%s: recovery did not verify the cluster", topo)
				Expect(verified.Error).To(BeEmpty())
				// verified also checks, from the API, that no pod is left on a
				// spare (none Terminating under a stopped kubelet).
				Expect(verified.Message).To(ContainSubstring("spares out of service and empty"))
				// ... and the site kept answering while it was put back (one run
				// here: 0 of 1344 probes failed; before the spares were emptied
				// first and the serving pods stopped gracefully, the API missed
				// 4 of 82).
				var recoverStart time.Time
				for _, e := range tl[topo] {
					if e.Kind == timeline.KindRun && e.Phase == "recover-start" {
						recoverStart = e.Time
					}
				}
				for _, ep := range endpoints(tl[topo]) {
					total, ok, _ := probeStats(tl[topo], ep, recoverStart, verified.Time)
					Expect(total).To(BeNumerically(">", 0), "%s: no probe of %s during recovery", topo, ep)
					Expect(float64(ok)/float64(total)).To(BeNumerically(">=", 0.99), "%s: %s answered %d of %d probes during recovery", topo, ep, ok, total)
				}
				// The cluster, reused, is kept (separate's is deleted by now,
				// one cluster at a time); its recovery journal is gone.
				if topo == e.topoName {
					Expect(listed(e.name)).To(BeTrue())
					_, err := os.Stat(filepath.Join(home, e.name, engine.JournalFile))
					Expect(os.IsNotExist(err)).To(BeTrue(), "the journal is removed once recovery is verified")
				}
			}
		})

		It("scores shared strictly lower than separate, with the wider blast radius, and says why", func() {
			shared, separate := rep["shared"], rep["separate"]
			Expect(shared.Score).To(BeNumerically("<", separate.Score))
			sb, pb := shared.BlastRadius, separate.BlastRadius
			Expect(sb.RequestsFailedShare).To(BeNumerically(">", pb.RequestsFailedShare))
			Expect(sb.NodesLost).To(BeNumerically(">", pb.NodesLost))
			Expect(sb.PoolsShare).To(BeNumerically(">", pb.PoolsShare))
			Expect(shared.Explanation).To(ContainElement(ContainSubstring("it shared pool `app` with the crash-looping workers")))
			Expect(shared.ChangesInFlight).NotTo(BeEmpty())
			Expect(shared.ChangesInFlight[0].ControlPlane).To(BeTrue(), "the control-plane upgrade heads the changes in flight")
			cmp := filepath.Join(GinkgoT().TempDir(), "debrief")
			r := mustGameday("report", "compare", dir["shared"], dir["separate"], "--out", cmp)
			Expect(r.Stdout).To(ContainSubstring("On `shared` the frontend was down"))
			Expect(r.Stdout).To(ContainSubstring("on `separate` it stayed up"))
			for _, f := range []string{"compare.md", "compare.html"} {
				Expect(filepath.Join(cmp, f)).To(BeARegularFile())
			}
			for topo, d := range dir {
				for _, f := range []string{"report.json", "report.md", "report.html", "junit.xml"} {
					st, err := os.Stat(filepath.Join(d, f))
					Expect(err).NotTo(HaveOccurred(), "%s/%s", topo, f)
					AddReportEntry(fmt.Sprintf("size %s/%s", topo, f), fmt.Sprintf("%d bytes", st.Size()))
				}
			}
		})

		It("gates: against the baseline of separate's run, the change to one shared pool exits 3 and says why", func() {
			gated := rs.gated
			Expect(gated.Code).To(Equal(3), "stdout:\n%s", gated.Stdout)
			Expect(gated.Stdout).To(ContainSubstring("gate shared: FAIL"))
			Expect(gated.Stdout).To(MatchRegexp(`score dropped [\d.]+ points`))
			Expect(gated.Stderr).To(ContainSubstring("regression against the baseline"))
		})

		It("renders report.html in headless Chromium: a screenshot, and every chart laid out with shapes", func() {
			for _, topo := range []string{"shared", "separate"} {
				shot := filepath.Join(artifacts(), "report-"+topo+".png")
				checkRendered(filepath.Join(dir[topo], "report.html"), shot)
				AddReportEntry("screenshot "+topo, shot)
			}
		})
	})
}

// killSpecs kill a run on separate's cluster with -9 and recover it: in the
// fast lane once the upgrade and the bad release are in (the lock free at
// once, the API server and the release put back), in the slow lane in the
// middle of the fault, its pool lost (the node brought back, the spare out).
func killSpecs(e *env) {
	for _, at := range []struct {
		when, after string
		lane        Labels
	}{
		{"once the upgrade and the bad release are in", "bad-release: workers v1 -> v2", Label("scenario")},
		{"in the middle of its fault, its pool lost", "pool-outage [node-group-health-check]", Label("scenario", "slow")},
	} {
		It("kill -9 during a run "+at.when+", then gameday recover, leaves a cluster that recover puts back", at.lane, func() {
			killAndRecover(e, at.after)
		})
	}
}

func killAndRecover(e *env, after string) {
	GinkgoHelper()
	prefix, name := e.prefix, e.name
	out := GinkgoT().TempDir()
	_, _ = runUntil(prefix, out, after, syscall.SIGKILL, "--reuse")

	// The lock died with the run: running again on the cluster gets past
	// it at once, and says how to finish the killed run.
	again := gameday("run", "cascading-outage", "--topology", "separate", "--name", prefix, "--reuse", "--out", GinkgoT().TempDir())
	Expect(again.Code).To(Equal(2))
	Expect(again.Stderr).NotTo(ContainSubstring("is in use by"))
	Expect(again.Stderr).To(ContainSubstring("`gameday recover --name " + name + "`"))

	// What the killed run saw is still scored, from its timeline.
	shown := mustGameday("report", "show", filepath.Join(out, "separate"))
	Expect(shown.Stdout).To(MatchRegexp(`cascading-outage on separate: score [\d.]+/100`))

	r := mustGameday("recover", "--name", name)
	Expect(r.Stdout).To(MatchRegexp(`\d+ changes put back; every tier is healthy`))

	var st struct {
		Nodes []struct {
			Name        string `json:"name"`
			Pool        string `json:"pool"`
			Ready       bool   `json:"ready"`
			Schedulable bool   `json:"schedulable"`
			InService   bool   `json:"inService"`
			Spare       bool   `json:"spare"`
			Joined      bool   `json:"joined"`
		} `json:"nodes"`
	}
	Expect(jsonOf(mustGameday("cluster", "status", "--name", name, "-o", "json").Stdout, &st)).To(Succeed())
	Expect(st.Nodes).To(HaveLen(4))
	for _, n := range st.Nodes {
		if n.Spare {
			Expect(n.Joined).To(BeFalse(), "spare %s is back out of the cluster (no Node)", n.Name)
			Expect(n.Pool).NotTo(BeEmpty(), "spare %s is named by the marker", n.Name)
		} else {
			Expect(n.Ready).To(BeTrue(), "%s Ready", n.Name)
			Expect(n.Schedulable).To(BeTrue(), "%s uncordoned", n.Name)
		}
	}
	var tiers []struct {
		Tier    string `json:"tier"`
		Release string `json:"release"`
		Healthy bool   `json:"healthy"`
	}
	Expect(jsonOf(mustGameday("fixtures", "status", "--name", name, "-o", "json").Stdout, &tiers)).To(Succeed())
	Expect(tiers).To(HaveLen(3))
	for _, t := range tiers {
		Expect(t.Release).To(Equal("v1"), t.Tier)
		Expect(t.Healthy).To(BeTrue(), t.Tier)
	}
	// A second recover finds nothing to do.
	Expect(mustGameday("recover", "--name", name).Stdout).To(ContainSubstring("nothing to recover"))
}

var _ = Describe("Ctrl-C during a run", Label("kind", "scenario", "slow"), Ordered, func() {
	const prefix = "e2e-sigint"
	const name = prefix + "-separate"

	It("recovers, deletes the cluster and exits 130", func() {
		DeferCleanup(func() { gameday("cluster", "down", "--name", name, "-q") })
		out := GinkgoT().TempDir()
		stderr, err := runUntil(prefix, out, "bad-release: workers v1 -> v2", syscall.SIGINT)
		ee, ok := err.(*exec.ExitError)
		Expect(ok).To(BeTrue(), "the run was not interrupted: %v", err)
		Expect(ee.ExitCode()).To(Equal(130))
		Expect(stderr.String()).To(ContainSubstring("Checking the cluster is as before the run"))
		var verified bool
		for _, e := range readTimeline(filepath.Join(out, "separate", "timeline.jsonl")) {
			if e.Kind == timeline.KindRun && e.Phase == "verified" {
				Expect(e.Error).To(BeEmpty())
				verified = true
			}
		}
		Expect(verified).To(BeTrue(), "recovery ran and verified the cluster before the exit")
		Expect(leftovers(name)).To(BeEmpty())
		Expect(listed(name)).To(BeFalse())
		_, err = os.Stat(filepath.Join(home, name))
		Expect(os.IsNotExist(err)).To(BeTrue(), "the cluster's state folder (and journal) is gone")
	})
})

// runUntil starts `gameday run cascading-outage` on separate, sends sig once
// its progress shows what, and returns its stderr and how it ended.
func runUntil(prefix, out, what string, sig syscall.Signal, extra ...string) (*syncBuffer, error) {
	GinkgoHelper()
	cmd := exec.Command(*gamedayBin, append([]string{"run", "cascading-outage", "--topology", "separate", "--name", prefix, "--out", out}, extra...)...)
	cmd.Env = suiteEnv()
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	Expect(cmd.Start()).To(Succeed())
	putBack(cmd, prefix+"-separate")
	Eventually(stderr.String).WithTimeout(8 * time.Minute).WithPolling(200 * time.Millisecond).Should(ContainSubstring(what))
	Expect(cmd.Process.Signal(sig)).To(Succeed())
	err := cmd.Wait()
	GinkgoWriter.Printf("stderr of the run (%s after %q):\n%s", sig, what, stderr.String())
	return stderr, err
}

// syncBuffer is a bytes.Buffer safe to read while a process writes it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func jsonOf(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// Bad scenarios are refused before anything exists, on a machine where
// Docker could create a cluster: exit 2, file:line and the field, and no
// container, network, cluster record or run folder left.
var _ = Describe("a bad scenario", Label("kind", "scenario"), func() {
	const name = "e2e-bad"
	dir, err := filepath.Abs("../../scenarios/testdata/scenario")
	if err != nil {
		panic(err)
	}
	for file, want := range map[string]string{
		"invalid-unknown-step.yaml":  `invalid-unknown-step.yaml:6: timeline[0].action: Unsupported value: "explode"`,
		"invalid-unknown-pool.yaml":  `invalid-unknown-pool.yaml:7: timeline[0].target.pool: Invalid value: "gpu"`,
		"invalid-unknown-tier.yaml":  `invalid-unknown-tier.yaml:7: timeline[0].target.tier: Unsupported value: "database"`,
		"invalid-wait-negative.yaml": `invalid-wait-negative.yaml:7: timeline[0].duration: Invalid value: "-10s"`,
		"invalid-out-of-order.yaml":  `invalid-out-of-order.yaml:11: timeline[1].at: Invalid value: "10s": steps out of order`,
	} {
		It("exits 2 naming the line, and creates nothing: "+file, func() {
			out := filepath.Join(GinkgoT().TempDir(), "out")
			r := gameday("run", filepath.Join(dir, file), "--name", name, "--out", out)
			Expect(r.Code).To(Equal(2))
			Expect(r.Stderr).To(ContainSubstring(filepath.Join(dir, want)))
			Expect(out).NotTo(BeAnExistingFile())
			for _, topo := range []string{"shared", "separate"} {
				Expect(leftovers(name + "-" + topo)).To(BeEmpty())
				Expect(listed(name + "-" + topo)).To(BeFalse())
			}
		})
	}
})
