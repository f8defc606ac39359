package scenarios

import "time"

// APIVersion and Kind identify a scenario file.
const (
	APIVersion = "gameday.dev/v1alpha1"
	Kind       = "Scenario"
)

// The v1alpha1 file format, kept apart from Scenario so that the file can
// evolve without changing the code that runs scenarios. The JSON Schema for
// editors is generated from these types (schema.go); their jsonschema tags
// are its descriptions.

type scenarioFile struct {
	APIVersion      string               `yaml:"apiVersion" jsonschema:"required,enum=gameday.dev/v1alpha1"`
	Kind            string               `yaml:"kind" jsonschema:"required,enum=Scenario"`
	Name            string               `yaml:"name" jsonschema:"required,description=The scenario's name: lower-case letters, digits and dashes."`
	Description     string               `yaml:"description,omitempty" jsonschema:"description=What the scenario replays; shown by gameday scenarios show."`
	Topologies      []string             `yaml:"topologies,omitempty" jsonschema:"description=Topologies to run on: built-in names (shared, separate, tiered) or topology files relative to this file. Default: shared and separate."`
	StoryScale      float64              `yaml:"storyScale,omitempty" jsonschema:"minimum=0,description=Minutes of the real incident that one minute of run time stands for (reports only)."`
	System          string               `yaml:"system,omitempty" jsonschema:"description=The system the scenario breaks: a built-in (storefront, bookings) or a System file relative to this file. Default storefront; gameday run --system overrides it."`
	Fixtures        *fixturesFile        `yaml:"fixtures,omitempty"`
	Probes          *probesFile          `yaml:"probes,omitempty"`
	Objectives      []objectiveFile      `yaml:"objectives,omitempty" jsonschema:"description=Per-service SLOs. Default: frontend and api with successRatio 0.99 and latency 1s over 10s."`
	SteadyState     *steadyStateFile     `yaml:"steadyState,omitempty"`
	BusinessWindows []businessWindowFile `yaml:"businessWindows,omitempty" jsonschema:"description=Intervals of the timeline in which a service must be up (e.g. an App Store review)."`
	Timeline        []stepFile           `yaml:"timeline" jsonschema:"required,minItems=1,description=The steps in the order they run."`
	Automation      []ruleFile           `yaml:"automation,omitempty" jsonschema:"description=What the cloud does by itself when a condition holds; each rule fires at most once."`
	Abort           []conditionFile      `yaml:"abort,omitempty" jsonschema:"description=Conditions that stop the timeline (the run still recovers)."`
	MaxDuration     *time.Duration       `yaml:"maxDuration,omitempty" jsonschema:"description=Bound on the timeline; past it the run aborts. Default 15m."`
	Horizon         *time.Duration       `yaml:"horizon,omitempty" jsonschema:"description=The score's span: from the first change (any actor) this long, the same on every topology and run; the run observes at least this long before it recovers. Default 5m, at most maxDuration."`
	Play            *playFile            `yaml:"play,omitempty" jsonschema:"description=What gameday play adds to the replay: the players' briefing, role cards, hints and the time limit."`
}

type playFile struct {
	Briefing   string         `yaml:"briefing,omitempty" jsonschema:"description=What every player is told before the game: who they are, what they run, how they are paged."`
	Roles      []roleFile     `yaml:"roles,omitempty" jsonschema:"description=Role cards: private knowledge, each shown only in the kit of the players given the role."`
	Hints      []hintFile     `yaml:"hints,omitempty" jsonschema:"description=Hints in the order they are released: by time since the first breach, by a condition, or by the facilitator (gameday play hint)."`
	TimeLimit  *time.Duration `yaml:"timeLimit,omitempty" jsonschema:"description=How long a game lasts at most, from its first step; what is still broken then counts. Default 20m."`
	Curveballs []stepFile     `yaml:"curveballs,omitempty" jsonschema:"description=Steps the facilitator may inject during a game (from the live page, each once): faults the team did not plan for. Each is a step as in the timeline, without at or after."`
}

type roleFile struct {
	Name    string   `yaml:"name" jsonschema:"required,description=The role's name: players take it with --players NAME=ROLE."`
	Title   string   `yaml:"title,omitempty" jsonschema:"description=Who the role is, in a few words."`
	Card    string   `yaml:"card" jsonschema:"required,description=What the player in this role knows, shown only in their kit."`
	Knows   []string `yaml:"knows,omitempty" jsonschema:"description=The facts the card holds that others do not: names of timeline steps or business windows. The debrief says when each first reached someone else."`
	Default bool     `yaml:"default,omitempty" jsonschema:"description=The role of every player given none."`
}

type hintFile struct {
	Text  string         `yaml:"text" jsonschema:"required"`
	After *time.Duration `yaml:"after,omitempty" jsonschema:"description=Released this long after the first breach of an objective."`
	When  *conditionFile `yaml:"when,omitempty" jsonschema:"description=Released when this condition holds (after the first breach)."`
}

type fixturesFile struct {
	Replicas map[string]int32  `yaml:"replicas,omitempty" jsonschema:"description=Replicas per tier of the system; default: the system's."`
	Releases map[string]string `yaml:"releases,omitempty" jsonschema:"description=Release per tier before the run, one of the system's; default its first."`
	Degrade  bool              `yaml:"degrade,omitempty" jsonschema:"description=The frontend renders from its last good data when the API fails."`
	PDB      bool              `yaml:"pdb,omitempty" jsonschema:"description=A PodDisruptionBudget (minAvailable 1) for every tier the system gives none."`
}

