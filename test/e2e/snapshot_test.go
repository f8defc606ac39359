//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// snapshots counts the cluster snapshots taken, for their file names; a
// run takes at most maxSnapshots, for its first failures.
var snapshots atomic.Int32

const maxSnapshots = 4

// snapshotClusters writes what a failure on a kind cluster needs looked at
// into _artifacts/snapshot-N.txt (and says where): for the control plane of
// each of the suite's own kind clusters (named e2e-*), the nodes and their
// pod CIDRs, the pods, Services and EndpointSlices, the containers on the
// control plane with their restarts, its routes and NodePort rules, and the
// tail of its kube-proxy's log. Best effort and bounded: a command that
// fails or takes over 20 s says so in the file, and the whole snapshot
// stops after 2 min.
func snapshotClusters(why string) {
	if snapshots.Load() >= maxSnapshots {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	docker := func(stderr bool, args ...string) ([]byte, error) {
		c, stop := context.WithTimeout(ctx, 20*time.Second)
		defer stop()
		cmd := exec.CommandContext(c, "docker", args...)
		cmd.WaitDelay = 5 * time.Second
		if stderr {
			return cmd.CombinedOutput()
		}
		return cmd.Output()
	}
	out, err := docker(false, "ps", "--filter", "label=io.x-k8s.kind.role=control-plane", "--format", `{{.Label "io.x-k8s.kind.cluster"}} {{.Names}}`)
	if err != nil {
		return
	}
	var cps []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], "e2e-") {
			cps = append(cps, f[1])
		}
	}
	if len(cps) == 0 {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s\n%s\n", time.Now().Format(time.RFC3339), why)
	run := func(cp string, args ...string) {
		fmt.Fprintf(&b, "\n$ %s\n", strings.Join(args, " "))
		o, err := docker(true, append([]string{"exec", cp}, args...)...)
		b.Write(o)
		if err != nil {
			fmt.Fprintf(&b, "(%v)\n", err)
		}
	}
	for _, cp := range cps {
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
	dir, err := artifactsDir()
	if err != nil {
		GinkgoWriter.Printf("cluster snapshot not written: %v\n", err)
		return
	}
	if n == 1 { // an earlier run's snapshots are not this run's
		old, _ := filepath.Glob(filepath.Join(dir, "snapshot-*.txt"))
		for _, f := range old {
			_ = os.Remove(f)
		}
	}
	file := filepath.Join(dir, fmt.Sprintf("snapshot-%d.txt", n))
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		GinkgoWriter.Printf("cluster snapshot not written: %v\n", err)
		return
	}
	GinkgoWriter.Printf("cluster snapshot after the failure: %s\n", file)
	AddReportEntry("cluster snapshot", file)
}
