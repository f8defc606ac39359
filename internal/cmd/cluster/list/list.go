// Package list implements `gameday cluster list`.
package list

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
)

type flagpole struct {
	Output cli.Output
}

// NewCommand returns `gameday cluster list`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List the clusters gameday created",
		Long:    "List the clusters gameday created. kind clusters made otherwise are not listed, and gameday never touches them.",
		Example: "  gameday cluster list\n  gameday cluster list -o json",
		Args:    cli.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), g, f) },
	}
	cli.AddOutputFlag(cmd.Flags(), &f.Output)
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole) error {
	k, err := cluster.NewKind(g.Logger())
	if err != nil {
		return err
	}
	entries, err := k.List(ctx)
	if err != nil {
		return err
	}
	if f.Output == cli.OutputJSON {
		return cli.PrintJSON(g.Streams.Out, entries)
	}
	t := cli.NewTable(g.Streams.Out, "NAME", "TOPOLOGY", "NODES", "IMAGE", "AGE")
	for _, e := range entries {
		nodes := fmt.Sprintf("%d/%d running", e.Running, e.Nodes)
		if !e.Exists {
			nodes = "gone (`cluster down` clears it)"
		}
		t.Row(e.Name, e.Topology, nodes, e.Image, time.Since(e.CreatedAt).Round(time.Second).String())
	}
	return t.Flush()
}
