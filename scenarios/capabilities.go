package scenarios

import (
	"fmt"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/yamlfile"
)

// need is what an action needs of a backend: one of the capabilities in
// real (done for real), else emulated (done through the API, and said so).
// An action with neither (apiOnly) needs only the Kubernetes API.
type need struct {
	what     string // what the step does, in words
	real     func(cluster.Capabilities) bool
	emulated func(cluster.Capabilities) bool
}

var needs = map[Action]need{
	ActionNodeStop:            {"stop a node's machine", stopMachine, emulateLoss},
	ActionPoolOutage:          {"stop a pool's machines", stopMachine, emulateLoss},
	ActionNodeStart:           {"start a node's machine", stopMachine, emulateLoss},
	ActionKubeletStop:         {"stop a node's kubelet", stopKubelet, emulateLoss},
	ActionKubeletStart:        {"start a node's kubelet", stopKubelet, emulateLoss},
	ActionControlPlaneUpgrade: {"upgrade the control plane", func(c cluster.Capabilities) bool { return c.UpgradeControlPlane }, nil},
	ActionProvisionPool:       {"bring a spare pool into service", func(c cluster.Capabilities) bool { return c.SparePools }, nil},
	ActionRelease:             apiOnly,
	ActionRollback:            apiOnly,
	ActionPodKill:             apiOnly,
	ActionCordon:              apiOnly,
	ActionDrain:               apiOnly,
	ActionWait:                apiOnly,
	ActionNote:                apiOnly,
}

// apiOnly is the need of an action made through the Kubernetes API alone.
var apiOnly = need{real: func(cluster.Capabilities) bool { return true }}

func stopMachine(c cluster.Capabilities) bool { return c.StopMachine }
func stopKubelet(c cluster.Capabilities) bool { return c.StopKubelet }
func emulateLoss(c cluster.Capabilities) bool { return c.EmulateNodeLoss }

// steps is every step the scenario may make, with its field path:
// the timeline's, automation's and a game's curveballs.
func (s *Scenario) allSteps() ([]Step, []string) {
	var steps []Step
	var paths []string
	for i, st := range s.Timeline {
		steps, paths = append(steps, st), append(paths, fmt.Sprintf("timeline[%d]", i))
	}
	for i, r := range s.Automation {
		for j, st := range r.Steps {
			steps, paths = append(steps, st), append(paths, fmt.Sprintf("automation[%d].steps[%d]", i, j))
		}
	}
	for i, st := range s.Play.Curveballs {
		steps, paths = append(steps, st), append(paths, fmt.Sprintf("play.curveballs[%d]", i))
	}
	return steps, paths
}

// CheckBackend says which of the scenario's steps a backend with
// capabilities c cannot do, as located errors (nil: every step can run
// there). It is asked before anything happens: a step the backend cannot
// do is a plan error, not a surprise in the middle of a run.
func (s *Scenario) CheckBackend(c cluster.Capabilities) error {
	var errs yamlfile.Errors
	steps, paths := s.allSteps()
	for i, st := range steps {
		n, ok := needs[st.Action]
		if !ok {
			n = need{what: "do " + string(st.Action), real: func(cluster.Capabilities) bool { return false }} // unknown: never assumed
		}
		if n.real(c) || (n.emulated != nil && n.emulated(c)) {
			continue
		}
		errs = append(errs, &yamlfile.Error{File: s.File, Line: st.Line, Field: paths[i] + ".action",
			Msg: fmt.Sprintf("step %s needs to %s, which the %s backend cannot do", st.Name, n.what, c.Backend)})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Emulated lists the scenario's steps a backend with capabilities c does
// without the machine (a node's loss through the API), each with how: what
// the report says was emulated.
func (s *Scenario) Emulated(c cluster.Capabilities) []string {
	var out []string
	steps, _ := s.allSteps()
	for _, st := range steps {
		n, ok := needs[st.Action]
		if !ok || n.real(c) || n.emulated == nil || !n.emulated(c) {
			continue
		}
		how := "its nodes cordoned and tainted, the opted-in namespaces' pods there deleted; no machine stopped"
		if st.Action == ActionNodeStart || st.Action == ActionKubeletStart {
			how = "the emulated loss of its nodes ended: untainted, uncordoned; no machine started"
		}
		out = append(out, fmt.Sprintf("%s (%s): emulated through the API (%s)", st.Name, st.Action, how))
	}
	return out
}
