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
	"gameday.dev/gameday/system"
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
func Builtin(name string) (*Scenario, []byte, error) { return builtin(name, nil) }

func builtin(name string, sys *system.System) (*Scenario, []byte, error) {
	data, err := library.ReadFile(name + ".yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("%w %q: use one of %s, or the path of a scenario file", ErrUnknownScenario, name, strings.Join(BuiltinNames(), ", "))
	}
	s, err := ParseFor(path.Join("scenarios", name+".yaml"), data, sys)
	return s, data, err
}

// Resolve loads the built-in scenario called arg, or arg as a file; it
// returns the scenario and the file's bytes.
func Resolve(arg string) (*Scenario, []byte, error) { return ResolveFor(arg, nil) }

// ResolveFor is Resolve against sys (gameday's --system) instead of the
// system the scenario names; nil: the scenario's.
func ResolveFor(arg string, sys *system.System) (*Scenario, []byte, error) {
	if _, err := os.Stat(arg); err != nil {
		if strings.ContainsAny(arg, "/.") {
			return nil, nil, fmt.Errorf("%w %q: %v", ErrUnknownScenario, arg, err)
		}
		return builtin(arg, sys)
	}
	data, err := yamlfile.ReadFile(arg)
	if err != nil {
		return nil, nil, err
	}
	s, err := ParseFor(arg, data, sys)
	return s, data, err
}
