package play

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"gameday.dev/gameday/fixtures"
)

// stateOf lists what the goals are judged on, as the observers' caches hold it.
func stateOf(t *testing.T, c kubernetes.Interface) *State {
	t.Helper()
	ctx := context.Background()
	s := &State{}
	nodes, err := c.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Nodes = nodes.Items
	pods, _ := c.CoreV1().Pods(fixtures.Namespace).List(ctx, metav1.ListOptions{})
	s.Pods = pods.Items
	deps, _ := c.AppsV1().Deployments(fixtures.Namespace).List(ctx, metav1.ListOptions{})
	s.Deployments = deps.Items
	return s
}

// The rollback goal, reached on the API as each way a team would reach it
// leaves the workers' Deployment: `kubectl rollout undo` (the template of
// the ReplicaSet before), a JSON patch of the args (`kubectl patch`, or an
// edit), or a release through gameday's own fixtures (as a console's
// deploy would). The bad release's pods are then replaced.
func TestRollbackGoalOnTheAPI(t *testing.T) {
	s, topo := cascading(t)
	goals, err := GoalsFor(s, topo)
	if err != nil {
		t.Fatal(err)
	}
	rollback := goals[0]
	ctx := context.Background()
	for _, way := range []struct {
		name string
		do   func(c *fake.Clientset, good corev1.PodTemplateSpec)
	}{
		{"rollout undo", func(c *fake.Clientset, good corev1.PodTemplateSpec) {
			d, _ := c.AppsV1().Deployments(fixtures.Namespace).Get(ctx, "workers", metav1.GetOptions{})
			d.Spec.Template = good
			if _, err := c.AppsV1().Deployments(fixtures.Namespace).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"patch of the args", func(c *fake.Clientset, _ corev1.PodTemplateSpec) {
			patch := `[{"op":"replace","path":"/spec/template/spec/containers/0/args","value":["-role","worker","-release","v1"]}]`
			if _, err := c.AppsV1().Deployments(fixtures.Namespace).Patch(ctx, "workers", types.JSONPatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				t.Fatal(err)
			}
		}},
		{"a deploy of v1", func(c *fake.Clientset, _ corev1.PodTemplateSpec) {
			if err := fixtures.SetRelease(ctx, c, fixtures.Workers, "v1"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(way.name, func(t *testing.T) {
			d := workersDeployment("v1")
			d.Namespace = fixtures.Namespace
			d.Annotations = map[string]string{}
			d.Spec.Template.Annotations = map[string]string{}
			good := *d.Spec.Template.DeepCopy()
			c := fake.NewClientset(&d)
			if !rollback.Holds(stateOf(t, c)) {
				t.Fatal("before the bad release the goal's effect is there")
			}
			if err := fixtures.SetRelease(ctx, c, fixtures.Workers, "v2"); err != nil {
				t.Fatal(err)
			}
			bad := workerPod("bad", "v2", false)
			bad.Namespace = fixtures.Namespace
			if _, err := c.CoreV1().Pods(fixtures.Namespace).Create(ctx, &bad, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
			if rollback.Holds(stateOf(t, c)) {
				t.Fatal("on the bad release the goal holds")
			}
			way.do(c, good)
			if rollback.Holds(stateOf(t, c)) {
				t.Fatal("the bad release's pod still runs, yet the goal holds")
			}
			if err := c.CoreV1().Pods(fixtures.Namespace).Delete(ctx, "bad", metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if !rollback.Holds(stateOf(t, c)) {
				t.Errorf("after %s the goal does not hold", way.name)
			}
		})
	}
}

// The capacity goal, reached through the console's provider: the spare
// pool's node brought into service.
func TestCapacityGoalThroughTheConsole(t *testing.T) {
	s, topo := cascading(t)
	goals, _ := GoalsFor(s, topo)
	p, client, _ := providerCluster(t)
	if goals[1].Holds(stateOf(t, client)) {
		t.Fatal("the pool is lost, yet the goal holds")
	}
	if _, err := p.Provision(context.Background(), "app-v138", "v1.38.0"); err != nil {
		t.Fatal(err)
	}
	if !goals[1].Holds(stateOf(t, client)) {
		t.Error("a node group created in the console does not reach the goal")
	}
}
