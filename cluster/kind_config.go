package cluster

import (
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	"sigs.k8s.io/yaml"
)

// Timings are the node-failure timings a cluster runs with. Kubernetes'
// defaults take minutes to notice a lost node and minutes more to evict its
// pods; these make a scenario take minutes, not hours.
type Timings struct {
	// NodeMonitorGracePeriod: how long a node may go without a heartbeat before
	// it is marked NotReady (kube-controller-manager; default 50s).
	NodeMonitorGracePeriod time.Duration `json:"nodeMonitorGracePeriod"`
	// NodeMonitorPeriod: how often the controller checks (default 5s).
	NodeMonitorPeriod time.Duration `json:"nodeMonitorPeriod"`
	// NodeLeaseDuration: the kubelet's lease; it renews every quarter of it (default 40s).
	NodeLeaseDuration time.Duration `json:"nodeLeaseDuration"`
	// NodeStatusUpdateFrequency: how often the kubelet posts node status (default 10s).
	NodeStatusUpdateFrequency time.Duration `json:"nodeStatusUpdateFrequency"`
	// EvictionToleration: how long pods stay bound to a NotReady or unreachable
	// node before they are evicted (kube-apiserver default tolerations; default 300s).
	EvictionToleration time.Duration `json:"evictionToleration"`
}

// DefaultTimings detect a lost node in ~20 s and evict its pods 30 s later,
// with margin enough that a busy 2-core machine does not flap nodes.
func DefaultTimings() Timings {
	return Timings{
		NodeMonitorGracePeriod:    20 * time.Second,
		NodeMonitorPeriod:         2 * time.Second,
		NodeLeaseDuration:         8 * time.Second,
		NodeStatusUpdateFrequency: 4 * time.Second,
		EvictionToleration:        30 * time.Second,
	}
}

// NotReadyWithin is the longest a lost node can take to be marked NotReady:
// the grace period, plus the controller's check period.
func (t Timings) NotReadyWithin() time.Duration {
	return t.NodeMonitorGracePeriod + t.NodeMonitorPeriod
}

// PortMapping exposes a NodePort of the control-plane node on the host.
type PortMapping struct {
	Name     string `json:"name"`
	NodePort int32  `json:"nodePort"`
	HostPort int32  `json:"hostPort"`
}

// TrafficNodePorts are the NodePorts traffic enters through, on the
// control-plane node (never a worker that a fault may stop).
var TrafficNodePorts = []PortMapping{
	{Name: "frontend", NodePort: 30080},
	{Name: "api", NodePort: 30081},
}

// KindOptions are the settings of a generated kind config beyond the topology.
type KindOptions struct {
	Timings Timings
	// Ports maps control-plane NodePorts to host ports on 127.0.0.1.
	Ports []PortMapping
	// AuditDir, if set, is a host folder holding AuditPolicy
	// (AuditPolicyFile) that the API server's audit log is written into.
	AuditDir string
}

const (
	kubeadmAPIVersion = "kubeadm.k8s.io/v1beta4"
	kubeletAPIVersion = "kubelet.config.k8s.io/v1beta1"
)

// KindConfig generates the kind cluster config for a topology: one
// control-plane node (pool "system") with the traffic ports mapped, then each
// pool's workers labelled with their pool and tainted from registration on, so
// that no pod lands on a node before its taints.
func KindConfig(t Topology, o KindOptions) *v1alpha4.Cluster {
	cfg := &v1alpha4.Cluster{
		TypeMeta: v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"},
	}
	cp := v1alpha4.Node{
		Role:   v1alpha4.ControlPlaneRole,
		Labels: map[string]string{PoolLabel: SystemPool},
	}
	if o.AuditDir != "" {
		cp.ExtraMounts = append(cp.ExtraMounts, v1alpha4.Mount{HostPath: o.AuditDir, ContainerPath: AuditNodeDir})
	}
	for _, p := range o.Ports {
		cp.ExtraPortMappings = append(cp.ExtraPortMappings, v1alpha4.PortMapping{
			ContainerPort: p.NodePort, HostPort: p.HostPort, ListenAddress: "127.0.0.1", Protocol: v1alpha4.PortMappingProtocolTCP,
		})
	}
	cfg.Nodes = append(cfg.Nodes, cp)
	for _, p := range t.Pools {
		taints := append([]corev1.Taint(nil), p.Taints...)
		if p.Spare {
			taints = append(taints, corev1.Taint{Key: OutOfServiceTaint, Value: "true", Effect: corev1.TaintEffectNoExecute})
		}
		for i := 0; i < p.Size; i++ {
			n := v1alpha4.Node{Role: v1alpha4.WorkerRole, Labels: p.NodeLabels()}
			if len(taints) > 0 {
				n.KubeadmConfigPatches = []string{joinTaintsPatch(taints)}
			}
			cfg.Nodes = append(cfg.Nodes, n)
		}
	}
	cfg.KubeadmConfigPatches = []string{clusterPatch(o.Timings, o.AuditDir != ""), kubeletPatch(o.Timings)}
	return cfg
}

