package system

import (
	"encoding/json"
	"slices"
	"testing"

	"gameday.dev/gameday/internal/golden"
)

// The schema checked in for editors is the one this build generates.
func TestSchemaGolden(t *testing.T) {
	got, err := Schema()
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "system.schema.json", append(got, '\n'))
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
	if !slices.Equal(s.Defs["tierFile"].Properties["app"].Enum, Apps) {
		t.Errorf("schema's apps = %v, want %v", s.Defs["tierFile"].Properties["app"].Enum, Apps)
	}
	if !slices.Contains(s.Required, "tiers") || !slices.Contains(s.Required, "releases") {
		t.Errorf("schema requires %v", s.Required)
	}
}
