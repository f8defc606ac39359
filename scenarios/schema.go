package scenarios

import (
	"encoding/json"

	"gameday.dev/gameday/internal/yamlfile"
)

// SchemaID is the JSON Schema's $id.
const SchemaID = "https://gameday.dev/schemas/scenario-v1alpha1.json"

// Schema returns the JSON Schema of the v1alpha1 scenario file, generated
// from the file format's Go types, with the actions and conditions of this
// build as enums. Editors use it for completion and checks
// (`gameday scenarios schema > scenario.schema.json`).
func Schema() ([]byte, error) {
	r := yamlfile.Reflector()
	s := r.Reflect(&scenarioFile{})
	s.ID = SchemaID
	s.Title = "gameday scenario (" + APIVersion + ")"
	enum := func(def, prop string, values []string) {
		d, ok := s.Definitions[def]
		if !ok {
			panic("schema: no definition " + def)
		}
		p, ok := d.Properties.Get(prop)
		if !ok {
			panic("schema: no property " + def + "." + prop)
		}
		p.Enum = nil
		for _, v := range values {
			p.Enum = append(p.Enum, v)
		}
	}
	enum("stepFile", "action", Actions())
	enum("conditionFile", "condition", ConditionTypes())
	return json.MarshalIndent(s, "", "  ")
}
