package steps

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/system"
)

func TestRegistryCoversActions(t *testing.T) {
	for _, spec := range scenarios.ActionSpecs {
		if _, ok := Registry[spec.Action]; !ok {
			t.Errorf("action %s has no implementation in Registry", spec.Action)
		}
	}
	// ... and one more, gameday's own set-up of a cluster it did not create.
	if len(Registry) != len(scenarios.ActionSpecs)+1 || Registry[ActionAdopt] == nil {
		t.Errorf("Registry has %d entries, the format %d actions", len(Registry), len(scenarios.ActionSpecs))
	}
}

func (fc *fakeCluster) apply(t *testing.T, st scenarios.Step) Outcome {
	t.Helper()
	if st.Name == "" {
		st.Name = string(st.Action)
	}
	if st.Target.Mode == "" {
		st.Target.Mode = scenarios.ModeAll
	}
	out, err := Apply(context.Background(), fc.env, st)
	if err != nil {
		t.Fatalf("apply %s: %v", st.Action, err)
	}
	return out
}

func (fc *fakeCluster) recover(t *testing.T) {
	t.Helper()
	var done []string
	err := Recover(context.Background(), fc.env, fc.journal.records(), func(r Record, err error) { done = append(done, r.Key()) })
	if err != nil {
		t.Fatalf("recover: %v", err)
	}
	if len(done) != len(fc.journal.records()) {
		t.Fatalf("recovered %v, want every record of %v", done, fc.journal.records())
	}
}

