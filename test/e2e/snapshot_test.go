//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// snapshots counts the cluster snapshots taken, for their file names.
var snapshots atomic.Int32

// snapshotClusters writes what a failure on a kind cluster needs looked at
// into _artifacts/snapshot-N.txt (and says where): for every control-plane
// container of a kind cluster, the nodes and their pod CIDRs, the pods,
// Services and EndpointSlices, the containers on the control plane with
// their restarts, its routes and NodePort rules, and the tail of its
// kube-proxy's log. Best effort: a command that fails says so in the file.
func snapshotClusters(why string) {
	out, err := exec.Command("docker", "ps", "--filter", "label=io.x-k8s.kind.role=control-plane", "--format", "{{.Names}}").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", time.Now().Format(time.RFC3339), why)
	run := func(cp string, args ...string) {
		fmt.Fprintf(&b, "\n$ %s\n", strings.Join(args, " "))
		o, err := exec.Command("docker", append([]string{"exec", cp}, args...)...).CombinedOutput()
		b.Write(o)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
	}
	for _, cp := range strings.Fields(string(out)) {
		fmt.Fprintf(&b, "\n===== %s\n", cp)
		k := []string{"kubectl", "--kubeconfig", "/etc/kubernetes/admin.conf", "--request-timeout=10s"}
		run(cp, append(k, "get", "nodes", "-o", "custom-columns=NAME:.metadata.name,CIDR:.spec.podCIDR,IP:.status.addresses[0].address,UNSCHEDULABLE:.spec.unschedulable,READY:.status.conditions[-1:].status")...)
		run(cp, append(k, "get", "pods", "-A", "-o", "wide")...)
		run(cp, append(k, "get", "services,endpointslices", "-n", "gameday", "-o", "wide")...)
		run(cp, append(k, "get", "events", "-A", "--sort-by=.lastTimestamp")...)
		run(cp, "crictl", "ps", "-a")
		run(cp, "ip", "route")
		run(cp, "sh", "-c", "iptables-save -t nat | grep -E 'KUBE-NODEPORTS|KUBE-EXT' | head -40; iptables-save -t filter | grep -E 'no endpoints|REJECT' | head -20")
		run(cp, "sh", "-c", "crictl logs --tail 60 $(crictl ps --name kube-proxy -q | head -1) 2>&1")
	}
	n := snapshots.Add(1)
	file := filepath.Join(artifacts(), fmt.Sprintf("snapshot-%d.txt", n))
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		GinkgoWriter.Printf("cluster snapshot not written: %v\n", err)
		return
	}
	GinkgoWriter.Printf("cluster snapshot after the failure: %s\n", file)
	AddReportEntry("cluster snapshot", file)
}
