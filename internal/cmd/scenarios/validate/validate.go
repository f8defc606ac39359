// Package validate implements `gameday scenarios validate`.
package validate

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/scenarioarg"
	"gameday.dev/gameday/internal/yamlfile"
)

// NewCommand returns `gameday scenarios validate`.
func NewCommand(g *cli.Globals) *cobra.Command {
	var sys string
	cmd := &cobra.Command{
		Use:   "validate NAME|FILE...",
		Short: "Check scenario files without running them",
		Long: `Check scenario files strictly, as a run would before it creates anything:
unknown fields, bad values, unknown steps, pools and tiers, negative
durations and steps out of order are errors, each as file:line: field: message.
Tiers, services, journeys and releases are checked against the system the
scenario names (or --system). Exits 2 when any file is invalid.`,
		Example: `  gameday scenarios validate my-outage.yaml
  gameday scenarios validate scenarios/*.yaml
  gameday scenarios validate cascading-outage --system my-system.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return run(g, args, sys) },
	}
	scenarioarg.AddSystemFlag(cmd.Flags(), &sys)
	return cmd
}

func run(g *cli.Globals, args []string, sys string) error {
	var all yamlfile.Errors
	var other error
	for _, arg := range args {
		s, err := scenarioarg.Resolve(arg, sys)
		var yerrs yamlfile.Errors
		switch {
		case errors.As(err, &yerrs):
			all = append(all, yerrs...)
		case err != nil:
			other = errors.Join(other, err)
		default:
			fmt.Fprintf(g.Streams.Out, "%s: valid (%d steps, %d automation rules, %d topologies; system %s)\n", arg, len(s.Timeline), len(s.Automation), len(s.Topologies), s.System.Name)
		}
	}
	// Every file's problems, those located by line and the others.
	if len(all) > 0 {
		return errors.Join(all, other)
	}
	return other
}