func (fc *fakeCluster) release(t *testing.T, tier fixtures.Tier) string {
	t.Helper()
	d, err := fc.client.AppsV1().Deployments(fixtures.Namespace).Get(context.Background(), string(tier), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return d.Annotations[fixtures.ReleaseAnno]
}

// joined reports whether a node has a Node object.
func (fc *fakeCluster) joined(name string) bool {
	_, err := fc.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	return err == nil
}

// node is a node's state; a node without a Node object (a spare that has not
// joined) is none of them.
func (fc *fakeCluster) node(t *testing.T, name string) (ready, schedulable, inService bool) {
	t.Helper()
	n, err := fc.client.CoreV1().Nodes().Get(context.Background(), name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, false, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return cluster.IsReady(n), !n.Spec.Unschedulable, cluster.InService(n)
}

func tierTarget(tier fixtures.Tier) scenarios.Target {
	return scenarios.Target{Selector: scenarios.Selector{Tier: tier}}
}

func TestReleaseAndRollback(t *testing.T) {
	fc := newFakeCluster(t)
	out := fc.apply(t, scenarios.Step{Action: scenarios.ActionRelease, Target: tierTarget(fixtures.Workers), Version: "v2"})
	if got := fc.release(t, fixtures.Workers); got != "v2" || out.Message != "workers v1 -> v2" {
		t.Fatalf("release = %s, outcome %+v", got, out)
	}
	fc.apply(t, scenarios.Step{Action: scenarios.ActionRollback, Target: tierTarget(fixtures.Workers)})
	if got := fc.release(t, fixtures.Workers); got != "v1" {
		t.Fatalf("after rollback release = %s", got)
	}
	// The journal keeps the state from before the run: one record, v1.
	if recs := fc.journal.records(); len(recs) != 1 || recs[0].Value != "v1" || recs[0].Kind != KindRelease {
		t.Fatalf("records = %+v", recs)
	}
	fc.apply(t, scenarios.Step{Action: scenarios.ActionRelease, Target: tierTarget(fixtures.Workers), Version: "v2"})
	fc.recover(t)
	if got := fc.release(t, fixtures.Workers); got != "v1" {
		t.Fatalf("after recover release = %s, want v1", got)
	}
}

// A tier of the team's own image is released to the release's tag, and
// recovery without the System file (gameday recover, after a crash) puts
// its image and environment back from the journal.
func TestReleaseOfYourImage(t *testing.T) {
	fc := newFakeCluster(t)
	sys, err := system.Parse("shop.yaml", []byte(`apiVersion: gameday.dev/v1alpha1
kind: System
name: shop
tiers:
  - {name: site, image: "shop.example/site:1.0", env: {MODE: shop}}
services:
  - {name: shop, tier: site, nodePort: 30080, journeys: [{path: /}]}
releases:
  - name: v1
  - {name: v2, tag: "2.0", env: {FEATURE_X: "on"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	topo, _ := cluster.Builtin("shared")
	o, err := fixtures.Manifests(topo, fixtures.SystemParams(sys, "mockapp:test"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := fc.client.AppsV1().Deployments(fixtures.Namespace).Create(ctx, o.Deployments[0], metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	fc.env.System = sys
	image := func() string {
		d, _ := fc.client.AppsV1().Deployments(fixtures.Namespace).Get(ctx, "site", metav1.GetOptions{})
		c := d.Spec.Template.Spec.Containers[0]
		return fmt.Sprintf("%s %v %s", c.Image, c.Env, fixtures.SystemRelease(sys, "site", &d.Spec.Template.Spec))
	}
	before := image()
	fc.apply(t, scenarios.Step{Action: scenarios.ActionRelease, Target: tierTarget("site"), Version: "v2"})
	if got := image(); got != "shop.example/site:2.0 [{FEATURE_X on nil} {MODE shop nil}] v2" {
		t.Fatalf("after release v2: %s", got)
	}
	fc.env.System = nil // gameday recover has the journal, not the System file
	fc.recover(t)
	if got := image(); got != before || !strings.HasSuffix(got, " v1") {
		t.Fatalf("after recover: %s, want %s", got, before)
	}
}

func TestCordonAndDrain(t *testing.T) {
	fc := newFakeCluster(t)
	fc.apply(t, scenarios.Step{Action: scenarios.ActionCordon, Target: scenarios.Target{Selector: scenarios.Selector{Pool: "app"}, Mode: scenarios.ModeOne}})
	cordoned := 0
	for _, n := range []string{"gameday-worker", "gameday-worker2"} {
		if _, sched, _ := fc.node(t, n); !sched {
			cordoned++
		}
	}
	if cordoned != 1 {
		t.Fatalf("mode one cordoned %d nodes", cordoned)
	}
	fc.apply(t, scenarios.Step{Action: scenarios.ActionDrain, Target: tierTarget(fixtures.Frontend), Timeout: 10 * time.Second})
	pods, _ := fc.client.CoreV1().Pods(fixtures.Namespace).List(context.Background(), metav1.ListOptions{})
	if len(pods.Items) != 0 {
		t.Fatalf("drain of pool app left %d pods", len(pods.Items))
	}
	if recs := fc.journal.records(); len(recs) != 2 {
		t.Fatalf("records = %+v, want one per node", recs)
	}
	fc.recover(t)
	for _, n := range []string{"gameday-worker", "gameday-worker2"} {
		if _, sched, _ := fc.node(t, n); !sched {
			t.Errorf("%s still cordoned after recover", n)
		}
	}
	if fc.joined("gameday-worker3") {
		t.Error("the spare joined, but the run never brought it in")
	}
}

func TestNodeAndKubeletStopStart(t *testing.T) {
	for _, c := range []struct {
		stop, start scenarios.Action
		kind        Kind
	}{
		{scenarios.ActionNodeStop, scenarios.ActionNodeStart, KindContainer},
		{scenarios.ActionKubeletStop, scenarios.ActionKubeletStart, KindKubelet},
	} {
		t.Run(string(c.stop), func(t *testing.T) {
			fc := newFakeCluster(t)
			target := scenarios.Target{Selector: scenarios.Selector{Labels: map[string]string{cluster.PoolLabel: "app"}}, Mode: scenarios.ModeFixed, Value: 1}
			out := fc.apply(t, scenarios.Step{Action: c.stop, Target: target})
			if len(out.Targets) != 1 {
				t.Fatalf("targets = %v", out.Targets)
			}
			n := out.Targets[0]
			if ready, _, _ := fc.node(t, n); ready || !fc.runtime.isStopped(n) {
				t.Fatalf("%s still Ready after %s", n, c.stop)
			}
			if recs := fc.journal.records(); len(recs) != 1 || recs[0].Kind != c.kind || recs[0].Target != n {
				t.Fatalf("records = %+v", recs)
			}
			fc.recover(t)
			if ready, _, _ := fc.node(t, n); !ready || fc.runtime.isStopped(n) {
				t.Fatalf("%s not back after recover", n)
			}
			// start on its own: a node already up stays up, and nothing is recorded.
			fc.apply(t, scenarios.Step{Action: c.stop, Target: target})
			fc.apply(t, scenarios.Step{Action: c.start, Target: target, Timeout: 5 * time.Second})
			if ready, _, _ := fc.node(t, n); !ready {
				t.Fatalf("%s not Ready after %s", n, c.start)
			}
			if recs := fc.journal.records(); len(recs) != 1 {
				t.Fatalf("start recorded something: %+v", recs)
			}
		})
	}
}

func TestPoolOutage(t *testing.T) {
	fc := newFakeCluster(t)
	out := fc.apply(t, scenarios.Step{Action: scenarios.ActionPoolOutage, Target: tierTarget(fixtures.Workers)})
	if !slices.Equal(out.Targets, []string{"gameday-worker", "gameday-worker2"}) {
		t.Fatalf("targets = %v, want pool app's nodes", out.Targets)
	}
	for _, n := range out.Targets {
		if ready, _, _ := fc.node(t, n); ready {
			t.Errorf("%s Ready after the outage", n)
		}
	}
	if ready, _, _ := fc.node(t, "gameday-control-plane"); !ready || fc.runtime.isStopped("gameday-control-plane") {
		t.Error("the control plane was touched")
	}
	fc.recover(t)
	for _, n := range out.Targets {
		if ready, _, _ := fc.node(t, n); !ready {
			t.Errorf("%s not Ready after recover", n)
		}
	}
}

func TestControlPlaneUpgradeBlocksReplacements(t *testing.T) {
	fc := newFakeCluster(t)
	ctx := context.Background()
	out := fc.apply(t, scenarios.Step{Action: scenarios.ActionControlPlaneUpgrade, Version: "v1.38.0"})
	if v, _ := ControlPlaneVersion(ctx, fc.client); v != "v1.38.0" {
		t.Fatalf("control plane version = %s", v)
	}
	// The API server itself restarted into the new version: what kubectl
	// version shows agrees with the record.
	if v := fc.serverVersion(t); v != "v1.38.0" || !strings.Contains(out.Message, "API server restarted into v1.38.0") {
		t.Fatalf("API server reports %s after the upgrade; outcome %q", v, out.Message)
	}
	// The node group's own replacement, at its version: blocked.
	out = fc.apply(t, scenarios.Step{Action: scenarios.ActionProvisionPool, Target: tierTarget(fixtures.Workers), Version: scenarios.VersionPool})
	if !out.Blocked {
		t.Fatalf("replacement at %s joined a v1.38.0 control plane: %+v", kubeletVersion, out)
	}
	if fc.joined("gameday-worker3") || !fc.runtime.isStopped("gameday-worker3") {
		t.Fatal("a blocked replacement started the spare's kubelet")
	}
	// The operator's new pool, at the control plane's version: joins.
	out = fc.apply(t, scenarios.Step{Action: scenarios.ActionProvisionPool, Target: tierTarget(fixtures.Workers), Version: scenarios.VersionControlPlane, Timeout: 5 * time.Second})
	if out.Blocked || !slices.Equal(out.Targets, []string{"gameday-worker3"}) {
		t.Fatalf("outcome = %+v", out)
	}
	if ready, sched, in := fc.node(t, "gameday-worker3"); !ready || !sched || !in {
		t.Fatalf("spare ready=%v schedulable=%v in service=%v", ready, sched, in)
	}
	// It joined with a kubelet at the control plane's version, and its Node
	// says so: kubectl get nodes agrees with the console.
	if n, _ := fc.client.CoreV1().Nodes().Get(ctx, "gameday-worker3", metav1.GetOptions{}); n.Status.NodeInfo.KubeletVersion != "v1.38.0" {
		t.Fatalf("the new pool's node runs %s, want v1.38.0", n.Status.NodeInfo.KubeletVersion)
	}
	fc.recover(t)
	if _, err := fc.client.CoreV1().Nodes().Get(ctx, "gameday-worker3", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after recover the spare's Node is still there (%v), want it gone until it joins again", err)
	}
	if !fc.runtime.isStopped("gameday-worker3") || fc.runtime.kubelets["gameday-worker3"] != "" {
		t.Fatalf("after recover the spare's kubelet: stopped=%v version given=%q", fc.runtime.isStopped("gameday-worker3"), fc.runtime.kubelets["gameday-worker3"])
	}
	if v, _ := ControlPlaneVersion(ctx, fc.client); v != kubeletVersion {
		t.Fatalf("after recover control plane version = %s, want the node's %s", v, kubeletVersion)
	}
	if v := fc.serverVersion(t); v != kubeletVersion {
		t.Fatalf("after recover the API server reports %s, want %s", v, kubeletVersion)
	}
	if img, _ := fc.env.Nodes.APIServerImage(ctx, "gameday-control-plane"); img != apiServerRepo+":"+kubeletVersion {
		t.Fatalf("after recover the API server runs %s", img)
	}
}

// A node image without an API server at the version asked (kind's own, say):
// the upgrade is recorded, the API server left alone, and the outcome says so.
func TestControlPlaneUpgradeWithoutImage(t *testing.T) {
	fc := newFakeCluster(t)
	out := fc.apply(t, scenarios.Step{Action: scenarios.ActionControlPlaneUpgrade, Version: "v1.39.0"})
	if v, _ := ControlPlaneVersion(context.Background(), fc.client); v != "v1.39.0" {
		t.Fatalf("control plane version = %s", v)
	}
	if v := fc.serverVersion(t); v != kubeletVersion || !strings.Contains(out.Message, "recorded only") {
		t.Fatalf("API server reports %s; outcome %q", v, out.Message)
	}
	for _, c := range fc.runtime.calls {
		if strings.HasPrefix(c, "api-server") {
			t.Fatalf("the API server's manifest was changed: %v", fc.runtime.calls)
		}
	}
	fc.recover(t)
}

func TestProvisionWithoutSkewJoins(t *testing.T) {
	fc := newFakeCluster(t)
	out := fc.apply(t, scenarios.Step{Action: scenarios.ActionProvisionPool, Target: scenarios.Target{Selector: scenarios.Selector{Pool: "app-next"}}, Version: scenarios.VersionPool, Timeout: 5 * time.Second})
	if out.Blocked {
		t.Fatalf("no upgrade happened, yet blocked: %+v", out)
	}
}

func TestPodKill(t *testing.T) {
	fc := newFakeCluster(t)
	out := fc.apply(t, scenarios.Step{Action: scenarios.ActionPodKill, Target: scenarios.Target{Selector: scenarios.Selector{Tier: fixtures.API}, Mode: scenarios.ModeOne}})
	pods, _ := fc.client.CoreV1().Pods(fixtures.Namespace).List(context.Background(), metav1.ListOptions{LabelSelector: fixtures.TierLabel + "=api"})
	if len(out.Targets) != 1 || len(pods.Items) != 1 || pods.Items[0].Name == out.Targets[0] {
		t.Fatalf("killed %v, left %d api pods", out.Targets, len(pods.Items))
	}
	out = fc.apply(t, scenarios.Step{Action: scenarios.ActionPodKill, Target: scenarios.Target{Selector: scenarios.Selector{Pool: "app"}, Mode: scenarios.ModePercent, Value: 50}})
	if len(out.Targets) != 3 { // 5 pods left on pool app, 50% rounded up
		t.Fatalf("killed %v, want 3", out.Targets)
	}
	if len(fc.journal.records()) != 0 {
		t.Fatal("pod-kill recorded something to recover")
	}
}

func TestWaitAndNote(t *testing.T) {
	fc := newFakeCluster(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Apply(ctx, fc.env, scenarios.Step{Action: scenarios.ActionWait, Duration: time.Hour}); err == nil {
		t.Fatal("wait ignored its context")
	}
	start := time.Now()
	fc.apply(t, scenarios.Step{Action: scenarios.ActionWait, Duration: 50 * time.Millisecond})
	if time.Since(start) < 50*time.Millisecond {
		t.Fatal("wait returned early")
	}
	if out := fc.apply(t, scenarios.Step{Action: scenarios.ActionNote, Message: "hello"}); out.Message != "hello" {
		t.Fatalf("note = %+v", out)
	}
}

func TestPick(t *testing.T) {
	fc := newFakeCluster(t)
	for _, c := range []struct {
		mode  scenarios.Mode
		value int
		n     int
		want  int
	}{
		{scenarios.ModeAll, 0, 4, 4},
		{scenarios.ModeOne, 0, 4, 1},
		{scenarios.ModeFixed, 3, 4, 3},
		{scenarios.ModeFixed, 9, 4, 4},
		{scenarios.ModePercent, 50, 4, 2},
		{scenarios.ModePercent, 10, 4, 1},
		{scenarios.ModePercent, 100, 3, 3},
	} {
		idx, err := Pick(fc.env, scenarios.Target{Mode: c.mode, Value: c.value}, c.n)
		if err != nil || len(idx) != c.want || !slices.IsSorted(idx) {
			t.Errorf("%s %d of %d: %v %v, want %d sorted", c.mode, c.value, c.n, idx, err, c.want)
		}
	}
	if _, err := Pick(fc.env, scenarios.Target{Mode: scenarios.ModeAll}, 0); err == nil {
		t.Error("an empty match is not an error")
	}
}

// The timeline's steps and the automation's run in goroutines of their own
// and pick targets from one source at once: with the race detector (make
// test), a source without a lock fails here.
func TestPickConcurrent(t *testing.T) {
	fc := newFakeCluster(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if idx, err := Pick(fc.env, scenarios.Target{Mode: scenarios.ModeOne}, 5); err != nil || len(idx) != 1 {
					t.Errorf("pick: %v %v", idx, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// Capacity comes back before releases and spares go out of service last but
// one: pods always have somewhere to run while recovery proceeds.
func TestRecoverOrder(t *testing.T) {
	fc := newFakeCluster(t)
	fc.apply(t, scenarios.Step{Action: scenarios.ActionControlPlaneUpgrade, Version: "v1.38.0"})
	fc.apply(t, scenarios.Step{Action: scenarios.ActionRelease, Target: tierTarget(fixtures.Workers), Version: "v2"})
	fc.apply(t, scenarios.Step{Action: scenarios.ActionPoolOutage, Target: tierTarget(fixtures.Workers)})
	fc.apply(t, scenarios.Step{Action: scenarios.ActionProvisionPool, Target: tierTarget(fixtures.Workers), Timeout: 5 * time.Second})
	var kinds []Kind
	err := Recover(context.Background(), fc.env, fc.journal.records(), func(r Record, _ error) {
		if len(kinds) == 0 || kinds[len(kinds)-1] != r.Kind {
			kinds = append(kinds, r.Kind)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Kind{KindContainer, KindRelease, KindOutOfService, KindCPVersion, KindAPIServer}; !slices.Equal(kinds, want) {
		t.Fatalf("recovered %v, want %v", kinds, want)
	}
}

// Every kind of record recovery knows has its restorer, and every restorer
// is for a kind recovery runs: a record never goes unrestored.
func TestEveryRecordKindHasARestorer(t *testing.T) {
	all := append(slices.Clone(RecoveryOrder), TeardownOrder...)
	for _, k := range all {
		if restorers[k] == nil {
			t.Errorf("no restorer for records of kind %q", k)
		}
	}
	for k := range restorers {
		if !slices.Contains(all, k) {
			t.Errorf("restorer for kind %q, which recovery never runs", k)
		}
	}
	if err := restore(context.Background(), &Env{}, Record{Kind: "no-such-kind"}); err == nil {
		t.Error("a record of an unknown kind was restored")
	}
}
