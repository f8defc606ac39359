package reports

import (
	"encoding/json"
	"slices"
	"testing"

	goldenfile "gameday.dev/gameday/internal/golden"
)

// The checked-in schema is the one this build generates, and it requires
// the fields CI scripts read.
func TestJSONSchemaGolden(t *testing.T) {
	got, err := JSONSchema()
	if err != nil {
		t.Fatal(err)
	}
	goldenfile.Assert(t, "report.schema.json", append(got, '\n'))
	var s struct {
		Defs map[string]struct {
			Required []string `json:"required"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(got, &s); err != nil {
		t.Fatal(err)
	}
	for def, fields := range map[string][]string{
		"Report":      {"schema", "topology", "score", "downtime_seconds", "time_to_detect_seconds", "time_to_recover_seconds", "blast_radius", "services"},
		"BlastRadius": {"services_share", "requests_failed_share", "pods_disrupted", "nodes_lost"},
		"Service":     {"name", "availability", "downtime_seconds", "time_to_detect_seconds", "time_to_recover_seconds"},
	} {
		for _, f := range fields {
			if !slices.Contains(s.Defs[def].Required, f) {
				t.Errorf("schema: %s does not require %s (requires %v)", def, f, s.Defs[def].Required)
			}
		}
	}
}
