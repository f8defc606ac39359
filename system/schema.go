package system

import (
	"encoding/json"

	"gameday.dev/gameday/internal/yamlfile"
)

// SchemaID is the JSON Schema's $id.
const SchemaID = "https://gameday.dev/schemas/system-v1alpha1.json"

// Schema returns the JSON Schema of the v1alpha1 System file, generated from
// the file format's Go types (`gameday systems schema > system.schema.json`).
func Schema() ([]byte, error) {
	r := yamlfile.Reflector()
	s := r.Reflect(&systemFile{})
	s.ID = SchemaID
	s.Title = "gameday system (" + APIVersion + ")"
	return json.MarshalIndent(s, "", "  ")
}
