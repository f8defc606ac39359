// Package scenarioarg reads the scenario a command names, against the
// system its --system flag names (else the scenario's own).
package scenarioarg

import (
	"strings"

	"github.com/spf13/pflag"

	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/system"
)

// AddSystemFlag adds --system.
func AddSystemFlag(fs *pflag.FlagSet, to *string) {
	fs.StringVar(to, "system", "", "the system to break: a built-in ("+strings.Join(system.BuiltinNames(), ", ")+") or a System file; default: the one the scenario names, else "+system.Default)
}

// Resolve loads the scenario arg (built-in or file) against the system
// sysArg names ("": the scenario's own).
func Resolve(arg, sysArg string) (*scenarios.Scenario, error) {
	var sys *system.System
	if sysArg != "" {
		var err error
		if sys, _, err = system.Resolve(sysArg); err != nil {
			return nil, err
		}
	}
	s, _, err := scenarios.ResolveFor(arg, sys)
	return s, err
}
