package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/observe"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/scenarios/timeline"
)

// An abort condition stops the timeline before its next step; the steps
// already applied stay journaled, for recovery.
func TestAbortStopsTheTimeline(t *testing.T) {
	ctx := context.Background()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp", Labels: map[string]string{cluster.PoolLabel: cluster.SystemPool}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	client := fake.NewClientset(node)
	tlPath, tl, obs := watching(t, client)
	topo, _ := cluster.Builtin("shared")
	s, err := scenarios.Parse("abort.yaml", []byte(`apiVersion: gameday.dev/v1alpha1
kind: Scenario
name: abort
timeline:
  - {name: first, action: note, message: one}
  - {name: lose-control-plane, action: note, message: the test stops the control plane now}
  - {name: never, action: wait, duration: 1h}
  - {name: after-the-wait, action: note, message: not reached}
abort:
  - {condition: pool-down, target: {pool: system}}
`))
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(filepath.Join(t.TempDir(), JournalFile), tl)
	if err != nil {
		t.Fatal(err)
	}
	env := &steps.Env{Client: client, Topology: topo, Rand: steps.NewRand(1, 2), Journal: j}
	w := &watcher{topo: topo, obs: obs}
	go func() {
		// The control plane goes NotReady while the timeline waits.
		time.Sleep(300 * time.Millisecond)
		n, _ := client.CoreV1().Nodes().Get(ctx, "cp", metav1.GetOptions{})
		n.Status.Conditions[0].Status = corev1.ConditionFalse
		client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	}()
	start := time.Now()
	aborted, _, err := runTimelineReplay(ctx, Options{Scenario: s, Topology: topo, Logger: log.NoopLogger{}}, env, w, tl)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aborted, "abort condition at line 10 held: pool-down") {
		t.Fatalf("aborted = %q", aborted)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the abort took %s", d)
	}
	tl.Flush()
	f, _ := os.Open(tlPath)
	defer f.Close()
	es, _ := timeline.Read(f)
	var ran []string
	for _, e := range es {
		if e.Kind == timeline.KindStep && e.Phase == "start" {
			ran = append(ran, e.Step)
		}
	}
	if strings.Join(ran, ",") != "first,lose-control-plane,never" {
		t.Fatalf("steps started: %v; the abort must stop the wait and skip what follows", ran)
	}
}

