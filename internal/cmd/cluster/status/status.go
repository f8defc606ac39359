// Package status implements `gameday cluster status`.
package status

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/cmd/targetarg"
)

type flagpole struct {
	Name   string
	Output cli.Output
	Target targetarg.Flags
}

// NewCommand returns `gameday cluster status`.
func NewCommand(g *cli.Globals) *cobra.Command {
	f := &flagpole{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a cluster's nodes, their pools and readiness",
		Long: `Show a cluster's nodes, their pools and readiness.

With --context (and --kubeconfig), show an existing cluster gameday did not
create, as gameday sees it: the API server the context points at, the node
pools read from a node label (gameday's own, EKS's node groups, GKE's node
pools or AKS's agent pools), which nodes and namespaces are opted in (the
node label gameday.dev/allow=true, the namespace annotation
gameday.dev/allow: "true"; never the control plane or kube-system), and what
gameday can do there. It reads and changes nothing else; it exits 2 when
nothing there is opted in.`,
		Example: `  gameday cluster status
  gameday cluster status --name iso -o json | jq '.nodes[] | {name, pool, ready}'

  # An existing cluster: what gameday may touch there
  gameday cluster status --kubeconfig ~/.kube/staging --context staging-eu
  gameday cluster status --context kind-lab --pool-label team.example.com/pool -o json`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.Target.Set() {
				if cmd.Flags().Changed("name") {
					return cli.Usagef("--name names a cluster gameday created; --context an existing one: give one of them")
				}
				return runTarget(cmd.Context(), g, f)
			}
			return run(cmd.Context(), g, f)
		},
	}
	cmd.Flags().StringVar(&f.Name, "name", "gameday", "cluster name")
	f.Target.Add(cmd.Flags())
	cli.AddOutputFlag(cmd.Flags(), &f.Output)
	return cmd
}

func run(ctx context.Context, g *cli.Globals, f *flagpole) error {
	k, err := cluster.NewKind(g.Logger())
	if err != nil {
		return err
	}
	st, err := k.Status(ctx, f.Name)
	if err != nil {
		return err
	}
	return Print(g.Streams.Out, st, f.Output)
}

// Print renders a cluster status as a table or JSON.
func Print(w io.Writer, st *cluster.ClusterStatus, o cli.Output) error {
	if o == cli.OutputJSON {
		return cli.PrintJSON(w, st)
	}
	fmt.Fprintf(w, "cluster:    %s (%s, topology %s)\n", st.Name, st.Backend, st.Topology)
	fmt.Fprintf(w, "image:      %s\n", st.Image)
	fmt.Fprintf(w, "kubeconfig: %s\n", st.Kubeconfig)
	var ports []string
	for _, p := range st.Ports {
		ports = append(ports, fmt.Sprintf("%s 127.0.0.1:%d -> NodePort %d", p.Name, p.HostPort, p.NodePort))
	}
	fmt.Fprintf(w, "traffic:    %s\n", strings.Join(ports, ", "))
	if st.APIError != "" {
		fmt.Fprintf(w, "api:        unreachable: %s\n", st.APIError)
	}
	fmt.Fprintln(w)
	t := cli.NewTable(w, "NODE", "ROLE", "POOL", "CONTAINER", "READY", "SCHEDULABLE", "SERVICE")
	for _, n := range st.Nodes {
		service := "in service"
		if !n.InService {
			service = "out of service"
		}
		if n.Spare {
			service += " (spare)"
		}
		ready := yesNo(n.Ready, "Ready", "NotReady")
		if !n.Joined && st.APIError == "" {
			ready = "not joined"
		}
		t.Row(n.Name, n.Role, n.Pool, n.Container, ready, yesNo(n.Schedulable, "yes", "no"), service)
	}
	return t.Flush()
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
