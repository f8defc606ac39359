package scenarios

import (
	"bytes"
	"path/filepath"
	"testing"

	"gameday.dev/gameday/internal/golden"
)

// The plan of every built-in scenario and of the every-action test file, on
// each of their topologies, is golden-tested: a change in what a run would do
// shows up in review.
func TestPlanGolden(t *testing.T) {
	var all []*Scenario
	for _, name := range BuiltinNames() {
		s, _, err := Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, s)
	}
	s, err := Load("testdata/scenario/valid-every-action.yaml")
	if err != nil {
		t.Fatal(err)
	}
	all = append(all, s)
	for _, s := range all {
		for _, topo := range s.Topologies {
			var b bytes.Buffer
			if err := WritePlan(&b, s, topo); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", "plan", s.Name+"-"+topo.Name+".golden"), b.Bytes())
		}
	}
}
