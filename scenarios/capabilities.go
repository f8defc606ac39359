package scenarios

import (
	"fmt"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/internal/yamlfile"
)

// need is what an action needs of a backend: one of the capabilities in
// real (done for real), else emulated (done through the API, and said so:
// how). An action made through the Kubernetes API alone is apiOnly.
type need struct {
	what     string // what the step does, in words
	real     func(cluster.Capabilities) bool
	emulated func(cluster.Capabilities) bool
	how      string // how it is emulated
}

const (
	lossHow   = "its nodes cordoned and tainted, the opted-in namespaces' pods there deleted; no machine stopped"
	returnHow = "the emulated loss of its nodes ended: untainted, uncordoned; no machine started"
)

var needs = map[Action]need{
	ActionNodeStop:     {"stop a node's machine", stopMachine, emulateLoss, lossHow},
	ActionPoolOutage:   {"stop a pool's machines", stopMachine, emulateLoss, lossHow},
	ActionNodeStart:    {"start a node's machine", stopMachine, emulateLoss, returnHow},
	ActionKubeletStop:  {"stop a node's kubelet", stopKubelet, emulateLoss, lossHow},
	ActionKubeletStart: {"start a node's kubelet", stopKubelet, emulateLoss, returnHow},
	ActionControlPlaneUpgrade: {"upgrade the control plane", func(c cluster.Capabilities) bool { return c.UpgradeControlPlane },
		func(c cluster.Capabilities) bool { return c.EmulateUpgrade },
		"the new version recorded by the provider's stand-in, which from then on refuses nodes at another version; the API server was not restarted and reports its own"},
	ActionProvisionPool: {"bring a spare pool into service", func(c cluster.Capabilities) bool { return c.SparePools && c.StopMachine },
		func(c cluster.Capabilities) bool { return c.SparePools },
		"the spare node group, held out of service for the run (cordoned, tainted), untainted and uncordoned; its kubelets keep their own version"},
	ActionRelease:  apiOnly,
	ActionRollback: apiOnly,
	ActionPodKill:  apiOnly,
	ActionCordon:   apiOnly,
	ActionDrain:    apiOnly,
	ActionWait:     apiOnly,
	ActionNote:     apiOnly,
}

// apiOnly is the need of an action made through the Kubernetes API alone.
var apiOnly = need{real: func(cluster.Capabilities) bool { return true }}

func stopMachine(c cluster.Capabilities) bool { return c.StopMachine }
func stopKubelet(c cluster.Capabilities) bool { return c.StopKubelet }
func emulateLoss(c cluster.Capabilities) bool { return c.EmulateNodeLoss }

// AllSteps is every step the scenario may make, with its field path:
// the timeline's, automation's and a game's curveballs.
func (s *Scenario) AllSteps() ([]Step, []string) {
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
	steps, paths := s.AllSteps()
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
	steps, _ := s.AllSteps()
	for _, st := range steps {
		n, ok := needs[st.Action]
		if !ok || n.real(c) || n.emulated == nil || !n.emulated(c) {
			continue
		}
		out = append(out, fmt.Sprintf("%s (%s): emulated through the API (%s)", st.Name, st.Action, n.how))
	}
	return out
}
