// Package recover implements `gameday recover`.
package recover

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/clusterlock"
	"gameday.dev/gameday/scenarios/engine"
)

type flagpole struct {
	Name string
}

// NewCommand returns `gameday recover`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "recover",
		Short: "Put back what an interrupted run changed on a cluster",
		Long: `Put back what a run changed on a cluster when the run could not: it crashed,
was killed (kill -9), or was interrupted twice. Every change a run makes is
written to the cluster's journal before it is made; recover undoes each
(nodes started and uncordoned, releases restored, spares out of service
again, the recorded control-plane version removed), waits for every tier to
be healthy and removes the journal. The cluster itself is kept.`,
		Example: `  gameday recover --name gameday-shared
  gameday cluster down --name gameday-shared`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), g, f) },
	}
	cmd.Flags().StringVar(&f.Name, "name", "gameday", "the cluster to recover")
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole) error {
	k, err := cluster.NewKind(g.Logger())
	if err != nil {
		return err
	}
	if err := clusterlock.Take(g, k.Store, f.Name); err != nil {
		return err
	}
	n, err := engine.Recover(ctx, engine.Kind(k), f.Name, g.Logger())
	if errors.Is(err, engine.ErrNothingToRecover) {
		fmt.Fprintf(g.Streams.Out, "cluster %s: %v\n", f.Name, err)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Streams.Out, "cluster %s: %d changes put back; every tier is healthy\n", f.Name, n)
	return nil
}
