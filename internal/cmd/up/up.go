// Package up implements `gameday up`: a cluster with the fixtures deployed.
package up

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

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
		Short: "Create a cluster and deploy the mock frontend, API and workers on it",
		Long: `Create a cluster (as gameday cluster up) and deploy the fixtures on it (as
gameday fixtures deploy), returning once every tier is healthy. If the
fixtures fail, or on Ctrl-C, the cluster is deleted again unless --retain.`,
		Example: `  gameday up --topology shared
  gameday up --topology separate --name iso --degrade`,
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
