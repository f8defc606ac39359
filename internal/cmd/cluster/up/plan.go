package up

import (
	"fmt"
	"io"
	"strings"

	"gameday.dev/gameday/cluster"
)

// PrintPlan prints what `cluster up` would create, and the kind config it
// would pass to kind (host ports are picked when the cluster is created).
// ports are the services' port mappings (nil: the default system's).
func PrintPlan(w io.Writer, name string, t cluster.Topology, image string, ports []cluster.PortMapping) error {
	if ports == nil {
		ports = cluster.TrafficNodePorts
	}
	if image == "" {
		image = fmt.Sprintf("%s if present, else %s, else pull %s", cluster.KindImage, cluster.OfflineImage, cluster.KindImage)
	}
	tm := cluster.DefaultTimings()
	var b strings.Builder
	fmt.Fprintf(&b, "# gameday cluster up --dry-run: nothing is created\n")
	fmt.Fprintf(&b, "# cluster:   %s (kind, docker network %s)\n", name, cluster.NetworkName(name))
	fmt.Fprintf(&b, "# topology:  %s\n", t)
	fmt.Fprintf(&b, "# image:     %s\n", image)
	fmt.Fprintf(&b, "# nodes:     control-plane (pool %s)", cluster.SystemPool)
	for _, p := range t.Pools {
		fmt.Fprintf(&b, ", %d×%s", p.Size, p.Name)
		if p.Spare {
			fmt.Fprintf(&b, " (spare for %s, out of service)", p.Replaces)
		}
	}
	fmt.Fprintf(&b, "\n# timings:   NotReady within %s of a lost node, pods evicted %s later\n", tm.NotReadyWithin(), tm.EvictionToleration)
	fmt.Fprintf(&b, "# traffic:   NodePorts")
	for _, p := range ports {
		fmt.Fprintf(&b, " %d (%s)", p.NodePort, p.Name)
	}
	fmt.Fprintf(&b, " on 127.0.0.1, host ports picked at creation\n")
	cfg, err := cluster.MarshalKindConfig(cluster.KindConfig(t, cluster.KindOptions{Timings: tm, Ports: ports}))
	if err != nil {
		return err
	}
	b.Write(cfg)
	_, err = io.WriteString(w, b.String())
	return err
}
