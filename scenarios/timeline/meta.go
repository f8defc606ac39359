package timeline

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// MetaSchema versions Meta's JSON.
const MetaSchema = "gameday.dev/run/v1"

// MetaFile is Meta's file name, next to the timeline.
const MetaFile = "run.json"

// Meta is what a report needs to know of a run besides its timeline: the
// scenario's objectives, business windows and story scale, and what a gate
// needs to compare like with like: which scenario file ran and which version
// of the score was current. The engine writes it as run.json before the first
// entry, so a killed run can still be scored. Runs recorded before a field
// existed lack it: its zero value means unknown.
type Meta struct {
	Schema   string `json:"schema"`
	Scenario string `json:"scenario"`
	// ScenarioDigest is the scenario file's digest (scenarios.Digest).
	ScenarioDigest string `json:"scenario_digest,omitempty"`
	// System is the system the scenario broke, and its file's digest: a
	// gate compares a run with a baseline of another version of its System
	// file (a resilience config changed) and says so.
	System       string `json:"system,omitempty"`
	SystemDigest string `json:"system_digest,omitempty"`
	// ServiceTiers is the tier behind each service, where their names
	// differ (a service's pools are its tier's).
	ServiceTiers map[string]string `json:"service_tiers,omitempty"`
	// ScoringVersion is reports.ScoringVersion of the gameday that ran it.
	ScoringVersion int    `json:"scoring_version,omitempty"`
	Topology       string `json:"topology"`
	Cluster        string `json:"cluster"`
	// Backend is where the cluster came from ("kind"; "kubeconfig": a
	// cluster gameday did not create), and Emulated what the run did there
	// without the machine it would need (a node's loss through the API).
	Backend  string   `json:"backend,omitempty"`
	Emulated []string `json:"emulated,omitempty"`
	// ProbedVia is the probes' route when not straight from the runner
	// (the API server's service proxy).
	ProbedVia       string           `json:"probed_via,omitempty"`
	StoryScale      float64          `json:"story_scale,omitempty"`
	Objectives      []Objective      `json:"objectives"`
	BusinessWindows []BusinessWindow `json:"business_windows,omitempty"`
	// Horizon is the score's span from the first change; zero in runs
	// recorded before it existed (their span is the whole run).
	Horizon Duration `json:"horizon,omitempty"`
	// Journeys are the probed endpoints ("frontend /items"), each with
	// whether it is critical: a critical journey down takes its service down.
	Journeys []Journey `json:"journeys,omitempty"`
	// KeepAlive is the share of probes sent on kept-alive connections.
	KeepAlive float64 `json:"keep_alive,omitempty"`
	// TimeLimit is a game's (gameday play); zero for a replay.
	TimeLimit Duration `json:"time_limit,omitempty"`
}

// Journey is one probed endpoint of a service.
type Journey struct {
	Name     string `json:"name"`
	Service  string `json:"service"`
	Critical bool   `json:"critical,omitempty"`
}

// Objective is a service's SLO: over any Window at least SuccessRatio of its
// probes succeed with a 95th-percentile latency of at most Latency.
type Objective struct {
	Service string `json:"service"`
	// Journey, when set, is the one path of the service it is measured on.
	Journey      string   `json:"journey,omitempty"`
	SuccessRatio float64  `json:"success_ratio"`
	Latency      Duration `json:"latency"`
	Window       Duration `json:"window"`
}

// Key is what an objective is measured on: its service, or one journey.
func (o Objective) Key() string {
	if o.Journey != "" {
		return o.Service + " " + o.Journey
	}
	return o.Service
}

// BusinessWindow is an interval, as offsets from the timeline's start, in
// which Service must meet its objective.
type BusinessWindow struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Service     string   `json:"service"`
	Start       Duration `json:"start"`
	End         Duration `json:"end"`
}

// Duration is a time.Duration written as a Go duration string ("10s").
type Duration time.Duration

// MarshalJSON writes "10s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "10s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// WriteMeta writes m as dir/run.json.
func WriteMeta(dir string, m Meta) error {
	m.Schema = MetaSchema
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, MetaFile), append(b, '\n'), 0o644)
}

// ReadMeta reads dir/run.json.
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	path := filepath.Join(dir, MetaFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	if m.Schema != MetaSchema {
		return m, fmt.Errorf("%s: schema %q, this gameday reads %q", path, m.Schema, MetaSchema)
	}
	return m, nil
}
