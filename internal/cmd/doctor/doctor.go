// Package doctor implements `gameday doctor`.
package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
)

type flagpole struct {
	Output cli.Output
	Only   []string
}

// NewCommand returns `gameday doctor`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check that this machine can run gameday's clusters",
		Long: `Check that this machine can run gameday's clusters: Docker answers, privileged
containers work (kind's nodes are privileged containers), a node image is
present or can be built, and there is enough free disk and memory. Every
failed check says what to run. Exits 1 when a check fails.`,
		Example: "  gameday doctor\n  gameday doctor --only docker,privileged -o json",
		Args:    cli.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), g, f) },
	}
	cli.AddOutputFlag(cmd.Flags(), &f.Output)
	cmd.Flags().StringSliceVar(&f.Only, "only", nil, "run only these checks: "+strings.Join(cluster.CheckIDs(), ", "))
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole) error {
	for _, id := range f.Only {
		if !slices.Contains(cluster.CheckIDs(), id) {
			return cli.Usagef("unknown check %q: use one of %s", id, strings.Join(cluster.CheckIDs(), ", "))
		}
	}
	checks := cluster.Doctor(ctx, f.Only...)
	failed := 0
	for _, c := range checks {
		if !c.OK {
			failed++
		}
	}
	if f.Output == cli.OutputJSON {
		if err := cli.PrintJSON(g.Streams.Out, checks); err != nil {
			return err
		}
	} else {
		t := cli.NewTable(g.Streams.Out, "", "CHECK", "DETAIL")
		for _, c := range checks {
			mark := "✓"
			if !c.OK {
				mark = "✗"
			}
			t.Row(mark, c.Name, c.Detail)
		}
		if err := t.Flush(); err != nil {
			return err
		}
		for _, c := range checks {
			if !c.OK && c.Fix != "" {
				fmt.Fprintf(g.Streams.Out, "\nto fix %s: %s", c.Name, c.Fix)
			}
		}
		if failed > 0 {
			fmt.Fprintln(g.Streams.Out)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks failed", failed, len(checks))
	}
	return nil
}
