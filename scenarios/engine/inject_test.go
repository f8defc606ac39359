package engine

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"sigs.k8s.io/kind/pkg/log"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/steps"
	"gameday.dev/gameday/scenarios/timeline"
)

// The facilitator injects one of the scenario's curveballs: it runs once,
// in the game (journaled, in the timeline as the scenario's step); an
// unknown one, a second time, or after the game are refused.
func TestInjectCurveball(t *testing.T) {
	s, _, err := scenarios.Builtin("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Play.Curveballs) == 0 {
		t.Fatal("cascading-outage ships no curveball")
	}
	name := s.Play.Curveballs[0].Name
	topo, _ := cluster.Builtin("separate")
	var objs []corev1.Pod
	for _, p := range []string{"api-1", "api-2"} {
		objs = append(objs, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p, Namespace: fixtures.Namespace,
			Labels: map[string]string{fixtures.TierLabel: string(fixtures.API)}}, Spec: corev1.PodSpec{NodeName: "w2"},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}})
	}
	client := fake.NewClientset(&objs[0], &objs[1])
	dir := t.TempDir()
	tl, err := timeline.Create(filepath.Join(dir, "timeline.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(filepath.Join(dir, JournalFile), tl)
	if err != nil {
		t.Fatal(err)
	}
	ctx, end := context.WithCancel(context.Background())
	g := &game{o: Options{Scenario: s, Logger: log.NoopLogger{}}, ctx: ctx, injected: map[string]bool{},
		s: &Session{tl: tl, env: &steps.Env{Client: client, Nodes: cluster.NewNodes(client), Topology: topo, Rand: steps.NewRand(1, 2), Journal: j}}}

	if _, err := g.inject("meteor"); err == nil || !strings.Contains(err.Error(), "it has: "+name) {
		t.Errorf("an unknown curveball: %v", err)
	}
	msg, err := g.inject(name)
	if err != nil || !strings.Contains(msg, name) {
		t.Fatalf("inject: %q %v", msg, err)
	}
	if _, err := g.inject(name); err == nil || !strings.Contains(err.Error(), "injected already") {
		t.Errorf("a second time: %v", err)
	}
	g.injecting.Wait()
	pods, _ := client.CoreV1().Pods(fixtures.Namespace).List(ctx, metav1.ListOptions{})
	if len(pods.Items) != 1 {
		t.Errorf("%d API pods left, want 1 killed", len(pods.Items))
	}
	_ = tl.Close()
	var started, ended bool
	for _, e := range readEntries(t, filepath.Join(dir, "timeline.jsonl")) {
		if e.Kind == timeline.KindStep && e.Step == name && e.Actor == string(scenarios.ActorScenario) {
			started = started || e.Phase == "start"
			ended = ended || (e.Phase == "end" && e.Error == "")
		}
	}
	if !started || !ended {
		t.Errorf("the curveball's step in the timeline: start %v, end %v", started, ended)
	}
	end()
	g.injected = map[string]bool{}
	if _, err := g.inject(name); err == nil || !strings.Contains(err.Error(), "the game is over") {
		t.Errorf("after the game: %v", err)
	}
}

func readEntries(t *testing.T, path string) []timeline.Entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	es, err := timeline.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	return es
}
