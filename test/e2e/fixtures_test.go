//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/fixtures/mockapp"
	"gameday.dev/gameday/fixtures/traffic"
)

// fixtureSpecs check the stand-in system `gameday up` deployed.
func fixtureSpecs(e *env) {
	ctx := context.Background()
	var urls fixtures.HostURLs
	setupAll(func() { urls = fixtures.Endpoints(e.rec) })

	tierStatus := func() map[fixtures.Tier]fixtures.TierStatus {
		GinkgoHelper()
		var st []fixtures.TierStatus
		Expect(json.Unmarshal([]byte(mustGameday("fixtures", "status", "--name", e.name, "-o", "json").Stdout), &st)).To(Succeed())
		out := map[fixtures.Tier]fixtures.TierStatus{}
		for _, ts := range st {
			out[ts.Tier] = ts
		}
		return out
	}

	It("runs every tier's pods Ready on the pool the topology gives it", func() {
		place, err := fixtures.PlacementFor(e.topo)
		Expect(err).NotTo(HaveOccurred())
		pods, err := e.client.CoreV1().Pods(fixtures.Namespace).List(ctx, metav1.ListOptions{})
		Expect(err).NotTo(HaveOccurred())
		Expect(pods.Items).To(HaveLen(6))
		for _, p := range pods.Items {
			tier := fixtures.Tier(p.Labels[fixtures.TierLabel])
			node, err := e.client.CoreV1().Nodes().Get(ctx, p.Spec.NodeName, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			// the pool read from the node's label, not from its name
			Expect(node.Labels[cluster.PoolLabel]).To(Equal(place[tier].Name), "pod %s of tier %s", p.Name, tier)
			ready := slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
				return c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue
			})
			Expect(ready).To(BeTrue(), "pod %s not Ready", p.Name)
		}
		for tier, ts := range tierStatus() { // the CLI reports the same
			Expect(ts.Healthy).To(BeTrue(), "tier %s", tier)
			for _, p := range ts.Pods {
				Expect(p.Pool).To(Equal(place[tier].Name))
			}
		}
	})

	It("answers 60 s of host traffic at 20 requests a second or more, every one successful", Label("slow"), func() {
		var eps []traffic.Endpoint
		for _, path := range []string{"/", "/app", "/static/app.js", "/items", "/items/3", "/jobs"} {
			eps = append(eps, traffic.Endpoint{Name: "frontend " + path, URL: urls.Frontend + path, Rate: 4, UserFacing: true})
		}
		eps = append(eps, traffic.Endpoint{Name: "api /api/items", URL: urls.API + "/api/items", Rate: 6})
		g := &traffic.Generator{Endpoints: eps, Timeout: 2 * time.Second}
		var mu sync.Mutex
		var results []traffic.Result
		cpu0 := cpuTime()
		start := time.Now()
		runCtx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		g.Run(runCtx, func(r traffic.Result) {
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		})
		elapsed := time.Since(start)
		cpu := cpuTime() - cpu0
		var failed []string
		var latencies []time.Duration
		for _, r := range results {
			latencies = append(latencies, r.Latency)
			if !r.OK() || r.Degraded {
				failed = append(failed, fmt.Sprintf("+%s %s: %d %s degraded=%v %s (%s)", r.Time.Sub(start).Round(time.Millisecond),
					r.Endpoint, r.Status, r.Class, r.Degraded, r.Error, r.Latency.Round(time.Millisecond)))
			}
		}
		sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
		rate := float64(len(results)) / elapsed.Seconds()
		AddReportEntry("traffic "+e.topoName, fmt.Sprintf("%d requests in %s = %.1f req/s, %d failed, p50 %s p99 %s, generator CPU %.1f%% of a core",
			len(results), elapsed.Round(time.Second), rate, len(failed),
			latencies[len(latencies)/2].Round(10*time.Microsecond), latencies[len(latencies)*99/100].Round(10*time.Microsecond),
			100*cpu.Seconds()/elapsed.Seconds()))
		// What the pods went through, to tell a restart from a slow answer.
		var podsNow []string
		if pods, err := e.client.CoreV1().Pods(fixtures.Namespace).List(ctx, metav1.ListOptions{}); err == nil {
			for _, p := range pods.Items {
				ready, waiting, restarts := fixtures.PodState(&p)
				podsNow = append(podsNow, fmt.Sprintf("%s ready=%v waiting=%q restarts=%d", p.Name, ready, waiting, restarts))
			}
		}
		Expect(failed).To(BeEmpty(), "pods after the traffic: %v", podsNow)
		Expect(rate).To(BeNumerically(">=", 20))
	})

	It("crash-loops every worker within 2 minutes of release v2, while the API still serves reads", e.again(), func() {
		start := time.Now()
		mustGameday("fixtures", "release", "workers", mockapp.ReleaseBad, "--name", e.name)
		crashed := map[string]time.Duration{} // v2 worker pod -> when first seen in CrashLoopBackOff
		apiReads, apiFailures := 0, 0
		Eventually(func(g Gomega) {
			resp, err := http.Get(urls.API + "/api/items")
			apiReads++
			if err != nil || resp.StatusCode != 200 {
				apiFailures++
			} else {
				resp.Body.Close()
			}
			ts := tierStatus()[fixtures.Workers]
			g.Expect(ts.Release).To(Equal(mockapp.ReleaseBad))
			var v2 []string
			for _, p := range ts.Pods {
				if p.Release != mockapp.ReleaseBad {
					continue
				}
				v2 = append(v2, p.Name)
				if _, seen := crashed[p.Name]; !seen && p.Waiting == "CrashLoopBackOff" {
					crashed[p.Name] = time.Since(start)
				}
			}
			g.Expect(v2).To(HaveLen(2), "both workers on v2")
			for _, p := range v2 {
				g.Expect(crashed).To(HaveKey(p), "worker %s has not crash-looped yet", p)
			}
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
		var last time.Duration
		for _, d := range crashed {
			last = max(last, d)
		}
		AddReportEntry("release v2 -> every worker in CrashLoopBackOff "+e.topoName, last.Round(time.Second).String())
		Expect(apiFailures).To(BeZero(), "of %d API reads during the bad release", apiReads)
	})

	It("brings the workers back healthy on release v1", e.again(), func() {
		var before mockapp.JobStats
		getJSON(urls.API+"/api/jobs/stats", &before)
		start := time.Now()
		mustGameday("fixtures", "release", "workers", mockapp.ReleaseGood, "--name", e.name)
		Eventually(func(g Gomega) {
			ts := tierStatus()[fixtures.Workers]
			g.Expect(ts.Healthy).To(BeTrue())
			g.Expect(ts.Pods).To(HaveLen(2))
			for _, p := range ts.Pods {
				g.Expect(p.Release).To(Equal(mockapp.ReleaseGood))
				g.Expect(p.Ready).To(BeTrue())
				g.Expect(p.Waiting).To(BeEmpty())
			}
			var now mockapp.JobStats
			getJSON(urls.API+"/api/jobs/stats", &now)
			g.Expect(now.Succeeded).To(BeNumerically(">", before.Succeeded), "jobs succeed again")
		}).WithTimeout(2 * time.Minute).WithPolling(time.Second).Should(Succeed())
		AddReportEntry("release v1 -> workers healthy "+e.topoName, time.Since(start).Round(time.Second).String())
	})

	It("refuses an unknown tier or release and parameters out of range, changing nothing", func() {
		versions := func() map[string]string {
			GinkgoHelper()
			list, err := e.client.AppsV1().Deployments(fixtures.Namespace).List(ctx, metav1.ListOptions{})
			Expect(err).NotTo(HaveOccurred())
			out := map[string]string{}
			for _, d := range list.Items {
				out[d.Name] = d.ResourceVersion
			}
			return out
		}
		before := versions()
		for _, args := range [][]string{
			{"fixtures", "release", "database", "v2"},
			{"fixtures", "release", "workers", "v7"},
			{"fixtures", "deploy", "--replicas", "workers=11"},
			{"fixtures", "deploy", "--replicas", "frontend=0"},
		} {
			r := gameday(append(args, "--name", e.name)...)
			Expect(r.Code).To(Equal(2), "gameday %v", args)
			Expect(r.Stderr).To(HavePrefix("ERROR: "))
		}
		Expect(versions()).To(Equal(before), "a refused command changed the deployments")
	})
}

func getJSON(url string, out any) {
	GinkgoHelper()
	resp, err := http.Get(url)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	Expect(json.NewDecoder(resp.Body).Decode(out)).To(Succeed())
}

// cpuTime is the CPU time this test process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
