// Package up implements `gameday up`: a cluster with the fixtures deployed.
package up

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/internal/cli"
	clusterup "gameday.dev/gameday/internal/cmd/cluster/up"
	"gameday.dev/gameday/internal/cmd/fixtures/deploy"
	"gameday.dev/gameday/progress"
)

type flagpole struct {
	clusterup.Flags
	deploy.ParamFlags
}

// NewCommand returns `gameday up`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create a cluster and deploy a system on it (by default the incident's storefront)",
		Long: `Create a cluster (as gameday cluster up) and deploy a system on it (as
gameday fixtures deploy), returning once every tier is healthy and every
journey of every service answers from this machine. The cluster maps a port
of 127.0.0.1 for each of the system's services. Bad input (a System file,
a tier or release it lacks, an image of your own not on this machine) fails
before anything is created. If the system does not come up,
or on Ctrl-C, the cluster is deleted again unless --retain.`,
		Example: `  gameday up --topology shared
  gameday up --topology separate --name iso --degrade

  # the second built-in system on its three pools
  gameday up --system bookings --topology tiered

  # your own System file (your images from this machine's Docker daemon)
  gameday up --system ./shop.yaml --topology separate`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return run(cmd.Context(), g, f) },
	}
	clusterup.AddFlags(cmd.Flags(), &f.Flags)
	deploy.AddParamFlags(cmd.Flags(), &f.ParamFlags)
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole) error {
	params, err := f.Params() // bad parameters fail before a cluster exists
	if err != nil {
		return err
	}
	if err := cluster.ValidateName(f.Name); err != nil {
		return err
	}
	topo, err := cluster.ResolveTopology(f.Topology)
	if err != nil {
		return err
	}
	if _, err := fixtures.Manifests(topo, params); err != nil {
		return err
	}
	if !f.DryRun { // the team's images, before a cluster exists
		if err := fixtures.CheckImages(ctx, params.System, g.Logger()); err != nil {
			return err
		}
	}
	f.Ports = fixtures.PortsFor(params.System)
	// The tiers are loaded and deployed while the nodes become Ready and DNS
	// rolls; DeployTo then waits for all of it.
	f.DeferDNS, f.Meanwhile = true, fixtures.Early(params)
	k, err := clusterup.Run(ctx, g, &f.Flags)
	if err != nil || k == nil {
		return err
	}
	logger := g.Logger()
	err = fixtures.DeployTo(ctx, k, f.Name, fixtures.DeployOptions{Params: params, Wait: f.ParamFlags.Wait}, logger)
	if err == nil {
		return nil
	}
	if f.Retain {
		logger.Warnf("Keeping cluster %q (--retain); delete it with `gameday cluster down --name %s`", f.Name, f.Name)
		return err
	}
	why := "its fixtures did not come up"
	if ctx.Err() != nil {
		why = "interrupted"
	}
	status := progress.For(logger)
	status.Start(fmt.Sprintf("Deleting cluster %q: %s", f.Name, why))
	derr := k.Delete(context.WithoutCancel(ctx), f.Name)
	status.End(derr == nil)
	return err
}
