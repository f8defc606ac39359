package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"gameday.dev/gameday/internal/yamlfile"
)

//go:embed *.yaml
var library embed.FS

// ErrUnknownScenario is returned for a scenario that is neither built in nor a file.
var ErrUnknownScenario = errors.New("unknown scenario")

// BuiltinNames lists the scenarios that ship with gameday.
func BuiltinNames() []string {
	entries, _ := fs.ReadDir(library, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Builtin loads a scenario that ships with gameday.
func Builtin(name string) (*Scenario, []byte, error) {
	data, err := library.ReadFile(name + ".yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("%w %q: use one of %s, or the path of a scenario file", ErrUnknownScenario, name, strings.Join(BuiltinNames(), ", "))
	}
	s, err := Parse(path.Join("scenarios", name+".yaml"), data)
	return s, data, err
}

// Resolve loads the built-in scenario called arg, or arg as a file; it
// returns the scenario and the file's bytes.
func Resolve(arg string) (*Scenario, []byte, error) {
	if _, err := os.Stat(arg); err != nil {
		if strings.ContainsAny(arg, "/.") {
			return nil, nil, fmt.Errorf("%w %q: %v", ErrUnknownScenario, arg, err)
		}
		return Builtin(arg)
	}
	data, err := yamlfile.ReadFile(arg)
	if err != nil {
		return nil, nil, err
	}
	s, err := Parse(arg, data)
	return s, data, err
}
