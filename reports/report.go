// Package reports turns a run's timeline into a debrief: per-service states,
// time to detect and to recover, downtime, error budget, the blast radius
// that was realised, the changes in flight before the first breach, one
// resilience score with its components, and words that explain it. Renderers
// write it as a text table, JSON, Markdown, self-contained HTML and JUnit XML.
//
// Everything here is a pure function of the timeline and its run.json: a
// report can be rebuilt from a run's folder at any time (`gameday report show`).
package reports

import "time"

// Schema versions Report's JSON. A change that renames or removes a field
// bumps it; adding a field does not.
const Schema = "gameday.dev/report/v1"

// Report is what a run measured, scored and concluded.
type Report struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	// ScenarioDigest identifies the scenario file that ran (run.json's);
	// empty for a run recorded before digests.
	ScenarioDigest string `json:"scenario_digest,omitempty"`
	// System and SystemDigest are the system that ran and its file's
	// digest (run.json's); empty for a run recorded before systems.
	System       string `json:"system,omitempty"`
	SystemDigest string `json:"system_digest,omitempty"`
	// ScoringVersion is the version of the score that computed Score
	// (ScoringVersion when built by this gameday); 0 for older reports.
	ScoringVersion int    `json:"scoring_version,omitempty"`
	Topology       string `json:"topology"`
	Cluster        string `json:"cluster,omitempty"`
	// Backend is where the cluster came from ("kind", or "kubeconfig": a
	// cluster gameday did not create); empty for runs recorded before it.
	Backend string `json:"backend,omitempty"`
	// Emulated is what the run did without the machine it would need, and
	// how (a node's loss made through the API): said next to the score.
	Emulated []string `json:"emulated,omitempty"`
	// ProbedVia is the probes' route when not straight from the runner to
	// the services (the API server's service proxy): their latency
	// includes it.
	ProbedVia  string    `json:"probed_via,omitempty"`
	Start      time.Time `json:"start"` // the span's start: offsets count from here
	StoryScale float64   `json:"story_scale,omitempty"`
	// SpanSeconds is the measured span: from the first change (whoever made
	// it; the timeline's start if nothing changed) to the horizon, or to the
	// start of the run's recovery if that came first (the run's own
	// recovery is not part of the incident).
	SpanSeconds float64 `json:"span_seconds"`
	// HorizonSeconds is the score's span, fixed by the scenario: every share
	// of the score is of it, so that waiting longer before the first change
	// or after recovery moves nothing. HorizonReached is false when the run
	// ended before it (aborted, killed): the rest was not observed.
	HorizonSeconds float64 `json:"horizon_seconds"`
	HorizonReached bool    `json:"horizon_reached"`
	// StartOffsetSeconds is when the span starts (the run's first act),
	// from the timeline's start (where the scenario's offsets count from).
	StartOffsetSeconds float64 `json:"start_offset_seconds"`
	// BreachedBeforeSpan are the services that breached their objective
	// between the timeline's start and the first change: not scored.
	BreachedBeforeSpan []string `json:"breached_before_span,omitempty"`
	// DetectionAlert says what the time to detect waits for.
	DetectionAlert string  `json:"detection_alert"`
	BucketSeconds  float64 `json:"bucket_seconds"`
	Aborted        string  `json:"aborted,omitempty"`
	// Warnings are what limits this report: a torn timeline, steps of the
	// automation that failed. Each is a sentence.
	Warnings []string `json:"warnings,omitempty"`

	Score      float64     `json:"score"`
	Components []Component `json:"components"`
	// Explanation says in words what hurt most and what would have helped.
	Explanation []string `json:"explanation"`

	// Run-wide measures: downtime is the time at least one service was down;
	// detection and recovery span every service (nil: no breach, or none
	// after the first fault / no recovery).
	DowntimeSeconds       float64  `json:"downtime_seconds"`
	TimeToImpactSeconds   *float64 `json:"time_to_impact_seconds" jsonschema:"oneof_type=number;null"`
	TimeToDetectSeconds   *float64 `json:"time_to_detect_seconds" jsonschema:"oneof_type=number;null"`
	TimeToMitigateSeconds *float64 `json:"time_to_mitigate_seconds" jsonschema:"oneof_type=number;null"`
	TimeToRecoverSeconds  *float64 `json:"time_to_recover_seconds" jsonschema:"oneof_type=number;null"`
	Recovered             bool     `json:"recovered"`
	// FirstFaultSeconds is the first change not made by the operator.
	FirstFaultSeconds *float64 `json:"first_fault_seconds" jsonschema:"oneof_type=number;null"`
	FirstFault        string   `json:"first_fault,omitempty"`
	FirstBreach       *Breach  `json:"first_breach"`

	BlastRadius     BlastRadius `json:"blast_radius"`
	Services        []Service   `json:"services"`
	Objectives      []Verdict   `json:"objectives"`
	BusinessWindows []Verdict   `json:"business_windows"`
	ChangesInFlight []Change    `json:"changes_in_flight"`
	// Refusals are the steps the cluster refused (a drain blocked by
	// PodDisruptionBudgets, replacements that cannot join): outcomes of the
	// system, not failures of the run.
	Refusals []Refusal `json:"refusals"`
	// Changes are every change seen in the span, whoever made it.
	Changes []Change      `json:"changes"`
	Steps   []StepMark    `json:"steps"`
	Nodes   []NodeLane    `json:"nodes"`
	Pools   []PoolSummary `json:"pools"`

	// Team is the response's measures and score: a game's players', or a
	// replay's scripted operator's (par); nil when there is neither.
	Team *Team `json:"team,omitempty"`
	// Notes are what the room wrote on the live page, in order.
	Notes []Note `json:"notes,omitempty"`

	breached [][]bool // per service (in Services' order), per bucket
}

