package status

import (
	"context"
	"fmt"
	"io"
	"strings"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/cluster/kubeconfig"
	"gameday.dev/gameday/internal/cli"
)

// TargetStatus is an existing cluster as gameday sees it.
type TargetStatus struct {
	Context      string                `json:"context"`
	Cluster      string                `json:"cluster"`
	Server       string                `json:"server"`
	Version      string                `json:"version"`
	Capabilities cluster.Capabilities  `json:"capabilities"`
	Inventory    *kubeconfig.Inventory `json:"inventory"`
}

func runTarget(ctx context.Context, g *cli.Globals, f *flagpole) error {
	t, err := f.Target.Open(ctx, func(s string) {
		if f.Output != cli.OutputJSON {
			g.Logger().V(0).Info(s)
		}
	})
	if err != nil {
		return err
	}
	st := &TargetStatus{Context: t.Context, Cluster: t.Cluster, Server: t.Server, Version: t.Version,
		Capabilities: cluster.KubeconfigCapabilities, Inventory: t.Inventory}
	if err := PrintTarget(g.Streams.Out, st, f.Output); err != nil {
		return err
	}
	return t.Usable()
}

// PrintTarget renders an existing cluster's status as a table or JSON.
func PrintTarget(w io.Writer, st *TargetStatus, o cli.Output) error {
	if o == cli.OutputJSON {
		return cli.PrintJSON(w, st)
	}
	inv := st.Inventory
	fmt.Fprintf(w, "cluster:    %s (context %s), API server %s, Kubernetes %s\n", st.Cluster, st.Context, st.Server, st.Version)
	fmt.Fprintf(w, "backend:    %s: can %s\n", st.Capabilities.Backend, strings.Join(st.Capabilities.Can(), "; "))
	fmt.Fprintf(w, "            cannot %s\n", strings.Join(st.Capabilities.Cannot(), "; "))
	var pools []string
	for _, p := range inv.PoolNames() {
		pools = append(pools, fmt.Sprintf("%s (%s)", p, plural(len(inv.Pools()[p]), "node")))
	}
	key := inv.PoolKey
	if key == "" {
		key = "none found"
	}
	fmt.Fprintf(w, "pools:      by node label %s: %s\n", key, orNone(pools))
	var never []string
	for _, ns := range inv.Namespaces {
		if strings.HasPrefix(ns.Why, "never") {
			never = append(never, ns.Name)
		}
	}
	fmt.Fprintf(w, "namespaces: opted in: %s; never: %s\n", orNone(inv.AllowedNamespaces()), strings.Join(never, ", "))
	fmt.Fprintln(w)
	t := cli.NewTable(w, "NODE", "POOL", "VERSION", "READY", "SCHEDULABLE", "GAMEDAY")
	for _, n := range inv.Nodes {
		pool := n.Pool
		if pool == "" {
			pool = "-"
		}
		t.Row(n.Name, pool, n.Version, yesNo(n.Ready, "Ready", "NotReady"), yesNo(n.Schedulable, "yes", "no"), n.Why)
	}
	return t.Flush()
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
