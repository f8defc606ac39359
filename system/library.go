package system

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

// Default is the system scenarios run against when none is named: the seed
// incident's storefront.
const Default = "storefront"

// ErrUnknownSystem is returned for a system that is neither built in nor a file.
var ErrUnknownSystem = errors.New("unknown system")

// BuiltinNames lists the systems that ship with gameday.
func BuiltinNames() []string {
	entries, _ := fs.ReadDir(library, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	sort.Strings(out)
	return out
}

// Builtin loads a system that ships with gameday, and its file's bytes.
func Builtin(name string) (*System, []byte, error) {
	data, err := library.ReadFile(name + ".yaml")
	if err != nil {
		return nil, nil, fmt.Errorf("%w %q: use one of %s, or the path of a System file", ErrUnknownSystem, name, strings.Join(BuiltinNames(), ", "))
	}
	s, err := Parse(path.Join("system", name+".yaml"), data)
	return s, data, err
}

// MustDefault is the default system; it panics if the shipped file is
// invalid, which its tests rule out.
func MustDefault() *System {
	s, _, err := Builtin(Default)
	if err != nil {
		panic(err)
	}
	return s
}

// Resolve loads the built-in system called arg, or arg as a file.
func Resolve(arg string) (*System, []byte, error) {
	if _, err := os.Stat(arg); err != nil {
		if strings.ContainsAny(arg, "/.") {
			return nil, nil, fmt.Errorf("%w %q: %v", ErrUnknownSystem, arg, err)
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
