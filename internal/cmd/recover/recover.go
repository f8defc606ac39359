// Package recover implements `gameday recover`.
package recover

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/clusterlock"
	"gameday.dev/gameday/internal/cmd/targetarg"
	"gameday.dev/gameday/scenarios/engine"
)

type flagpole struct {
	Name   string
	Target targetarg.Flags
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
be healthy and removes the journal. The cluster itself is kept.

With --context, recover a cluster gameday did not create: what a run there
changed is put back (lost nodes returned, releases restored), then what it
set up is taken down (its fixtures, the pool labels on the opted-in nodes).`,
		Example: `  gameday recover --name gameday-shared
  gameday cluster down --name gameday-shared

  # a run on an existing cluster, killed
  gameday recover --kubeconfig ~/.kube/staging --context staging-eu`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Target.Set() {
				if cmd.Flags().Changed("name") {
					return cli.Usagef("--name names a cluster gameday created; --context an existing one: give one of them")
				}
				return runExisting(cmd.Context(), g, f)
			}
			return run(cmd.Context(), g, f)
		},
	}
	cmd.Flags().StringVar(&f.Name, "name", "gameday", "the cluster to recover")
	f.Target.Add(cmd.Flags())
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

func runExisting(ctx context.Context, g *cli.Globals, f *flagpole) error {
	t, err := f.Target.Open(ctx, func(line string) { g.Logger().V(0).Info(line) })
	if err != nil {
		return err
	}
	x, name, err := ExistingOf(g, t.Target, t.Inventory.PoolKey)
	if err != nil {
		return err
	}
	n, err := RecoverExisting(ctx, g, t.Target, x, name, nil)
	if errors.Is(err, engine.ErrNothingToRecover) {
		fmt.Fprintf(g.Streams.Out, "context %s: nothing to recover: no run left changes there (its journal, kept in the cluster, is empty)\n", t.Context)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Streams.Out, "context %s: %d changes put back, and what gameday set up taken down\n", t.Context, n)
	return nil
}

// ExistingOf is what gameday keeps of the context's cluster (its journal
// here, under the name it keeps it by), locked for this process.
func ExistingOf(g *cli.Globals, t *kubeconfig.Target, poolKey string) (*engine.Existing, string, error) {
	kind, err := cluster.DefaultStore()
	if err != nil {
		return nil, "", err
	}
	x := &engine.Existing{Target: t, PoolKey: poolKey, Store: engine.ExistingStore(kind)}
	name := engine.ExistingName(t.Context, t.Server)
	if err := clusterlock.Take(g, x.Store, name); err != nil {
		return nil, "", err
	}
	return x, name, nil
}

// RecoverExisting recovers a run's changes on a cluster gameday did not
// create, holding its Lease: a run that holds it is alive and recovers on
// its own (stop it with `gameday stop`). dead, when not nil, is a watch
// that saw the Lease's holder silent for its duration (WaitReleased): its
// Lease is taken over at once, and deleted when it left nothing.
func RecoverExisting(ctx context.Context, g *cli.Globals, t *kubeconfig.Target, x *engine.Existing, name string, dead *kubeconfig.Silence) (int, error) {
	// Nothing left in the cluster: nothing to take, nothing made.
	pending, err := x.Pending(ctx, name)
	if err != nil {
		return 0, err
	}
	if !pending && dead == nil {
		return 0, engine.ErrNothingToRecover
	}
	say := func(s string) { g.Logger().V(0).Info(s) }
	hold, err := kubeconfig.TakeLeaseAfterDead(ctx, t.Client, kubeconfig.Identity(g.Command), say, dead)
	if errors.Is(err, kubeconfig.ErrHeld) {
		return 0, cli.Usage(err)
	}
	if err != nil {
		return 0, err
	}
	defer func() {
		if err := hold.Release(context.WithoutCancel(ctx)); err != nil {
			g.Logger().V(0).Infof("Could not free the cluster's Lease (%v): the next run there waits %s for it", err, kubeconfig.LeaseDuration)
		}
	}()
	if !pending {
		return 0, engine.ErrNothingToRecover // the dead holder's Lease deleted on the way out
	}
	// Another gameday taking the Lease over from this one (it went silent)
	// ends this one at once: no two put the same cluster back.
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-hold.Lost():
			fmt.Fprintf(g.Streams.ErrOut, "\nStopping at once, changing nothing more: %s. `gameday recover --context %s` finishes it.\n", hold.Why(), t.Context)
			lostExit(cli.ExitError)
		case <-done:
		}
	}()
	t.Arm(hold) // no write to the cluster once the Lease is lost
	return engine.Recover(ctx, x, name, g.Logger())
}

// lostExit ends the process when the Lease is lost (a variable for tests).
var lostExit = os.Exit