// runAutomation runs scenario yaml's timeline on a fake cluster of one Ready
// control-plane node (no Deployments) and returns what runTimeline returns
// and the timeline it wrote.
func runAutomation(t *testing.T, yaml string) (string, []string, []timeline.Entry) {
	t.Helper()
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "cp", Labels: map[string]string{cluster.PoolLabel: cluster.SystemPool}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
	client := fake.NewClientset(node)
	tlPath, tl, obs := watching(t, client)
	topo, _ := cluster.Builtin("shared")
	s, err := scenarios.Parse("automation.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(filepath.Join(t.TempDir(), JournalFile), tl)
	if err != nil {
		t.Fatal(err)
	}
	env := &steps.Env{Client: client, Topology: topo, Rand: steps.NewRand(1, 2), Journal: j}
	aborted, autoErrs, err := runTimelineReplay(context.Background(), Options{Scenario: s, Topology: topo, Logger: log.NoopLogger{}}, env, &watcher{topo: topo, obs: obs}, tl)
	if err != nil {
		t.Fatal(err)
	}
	tl.Flush()
	f, err := os.Open(tlPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := timeline.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return aborted, autoErrs, es
}

// An automation step that fails is returned by the timeline, named by its
// rule, and ends the run early: it is never only written down.
func TestAutomationErrorsReturned(t *testing.T) {
	aborted, autoErrs, es := runAutomation(t, `apiVersion: gameday.dev/v1alpha1
kind: Scenario
name: auto
timeline:
  - {name: watch, action: wait, duration: 20s}
automation:
  - name: cloud-rolls
    when: {condition: pool-ready, target: {pool: system}}
    steps:
      - {action: release, target: {tier: workers}, version: v2}
`) // no Deployments: the release fails
	if len(autoErrs) != 1 || !strings.HasPrefix(autoErrs[0], "cloud-rolls: step cloud-rolls-1-release") {
		t.Fatalf("automation errors = %q", autoErrs)
	}
	if !strings.HasPrefix(aborted, "automation cloud-rolls:") {
		t.Errorf("aborted = %q, want the automation's failure", aborted)
	}
	if w := reports.AutomationFailures(es); len(w) != 1 || !strings.Contains(w[0], "Automation cloud-rolls: step cloud-rolls-1-release failed") {
		t.Errorf("the report's warnings = %q", w)
	}
}

// An automation step still running when the timeline ends (at its horizon)
// is cut short, not failed: no error in the result, the summary or the report.
func TestAutomationCutShortIsNoFailure(t *testing.T) {
	aborted, autoErrs, es := runAutomation(t, `apiVersion: gameday.dev/v1alpha1
kind: Scenario
name: cut
horizon: 3s
timeline:
  - {name: watch, action: note, message: watch}
automation:
  - name: slow-cloud
    when: {condition: pool-ready, target: {pool: system}}
    steps:
      - {action: wait, duration: 1h}
`)
	if aborted != "" || len(autoErrs) != 0 {
		t.Fatalf("aborted %q, automation errors %q: want none", aborted, autoErrs)
	}
	if w := reports.AutomationFailures(es); len(w) != 0 {
		t.Errorf("warnings %q for a step cut short", w)
	}
	var cut bool
	for _, e := range es {
		if e.Kind == timeline.KindStep && e.Phase == "end" && e.Rule == "slow-cloud" {
			cut = strings.Contains(e.Message, "cut short") && e.Error == ""
		}
	}
	if !cut {
		t.Error("the wait's end is not marked cut short")
	}
}

// The timeline observes until the scoring horizon has passed, counted from
// the first change seen when the run never acts, and never past
// maxDuration (which would abort it).
func TestTimelineObservesUntilTheHorizon(t *testing.T) {
	for _, tc := range []struct {
		name, extra string
		change      bool
		least, most time.Duration
	}{
		{name: "from the timeline's start", extra: "horizon: 2s\n", least: 3 * time.Second, most: 5 * time.Second},
		{name: "from a change seen", extra: "horizon: 2s\n", change: true, least: 3500 * time.Millisecond, most: 6 * time.Second},
		{name: "cut at maxDuration", extra: "horizon: 3s\nmaxDuration: 3s\n", least: 1500 * time.Millisecond, most: 3 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dep := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: "gameday"}}
			client := fake.NewClientset(dep)
			_, tl, obs := watching(t, client)
			topo, _ := cluster.Builtin("shared")
			s, err := scenarios.Parse("horizon.yaml", []byte("apiVersion: gameday.dev/v1alpha1\nkind: Scenario\nname: horizon\ntimeline:\n  - {name: only, action: note, message: watch}\n"+tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			j, err := OpenJournal(filepath.Join(t.TempDir(), JournalFile), tl)
			if err != nil {
				t.Fatal(err)
			}
			env := &steps.Env{Client: client, Topology: topo, Rand: steps.NewRand(1, 2), Journal: j}
			if tc.change { // someone changes a config map 1.5 s in
				go func() {
					time.Sleep(1500 * time.Millisecond)
					cm := dep.DeepCopy()
					cm.Data = map[string]string{"k": "v"}
					client.CoreV1().ConfigMaps("gameday").Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
				}()
			}
			start := time.Now()
			aborted, _, err := runTimelineReplay(ctx, Options{Scenario: s, Topology: topo, Logger: log.NoopLogger{}}, env, &watcher{topo: topo, obs: obs}, tl)
			if err != nil || aborted != "" {
				t.Fatalf("aborted %q, err %v", aborted, err)
			}
			if d := time.Since(start); d < tc.least || d > tc.most {
				t.Errorf("the timeline took %s, want %s to %s", d, tc.least, tc.most)
			}
		})
	}
}

// watching starts a timeline file and the observers on client, both
// stopped when the test ends.
func watching(t *testing.T, client *fake.Clientset) (string, *timeline.Writer, *observe.Cluster) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "timeline.jsonl")
	tl, err := timeline.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tl.Close() })
	obs, err := observe.Watch(context.Background(), client, tl, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(obs.Stop)
	return path, tl, obs
}

func runTimelineReplay(ctx context.Context, o Options, env *steps.Env, w *watcher, tl *timeline.Writer) (string, []string, error) {
	return runTimeline(ctx, o, env, w, tl, replay(o, w))
}

// Past its bound a timeline says so (not "context deadline exceeded"); a
// game's end is no abort.
func TestWhyStopped(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	tctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	<-tctx.Done()
	if got, err := whyStopped(ctx, tctx, time.Minute, ctx.Err()); got != "the timeline ran past maxDuration (1m0s)" || err != nil {
		t.Errorf("past the bound: %q, %v", got, err)
	}
	gctx, end := context.WithCancelCause(context.Background())
	end(gameOver{"every goal reached"})
	inner, stop2 := context.WithCancelCause(gctx)
	defer stop2(nil)
	if got, err := whyStopped(gctx, inner, time.Minute, context.Canceled); got != "" || err != nil {
		t.Errorf("a game's end: %q, %v", got, err)
	}
}
