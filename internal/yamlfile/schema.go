package yamlfile

import (
	"reflect"
	"time"

	"github.com/invopop/jsonschema"
)

// Reflector makes JSON Schemas of gameday's file formats from their Go types:
// fields named by their yaml tags, durations as strings such as 30s.
func Reflector() *jsonschema.Reflector {
	return &jsonschema.Reflector{
		FieldNameTag:   "yaml",
		ExpandedStruct: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == reflect.TypeOf(time.Duration(0)) {
				return &jsonschema.Schema{
					Type:        "string",
					Pattern:     `^-?([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`,
					Description: "A duration such as 500ms, 30s, 2m or 1h30m.",
				}
			}
			return nil
		},
	}
}