// Note is a note or observation written on the live page during the run.
type Note struct {
	// AtSeconds is from the report's start (negative: before the first change).
	AtSeconds float64 `json:"at_seconds"`
	By        string  `json:"by"`
	// Kind is note (said or decided) or observation (seen).
	Kind string `json:"kind"`
	Text string `json:"text"`
}

// Component is one part of the score: a share of what went wrong (0: nothing,
// 1: everything) times its weight is taken off 100.
type Component struct {
	Name    string  `json:"name"`
	Weight  float64 `json:"weight"`
	Share   float64 `json:"share"`
	Penalty float64 `json:"penalty"`
	Detail  string  `json:"detail"`
}

// Breach is a service's first SLO breach.
type Breach struct {
	Service   string  `json:"service"`
	AtSeconds float64 `json:"at_seconds"`
}

// BlastRadius is the damage that actually happened.
type BlastRadius struct {
	ServicesShare       float64  `json:"services_share"`
	ServicesBreached    []string `json:"services_breached"`
	RequestsFailedShare float64  `json:"requests_failed_share"`
	Requests            int      `json:"requests"`
	RequestsFailed      int      `json:"requests_failed"`
	// PodsDisrupted counts distinct fixture pods killed, evicted or restarted.
	PodsDisrupted int     `json:"pods_disrupted"`
	PodsKilled    int     `json:"pods_killed"` // deleted while their release was current: killed or evicted
	PodRestarts   int     `json:"pod_restarts"`
	PodsAtStart   int     `json:"pods_at_start"`
	PodsShare     float64 `json:"pods_share"`
	// NodesLost counts in-service worker nodes that went NotReady or away.
	NodesLost    int      `json:"nodes_lost"`
	NodesAtStart int      `json:"nodes_at_start"`
	NodesShare   float64  `json:"nodes_share"`
	PoolsTouched []string `json:"pools_touched"`
	PoolsShare   float64  `json:"pools_share"`
	// TiersCrashLooping are the tiers whose pods were seen in CrashLoopBackOff.
	TiersCrashLooping []string `json:"tiers_crash_looping"`
}

// Service is one service's measures.
type Service struct {
	Name string `json:"name"`
	// Tier is the tier behind the service, where its name differs.
	Tier      string    `json:"tier,omitempty"`
	Objective Objective `json:"objective"`
	// Availability is the share of its probes that succeeded (degraded
	// answers count as answered).
	Availability    float64 `json:"availability"`
	Requests        int     `json:"requests"`
	Failed          int     `json:"failed"`
	DegradedAnswers int     `json:"degraded_answers"`
	DowntimeSeconds float64 `json:"downtime_seconds"`
	DegradedSeconds float64 `json:"degraded_seconds"`
	BreachedSeconds float64 `json:"breached_seconds"`
	// NoDataSeconds had no probe answer at all (the prober stalled).
	NoDataSeconds       float64  `json:"no_data_seconds"`
	FirstBreachSeconds  *float64 `json:"first_breach_seconds" jsonschema:"oneof_type=number;null"`
	BreachedBeforeFault bool     `json:"breached_before_fault"`
	// The service's times, from its first breach except impact (from the
	// first change to it); nil when there is none.
	TimeToImpactSeconds *float64 `json:"time_to_impact_seconds" jsonschema:"oneof_type=number;null"`
	TimeToDetectSeconds *float64 `json:"time_to_detect_seconds" jsonschema:"oneof_type=number;null"`
	DetectedAtSeconds   *float64 `json:"detected_at_seconds" jsonschema:"oneof_type=number;null"`
	// TimeToMitigateSeconds runs to the last change before its recovery:
	// the change the recovery follows (MitigatedBy says which).
	TimeToMitigateSeconds *float64 `json:"time_to_mitigate_seconds" jsonschema:"oneof_type=number;null"`
	MitigatedBy           string   `json:"mitigated_by,omitempty"`
	TimeToRecoverSeconds  *float64 `json:"time_to_recover_seconds" jsonschema:"oneof_type=number;null"`
	Recovered             bool     `json:"recovered"`
	ErrorBudget           Budget   `json:"error_budget"`
	// States are the service's state over time, merged into spans.
	States []Span `json:"states"`
	// Series is the share of probes answered per bucket (-1: no probe).
	Series []float64 `json:"series"`
	// DownSeries is how much of each bucket the service was down, in
	// seconds (see DowntimeSeconds, their sum).
	DownSeries []float64 `json:"down_series"`
	// Journeys are its probed endpoints, each measured on its own; a
	// critical one down takes the service down.
	Journeys []Journey `json:"journeys,omitempty"`
	// Pools are the pools that hosted its pods when the timeline started.
	Pools []string `json:"pools"`
}

