package live

import (
	"strings"
	"testing"
	"time"

	"gameday.dev/gameday/internal/golden"
	"gameday.dev/gameday/scenarios/timeline"
)

// Each kind of entry as the page lists it; what it must not list (probes,
// pods, a hint not yet released, the audit log's cost) renders nothing.
func TestRenderEntries(t *testing.T) {
	zone = time.UTC
	t.Cleanup(func() { zone = time.Local })
	t0 := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	ready := int32(1)
	entries := []timeline.Entry{
		{Time: t0.Add(-30 * time.Second), Kind: timeline.KindRun, Phase: "steady-state", Message: "every objective holds"},
		{Time: t0, Kind: timeline.KindRun, Phase: "timeline-start"},
		{Time: at(1), Kind: timeline.KindRun, Phase: "kit", Player: "sam", Message: "role developer"},
		{Time: at(2), Kind: timeline.KindStep, Phase: "start", Step: "bad-release", Action: "release", Actor: "scenario", Targets: []string{"workers"}},
		{Time: at(3), Kind: timeline.KindStep, Phase: "end", Step: "bad-release", Actor: "scenario", Message: "workers v1 -> v2"},
		{Time: at(4), Kind: timeline.KindStep, Phase: "end", Step: "node-group-upgrade", Actor: "scenario", Blocked: true, Message: "blocked by PodDisruptionBudget gameday/frontend"},
		{Time: at(5), Kind: timeline.KindStep, Phase: "end", Step: "drain", Actor: "automation", Error: "node w1: timed out"},
		{Time: at(6), Kind: timeline.KindStep, Phase: "end", Step: "provision-pool", Actor: "operator", Player: "sam", Message: "pool app-new in service"},
		{Time: at(7), Kind: timeline.KindRecord, Phase: "recorded", RecordKind: "release", Name: "workers", Value: "v1"},
		{Time: at(8), Kind: timeline.KindAutomation, Rule: "node-group-health-check", Message: "2 nodes failed their health check"},
		{Time: at(9), Kind: timeline.KindChange, Object: "deployment/api", Field: "spec.replicas", From: "2", To: "0", Manager: "kubectl-scale"},
		{Time: at(10), Kind: timeline.KindAct, Player: "sam", Via: "kubectl", Verb: "patch", Resource: "deployments", Name: "workers", Code: 200},
		{Time: at(11), Kind: timeline.KindAct, Player: "dev", Via: "kubectl", Verb: "list", Resource: "pods", Count: 12, Code: 200},
		{Time: at(12), Kind: timeline.KindAct, Player: "dev", Via: "kubectl", Verb: "delete", Resource: "nodes", Name: "w1", Code: 403},
		{Time: at(13), Kind: timeline.KindAct, Player: "sam", Via: "console", Verb: "create-nodegroup", Name: "app-new"},
		{Time: at(14), Kind: timeline.KindGoal, Phase: "set", Step: "rollback", Message: "the workers run a release that works"},
		{Time: at(15), Kind: timeline.KindGoal, Phase: "reached", Step: "rollback"},
		{Time: at(16), Kind: timeline.KindHint, Phase: "set", Name: "1", Message: "a secret the team has not earned yet"},
		{Time: at(17), Kind: timeline.KindHint, Phase: "released", Name: "1", Reason: "5m after the page", Message: "look at the workers' logs"},
		{Time: at(18), Kind: timeline.KindFact, Player: "sam", Name: "control-plane-upgrade", Message: "console describe-cluster"},
		{Time: at(19), Kind: timeline.KindNote, Phase: "note", Player: "Ana (reporter)", Message: "we roll back <now>"},
		{Time: at(20), Kind: timeline.KindNote, Phase: "observation", Player: "reporter", Message: "the API pods restart every 30 s"},
		{Time: at(21), Kind: timeline.KindNode, Name: "gameday-shared-worker", Pool: "app", Ready: timeline.Bool(false), Schedulable: timeline.Bool(false)},
		{Time: at(22), Kind: timeline.KindNode, Name: "gameday-shared-worker2", Pool: "app", Deleted: true},
		{Time: at(23), Kind: timeline.KindDeployment, Tier: "workers", Release: "v2", Replicas: 2, ReadyCount: &ready},
		{Time: at(24), Kind: timeline.KindEvent, Object: "pod/workers-1", Reason: "BackOff", EventType: "Warning", Message: "Back-off restarting failed container"},
		{Time: at(25), Kind: timeline.KindRun, Phase: "recover-start"},
		{Time: at(26), Kind: timeline.KindRun, Phase: "verified", Error: "node w1 is cordoned"},
		{Time: at(61), Kind: timeline.KindRun, Phase: "end"},
		// Not listed:
		{Time: at(27), Kind: timeline.KindProbe, Endpoint: "frontend /", OK: timeline.Bool(true)},
		{Time: at(28), Kind: timeline.KindPod, Name: "api-1"},
		{Time: at(29), Kind: timeline.KindRun, Phase: "audit-read", Count: 163},
		{Time: at(30), Kind: timeline.KindEvent, Object: "pod/api-1", Reason: "Pulled", EventType: "Normal", Message: "already present"},
	}
	var b strings.Builder
	for _, e := range entries {
		html, ok := RenderEntry(e, t0)
		switch {
		case ok:
			b.WriteString(html + "\n")
		case e.Kind != timeline.KindProbe && e.Kind != timeline.KindPod && e.Kind != timeline.KindHint && e.Phase != "audit-read" && e.EventType != "Normal":
			t.Errorf("%s %s rendered nothing", e.Kind, e.Phase)
		}
	}
	out := b.String()
	if strings.Contains(out, "a secret the team has not earned yet") {
		t.Error("a hint the game still holds is shown")
	}
	if strings.Contains(out, "<now>") {
		t.Error("a note's text is not escaped")
	}
	golden.Assert(t, "testdata/entries.golden.html", []byte(out))
}
