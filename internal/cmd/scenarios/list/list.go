// Package list implements `gameday scenarios list`.
package list

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/scenarios"
)

type flagpole struct {
	Output cli.Output
}

// Entry is one scenario as list prints it.
type Entry struct {
	Name        string   `json:"name"`
	Topologies  []string `json:"topologies"`
	Steps       int      `json:"steps"`
	Description string   `json:"description"`
}

// NewCommand returns `gameday scenarios list`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the scenarios that ship with gameday",
		Example: "  gameday scenarios list\n  gameday scenarios list -o json",
		Args:    cli.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return run(g, f) },
	}
	cli.AddOutputFlag(cmd.Flags(), &f.Output)
	return cmd
}

func run(g *cli.Globals, f *flagpole) error {
	var entries []Entry
	for _, name := range scenarios.BuiltinNames() {
		s, _, err := scenarios.Builtin(name)
		if err != nil {
			return err
		}
		e := Entry{Name: s.Name, Steps: len(s.Timeline), Description: s.Description}
		for _, t := range s.Topologies {
			e.Topologies = append(e.Topologies, t.Name)
		}
		entries = append(entries, e)
	}
	if f.Output == cli.OutputJSON {
		return cli.PrintJSON(g.Streams.Out, entries)
	}
	t := cli.NewTable(g.Streams.Out, "NAME", "TOPOLOGIES", "STEPS", "DESCRIPTION")
	for _, e := range entries {
		first, _, _ := strings.Cut(e.Description, "\n")
		t.Row(e.Name, strings.Join(e.Topologies, ","), strconv.Itoa(e.Steps), first)
	}
	return t.Flush()
}
