// Package run implements `gameday run`.
package run

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/scenarios"
)

type flagpole struct {
	Topologies []string
	DryRun     bool
	Retain     bool
	Out        string
}

// ErrNotBuilt marks the part of `gameday run` that does not exist yet.
var ErrNotBuilt = errors.New("running a scenario on a cluster is not built yet (only --dry-run is); see the README's status")

// NewCommand returns `gameday run`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Replay a scenario on a fresh cluster per topology",
		Long: `Replay a scenario (a built-in name or a file) on each of its topologies:
create the cluster, deploy the fixtures, check the steady state, run the
timeline with its automation, recover everything the run changed, and
delete the cluster unless --retain.

--dry-run prints that plan for each topology, with every target resolved to
the topology's pools, and changes nothing.`,
		Example: `  # what the seed incident's replay does on each topology
  gameday run cascading-outage --dry-run

  # only on the shared topology
  gameday run cascading-outage --topology shared --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return run(g, f, args[0]) },
	}
	cmd.Flags().StringSliceVar(&f.Topologies, "topology", nil, "topologies to run on, comma-separated (default: the scenario's)")
	cmd.Flags().BoolVar(&f.DryRun, "dry-run", false, "print the plan and change nothing")
	cmd.Flags().BoolVar(&f.Retain, "retain", false, "keep each cluster after the run, for debugging")
	cmd.Flags().StringVar(&f.Out, "out", "", "folder for each topology's timeline, DIR/<topology>/timeline.jsonl")
	return cmd
}

func run(g *cli.Globals, f *flagpole, arg string) error {
	s, _, err := scenarios.Resolve(arg)
	if err != nil {
		return err
	}
	topos, err := pick(s, f.Topologies)
	if err != nil {
		return err
	}
	if !f.DryRun {
		return ErrNotBuilt
	}
	for i, t := range topos {
		if i > 0 {
			fmt.Fprintln(g.Streams.Out)
		}
		if err := scenarios.WritePlan(g.Streams.Out, s, t); err != nil {
			return err
		}
	}
	return nil
}

// pick returns the scenario's topologies named by --topology, in its order.
func pick(s *scenarios.Scenario, names []string) ([]cluster.Topology, error) {
	if len(names) == 0 {
		return s.Topologies, nil
	}
	var have []string
	for _, t := range s.Topologies {
		have = append(have, t.Name)
	}
	var out []cluster.Topology
	for _, n := range names {
		i := slices.Index(have, n)
		if i < 0 {
			return nil, cli.Usagef("scenario %s does not run on topology %q; it runs on %s", s.Name, n, strings.Join(have, ", "))
		}
		out = append(out, s.Topologies[i])
	}
	return out, nil
}
