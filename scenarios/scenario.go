// Package scenarios holds gameday's scenario format (versioned YAML, strict
// decoding, validation with file:line errors), its library of scenarios and
// the plan a scenario makes on a topology. The steps' implementations live in
// scenarios/steps, the observers in scenarios/observe and the engine that
// runs a scenario in scenarios/engine.
package scenarios

import (
	"time"

	"gameday.dev/gameday/cluster"
	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/system"
)

// Scenario is a loaded, defaulted and validated scenario.
type Scenario struct {
	Name        string
	Description string
	// File is where the scenario was loaded from ("" for a built-in's embedded copy).
	File string
	// Digest is the SHA-256 of the file's bytes as loaded (a built-in's
	// embedded copy): see Digest.
	Digest string
	// Topologies the scenario runs on, in order; each resolved.
	Topologies []cluster.Topology
	// StoryScale is how many minutes of the real incident one minute of run
	// time stands for; 0 when the scenario does not say.
	StoryScale float64
	// System is what the scenario breaks (Fixtures.System too).
	System     *system.System
	Fixtures   fixtures.Params // Image is left empty; the engine fills it in
	Probes     Probes
	Objectives []Objective
	// SteadyState is how long the objectives must hold before any fault.
	SteadyState     SteadyState
	BusinessWindows []BusinessWindow
	Timeline        []Step
	Automation      []Rule
	Abort           []Condition
	// MaxDuration bounds the timeline; past it the run aborts (and recovers).
	MaxDuration time.Duration
	// Horizon is the score's span, counted from the first change: the run
	// observes at least this long before it recovers.
	Horizon time.Duration
	// Play is what a game of the scenario adds (gameday play).
	Play Play
}

// DefaultTimeLimit bounds a game whose scenario does not say.
const DefaultTimeLimit = 20 * time.Minute

// Play is what a game adds to the replay: in a game the operator's steps
// are not run; the team must reach their effects.
type Play struct {
	// Briefing is what every player is told before the game.
	Briefing string
	Roles    []Role
	Hints    []Hint
	// TimeLimit bounds the game, from its first step.
	TimeLimit time.Duration
	// Curveballs are steps the facilitator may inject during a game, each
	// once; the scenario's, with no time of their own.
	Curveballs []Step
}

// Curveball returns the curveball named name.
func (p Play) Curveball(name string) (Step, bool) {
	for _, st := range p.Curveballs {
		if st.Name == name {
			return st, true
		}
	}
	return Step{}, false
}

// Role is a role card: private knowledge for the players given it.
type Role struct {
	Name, Title, Card string
	// Knows are the facts the card holds: timeline steps' or business
	// windows' names.
	Knows []string
	// Default: the role of every player given none.
	Default bool
	Line    int
}

// DefaultRole is the role given to players named without one, if any.
func (p Play) DefaultRole() (Role, bool) {
	for _, r := range p.Roles {
		if r.Default {
			return r, true
		}
	}
	return Role{}, false
}

// Role returns the role named name.
func (p Play) Role(name string) (Role, bool) {
	for _, r := range p.Roles {
		if r.Name == name {
			return r, true
		}
	}
	return Role{}, false
}

// Hint is released to the team after a time since the first breach, when a
// condition holds, or when the facilitator asks.
type Hint struct {
	Text  string
	After *time.Duration
	When  *Condition
	Line  int
}

// Probes configures the host-side HTTP probes.
type Probes struct {
	Rate    float64       // requests per second per endpoint
	Timeout time.Duration // per request
	// KeepAlive is the share of probes on kept-alive connections; the
	// others open a new connection each, as arriving visitors do.
	KeepAlive float64
	// Critical are the journeys ("frontend /items") whose failure takes
	// their service down.
	Critical []string
}

// Service is a service of the system that the probes measure.
type Service string

// The default system's services (system.Default).
const (
	ServiceFrontend Service = "frontend"
	ServiceAPI      Service = "api"
)

// Objective is a service's SLO: over any Window, at least SuccessRatio of its
// probes succeed and their 95th-percentile latency is at most Latency.
type Objective struct {
	Service Service
	// Journey, when set, is the one path of the service it is measured on.
	Journey      string
	SuccessRatio float64
	Latency      time.Duration
	Window       time.Duration
}

// Key is what the objective is measured on: its service, or one of its
// journeys ("frontend /items").
func (o Objective) Key() string {
	if o.Journey != "" {
		return string(o.Service) + " " + o.Journey
	}
	return string(o.Service)
}

// SteadyState is the check before any fault: every objective holds over
// Duration, within Timeout.
type SteadyState struct {
	Duration time.Duration
	Timeout  time.Duration
}

// BusinessWindow is an interval of the timeline in which a service must be
// up, as the seed's App Store review.
type BusinessWindow struct {
	Name        string
	Description string
	Service     Service
	Start, End  time.Duration // offsets from the timeline's start
}

// Step is one entry of the timeline or of an automation rule.
type Step struct {
	Name   string
	Action Action
	// Line is the step's line in its file, for messages.
	Line int
	// At is the offset from the timeline's start; nil: right after the
	// previous step (or when After holds).
	At    *time.Duration
	After *Condition
	// Delay is waited after After holds: the operator's reaction time.
	Delay    time.Duration
	Target   Target
	Version  string
	Duration time.Duration
	Timeout  time.Duration
	Message  string
	// Actor is who makes the step in the story.
	Actor Actor
	// DisableEviction: a drain deletes pods instead of evicting them, so
	// PodDisruptionBudgets do not hold it back (kubectl drain
	// --disable-eviction).
	DisableEviction bool
}

// Actor is who made a step or a change.
type Actor string

// The actors. Timeline steps are the scenario's (faults) or the operator's
// (remediation); automation rules' steps are the automation's; a change seen
// in the cluster that no step made is the outside's.
const (
	ActorScenario   Actor = "scenario"
	ActorOperator   Actor = "operator"
	ActorAutomation Actor = "automation"
	ActorOutside    Actor = "outside"
)

// Selector picks what a step or condition acts on: a pool's nodes, a tier's
// pods (or, for node actions, the nodes of the pool hosting the tier), or
// anything carrying the labels.
type Selector struct {
	Pool   string
	Tier   fixtures.Tier
	Labels map[string]string
}

// IsZero reports whether the selector selects nothing.
func (s Selector) IsZero() bool { return s.Pool == "" && s.Tier == "" && len(s.Labels) == 0 }

// Mode is how many of the selected targets a step acts on.
type Mode string

// The modes.
const (
	ModeAll     Mode = "all"
	ModeOne     Mode = "one"
	ModeFixed   Mode = "fixed"
	ModePercent Mode = "percent"
)

// Modes lists the modes.
var Modes = []Mode{ModeAll, ModeOne, ModeFixed, ModePercent}

// Target is a selector and how many of its matches a step acts on.
type Target struct {
	Selector
	Mode  Mode
	Value int // N for fixed, 1-100 for percent
}

// Condition is something the engine watches for: to start a step, to fire an
// automation rule, or to abort the run.
type Condition struct {
	Type     ConditionType
	Line     int
	Selector Selector
	Service  Service
	// For is how long the condition must hold without a break.
	For time.Duration
	// Within bounds the wait for a step's After; zero means the scenario's MaxDuration.
	Within time.Duration
}

// Rule is automation: what the cloud does by itself when its condition holds
// (once per run).
type Rule struct {
	Name        string
	Description string
	Line        int
	When        Condition
	Steps       []Step
}
