// Package up implements `gameday cluster up`.
package up

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	kindnodes "sigs.k8s.io/kind/pkg/cluster/nodes"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/cluster/status"
	"gameday.dev/gameday/internal/cmd/clusterlock"
)

// Flags are `cluster up`'s flags; `gameday up` shares them.
type Flags struct {
	Name            string
	Topology        string
	Image           string
	Retain          bool
	Wait            time.Duration
	MergeKubeconfig bool
	DryRun          bool
	Output          cli.Output
	// DeferDNS and Meanwhile (no flags): see cluster.CreateOptions; for a
	// caller that deploys next.
	DeferDNS  bool
	Meanwhile func(context.Context, *cluster.Record, []kindnodes.Node) error
	// Ports (no flag): the services' port mappings, for a caller that
	// deploys a system next; nil: the default system's.
	Ports []cluster.PortMapping
}

// NewCommand returns `gameday cluster up`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &Flags{}
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create a local multi-pool cluster with kind",
		Long: `Create a local Kubernetes cluster with kind, laid out as a topology: every
worker labelled and tainted for its pool, spare pools out of service, the
control-plane node mapping traffic ports to 127.0.0.1, and node-failure
timings shortened so that a lost node is noticed in ~20 s, not minutes.

The kubeconfig is written to a file gameday owns (shown by status); your
~/.kube/config is left alone unless you pass --merge-kubeconfig.`,
		Example: `  # every tier on one pool, as in the incident
  gameday cluster up --topology shared

  # frontend and backend on pools of their own, under another name
  gameday cluster up --topology separate --name iso

  # a topology of your own; print the plan without creating anything
  gameday cluster up --topology ./my-topology.yaml --dry-run`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := Run(cmd.Context(), g, f)
			return err
		},
	}
	AddFlags(cmd.Flags(), f)
	return cmd
}

// AddFlags adds `cluster up`'s flags to fl.
func AddFlags(fl *pflag.FlagSet, f *Flags) {
	fl.StringVar(&f.Name, "name", "gameday", "cluster name")
	fl.StringVar(&f.Topology, "topology", "shared", "built-in topology (shared, separate, tiered) or path to a topology file")
	fl.StringVar(&f.Image, "image", "", "node image (default: kindest/node if present or pullable, else gameday/node:offline)")
	fl.BoolVar(&f.Retain, "retain", false, "keep a half-created cluster on failure, for debugging")
	fl.DurationVar(&f.Wait, "wait", 5*time.Minute, "how long to wait for every node to be Ready")
	fl.BoolVar(&f.MergeKubeconfig, "merge-kubeconfig", false, "also add the cluster's context to your default kubeconfig")
	fl.BoolVar(&f.DryRun, "dry-run", false, "print the plan and the generated kind config; create nothing")
	cli.AddOutputFlag(fl, &f.Output)
}

// Run creates the cluster the flags describe (or prints the plan with
// --dry-run, returning a nil backend) and prints its status.
func Run(ctx context.Context, g *cli.Globals, f *Flags) (*cluster.Kind, error) {
	topo, err := cluster.ResolveTopology(f.Topology)
	if err != nil {
		return nil, err
	}
	if err := cluster.ValidateName(f.Name); err != nil {
		return nil, err
	}
	if f.DryRun {
		return nil, PrintPlan(g.Streams.Out, f.Name, topo, f.Image, f.Ports)
	}
	logger := g.Logger()
	k, err := cluster.NewKind(logger)
	if err != nil {
		return nil, err
	}
	if err := clusterlock.Take(g, k.Store, f.Name); err != nil {
		return nil, err
	}
	_, err = k.Create(ctx, cluster.CreateOptions{
		Name: f.Name, Topology: topo, Image: f.Image, Retain: f.Retain, Wait: f.Wait,
		Timings: cluster.DefaultTimings(), Audit: true, MergeKubeconfig: f.MergeKubeconfig, DeferDNS: f.DeferDNS, Meanwhile: f.Meanwhile,
		Ports: f.Ports,
	})
	if err != nil {
		return nil, err
	}
	st, err := k.Status(ctx, f.Name)
	if err != nil {
		return k, err
	}
	if err := status.Print(g.Streams.Out, st, f.Output); err != nil {
		return k, err
	}
	logger.V(0).Infof("\nCluster %q is up. Use it with:\n  export KUBECONFIG=%s\nDelete it with:\n  gameday cluster down --name %s", f.Name, st.Kubeconfig, f.Name)
	return k, nil
}
