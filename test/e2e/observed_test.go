//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

// A scenario that only watches: whatever changes during it is made by the
// test, with the control plane's own kubectl, as a person would. Its steps
// end before its horizon, so the run also shows it keeps observing until
// the horizon has passed.
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
    duration: 45s
horizon: 60s
maxDuration: 5m
`

// visitor is the test's own probe, independent of gameday's: a new
// connection to the API every 50 ms, as arriving visitors make, each
// request on its own (a slow answer does not hold back the next), each
// result with the time it was sent.
type visitor struct {
	mu      sync.Mutex
	results []visit
	cancel  context.CancelFunc
	done    chan struct{}
}

type visit struct {
	at time.Time
	ok bool
}

func startVisitor(url string) *visitor {
	ctx, cancel := context.WithCancel(context.Background())
	v := &visitor{cancel: cancel, done: make(chan struct{})}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(v.done)
		var wg sync.WaitGroup
		defer wg.Wait()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			wg.Add(1)
			go func(at time.Time) {
				defer wg.Done()
				ok := false
				if resp, err := client.Get(url); err == nil {
					ok = resp.StatusCode < 400
					resp.Body.Close()
				}
				v.mu.Lock()
				v.results = append(v.results, visit{at, ok})
				v.mu.Unlock()
			}(time.Now())
		}
	}()
	return v
}

// sorted returns the visits in the order they were sent.
func (v *visitor) sorted() []visit {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := slices.Clone(v.results)
	slices.SortFunc(out, func(a, b visit) int { return a.at.Compare(b.at) })
	return out
}

func (v *visitor) stop() { v.cancel(); <-v.done }

// served reports whether the last n visits all succeeded.
func (v *visitor) served(n int) bool {
	results := v.sorted()
	if len(results) < n {
		return false
	}
	for _, r := range results[len(results)-n:] {
		if !r.ok {
			return false
		}
	}
	return true
}

// outage is how long visitors were refused between from and to: each
// failed visit stands for the 50 ms until the next was sent.
func (v *visitor) outage(from, to time.Time) time.Duration {
	var failed int
	for _, r := range v.sorted() {
		if !r.ok && !r.at.Before(from) && !r.at.After(to) {
			failed++
		}
	}
	return time.Duration(failed) * 50 * time.Millisecond
}

// The seed's lesson: a change nobody declared is the one that hurts. During
// a run, the test itself, with kubectl (not through gameday): scales the API
// to zero and back 12 s later; then, once it serves again, points the API's
// Service at no pod for 12 s (its endpoints emptied: only new connections
// see it) and back. The report must list both as changes made outside the
// run by kubectl's field managers, name the first as the cause, and measure
// the second as the test's own probe of new connections saw it, within 1 s.
func outsideSpecs(e *env) {
	Context("changes made outside the run", Label("scenario", "slow"), Ordered, func() {
		prefix, name := e.prefix, e.name
		var rep *reports.Report
		var es []timeline.Entry
		var scaledAt, backAt, emptiedAt, refilledAt time.Time
		var own *visitor

		setupAll(func() {
			dir := GinkgoT().TempDir()
			file := filepath.Join(dir, "outside-change.yaml")
			Expect(os.WriteFile(file, []byte(watchOnly), 0o644)).To(Succeed())
			out := filepath.Join(dir, "out")
			cmd := exec.Command(*gamedayBin, "run", file, "--name", prefix, "--out", out, "--reuse")
			cmd.Env = suiteEnv()
			stdout, stderr := &syncBuffer{}, &syncBuffer{}
			cmd.Stdout, cmd.Stderr = stdout, stderr
			Expect(cmd.Start()).To(Succeed())
			putBack(cmd, name)
			Eventually(stderr.String).WithTimeout(8*time.Minute).WithPolling(200*time.Millisecond).Should(ContainSubstring("watch:"),
				"the timeline starts")
			rec, err := (&cluster.Store{Dir: home}).Get(name)
			Expect(err).NotTo(HaveOccurred())
			own = startVisitor(fixtures.Endpoints(rec).API + "/api/items")
			DeferCleanup(own.stop)
			kubectl := func(args ...string) string {
				GinkgoHelper()
				return docker(append([]string{"exec", name + "-control-plane", "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf",
					"-n", fixtures.Namespace}, args...)...)
			}
			Eventually(func() bool { return own.served(20) }).WithTimeout(30 * time.Second).Should(BeTrue())

			scaledAt = time.Now()
			kubectl("scale", "deployment/api", "--replicas=0")
			time.Sleep(12 * time.Second) // the outage the test makes: its own length, not a wait
			backAt = time.Now()
			kubectl("scale", "deployment/api", "--replicas=2")
			Eventually(func() bool { return own.served(100) }).WithTimeout(time.Minute).Should(BeTrue(), "the API serves again")

			selector := fixtures.TierLabel + "=" + string(fixtures.API)
			emptiedAt = time.Now()
			kubectl("set", "selector", "service/api", fixtures.TierLabel+"=nobody")
			time.Sleep(12 * time.Second) // as above
			refilledAt = time.Now()
			kubectl("set", "selector", "service/api", selector)
			// What the specs measure ends 10 s after this, within the 60 s horizon
			// that starts at the scale (the run itself never acts).
			Expect(refilledAt.Add(10*time.Second).Sub(scaledAt)).To(BeNumerically("<", 55*time.Second), "the test's changes took too long for the horizon")
			Eventually(func() bool { return own.served(40) }).WithTimeout(30*time.Second).Should(BeTrue(), "the API serves again")

			Expect(cmd.Wait()).To(Succeed(), "stderr:\n%s", stderr.String())
			GinkgoWriter.Printf("stdout of the run:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
			rep, err = reports.Load(filepath.Join(out, "separate", "report.json"))
			Expect(err).NotTo(HaveOccurred())
			es = readTimeline(filepath.Join(out, "separate", "timeline.jsonl"))
		})

		It("lists the scale as a change in flight, made outside the run, and names it as the cause", func() {
			Expect(rep.ChangesInFlight).NotTo(BeEmpty())
			ch := rep.ChangesInFlight[0]
			Expect(ch.Actor).To(Equal(reports.ActorOutside))
			// kubectl's field manager when the API server records one; it does
			// not for the first scale of a Deployment through /scale (v1.37).
			Expect(ch.Manager).To(BeElementOf("kubectl", "kubectl-scale", ""))
			Expect(ch.Message).To(MatchRegexp(`^deployment/api was scaled 2 -> 0( by kubectl(-scale)?| \(the API server recorded no field manager\))$`))
			var seen time.Time
			for _, e := range es {
				if e.Kind == timeline.KindChange && e.Object == "deployment/api" && e.To == "0" {
					seen = e.Time
					break
				}
			}
			Expect(seen.Sub(scaledAt)).To(BeNumerically("<", 3*time.Second), "the informers saw it at once")
			Expect(rep.FirstFault).To(Equal(ch.Message), "the first fault is the outside change")
			api := service(rep, "api")
			Expect(api.TimeToImpactSeconds).NotTo(BeNil())
			Expect(*api.TimeToImpactSeconds).To(BeNumerically("<", 5))
			// Its recovery is from the end of its last breach, the Service's: the
			// change that recovery follows is the selector put back.
			Expect(api.MitigatedBy).To(ContainSubstring("service/api's selector changed " + fixtures.TierLabel + "=nobody -> " + fixtures.TierLabel + "=api"))
			why := strings.Join(rep.Explanation, "\n")
			Expect(why).To(ContainSubstring("The api was down"))
			Expect(why).To(ContainSubstring("after " + ch.Message + " at +0:00, a change the scenario did not make"))
			Expect(why).NotTo(ContainSubstring("its pool `backend` was hit"), "the pools were not what failed")
		})

		It("sees the Service emptied as a new visitor does, and lists it as an outside change", func() {
			var changed []string
			for _, c := range rep.Changes {
				if c.Object == "service/api" {
					Expect(c.Actor).To(Equal(reports.ActorOutside))
					changed = append(changed, c.Message)
				}
			}
			Expect(changed).To(HaveLen(2), "emptied and back: %v", rep.Changes)
			Expect(changed[0]).To(ContainSubstring("selector changed"))
			Expect(changed[0]).To(ContainSubstring("by kubectl-set"))
			// The probes saw it: gameday's downtime of the API in that stretch
			// is what the test's own probe of new connections measured, within 1 s.
			mine := own.outage(emptiedAt, refilledAt.Add(10*time.Second))
			Expect(mine).To(BeNumerically(">=", 8*time.Second), "the test's own probe saw the Service empty")
			down := downWithin(service(rep, "api"), rep.Start, emptiedAt.Add(-2*time.Second), refilledAt.Add(10*time.Second))
			AddReportEntry("calibration", fmt.Sprintf("Service emptied %s: the test's probe saw %s down, the report %s",
				refilledAt.Sub(emptiedAt).Round(100*time.Millisecond), mine.Round(100*time.Millisecond), down))
			Expect(math.Abs(down.Seconds()-mine.Seconds())).To(BeNumerically("<=", 1.0),
				"the report's downtime %s vs the test's own probe %s", down, mine)
		})

		It("measures the scale to zero as the test's own probe did, within 1 s, and scores over the horizon", func() {
			// Until the Service is emptied: the API serves again before that.
			mine := own.outage(scaledAt, emptiedAt)
			down := downWithin(service(rep, "api"), rep.Start, scaledAt.Add(-2*time.Second), emptiedAt)
			AddReportEntry("calibration", fmt.Sprintf("API scaled to zero for %s: the test's probe saw %s down, the report %s",
				backAt.Sub(scaledAt).Round(100*time.Millisecond), mine.Round(100*time.Millisecond), down))
			Expect(math.Abs(down.Seconds()-mine.Seconds())).To(BeNumerically("<=", 1.0),
				"the report's downtime %s vs the test's own probe %s", down, mine)
			Expect(rep.HorizonReached).To(BeTrue(), "the run observed until its horizon, past its last step")
			Expect(rep.HorizonSeconds).To(Equal(60.0))
			Expect(rep.SpanSeconds).To(Equal(60.0))
		})
	})
}

func service(r *reports.Report, name string) reports.Service {
	GinkgoHelper()
	for _, s := range r.Services {
		if s.Name == name {
			return s
		}
	}
	Fail("no service " + name + " in the report")
	return reports.Service{}
}

// downWithin is how long a service was down, by its report, in the
// seconds between two moments.
func downWithin(s reports.Service, start, from, to time.Time) time.Duration {
	lo, hi := int(math.Floor(from.Sub(start).Seconds())), int(math.Ceil(to.Sub(start).Seconds()))
	var down float64
	for i := max(0, lo); i < min(hi, len(s.DownSeries)); i++ {
		down += s.DownSeries[i]
	}
	return time.Duration(down * float64(time.Second))
}
