package scenarios

import (
	"encoding/json"
	"testing"

	"gameday.dev/gameday/internal/golden"
)

// The schema checked in for editors is the one this build generates.
func TestSchemaGolden(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "scenario.schema.json", append(got, '\n'))
	var s struct {
		Required []string `json:"required"`
		Defs     map[string]struct {
			Properties map[string]struct {
				Enum []string `json:"enum"`
			} `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(got, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Defs["stepFile"].Properties["action"].Enum) != len(ActionSpecs) {
		t.Errorf("schema's actions = %v", s.Defs["stepFile"].Properties["action"].Enum)
	}
	if len(s.Required) == 0 {
		t.Error("schema requires nothing")
	}
}
