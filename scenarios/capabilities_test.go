package scenarios

import (
	"strings"
	"testing"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/yamlfile"
)

// Every action says what it needs of a backend: none is allowed by default.
func TestEveryActionHasANeed(t *testing.T) {
	for _, spec := range ActionSpecs {
		if _, ok := needs[spec.Action]; !ok {
			t.Errorf("action %s: no need", spec.Action)
		}
	}
}

// kind can do every step of every built-in scenario.
func TestKindRunsEveryBuiltin(t *testing.T) {
	for _, name := range BuiltinNames() {
		s, _, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckBackend(cluster.KindCapabilities); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCheckBackend(t *testing.T) {
	s, _, err := Builtin("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CheckBackend(cluster.KindCapabilities); err != nil {
		t.Errorf("kind can do every step: %v", err)
	}
	if got := s.Emulated(cluster.KindCapabilities); len(got) != 0 {
		t.Errorf("kind emulates %v", got)
	}
	err = s.CheckBackend(cluster.KubeconfigCapabilities)
	errs, ok := err.(yamlfile.Errors)
	if !ok || len(errs) != 3 {
		t.Fatalf("kubeconfig: %T %v, want three located errors (the upgrade, two provisions)", err, err)
	}
	if errs[2].Field != "automation[0].steps[2].action" || !strings.Contains(errs[2].Msg, "needs to bring a spare pool into service") {
		t.Errorf("third error %s", errs[2].Error())
	}
	// The control plane's upgrade, at its own line in the library's file.
	e := errs[0]
	if e.Field != "timeline[0].action" || e.Line == 0 || !strings.Contains(e.Msg, "control-plane-upgrade needs to upgrade the control plane, which the kubeconfig backend cannot do") {
		t.Errorf("error %q (field %s, line %d)", e.Error(), e.Field, e.Line)
	}
	// The automation's pool outage is emulated there, and said so.
	got := strings.Join(s.Emulated(cluster.KubeconfigCapabilities), "\n")
	if !strings.Contains(got, "node-group-health-check-2-pool-outage (pool-outage): emulated") {
		t.Errorf("emulated: %s", got)
	}

	// A backend that can neither stop a machine nor emulate it.
	bare := cluster.Capabilities{Backend: "bare"}
	b, _, err := Builtin("broker-outage")
	if err != nil {
		t.Fatal(err)
	}
	err = b.CheckBackend(bare)
	if err == nil || strings.Count(err.Error(), "\n") != 1 || !strings.Contains(err.Error(), "needs to stop a pool's machines") ||
		!strings.Contains(err.Error(), "needs to start a node's machine") {
		t.Errorf("bare backend on broker-outage: %v", err)
	}
	if err := b.CheckBackend(cluster.KubeconfigCapabilities); err != nil {
		t.Errorf("kubeconfig emulates a pool outage: %v", err)
	}
}