// MarshalKindConfig renders a kind config as the YAML `kind create cluster --config` reads.
func MarshalKindConfig(cfg *v1alpha4.Cluster) ([]byte, error) {
	return yaml.Marshal(cfg)
}

func joinTaintsPatch(taints []corev1.Taint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kind: JoinConfiguration\napiVersion: %s\nnodeRegistration:\n  taints:\n", kubeadmAPIVersion)
	for _, t := range taints {
		fmt.Fprintf(&b, "  - key: %s\n    value: %q\n    effect: %s\n", t.Key, t.Value, t.Effect)
	}
	return b.String()
}

// clusterPatch shortens node-failure timings and turns leader election off
// in the controller manager and the scheduler: with one control-plane node
// there is no one to elect, and on a fresh cluster the election alone holds
// every controller back by seconds (the first request for the lease is
// refused until the API server's roles exist, then the retry period). Its
// keys are ECDSA P-256, not RSA 2048: kubeadm makes some 16 of them on the
// way to the first node, and each TLS handshake after is cheaper too.
func clusterPatch(t Timings, audit bool) string {
	p := fmt.Sprintf(`kind: ClusterConfiguration
apiVersion: %s
encryptionAlgorithm: ECDSA-P256
controllerManager:
  extraArgs:
  - name: leader-elect
    value: "false"
  - name: node-monitor-grace-period
    value: %s
  - name: node-monitor-period
    value: %s
scheduler:
  extraArgs:
  - name: leader-elect
    value: "false"
apiServer:
  extraArgs:
  - name: default-not-ready-toleration-seconds
    value: "%d"
  - name: default-unreachable-toleration-seconds
    value: "%d"
`, kubeadmAPIVersion, t.NodeMonitorGracePeriod, t.NodeMonitorPeriod,
		int(t.EvictionToleration.Seconds()), int(t.EvictionToleration.Seconds()))
	if !audit {
		return p
	}
	// The API server writes its audit log where the control-plane node
	// mounts the host's audit folder, with the policy gameday put there.
	return p + `  - name: audit-policy-file
    value: ` + AuditNodeDir + `/` + AuditPolicyFile + `
  - name: audit-log-path
    value: ` + AuditNodeDir + `/` + AuditLogFile + `
  - name: audit-log-maxsize
    value: "100"
  extraVolumes:
  - name: gameday-audit
    hostPath: ` + AuditNodeDir + `
    mountPath: ` + AuditNodeDir + `
    pathType: DirectoryOrCreate
`
}

// The audit log's place: a folder of the host (KindOptions.AuditDir) mounted
// on the control-plane node and into the API server, holding the policy and
// the log.
const (
	AuditNodeDir    = "/var/log/kubernetes/gameday-audit"
	AuditPolicyFile = "policy.yaml"
	AuditLogFile    = "audit.log"
)

// AuditPolicy records what players do, and nothing else: their changes with
// the request (what they asked for), their reads with metadata only.
const AuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Request
  userGroups: ["gameday:players"]
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: Metadata
  userGroups: ["gameday:players"]
- level: None
`

// kubeletPatch also lets kubelet run on cgroup v1 hosts (kubelet >= 1.35
// refuses them by default); the setting is harmless on cgroup v2.
func kubeletPatch(t Timings) string {
	return fmt.Sprintf(`kind: KubeletConfiguration
apiVersion: %s
failCgroupV1: false
nodeStatusUpdateFrequency: %s
nodeLeaseDurationSeconds: %d
`, kubeletAPIVersion, t.NodeStatusUpdateFrequency, int(t.NodeLeaseDuration.Seconds()))
}