type probesFile struct {
	Rate    float64        `yaml:"rate,omitempty" jsonschema:"minimum=0,maximum=50,description=Requests per second per endpoint. Default 10."`
	Timeout *time.Duration `yaml:"timeout,omitempty" jsonschema:"description=Per-request timeout. Default 2s."`
	// A pointer: 0 is a value (every probe on a new connection).
	KeepAlive *float64 `yaml:"keepAlive,omitempty" jsonschema:"minimum=0,maximum=1,description=Share of probes sent on kept-alive connections; the others open a new connection each, as arriving visitors do. Default 0."`
	Critical  []string `yaml:"critical,omitempty" jsonschema:"description=The user journeys (probed paths, such as /items) whose failure takes their service down whatever the other journeys do. Default: the pages that need the API, and the API's own."`
}

type objectiveFile struct {
	Service      string         `yaml:"service" jsonschema:"required,description=A service of the system."`
	Journey      string         `yaml:"journey,omitempty" jsonschema:"description=One user journey of the service (a probed path, such as /items): the objective is measured on its probes only."`
	SuccessRatio *float64       `yaml:"successRatio,omitempty" jsonschema:"minimum=0,maximum=1,description=Share of probes that must succeed over the window. Default 0.99."`
	Latency      *time.Duration `yaml:"latency,omitempty" jsonschema:"description=Bound on the 95th-percentile latency over the window. Default 1s."`
	Window       *time.Duration `yaml:"window,omitempty" jsonschema:"description=Sliding window the objective is measured over. Default 10s."`
}

type steadyStateFile struct {
	Duration *time.Duration `yaml:"duration,omitempty" jsonschema:"description=How long every objective must hold before the first step. Default 10s."`
	Timeout  *time.Duration `yaml:"timeout,omitempty" jsonschema:"description=How long to wait for the steady state. Default 2m."`
}

type businessWindowFile struct {
	Name        string         `yaml:"name" jsonschema:"required"`
	Description string         `yaml:"description,omitempty"`
	Service     string         `yaml:"service" jsonschema:"required,description=A service of the system."`
	Start       *time.Duration `yaml:"start" jsonschema:"required,description=Offset from the timeline's start."`
	End         *time.Duration `yaml:"end" jsonschema:"required,description=Offset from the timeline's start."`
}

type stepFile struct {
	Name            string         `yaml:"name,omitempty" jsonschema:"description=Unique in the file; default: its position and action."`
	Action          string         `yaml:"action" jsonschema:"required"`
	At              *time.Duration `yaml:"at,omitempty" jsonschema:"description=Offset from the timeline's start. Without at or after, a step runs right after the previous one."`
	After           *conditionFile `yaml:"after,omitempty" jsonschema:"description=Run when this condition holds (after the previous step)."`
	Delay           *time.Duration `yaml:"delay,omitempty" jsonschema:"description=Waited after the after condition holds: the operator's reaction time."`
	Target          *targetFile    `yaml:"target,omitempty"`
	Version         string         `yaml:"version,omitempty" jsonschema:"description=release: the tier's release; control-plane-upgrade: a Kubernetes version such as v1.38.0; provision-pool: control-plane (default) or pool."`
	Duration        *time.Duration `yaml:"duration,omitempty" jsonschema:"description=wait: how long."`
	Timeout         *time.Duration `yaml:"timeout,omitempty" jsonschema:"description=drain, node-start, kubelet-start, provision-pool: bound on the step."`
	Message         string         `yaml:"message,omitempty" jsonschema:"description=note: the text."`
	DisableEviction bool           `yaml:"disableEviction,omitempty" jsonschema:"description=drain: delete the pods instead of evicting them, so PodDisruptionBudgets do not hold it back (kubectl drain --disable-eviction): what an operator does when a drain that must happen is blocked."`
	Actor           string         `yaml:"actor,omitempty" jsonschema:"enum=scenario,enum=operator,description=Who makes the step in the story: scenario (a fault; the default) or operator (a remediation). Automation steps are the automation's."`
}

type targetFile struct {
	Pool   string            `yaml:"pool,omitempty" jsonschema:"description=A pool of every topology the scenario runs on."`
	Tier   string            `yaml:"tier,omitempty" jsonschema:"description=A tier of the scenario's system (storefront: frontend, api, workers): its pods; for node actions, the nodes of the pool hosting it."`
	Labels map[string]string `yaml:"labels,omitempty" jsonschema:"description=Pods (pod actions) or nodes (node actions) carrying every label."`
	Mode   string            `yaml:"mode,omitempty" jsonschema:"enum=all,enum=one,enum=fixed,enum=percent,description=How many of the matches to act on. Default all."`
	Value  int               `yaml:"value,omitempty" jsonschema:"minimum=1,description=fixed: how many; percent: 1-100."`
}

type conditionFile struct {
	Condition string         `yaml:"condition" jsonschema:"required"`
	Target    *targetFile    `yaml:"target,omitempty"`
	Service   string         `yaml:"service,omitempty" jsonschema:"description=A service of the system."`
	For       *time.Duration `yaml:"for,omitempty" jsonschema:"description=How long the condition must hold without a break."`
	Within    *time.Duration `yaml:"within,omitempty" jsonschema:"description=after: bound on the wait; past it the run aborts. Default: maxDuration."`
}

type ruleFile struct {
	Name        string         `yaml:"name" jsonschema:"required"`
	Description string         `yaml:"description,omitempty"`
	When        *conditionFile `yaml:"when" jsonschema:"required"`
	Steps       []stepFile     `yaml:"steps" jsonschema:"required,minItems=1,description=Run in order when the rule fires; no at or after."`
}
