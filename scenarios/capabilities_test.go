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
	// On a cluster gameday did not create, every step is emulated or real.
	if err := s.CheckBackend(cluster.KubeconfigCapabilities); err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	got := strings.Join(s.Emulated(cluster.KubeconfigCapabilities), "\n")
	for _, want := range []string{
		"control-plane-upgrade (control-plane-upgrade): emulated through the API (the new version recorded by the provider's stand-in",
		"node-group-health-check-2-pool-outage (pool-outage): emulated through the API (its nodes cordoned and tainted",
		"provision-pool (provision-pool): emulated through the API (the spare node group",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("emulated lacks %q:\n%s", want, got)
		}
	}
	// A backend with neither the upgrade nor its emulation: a located plan error.
	noUpgrade := cluster.KubeconfigCapabilities
	noUpgrade.EmulateUpgrade = false
	errs, ok := s.CheckBackend(noUpgrade).(yamlfile.Errors)
	if !ok || len(errs) != 1 || errs[0].Field != "timeline[0].action" || errs[0].Line == 0 ||
		!strings.Contains(errs[0].Msg, "control-plane-upgrade needs to upgrade the control plane, which the kubeconfig backend cannot do") {
		t.Errorf("no upgrade: %v", errs)
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
