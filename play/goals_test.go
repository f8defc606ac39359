package play

import (
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
)

func cascading(t *testing.T) (*scenarios.Scenario, cluster.Topology) {
	t.Helper()
	s, _, err := scenarios.Builtin("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	topo, ok := cluster.Builtin("shared")
	if !ok {
		t.Fatal("no shared topology")
	}
	return s, topo
}

func podSpec(release string) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Args: []string{"-role", "worker", "-release", release}}}}
}

func workersDeployment(release string) appsv1.Deployment {
	return appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: string(fixtures.Workers)},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{Spec: podSpec(release)}}}
}

func workerPod(name, release string, deleting bool) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{fixtures.TierLabel: string(fixtures.Workers)}},
		Spec: podSpec(release), Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	if deleting {
		now := metav1.Now()
		p.DeletionTimestamp = &now
	}
	return p
}

func node(name, pool string, ready, inService, cordoned bool) corev1.Node {
	n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{cluster.PoolLabel: pool}}}
	if ready {
		n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}
	}
	if !inService {
		n.Spec.Taints = []corev1.Taint{{Key: cluster.OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoExecute}}
	}
	n.Spec.Unschedulable = cordoned
	return n
}

// cascading-outage's operator steps become two goals; the note is none.
func TestGoalsForCascadingOutage(t *testing.T) {
	s, topo := cascading(t)
	goals, err := GoalsFor(s, topo)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	for _, g := range goals {
		steps = append(steps, g.Step)
	}
	if strings.Join(steps, ",") != "rollback,provision-pool" {
		t.Fatalf("goals for steps %v, want rollback and provision-pool", steps)
	}
}

// The rollback goal holds however the team got there (undo, an edit of the
// args, a console): from the Deployment's template and the pods that run.
func TestRollbackGoalFromItsEffect(t *testing.T) {
	s, topo := cascading(t)
	goals, _ := GoalsFor(s, topo)
	rollback := goals[0]
	for _, c := range []struct {
		name  string
		state State
		want  bool
	}{
		{"still the bad release", State{Deployments: []appsv1.Deployment{workersDeployment("v2")}, Pods: []corev1.Pod{workerPod("a", "v2", false)}}, false},
		{"template back, a bad pod still running", State{Deployments: []appsv1.Deployment{workersDeployment("v1")}, Pods: []corev1.Pod{workerPod("a", "v1", false), workerPod("b", "v2", false)}}, false},
		{"template back, the bad pod terminating", State{Deployments: []appsv1.Deployment{workersDeployment("v1")}, Pods: []corev1.Pod{workerPod("a", "v1", false), workerPod("b", "v2", true)}}, true},
		{"template back, pods pending for capacity", State{Deployments: []appsv1.Deployment{workersDeployment("v1")}}, true},
		{"no workers deployment at all", State{}, false},
	} {
		if got := rollback.Holds(&c.state); got != c.want {
			t.Errorf("%s: holds = %v, want %v", c.name, got, c.want)
		}
	}
}

// The capacity goal holds once a node of the workers' pool, or of a spare
// pool replacing it, is Ready, in service and schedulable.
func TestCapacityGoalFromItsEffect(t *testing.T) {
	s, topo := cascading(t)
	goals, _ := GoalsFor(s, topo)
	capacity := goals[1]
	for _, c := range []struct {
		name  string
		nodes []corev1.Node
		want  bool
	}{
		{"pool lost, spare out of service", []corev1.Node{node("w1", "app", false, true, false), node("s1", "app-next", true, false, true)}, false},
		{"spare Ready but still tainted out", []corev1.Node{node("s1", "app-next", true, false, false)}, false},
		{"spare in service but cordoned", []corev1.Node{node("s1", "app-next", true, true, true)}, false},
		{"spare in service", []corev1.Node{node("s1", "app-next", true, true, false)}, true},
		{"the system pool does not count", []corev1.Node{node("cp", cluster.SystemPool, true, true, false)}, false},
	} {
		if got := capacity.Holds(&State{Nodes: c.nodes}); got != c.want {
			t.Errorf("%s: holds = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestNothingToPlay(t *testing.T) {
	s, topo := cascading(t)
	var kept []scenarios.Step
	for _, st := range s.Timeline {
		if st.Actor != scenarios.ActorOperator || st.Action == scenarios.ActionNote {
			kept = append(kept, st)
		}
	}
	s.Timeline = kept
	if _, err := GoalsFor(s, topo); !errors.Is(err, ErrNothingToPlay) {
		t.Errorf("GoalsFor with only a note by the operator = %v, want ErrNothingToPlay", err)
	}
}
