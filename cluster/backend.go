package cluster

import "strings"

// The backends: where a cluster comes from, and so what gameday can do to it.
const (
	// BackendKind: a local cluster gameday created with kind, whose nodes
	// are containers on this machine.
	BackendKind = "kind"
	// BackendKubeconfig: an existing cluster reached through a kubeconfig
	// context; gameday touches only what it is allowed to there.
	BackendKubeconfig = "kubeconfig"
)

// Capabilities are what a backend can do to a cluster. A scenario is planned
// against them before anything happens: a step its backend cannot do is a
// plan error, not a surprise in the middle of a run.
type Capabilities struct {
	// Backend names the backend (BackendKind, BackendKubeconfig).
	Backend string `json:"backend"`
	// StopMachine: stop and start a node's machine (its container on kind),
	// so that its kubelet and everything on it go away and come back.
	StopMachine bool `json:"stopMachine"`
	// StopKubelet: stop and start a node's kubelet while the machine runs.
	StopKubelet bool `json:"stopKubelet"`
	// EmulateNodeLoss: a node's loss is emulated without its machine
	// (cordoned, tainted NoExecute, its pods evicted), and said so.
	EmulateNodeLoss bool `json:"emulateNodeLoss"`
	// SparePools: nodes held out of service until a step brings them in,
	// standing in for the capacity a node group provisions.
	SparePools bool `json:"sparePools"`
	// UpgradeControlPlane: restart the API server at another version.
	UpgradeControlPlane bool `json:"upgradeControlPlane"`
	// EmulateUpgrade: the control plane's upgrade recorded by the cloud
	// provider's stand-in (the version nodes must match to join), the API
	// server left as it is, and said so.
	EmulateUpgrade bool `json:"emulateUpgrade"`
	// LoadImage: put an image on every node without a registry.
	LoadImage bool `json:"loadImage"`
}

// KindCapabilities: kind's nodes are containers gameday owns, so it can do
// everything to them.
var KindCapabilities = Capabilities{Backend: BackendKind, StopMachine: true, StopKubelet: true, SparePools: true, UpgradeControlPlane: true, LoadImage: true}

// KubeconfigCapabilities: on a cluster gameday did not create, it cannot
// reach a node's machine or the control plane; it emulates a node's loss
// and the control plane's upgrade through the API, and holds spare node
// groups out of service (cordoned, tainted) until a step provisions them.
var KubeconfigCapabilities = Capabilities{Backend: BackendKubeconfig, EmulateNodeLoss: true, EmulateUpgrade: true, SparePools: true}

// Can lists what c can do, in words, and Cannot what it cannot.
func (c Capabilities) Can() []string    { return c.words(true) }
func (c Capabilities) Cannot() []string { return c.words(false) }

func (c Capabilities) words(has bool) []string {
	var out []string
	for _, w := range []struct {
		on   bool
		what string
	}{
		{c.StopMachine, "stop and start a node's machine"},
		{c.StopKubelet, "stop and start a node's kubelet"},
		{c.EmulateNodeLoss, "emulate a node's loss (cordoned, tainted, the opted-in namespaces' pods there deleted)"},
		{c.SparePools, "hold spare node pools out of service until a step provisions them"},
		{c.UpgradeControlPlane, "upgrade the control plane"},
		{c.EmulateUpgrade, "emulate the control plane's upgrade (recorded by the provider's stand-in)"},
		{c.LoadImage, "load an image into the nodes without a registry"},
	} {
		if w.on == has {
			out = append(out, w.what)
		}
	}
	return out
}

// String is a one-line summary: "kind: stop and start a node's machine, ...".
func (c Capabilities) String() string { return c.Backend + ": " + strings.Join(c.Can(), ", ") }
