package cluster

import (
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"

	"gameday.dev/gameday/internal/golden"
)

func testPorts() []PortMapping {
	return []PortMapping{{Name: "frontend", NodePort: 30080, HostPort: 38080}, {Name: "api", NodePort: 30081, HostPort: 38081}}
}

func TestKindConfigGolden(t *testing.T) {
	for _, name := range BuiltinNames() {
		t.Run(name, func(t *testing.T) {
			topo, _ := Builtin(name)
			b, err := MarshalKindConfig(KindConfig(topo, KindOptions{Timings: DefaultTimings(), Ports: testPorts()}))
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, "testdata/kind-config-"+name+".golden.yaml", b)
		})
	}
}

// The generated config must be one kind accepts: it round-trips through
// kind's own v1alpha4 types with no unknown field.
func TestKindConfigIsKindsFormat(t *testing.T) {
	topo, _ := Builtin("separate")
	b, err := MarshalKindConfig(KindConfig(topo, KindOptions{Timings: DefaultTimings(), Ports: testPorts()}))
	if err != nil {
		t.Fatal(err)
	}
	var back v1alpha4.Cluster
	if err := yaml.UnmarshalStrict(b, &back); err != nil {
		t.Fatalf("kind's types refuse the config: %v", err)
	}
	if len(back.Nodes) != 4 || back.Nodes[0].Role != v1alpha4.ControlPlaneRole {
		t.Fatalf("nodes = %+v", back.Nodes)
	}
}

func TestKindConfigNodes(t *testing.T) {
	topo, _ := Builtin("shared")
	cfg := KindConfig(topo, KindOptions{Timings: DefaultTimings(), Ports: testPorts()})
	cp := cfg.Nodes[0]
	if cp.Labels[PoolLabel] != SystemPool || len(cp.ExtraPortMappings) != 2 || cp.ExtraPortMappings[0].ListenAddress != "127.0.0.1" {
		t.Errorf("control plane = %+v", cp)
	}
	var pools []string
	for _, n := range cfg.Nodes[1:] {
		if n.Role != v1alpha4.WorkerRole {
			t.Errorf("node %+v is not a worker", n)
		}
		pools = append(pools, n.Labels[PoolLabel])
		patch := strings.Join(n.KubeadmConfigPatches, "\n")
		if !strings.Contains(patch, "key: gameday.dev/pool\n    value: \"app\"") {
			t.Errorf("worker of pool %s lacks the pool taint:\n%s", n.Labels[PoolLabel], patch)
		}
		spare := n.Labels[PoolLabel] == "app-next"
		if got := strings.Contains(patch, OutOfServiceTaint); got != spare {
			t.Errorf("pool %s: out-of-service taint present = %v, want %v", n.Labels[PoolLabel], got, spare)
		}
	}
	if strings.Join(pools, ",") != "app,app,app-next" {
		t.Errorf("worker pools = %v", pools)
	}
}

func TestTimings(t *testing.T) {
	tm := DefaultTimings()
	// The kubelet renews its lease every quarter of its duration; the grace
	// period must outlast several renewals or a busy node flaps.
	if renew := tm.NodeLeaseDuration / 4; tm.NodeMonitorGracePeriod < 5*renew {
		t.Errorf("grace %s < 5 lease renewals of %s", tm.NodeMonitorGracePeriod, renew)
	}
	if tm.NotReadyWithin() != 22*time.Second {
		t.Errorf("NotReadyWithin = %s", tm.NotReadyWithin())
	}
	patch := clusterPatch(tm, false)
	for _, want := range []string{"value: 20s", "value: 2s", `value: "30"`} {
		if !strings.Contains(patch, want) {
			t.Errorf("cluster patch lacks %q:\n%s", want, patch)
		}
	}
}

// With an audit folder, the control-plane node mounts it and the API server
// writes the players' audit log there, under gameday's policy; the patch
// stays one YAML document kubeadm reads.
func TestKindConfigWithAudit(t *testing.T) {
	topo, _ := Builtin("shared")
	cfg := KindConfig(topo, KindOptions{Timings: DefaultTimings(), Ports: testPorts(), AuditDir: "/state/clusters/gd/audit"})
	b, err := MarshalKindConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "testdata/kind-config-shared-audit.golden.yaml", b)
	if m := cfg.Nodes[0].ExtraMounts; len(m) != 1 || m[0].HostPath != "/state/clusters/gd/audit" || m[0].ContainerPath != AuditNodeDir {
		t.Errorf("control-plane mounts %+v", m)
	}
	for _, n := range cfg.Nodes[1:] {
		if len(n.ExtraMounts) != 0 {
			t.Errorf("a worker mounts the audit folder: %+v", n.ExtraMounts)
		}
	}
	var doc map[string]any
	if err := yaml.UnmarshalStrict([]byte(cfg.KubeadmConfigPatches[0]), &doc); err != nil {
		t.Fatalf("the cluster patch is not one YAML document: %v", err)
	}
	args := doc["apiServer"].(map[string]any)["extraArgs"].([]any)
	names := map[string]bool{}
	for _, a := range args {
		names[a.(map[string]any)["name"].(string)] = true
	}
	for _, want := range []string{"audit-policy-file", "audit-log-path", "default-not-ready-toleration-seconds"} {
		if !names[want] {
			t.Errorf("API server args lack %s: %v", want, names)
		}
	}
	var policy map[string]any
	if err := yaml.UnmarshalStrict([]byte(AuditPolicy), &policy); err != nil || policy["kind"] != "Policy" {
		t.Errorf("audit policy: %v %v", policy, err)
	}
}
