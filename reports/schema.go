package reports

import (
	"encoding/json"

	"github.com/invopop/jsonschema"
)

// SchemaID is report.json's JSON Schema $id; the version in it follows Schema.
const SchemaID = "https://gameday.dev/schemas/report-v1.json"

// JSONSchema returns the JSON Schema of report.json, generated from Report
// (`gameday report schema`; checked in as reports/report.schema.json).
func JSONSchema() ([]byte, error) {
	s := (&jsonschema.Reflector{}).Reflect(&Report{})
	s.ID = SchemaID
	s.Title = "gameday report (" + Schema + ")"
	s.Description = "What one run of a scenario on one topology measured, scored and concluded. " +
		"Times are seconds; offsets count from the timeline's start; shares run from 0 to 1."
	return json.MarshalIndent(s, "", "  ")
}
