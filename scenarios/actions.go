package scenarios

import "slices"

// Action names a kind of step.
type Action string

// The actions a step can take. Their implementations are registered in
// scenarios/steps, one entry per action here (a test holds the two together).
const (
	ActionRelease             Action = "release"
	ActionRollback            Action = "rollback"
	ActionPodKill             Action = "pod-kill"
	ActionCordon              Action = "cordon"
	ActionDrain               Action = "drain"
	ActionNodeStop            Action = "node-stop"
	ActionNodeStart           Action = "node-start"
	ActionKubeletStop         Action = "kubelet-stop"
	ActionKubeletStart        Action = "kubelet-start"
	ActionPoolOutage          Action = "pool-outage"
	ActionControlPlaneUpgrade Action = "control-plane-upgrade"
	ActionProvisionPool       Action = "provision-pool"
	ActionWait                Action = "wait"
	ActionNote                Action = "note"
)

// TargetKind is what an action's target selects.
type TargetKind int

// The kinds of target.
const (
	TargetNone  TargetKind = iota
	TargetTier             // exactly one tier: target.tier
	TargetPods             // pods, by tier, pool or labels, with a mode
	TargetNodes            // nodes, by pool, tier (its pool) or labels, with a mode
	TargetPool             // one pool, by name or as the pool hosting a tier
)

// ActionSpec says what a step of an action takes.
type ActionSpec struct {
	Action      Action
	Summary     string
	Target      TargetKind
	NeedVersion bool // version is required
	TakeVersion bool // version is allowed
	NeedDur     bool // duration is required
	TakeTimeout bool
	NeedMessage bool
	// Change marks actions that change what runs (releases, upgrades,
	// operator actions): reports list them as changes in flight.
	Change bool
}

// ProvisionVersions are the versions provision-pool accepts: the control
// plane's (an operator's new node group) or the replaced pool's own (what a
// node group's automatic replacement would use).
const (
	VersionControlPlane = "control-plane"
	VersionPool         = "pool"
)

// ActionSpecs lists every action, in the order documentation shows them.
var ActionSpecs = []ActionSpec{
	{Action: ActionRelease, Summary: "roll a tier to a release", Target: TargetTier, NeedVersion: true, TakeVersion: true, Change: true},
	{Action: ActionRollback, Summary: "roll a tier back to the release it had before the run", Target: TargetTier, Change: true},
	{Action: ActionPodKill, Summary: "delete pods at once (no grace period)", Target: TargetPods},
	{Action: ActionCordon, Summary: "mark nodes unschedulable", Target: TargetNodes, Change: true},
	{Action: ActionDrain, Summary: "cordon nodes and evict their pods, respecting PodDisruptionBudgets (a drain they block until its timeout is the cluster's refusal: recorded, and the scenario goes on; disableEviction: true deletes instead)", Target: TargetNodes, TakeTimeout: true, Change: true},
	{Action: ActionNodeStop, Summary: "stop nodes' containers: the machines are lost", Target: TargetNodes},
	{Action: ActionNodeStart, Summary: "start stopped nodes' containers and wait until they are Ready", Target: TargetNodes, TakeTimeout: true},
	{Action: ActionKubeletStop, Summary: "stop nodes' kubelets: the control plane loses them", Target: TargetNodes},
	{Action: ActionKubeletStart, Summary: "start nodes' kubelets and wait until they are Ready", Target: TargetNodes, TakeTimeout: true},
	{Action: ActionPoolOutage, Summary: "lose every node of a pool at once", Target: TargetPool},
	{Action: ActionControlPlaneUpgrade, Summary: "upgrade the control plane (recorded): pools at another version can no longer join", NeedVersion: true, TakeVersion: true, Change: true},
	{Action: ActionProvisionPool, Summary: "bring the spare pool that replaces a pool into service, at the control plane's version unless version: pool", Target: TargetPool, TakeVersion: true, TakeTimeout: true, Change: true},
	{Action: ActionWait, Summary: "wait for a duration", NeedDur: true},
	{Action: ActionNote, Summary: "write a note into the timeline", NeedMessage: true},
}

// Spec returns the spec of an action.
func (a Action) Spec() (ActionSpec, bool) {
	i := slices.IndexFunc(ActionSpecs, func(s ActionSpec) bool { return s.Action == a })
	if i < 0 {
		return ActionSpec{}, false
	}
	return ActionSpecs[i], true
}

// Actions lists every action's name.
func Actions() []string {
	out := make([]string, len(ActionSpecs))
	for i, s := range ActionSpecs {
		out[i] = string(s.Action)
	}
	return out
}

// ConditionType names a condition the engine can watch.
type ConditionType string

// The conditions.
const (
	// CondCrashLooping: a selected pod's container is in CrashLoopBackOff.
	CondCrashLooping ConditionType = "crash-looping"
	// CondPoolDown: every node of the pool is NotReady.
	CondPoolDown ConditionType = "pool-down"
	// CondPoolReady: every node of the pool is Ready and schedulable.
	CondPoolReady ConditionType = "pool-ready"
	// CondTierHealthy: the tier's deployment has every replica ready and up to date.
	CondTierHealthy ConditionType = "tier-healthy"
	// CondTierDown: the tier has no ready replica.
	CondTierDown ConditionType = "tier-down"
	// CondServiceDown: every probe of the service failed during the last For (at least 1 s).
	CondServiceDown ConditionType = "service-down"
	// CondServiceUp: every probe of the service succeeded during the last For (at least 1 s).
	CondServiceUp ConditionType = "service-up"
)

// ConditionSpec says what a condition takes.
type ConditionSpec struct {
	Type    ConditionType
	Summary string
	// Target: TargetPods, TargetPool or TargetTier; TargetNone for service conditions.
	Target      TargetKind
	NeedService bool
}

// ConditionSpecs lists every condition.
var ConditionSpecs = []ConditionSpec{
	{Type: CondCrashLooping, Summary: "a selected pod is in CrashLoopBackOff", Target: TargetPods},
	{Type: CondPoolDown, Summary: "every node of the pool is NotReady", Target: TargetPool},
	{Type: CondPoolReady, Summary: "every node of the pool is Ready and schedulable", Target: TargetPool},
	{Type: CondTierHealthy, Summary: "every replica of the tier is ready and up to date", Target: TargetTier},
	{Type: CondTierDown, Summary: "the tier has no ready replica", Target: TargetTier},
	{Type: CondServiceDown, Summary: "every probe of the service fails", NeedService: true},
	{Type: CondServiceUp, Summary: "every probe of the service succeeds", NeedService: true},
}

// Spec returns the spec of a condition.
func (c ConditionType) Spec() (ConditionSpec, bool) {
	i := slices.IndexFunc(ConditionSpecs, func(s ConditionSpec) bool { return s.Type == c })
	if i < 0 {
		return ConditionSpec{}, false
	}
	return ConditionSpecs[i], true
}

// ConditionTypes lists every condition's name.
func ConditionTypes() []string {
	out := make([]string, len(ConditionSpecs))
	for i, s := range ConditionSpecs {
		out[i] = string(s.Type)
	}
	return out
}
