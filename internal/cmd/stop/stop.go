// Package stop implements `gameday stop`.
package stop

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/internal/cli"
	recovercmd "gameday.dev/gameday/internal/cmd/recover"
	"gameday.dev/gameday/internal/cmd/targetarg"
	"gameday.dev/gameday/scenarios/engine"
)

// stopWait bounds the wait for a stopped run to put everything back.
const stopWait = 10 * time.Minute

// NewCommand returns `gameday stop`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &targetarg.Flags{}
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop a run on an existing cluster, from any machine, and put back what it changed",
		Long: `Stop the run that holds an existing cluster (--context), from any machine:
the run is asked through the cluster's Lease (namespace gameday), stops as
on Ctrl-C, puts back everything it changed and takes down what it set up;
stop waits for that and says so. A run that died (its Lease no longer
renewed) is recovered here, from the journal it kept in the cluster.`,
		Example: `  gameday stop --kubeconfig ~/.kube/staging --context staging-eu`,
		Args:    cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !f.Set() {
				return cli.Usagef("gameday stop stops a run on an existing cluster: give its --context (a run on gameday's own cluster stops with Ctrl-C in its terminal)")
			}
			return run(cmd.Context(), g, f)
		},
	}
	f.Add(cmd.Flags())
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *targetarg.Flags) error {
	t, err := f.Open(ctx, func(line string) { g.Logger().V(0).Info(line) })
	if err != nil {
		return err
	}
	holder, err := kubeconfig.RequestStop(ctx, t.Client)
	if err != nil {
		return err
	}
	var dead *kubeconfig.Silence
	if holder != "" {
		g.Logger().V(0).Infof("Asked %s to stop; waiting while it puts back what it changed", holder)
		dead, err = kubeconfig.WaitReleased(ctx, t.Client, stopWait)
		if errors.Is(err, kubeconfig.ErrHolderDead) {
			g.Logger().V(0).Infof("It has stopped renewing the cluster's Lease (killed?): recovering what it left here")
		} else if err != nil {
			return err
		}
	}
	// Whatever is left (a run that died, one stopped halfway through its
	// recovery) is recovered here, from the journal kept in the cluster.
	x, name, err := recovercmd.ExistingOf(g, t.Target, t.Inventory.PoolKey)
	if err != nil {
		return err
	}
	n, err := recovercmd.RecoverExisting(ctx, g, t.Target, x, name, dead)
	switch {
	case errors.Is(err, engine.ErrNothingToRecover) && holder == "":
		fmt.Fprintf(g.Streams.Out, "context %s: no run holds it, and none left changes there\n", t.Context)
	case errors.Is(err, engine.ErrNothingToRecover) && dead != nil:
		fmt.Fprintf(g.Streams.Out, "context %s: the run had stopped renewing its Lease (killed?) and left nothing to put back; its Lease is deleted\n", t.Context)
	case errors.Is(err, engine.ErrNothingToRecover):
		fmt.Fprintf(g.Streams.Out, "context %s: the run stopped and put back everything it changed\n", t.Context)
	case err != nil:
		return err
	default:
		fmt.Fprintf(g.Streams.Out, "context %s: %d changes left by a run put back, and what it set up taken down\n", t.Context, n)
	}
	return nil
}
