//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

// A bot plays a game as a person would: with its kit (its own kubeconfig,
// kubectl, and `gameday console`), never through gameday's internals. It
// logs the moment of each thing it does, for the debrief to be checked
// against.
type bot struct {
	name, kit string
	mu        sync.Mutex
	log       map[string]time.Time // what -> when it was done (the first time)
	saw       sight
}

// sight is what a player saw of the control plane's version and of the
// replacement capacity, with kubectl and with the console.
type sight struct {
	console, kubectl string // the control plane's version, as each reports it
	// replacements lists the nodes labelled as replacing the lost pool
	// before the bot created its group (capacity that never joined is none);
	// joined, their kubelet versions once the group is created.
	replacements, joined string
}

func newBot(name, out, topo string) *bot {
	return &bot{name: name, kit: filepath.Join(out, topo, "kits", name), log: map[string]time.Time{}}
}

func (b *bot) note(what string, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.log[what]; !ok {
		b.log[what] = at
	}
	GinkgoWriter.Printf("bot %s %s: %s\n", b.name, at.Format("15:04:05.000"), what)
}

// kubectl runs kubectl as the player. What it prints on success is its
// standard output: kubectl logs retries and warnings on stderr even when it
// succeeds (an "E1204 ... couldn't get current server API group list" while
// the upgrade restarts the API server), which is no part of an answer. A
// failure returns both, as a player reads it.
func (b *bot) kubectl(args ...string) (string, error) {
	cmd := exec.Command(kubectlBin(), args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(b.kit, "kubeconfig"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	b.note("kubectl "+strings.Join(args, " "), start)
	if err != nil {
		said := strings.TrimSpace(string(out) + stderr.String())
		GinkgoWriter.Printf("bot %s: kubectl %s failed (%v): %s\n", b.name, args[0], err, said[strings.LastIndex(said, "\n")+1:])
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

// console runs `gameday console` with the player's kit.
func (b *bot) console(args ...string) (string, error) {
	cmd := exec.Command(*gamedayBin, append([]string{"console", "--kit", b.kit}, args...)...)
	cmd.Env = suiteEnv()
	start := time.Now()
	out, err := cmd.CombinedOutput()
	b.note("console "+strings.Join(args, " "), start)
	return string(out), err
}

// until polls f every second until it is true, or fails after limit.
func until(limit time.Duration, what string, f func() bool) {
	GinkgoHelper()
	Eventually(f).WithTimeout(limit).WithPolling(time.Second).Should(BeTrue(), what)
}

// readyReplicas reads a Deployment's ready replicas as the player.
func (b *bot) readyReplicas(tier string) int {
	out, err := b.kubectl("get", "deployment", tier, "-o", "jsonpath={.status.readyReplicas}")
	if err != nil {
		return -1
	}
	n := 0
	fmt.Sscan(out, &n)
	return n
}

// crashing reads whether a tier's pods restart, as the player.
func (b *bot) crashing(tier string) bool {
	out, err := b.kubectl("get", "pods", "-l", "gameday.dev/tier="+tier, "-o", "jsonpath={.items[*].status.containerStatuses[*].restartCount}")
	return err == nil && strings.Trim(out, "0 ") != ""
}

// fix is what the on-call engineer does for cascading-outage: read the
// evidence, roll the workers back, and create a node group at the control
// plane's version.
func (b *bot) fix(pool string) {
	GinkgoHelper()
	until(4*time.Minute, "the workers crash", func() bool { return b.crashing("workers") })
	out, _ := b.kubectl("get", "pods", "-o", "wide")
	GinkgoWriter.Println(out)
	until(4*time.Minute, "the pool "+pool+" is lost", func() bool {
		out, err := b.kubectl("get", "nodes", "-l", "gameday.dev/pool="+pool, "--no-headers", "-o", "custom-columns=STATUS:.status.conditions[?(@.type==\"Ready\")].status")
		return err == nil && strings.TrimSpace(out) != "" && !strings.Contains(out, "True")
	})
	_, err := b.console("deploys")
	Expect(err).NotTo(HaveOccurred())
	out, err = b.console("cluster", "-o", "json")
	Expect(err).NotTo(HaveOccurred(), out)
	var cl struct{ Version string }
	Expect(json.Unmarshal([]byte(out), &cl)).To(Succeed())
	b.saw.console = cl.Version
	out, err = b.kubectl("version", "-o", "json")
	var kv struct {
		ServerVersion struct{ GitVersion string } `json:"serverVersion"`
	}
	// A kubectl more than a minor version from the server warns after its JSON.
	Expect(strings.Index(out, "{")).To(BeNumerically(">=", 0), out)
	Expect(json.NewDecoder(strings.NewReader(out[strings.Index(out, "{"):])).Decode(&kv)).To(Succeed(), out)
	b.saw.kubectl = kv.ServerVersion.GitVersion
	out, err = b.console("nodegroups")
	Expect(err).NotTo(HaveOccurred(), out)
	GinkgoWriter.Println(out)
	// The evidence: the cloud's replacement of the pool failed to join.
	Expect(out).To(ContainSubstring("NodeCreationFailure: Instances failed to join the kubernetes cluster"))
	replacing := "gameday.dev/replaces=" + pool
	b.saw.replacements, err = b.kubectl("get", "nodes", "-l", replacing, "-o", "name")
	Expect(err).NotTo(HaveOccurred())
	out, err = b.kubectl("rollout", "undo", "deployment/workers")
	Expect(err).NotTo(HaveOccurred(), out)
	// As a player writes a version ("1.38"): the provider runs its own.
	out, err = b.console("nodegroup", "create", pool+"-new", "--version", strings.Join(strings.Split(strings.TrimPrefix(cl.Version, "v"), ".")[:2], "."))
	Expect(err).NotTo(HaveOccurred(), out)
	// The group is created in the background: its nodes appear as they join.
	until(3*time.Minute, "the new group's nodes join", func() bool {
		b.saw.joined, err = b.kubectl("get", "nodes", "-l", replacing, "-o", "jsonpath={.items[*].status.nodeInfo.kubeletVersion}")
		return err == nil && strings.TrimSpace(b.saw.joined) != ""
	})
}

// sawOneStory: kubectl and the console agree on the control plane's
// version after the upgrade, and replacement capacity is a Node only once
// it has joined, at that version.
func (b *bot) sawOneStory() {
	GinkgoHelper()
	Expect(b.saw.console).To(Equal("v1.38.0"), "the console's control-plane version")
	Expect(b.saw.kubectl).To(Equal(b.saw.console), "kubectl version's server version")
	Expect(strings.TrimSpace(b.saw.replacements)).To(BeEmpty(), "nodes listed before they joined")
	Expect(strings.Fields(b.saw.joined)).To(HaveEach(b.saw.console), "the new group's nodes' kubelet versions")
	Expect(strings.Fields(b.saw.joined)).NotTo(BeEmpty())
}

// startGame starts `gameday play` and waits for the kits.
func startGame(args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	GinkgoHelper()
	cmd, stdout, stderr := launchGame(args...)
	waitClock(stdout, stderr)
	return cmd, stdout, stderr
}

// launchGame starts `gameday play`.
func launchGame(args ...string) (*exec.Cmd, *syncBuffer, *syncBuffer) {
	GinkgoHelper()
	cmd := exec.Command(*gamedayBin, append([]string{"play"}, args...)...)
	cmd.Env = suiteEnv()
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	Expect(cmd.Start()).To(Succeed())
	putBack(cmd, clusterOf(args))
	return cmd, stdout, stderr
}

// waitClock waits for a game's kits: its clock starts.
func waitClock(stdout, stderr *syncBuffer) {
	GinkgoHelper()
	Eventually(stdout.String).WithTimeout(5*time.Minute).WithPolling(200*time.Millisecond).Should(ContainSubstring("The clock starts now"),
		func() string { return stderr.String() })
}

// waitGame waits for the game to end by itself.
func waitGame(cmd *exec.Cmd, stdout, stderr *syncBuffer) int {
	GinkgoHelper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	Eventually(done).WithTimeout(15 * time.Minute).Should(Receive(&err))
	GinkgoWriter.Printf("stdout of the game:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	Expect(err).NotTo(HaveOccurred())
	return 0
}

// actAt is when the report says a player did what, or zero.
func actAt(r *reports.Report, player, what string) time.Time {
	for _, p := range r.Team.Players {
		for _, a := range p.Acts {
			if p.Name == player && strings.Contains(a.What, what) {
				return r.Start.Add(time.Duration(a.AtSeconds * float64(time.Second)))
			}
		}
	}
	return time.Time{}
}

// gameRecord is what a finished game of cascading-outage left behind, for
// the specs every game runs on it (recordSpecs).
type gameRecord struct {
	topo, out, stdout string
	rep               *reports.Report
	es                []timeline.Entry
	// player is the on-call bot (with dev=developer in the game too), who
	// replaced pool; badToken, its console with a forged token.
	player   *bot
	pool     string
	badToken result
}

// forged calls the console with b's kit, its token altered.
func forged(b *bot) result {
	GinkgoHelper()
	data, err := os.ReadFile(filepath.Join(b.kit, "console.json"))
	Expect(err).NotTo(HaveOccurred())
	dir := GinkgoT().TempDir()
	Expect(os.WriteFile(filepath.Join(dir, "console.json"), []byte(strings.Replace(string(data), `"token": "`, `"token": "x`, 1)), 0o600)).To(Succeed())
	return gameday("console", "--kit", dir, "nodegroups")
}

// recordSpecs: what every game's record shows of its on-call bot, the
// players' console and the team's score.
func recordSpecs(g *gameRecord) {
	It("lists each of the bot's actions under its name, at the times it logged them", func() {
		for what, logged := range map[string]string{
			"patch deployments workers":                   "kubectl rollout undo deployment/workers",
			"console create-nodegroup " + g.pool + "-new": "console nodegroup create " + g.pool + "-new --version",
		} {
			var at time.Time
			for k, t := range g.player.log {
				if strings.HasPrefix(k, logged) {
					at = t
				}
			}
			Expect(at).NotTo(BeZero(), "the bot logged %q", logged)
			got := actAt(g.rep, g.player.name, what)
			Expect(got).NotTo(BeZero(), "the debrief lists %s's %q", g.player.name, what)
			Expect(got.Sub(at)).To(BeNumerically("~", 0, 2*time.Second), "%q: the debrief says %s, the bot logged %s", what, got, at)
		}
	})

	It("shows the team's score, each component, and par: the replay's scripted operator", func() {
		Expect(g.rep.Team.Components).To(HaveLen(4))
		Expect(g.rep.Team.Par).NotTo(BeNil())
		Expect(g.rep.Team.Par.Game).To(BeFalse())
		Expect(g.stdout).To(MatchRegexp(`team score [\d.]+/100 \(par [\d.]+/100`))
		AddReportEntry("team score vs par "+g.topo, fmt.Sprintf("%s vs %s; recovered %v vs %v s after the page", reports.ScoreText(g.rep.Team.Score),
			reports.ScoreText(g.rep.Team.Par.Score), deref(g.rep.Team.TimeToRecoverSeconds), deref(g.rep.Team.Par.TimeToRecoverSeconds)))
	})

	It("says when the upgrade first became known beyond the developer's card: the bot's console read", func() {
		var fact *reports.Fact
		for i, f := range g.rep.Team.Facts {
			if f.Name == "control-plane-upgrade" {
				fact = &g.rep.Team.Facts[i]
			}
		}
		Expect(fact).NotTo(BeNil(), "facts: %+v", g.rep.Team.Facts)
		Expect(fact.Player).To(Equal(g.player.name))
		Expect(fact.HeldBy).To(Equal("developer"))
		at := g.rep.Start.Add(time.Duration(fact.AtSeconds * float64(time.Second)))
		Expect(at.Sub(g.player.log["console cluster -o json"])).To(BeNumerically("~", 0, 2*time.Second))
	})

	It("renders the debrief in headless Chromium, with a lane per player", func() {
		shot := filepath.Join(artifacts(), "debrief-game-"+g.topo+".png")
		checkRendered(filepath.Join(g.out, g.topo, "report.html"), shot, "people")
		AddReportEntry("screenshot of a game's debrief", shot)
		md, err := os.ReadFile(filepath.Join(g.out, g.topo, "report.md"))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(md)).To(ContainSubstring("### What each person did"))
	})

	It("refuses a console call with a token that is not a player's: exit 2, one line", func() {
		Expect(g.badToken.Code).To(Equal(2))
		Expect(strings.TrimSpace(g.badToken.Stderr)).To(HavePrefix("ERROR: UnauthorizedException (401 Unauthorized)"))
		Expect(strings.Count(strings.TrimSpace(g.badToken.Stderr), "\n")).To(BeZero())
	})

	It("writes every console action and each player's changes into the timeline", func() {
		var console, writes int
		for _, e := range g.es {
			if e.Kind == timeline.KindAct && e.Via == "console" && e.Player == g.player.name {
				console++
			}
			if e.Kind == timeline.KindAct && e.Via == "kubectl" && e.Count == 0 && e.Player == g.player.name {
				writes++
			}
		}
		Expect(console).To(BeNumerically(">=", 4))
		Expect(writes).To(BeNumerically(">=", 1))
		var start, end time.Time
		for _, e := range g.es {
			switch {
			case e.Kind == timeline.KindRun && e.Phase == "timeline-start":
				start = e.Time
			case e.Kind == timeline.KindRun && e.Phase == "audit-read":
				end = e.Time
				AddReportEntry("audit log of a game", fmt.Sprintf("%s; %.0f lines a minute over %s", e.Message,
					float64(e.Count)/end.Sub(start).Minutes(), end.Sub(start).Round(time.Second)))
			}
		}
		Expect(end).NotTo(BeZero(), "the audit log's reading is reported")
	})
}

// sharedGameSpecs play cascading-outage on shared's cluster (--reuse) with
// an on-call bot who fixes it, the replay on shared as par. The game ends by
// itself; its record is checked as every game's (recordSpecs).
func sharedGameSpecs(e *env, rs *replays) {
	Context("gameday play cascading-outage, played on shared by a bot", Label("play", "slow"), Ordered, func() {
		name := e.prefix
		g := &gameRecord{topo: "shared", pool: "app"}
		var code int

		setupAll(func() {
			g.out = GinkgoT().TempDir()
			start := time.Now()
			cmd, so, se := startGame("cascading-outage", "--topology", "shared", "--players", "dev=developer,sam", "--name", name,
				"--out", g.out, "--par", rs.dir["shared"], "--reuse")
			AddReportEntry("gameday play -> the players' kits ready", time.Since(start).Round(100*time.Millisecond).String())
			g.player = newBot("sam", g.out, "shared")
			g.badToken = forged(g.player)
			g.player.fix("app")
			code = waitGame(cmd, so, se)
			g.stdout = so.String()
			var err error
			g.rep, err = reports.Load(filepath.Join(g.out, "shared", "report.json"))
			Expect(err).NotTo(HaveOccurred())
			g.es = readTimeline(filepath.Join(g.out, "shared", "timeline.jsonl"))
		})

		It("shows the player one story: kubectl and the console agree on the upgrade, and capacity is a Node only once it joins", func() {
			g.player.sawOneStory()
		})

		It("ends by itself once both goals are reached and the services held, and exits 0", func() {
			Expect(code).To(Equal(0))
			Expect(g.rep.Team).NotTo(BeNil())
			Expect(g.rep.Team.EndedBy).To(ContainSubstring("every goal reached"))
			for _, goal := range g.rep.Team.Goals {
				Expect(goal.AtSeconds).NotTo(BeNil(), "goal %s reached", goal.Step)
			}
			Expect(g.rep.Team.Goals).To(HaveLen(2))
			Expect(g.rep.Team.TimeToRecoverSeconds).NotTo(BeNil(), "a won game recovered")
			Expect(g.rep.HorizonReached).To(BeTrue(), "a won game is scored to its end")
		})

		recordSpecs(g)
	})
}

// harmGameSpecs play cascading-outage on separate's cluster (--reuse) with a
// bot who first drains the frontend's pool (harm), then fixes it, and a
// developer who does nothing; the replay on separate as par. The room
// watches the live page. Its record is checked as every game's (recordSpecs).
func harmGameSpecs(e *env, rs *replays) {
	Context("gameday play cascading-outage, played on separate by a bot that first drains the frontend's pool", Label("play"), Ordered, func() {
		name, cluster := e.prefix, e.name
		g := &gameRecord{topo: "separate", pool: "backend"}
		var rep *reports.Report
		var riley *bot
		// The first and the last drain riley tried (the last when the
		// scheduler put the frontend back after the first).
		var firstDrain, drained time.Time
		var hinted, ended result
		// The live page, watched by the room: one tab per role.
		var page *browser
		var links map[string]string
		var downOnPage time.Time
		var shots []string
		var observerPost float64
		var observerControls, debriefHasNote bool
		var out string
		const noteText = "riley drained the frontend pool; we wait for the new node group"

		setupAll(func() {
			out = GinkgoT().TempDir()
			cmd, so, se := launchGame("cascading-outage", "--topology", "separate", "--players", "riley,dev=developer", "--name", name,
				"--out", out, "--par", rs.dir["separate"], "--reuse", "--ui")
			links = liveLinks(so.String)
			page = newBrowser()
			for _, role := range []string{"observer", "reporter", "facilitator"} {
				page.open(role, links[role])
			}
			// Steady state: every service ok on the page before the clock starts.
			Eventually(func() string {
				return eval[string](page, "observer", `document.querySelectorAll("#services li.ok").length + " ok, clock " + document.getElementById("clock").textContent`)
			}).WithTimeout(3*time.Minute).WithPolling(200*time.Millisecond).Should(Equal("2 ok, clock --:--"), func() string { return se.String() })
			shots = append(shots, page.shot("observer", "live-steady.png"))
			// From now on the page notes when it first shows the frontend down.
			Expect(eval[bool](page, "observer", `(() => {
				const ul = document.getElementById("services"); window.__down = 0;
				new MutationObserver(() => {
					const li = ul.querySelector('[data-name="frontend"]');
					if (li && li.dataset.state === "down" && !window.__down) window.__down = Date.now();
				}).observe(ul, {subtree: true, attributes: true, childList: true});
				return true; })()`)).To(BeTrue())
			waitClock(so, se)
			riley = newBot("riley", out, "separate")
			g.badToken = forged(riley)
			// The scenario's upgrade restarts the API server as the clock
			// starts: a player who finds it away tries again.
			until(time.Minute, "the API server answers riley after the upgrade", func() bool {
				v, err := riley.kubectl("get", "--raw", "/version")
				if err != nil || !strings.Contains(v, `"v1.38.0"`) {
					return false
				}
				// kubectl warns first that nodes are not in its namespace.
				o, err := riley.kubectl("auth", "can-i", "list", "nodes")
				return err == nil && strings.HasSuffix(strings.TrimSpace(o), "yes")
			})
			// Things a player may do that the game must put back.
			_, err := riley.kubectl("create", "configmap", "riley-notes", "--from-literal=seen=workers")
			Expect(err).NotTo(HaveOccurred())
			_, err = riley.kubectl("scale", "deployment/api", "--replicas=3")
			Expect(err).NotTo(HaveOccurred())
			// The drain comes right after the upgrade restarted the API server:
			// the scheduler's informers, refused for a moment by the new API
			// server, may not have seen the cordon yet and put the evicted
			// pods back on the drained node. A player whose frontend is still
			// up drains again; so does riley.
			Eventually(func() string {
				drained = time.Now()
				if firstDrain.IsZero() {
					firstDrain = drained
				}
				out2, err := riley.kubectl("drain", "-l", "gameday.dev/pool=frontend", "--ignore-daemonsets", "--delete-emptydir-data", "--timeout=60s")
				Expect(err).NotTo(HaveOccurred(), out2)
				// The evicted pods' replacements, created as they went: none placed.
				placed, err := riley.kubectl("get", "pods", "-l", "gameday.dev/tier=frontend", "-o", "jsonpath={.items[*].spec.nodeName}")
				Expect(err).NotTo(HaveOccurred(), placed)
				return strings.TrimSpace(placed)
			}).WithTimeout(3*time.Minute).WithPolling(2*time.Second).Should(BeEmpty(), "the frontend's pods, drained, have nowhere to go")
			Eventually(func() int { return riley.readyReplicas("frontend") }).WithTimeout(time.Minute).WithPolling(time.Second).
				Should(BeZero(), func() string {
					return "the frontend is down (-1: riley's kubectl failed); the game says:\n" + se.String()
				})
			Eventually(func() float64 { return eval[float64](page, "observer", "window.__down") }).WithTimeout(30*time.Second).WithPolling(100*time.Millisecond).
				Should(BeNumerically(">", 0), "the page shows the frontend down")
			downOnPage = time.UnixMilli(int64(eval[float64](page, "observer", "window.__down")))
			shots = append(shots, page.shot("observer", "live-outage.png"))
			// The reporter writes down what the room sees; the observer can do nothing.
			Expect(page.do("reporter", chromedp.SendKeys(chromedp.CSS("#note"), noteText), chromedp.Click(chromedp.CSS("#note-send")))).To(Succeed())
			Eventually(func() string { return eval[string](page, "reporter", `document.getElementById("note").value`) }).Should(BeEmpty(), "the note was taken")
			observerControls = eval[bool](page, "observer", `!document.getElementById("facilitator").hidden || !document.getElementById("note-form").hidden`)
			observerPost = eval[float64](page, "observer", `fetch("/api/end", {method: "POST", headers: {Authorization: "Bearer " + sessionStorage.getItem("gameday-token")}}).then(r => r.status)`)
			_, err = riley.kubectl("uncordon", "-l", "gameday.dev/pool=frontend")
			Expect(err).NotTo(HaveOccurred())
			// A change left in place to the end, for recovery to take back
			// (NoSchedule: the frontend's pods, back, stay).
			until(2*time.Minute, "the frontend is back", func() bool { return riley.readyReplicas("frontend") > 0 })
			_, err = riley.kubectl("taint", "nodes", "-l", "gameday.dev/pool=frontend", "riley=was-here:NoSchedule")
			Expect(err).NotTo(HaveOccurred())
			// The facilitator releases a hint now, whatever its time.
			hinted = mustGameday("play", "hint", "--name", cluster)
			riley.fix("backend")
			// The facilitator ends the game from the page (if it has not ended by itself).
			Expect(eval[bool](page, "facilitator", `window.confirm = () => true; true`)).To(BeTrue())
			Expect(page.do("facilitator", chromedp.Click(chromedp.CSS("#end")))).To(Succeed())
			Eventually(func() string { return eval[string](page, "facilitator", `document.getElementById("said").textContent`) }).ShouldNot(BeEmpty())
			ended.Stdout = eval[string](page, "facilitator", `document.getElementById("said").textContent`)
			if !strings.Contains(ended.Stdout, "the game ends") {
				ended.Code = 1
			}
			// Then the page turns to the debrief, for the room to go through.
			Eventually(func() string { return eval[string](page, "facilitator", `document.body.dataset.view || ""`) }).
				WithTimeout(8*time.Minute).WithPolling(time.Second).Should(Equal("debrief"), func() string { return se.String() })
			shots = append(shots, page.shot("facilitator", "live-debrief.png"))
			debriefHasNote = eval[bool](page, "facilitator", `document.getElementById("debrief-frame").srcdoc.includes(`+strconv.Quote(noteText)+`)`)
			base := links["observer"][:strings.Index(links["observer"], "#")]
			Expect(page.offsite("observer", base)).To(BeEmpty(), "the page loaded something from elsewhere")
			// The page stays up for the debrief until Ctrl-C.
			Expect(so.String()).To(ContainSubstring("team score"))
			Expect(cmd.Process.Signal(syscall.SIGINT)).To(Succeed())
			Expect(waitGame(cmd, so, se)).To(Equal(0))
			g.out, g.stdout, g.player = out, so.String(), riley
			// The game's record, for the live page's load test (make load-live LIVE_RUN=_artifacts/live-game).
			keep := filepath.Join(artifacts(), "live-game")
			Expect(os.MkdirAll(keep, 0o755)).To(Succeed())
			for _, f := range []string{"run.json", "timeline.jsonl"} {
				b, err := os.ReadFile(filepath.Join(out, "separate", f))
				Expect(err).NotTo(HaveOccurred())
				Expect(os.WriteFile(filepath.Join(keep, f), b, 0o644)).To(Succeed())
			}
			var err2 error
			rep, err2 = reports.Load(filepath.Join(out, "separate", "report.json"))
			Expect(err2).NotTo(HaveOccurred())
			g.rep, g.es = rep, readTimeline(filepath.Join(out, "separate", "timeline.jsonl"))
		})

		recordSpecs(g)

		It("shows the room the game live: a service turns from ok to down on the page within 3 s of the probes seeing it", func() {
			es := readTimeline(filepath.Join(out, "separate", "timeline.jsonl"))
			// The probes saw it when the first failed probe of the frontend
			// after its last success (before the page said so) came back.
			var seen time.Time
			for _, e := range es {
				back := e.Time.Add(time.Duration(e.LatencyMs * float64(time.Millisecond)))
				if e.Kind != timeline.KindProbe || e.Service != "frontend" || back.After(downOnPage) {
					continue
				}
				switch {
				case e.OK != nil && *e.OK:
					seen = time.Time{}
				case seen.IsZero() || back.Before(seen):
					seen = back
				}
			}
			Expect(seen).NotTo(BeZero(), "no failed frontend probe before the page showed it down")
			lag := downOnPage.Sub(seen)
			AddReportEntry("live page: the frontend down on the page after the probes saw it", lag.Round(10*time.Millisecond).String())
			Expect(lag).To(BeNumerically("<=", 3*time.Second))
			Expect(lag).To(BeNumerically(">=", 0))
		})

		It("takes the reporter's note into the timeline and the debrief; the observer can do nothing", func() {
			var found bool
			for _, e := range readTimeline(filepath.Join(out, "separate", "timeline.jsonl")) {
				if e.Kind == timeline.KindNote && e.Message == noteText {
					Expect(e.Player).To(Equal("reporter"))
					found = true
				}
			}
			Expect(found).To(BeTrue(), "the note is in timeline.jsonl")
			md, err := os.ReadFile(filepath.Join(out, "separate", "report.md"))
			Expect(err).NotTo(HaveOccurred())
			Expect(string(md)).To(ContainSubstring(noteText))
			Expect(debriefHasNote).To(BeTrue(), "the debrief on the page has the note")
			Expect(observerControls).To(BeFalse(), "the observer's page offers no lever and no note")
			Expect(observerPost).To(Equal(403.0), "the observer's token cannot end the game")
		})

		It("switches to the debrief after the game, with screenshots of the steady state, the outage and the debrief", func() {
			Expect(shots).To(HaveLen(3))
			for _, s := range shots {
				AddReportEntry("live page screenshot", s)
			}
		})

		It("shows the second player the same story: kubectl and the console agree, capacity joins at that version", func() {
			riley.sawOneStory()
		})

		It("releases a hint and ends the game when the facilitator asks", func() {
			Expect(hinted.Stdout).To(ContainSubstring("hint 1 released"))
			Expect(rep.Team.HintsReleased).NotTo(BeEmpty())
			Expect(rep.Team.HintsReleased[0].Reason).To(Equal("the facilitator asked"))
			// The game may have been won just before the facilitator's call.
			if ended.Code == 0 { // the page's end came first
				Expect(ended.Stdout).To(ContainSubstring("the game ends"))
				Expect(rep.Team.EndedBy).To(Equal("ended by the facilitator"))
			} else {
				Expect(rep.Team.EndedBy).To(ContainSubstring("every goal reached"))
			}
			// The game is over: nothing answers for it any more.
			Expect(gameday("play", "hint", "--name", cluster).Code).To(Equal(2))
		})

		It("flags the drain as harmful and attributes the frontend's outage to it", func() {
			Expect(rep.Team.Harmful).NotTo(BeEmpty())
			h := rep.Team.Harmful[0]
			Expect(h.Player).To(Equal("riley"))
			Expect(h.Service).To(Equal("frontend"))
			Expect(h.Act).To(SatisfyAny(ContainSubstring("nodes"), ContainSubstring("pods")))
			// One of riley's drains: the first, or a later one when the
			// scheduler put the frontend back and the service held until then.
			at := rep.Start.Add(time.Duration(h.AtSeconds * float64(time.Second)))
			AddReportEntry("harm: riley's act after the first drain began", at.Sub(firstDrain).Round(10*time.Millisecond).String())
			Expect(at).To(BeTemporally(">=", firstDrain.Add(-2*time.Second)), "before riley's first drain")
			Expect(at).To(BeTemporally("<=", drained.Add(5*time.Second)), "after riley's last drain")
			Expect(rep.Team.Components[3].Penalty).To(BeNumerically(">", 0))
		})

		It("undoes every change of the player and of the scenario, as the control plane's own kubectl sees", func() {
			cp := cluster + "-control-plane"
			k := func(args ...string) string {
				return docker(append([]string{"exec", cp, "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"}, args...)...)
			}
			Expect(k("get", "configmap", "-n", "gameday", "--ignore-not-found", "riley-notes")).To(BeEmpty())
			Expect(k("get", "deployment", "-n", "gameday", "api", "-o", "jsonpath={.spec.replicas}")).To(Equal("2"))
			Expect(k("get", "nodes", "-l", "gameday.dev/pool=frontend", "-o", "jsonpath={.items[*].spec.unschedulable}")).To(BeEmpty())
			Expect(k("get", "nodes", "-l", "gameday.dev/pool=frontend", "-o", "jsonpath={.items[*].spec.taints}")).NotTo(ContainSubstring("riley"))
			Expect(k("get", "clusterrolebindings,clusterroles,validatingadmissionpolicies,validatingadmissionpolicybindings", "-l", "gameday.dev/play", "-o", "name")).To(BeEmpty())
			Expect(k("get", "roles,rolebindings", "-A", "-l", "gameday.dev/play", "-o", "name")).To(BeEmpty())
			for _, tier := range []string{"frontend", "api", "workers"} {
				Expect(k("get", "deployment", "-n", "gameday", tier, "-o", "jsonpath={.status.readyReplicas}")).NotTo(BeEmpty(), tier)
			}
			// And the player can do nothing any more.
			out, err := riley.kubectl("get", "pods")
			Expect(err).To(HaveOccurred(), out)
			Expect(out).To(ContainSubstring("forbidden"))
		})
	})
}

func deref(f *float64) any {
	if f == nil {
		return "never"
	}
	return *f
}

var kubectlOnce sync.Once
var kubectlPath string

// kubectlBin is kubectl from PATH, else the one in the node image.
func kubectlBin() string {
	kubectlOnce.Do(func() {
		if p, err := exec.LookPath("kubectl"); err == nil {
			kubectlPath = p
			return
		}
		dir, err := os.MkdirTemp("", "gameday-e2e-kubectl")
		Expect(err).NotTo(HaveOccurred())
		kubectlPath = filepath.Join(dir, "kubectl")
		out, err := exec.Command("sh", "-c", "docker run --rm --entrypoint cat gameday/node:offline /usr/bin/kubectl > "+kubectlPath+" && chmod +x "+kubectlPath).CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), string(out))
	})
	return kubectlPath
}

// A game interrupted (Ctrl-C) puts back what the player and the scenario
// changed and exits 130, as a run does; the cluster, reused and kept, is
// checked with the control plane's own kubectl.
func ctrlCGameSpecs(e *env) {
	Context("Ctrl-C during a game", Label("play"), Ordered, func() {
		name, cluster := e.prefix, e.name
		var code int
		var stderr string
		var es []timeline.Entry

		setupAll(func() {
			out := GinkgoT().TempDir()
			cmd, so, se := startGame("cascading-outage", "--topology", "shared", "--players", "kim", "--name", name, "--out", out, "--reuse")
			kim := newBot("kim", out, "shared")
			worker := ""
			// The upgrade restarts the API server at the start: kubectl may find
			// it away for a few seconds.
			// kim's changes come once it is back: a change sent as the API
			// server is killed may be made with its answer lost (a create
			// retried then finds itself made; the warm .ci/run of 2c93c88).
			until(time.Minute, "the API server answers kim after the upgrade", func() bool {
				v, err := kim.kubectl("get", "--raw", "/version")
				return err == nil && strings.Contains(v, `"v1.38.0"`)
			})
			until(time.Minute, "kim reads the app pool's nodes", func() bool {
				o, err := kim.kubectl("get", "nodes", "-l", "gameday.dev/pool=app", "-o", "name")
				worker = strings.TrimPrefix(strings.Fields(o + " x")[0], "node/")
				return err == nil && worker != "x"
			})
			for _, change := range [][]string{
				{"scale", "deployment/api", "--replicas=3"},
				{"create", "configmap", "kim-notes", "--from-literal=seen=workers"},
				{"cordon", worker},
			} {
				until(time.Minute, "kim: kubectl "+strings.Join(change, " "), func() bool {
					// A create retried after its answer was lost finds it made.
					o, err := kim.kubectl(change...)
					return err == nil || change[0] == "create" && strings.Contains(o, "AlreadyExists")
				})
			}
			// Seen by the game (the audit log is read each second), then interrupted.
			Eventually(func() int {
				n := 0
				for _, e := range readTimeline(filepath.Join(out, "shared", "timeline.jsonl")) {
					if e.Kind == timeline.KindAct && e.Player == "kim" && e.Count == 0 && e.Code < 300 {
						n++
					}
				}
				return n
			}).WithTimeout(30 * time.Second).WithPolling(time.Second).Should(BeNumerically(">=", 3))
			Expect(cmd.Process.Signal(syscall.SIGINT)).To(Succeed())
			code = waitGame(cmd, so, se)
			stderr = se.String()
			es = readTimeline(filepath.Join(out, "shared", "timeline.jsonl"))
		})

		It("recovers and exits 130", func() {
			Expect(code).To(Equal(130))
			Expect(stderr).To(ContainSubstring("Checking the cluster is as before the run"))
			verified := false
			for _, e := range es {
				if e.Kind == timeline.KindRun && e.Phase == "verified" {
					Expect(e.Error).To(BeEmpty())
					verified = true
				}
			}
			Expect(verified).To(BeTrue(), "recovery ran and verified the cluster before the exit")
			// The API server's restarts break the observers' watches: client-go's
			// complaints stay out of the player's and facilitator's way (-v 3 shows them).
			Expect(stderr).NotTo(ContainSubstring("reflector.go"))
		})

		It("undoes the player's changes and the upgrade, as the control plane's own kubectl sees", func() {
			k := func(args ...string) string {
				return docker(append([]string{"exec", cluster + "-control-plane", "kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf"}, args...)...)
			}
			Expect(k("get", "configmap", "-n", "gameday", "--ignore-not-found", "kim-notes")).To(BeEmpty())
			Expect(k("get", "deployment", "-n", "gameday", "api", "-o", "jsonpath={.spec.replicas}")).To(Equal("2"))
			Expect(k("get", "nodes", "-l", "gameday.dev/pool=app", "-o", "jsonpath={.items[*].spec.unschedulable}")).To(BeEmpty())
			Expect(k("get", "--raw", "/version")).To(ContainSubstring(`"gitVersion": "v1.37.2"`))
			Expect(k("get", "nodes", "-l", "gameday.dev/pool=app-next", "-o", "name")).To(BeEmpty(), "the spare has not joined")
			Expect(k("get", "clusterrolebindings,clusterroles", "-l", "gameday.dev/play", "-o", "name")).To(BeEmpty())
		})
	})
}