// Journey is one user journey (a probed endpoint) of a service.
type Journey struct {
	Name            string  `json:"name"`
	Critical        bool    `json:"critical"`
	Availability    float64 `json:"availability"`
	Requests        int     `json:"requests"`
	Failed          int     `json:"failed"`
	DowntimeSeconds float64 `json:"downtime_seconds"`
	DegradedSeconds float64 `json:"degraded_seconds"`
	States          []Span  `json:"states"`
}

// Objective is the SLO a service is measured against.
type Objective struct {
	SuccessRatio  float64 `json:"success_ratio"`
	LatencyMs     float64 `json:"latency_ms"`
	WindowSeconds float64 `json:"window_seconds"`
}

// Budget is the error budget against the objective's ratio taken as a
// monthly (30-day) SLO, the run's span scaled to story time.
type Budget struct {
	MonthlySLO  float64 `json:"monthly_slo"`
	BurnedShare float64 `json:"burned_share"`
	BurnRate    float64 `json:"burn_rate"`
}

// Span is a state held from one offset to another (seconds from the start).
type Span struct {
	State string  `json:"state"`
	From  float64 `json:"from"`
	To    float64 `json:"to"`
}

// Service states.
const (
	StateOK       = "ok"
	StateDegraded = "degraded"
	StateDown     = "down"
	StateNoData   = "no-data"
)

// Node states.
const (
	NodeReady        = "ready"
	NodeCordoned     = "cordoned"
	NodeNotReady     = "not-ready"
	NodeOutOfService = "out-of-service"
	NodeGone         = "gone"
)

// Verdict is an objective or business window, passed or failed.
type Verdict struct {
	Name    string `json:"name"`
	Service string `json:"service"`
	Passed  bool   `json:"passed"`
	Message string `json:"message"`
	// A business window's bounds, offsets from the start in seconds.
	FromSeconds *float64 `json:"from_seconds,omitempty"`
	ToSeconds   *float64 `json:"to_seconds,omitempty"`
}

// Change is a change seen in the cluster, whoever made it: the run's steps
// (actor scenario, automation or operator) or anyone else (outside).
type Change struct {
	AtSeconds float64 `json:"at_seconds"`
	Actor     string  `json:"actor"`
	// Object and Field say what changed (deployment/api replicas, node/x
	// ready, control-plane version), From and To how.
	Object string `json:"object"`
	Field  string `json:"field"`
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	// Manager is the field manager the API server recorded (kubectl-scale).
	Manager string `json:"manager,omitempty"`
	// MadeAtSeconds is when it was made: its step's start when a step made
	// it (a node is seen NotReady only a grace period after its stop).
	MadeAtSeconds float64 `json:"made_at_seconds"`
	// The step that made it, if one did.
	Step   string `json:"step,omitempty"`
	Action string `json:"action,omitempty"`
	Rule   string `json:"rule,omitempty"`
	// Player is the game's player who made it.
	Player string `json:"player,omitempty"`
	// Message says it in words.
	Message string `json:"message"`
	// ControlPlane marks a control-plane upgrade: the change nobody knew of.
	ControlPlane bool `json:"control_plane"`
	// Preceded lists the breaches it came before, with how long before.
	Preceded []Preceded `json:"preceded"`
}

// Preceded is a breach a change came before.
type Preceded struct {
	Service       string  `json:"service"`
	BeforeSeconds float64 `json:"before_seconds"`
}

// Refusal is a step the cluster refused, in words.
type Refusal struct {
	AtSeconds float64 `json:"at_seconds"`
	Step      string  `json:"step"`
	Action    string  `json:"action"`
	Actor     string  `json:"actor"`
	Message   string  `json:"message"`
}

// StepMark is a step on the timeline, for charts.
type StepMark struct {
	AtSeconds float64 `json:"at_seconds"`
	Step      string  `json:"step"`
	Action    string  `json:"action"`
	Rule      string  `json:"rule,omitempty"`
	Actor     string  `json:"actor,omitempty"`
	Change    bool    `json:"change"`
	Blocked   bool    `json:"blocked,omitempty"`
}

// NodeLane is a node's state over time.
type NodeLane struct {
	Name   string `json:"name"`
	Pool   string `json:"pool"`
	States []Span `json:"states"`
}

// PoolSummary is a pool, the tiers it hosted at the start and whether the
// run touched it.
type PoolSummary struct {
	Name    string   `json:"name"`
	Tiers   []string `json:"tiers"`
	Spare   bool     `json:"spare"`
	Touched bool     `json:"touched"`
	Lost    int      `json:"nodes_lost"`
}

// TierName is the tier behind the service: Tier, else its name.
func (s Service) TierName() string {
	if s.Tier != "" {
		return s.Tier
	}
	return s.Name
}
