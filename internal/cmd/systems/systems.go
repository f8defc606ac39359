// Package systems implements `gameday systems`: list, show, validate and
// schema of System files.
package systems

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/yamlfile"
	"gameday.dev/gameday/system"
)

// NewCommand returns `gameday systems`.
func NewCommand(g *cli.Globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "systems",
		Short: "List, show and validate the systems scenarios run against",
		Long: `A system is what a scenario breaks: its tiers (gameday's mock app in a
role, or your own image), how each runs (replicas, pools, probes, resources,
graceful stop, disruption budget, spread, priority, the tiers it calls), the
services and user journeys gameday probes, and the releases a tier can run,
in a versioned YAML file (apiVersion gameday.dev/v1alpha1, kind System).
gameday ships storefront, the seed incident's system; its JSON Schema comes
from ` + "`gameday systems schema`" + `.`,
		RunE: cli.Group,
		Args: cobra.ArbitraryArgs,
	}
	cmd.AddCommand(listCommand(g), showCommand(g), validateCommand(g), schemaCommand(g))
	return cmd
}

// Entry is one system as list prints it.
type Entry struct {
	Name        string   `json:"name"`
	Tiers       []string `json:"tiers"`
	Services    []string `json:"services"`
	Journeys    int      `json:"journeys"`
	Releases    []string `json:"releases"`
	Description string   `json:"description"`
}

func listCommand(g *cli.Globals) *cobra.Command {
	var out cli.Output
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the systems that ship with gameday",
		Example: "  gameday systems list\n  gameday systems list -o json",
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var entries []Entry
			for _, name := range system.BuiltinNames() {
				s, _, err := system.Builtin(name)
				if err != nil {
					return err
				}
				e := Entry{Name: s.Name, Tiers: s.TierNames(), Services: s.ServiceNames(), Releases: s.ReleaseNames(), Description: s.Description}
				for _, sv := range s.Services {
					e.Journeys += len(sv.Journeys)
				}
				entries = append(entries, e)
			}
			if out == cli.OutputJSON {
				return cli.PrintJSON(g.Streams.Out, entries)
			}
			t := cli.NewTable(g.Streams.Out, "NAME", "TIERS", "SERVICES", "JOURNEYS", "RELEASES", "DESCRIPTION")
			for _, e := range entries {
				first, _, _ := strings.Cut(e.Description, "\n")
				t.Row(e.Name, strings.Join(e.Tiers, ","), strings.Join(e.Services, ","), strconv.Itoa(e.Journeys), strings.Join(e.Releases, ","), first)
			}
			return t.Flush()
		},
	}
	cli.AddOutputFlag(cmd.Flags(), &out)
	return cmd
}

func showCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Print a system's file",
		Long:  "Print a system's file: a built-in's as it ships (a starting point for your own), or a file's once it validates.",
		Example: `  gameday systems show storefront
  gameday systems show storefront > my-system.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, data, err := system.Resolve(args[0])
			if err != nil {
				return err
			}
			_, err = g.Streams.Out.Write(data)
			return err
		},
	}
}

func validateCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate NAME|FILE...",
		Short: "Check System files without deploying them",
		Long: `Check System files strictly, as a run would before it creates anything:
unknown fields, bad values, tiers that call or serve tiers the system lacks,
journeys that are not paths and releases a tier cannot run are errors, each as
file:line: field: message. Exits 2 when any file is invalid.`,
		Example: `  gameday systems validate my-system.yaml
  gameday systems validate systems/*.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var all yamlfile.Errors
			var other error
			for _, arg := range args {
				s, _, err := system.Resolve(arg)
				var yerrs yamlfile.Errors
				switch {
				case errors.As(err, &yerrs):
					all = append(all, yerrs...)
				case err != nil:
					other = errors.Join(other, err)
				default:
					journeys := 0
					for _, sv := range s.Services {
						journeys += len(sv.Journeys)
					}
					fmt.Fprintf(g.Streams.Out, "%s: valid (%s, %s, %s, %s)\n", arg, count(len(s.Tiers), "tier"), count(len(s.Services), "service"), count(journeys, "journey"), count(len(s.Releases), "release"))
				}
			}
			// Every file's problems, those located by line and the others.
			if len(all) > 0 {
				return errors.Join(all, other)
			}
			return other
		},
	}
}

func schemaCommand(g *cli.Globals) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the System format, for editors",
		Example: `  gameday systems schema > system.schema.json
  # VS Code with the YAML extension: first line of a System file
  # yaml-language-server: $schema=./system.schema.json`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := system.Schema()
			if err != nil {
				return err
			}
			_, err = g.Streams.Out.Write(append(data, '\n'))
			return err
		},
	}
}

// count is n of what, in the plural unless one.
func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
