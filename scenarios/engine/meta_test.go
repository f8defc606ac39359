package engine

import (
	"testing"

	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/timeline"
)

// run.json carries what a gate compares: the scenario file's digest and the
// scoring version, next to the objectives.
func TestMetaForCarriesDigestAndScoringVersion(t *testing.T) {
	s, _, err := scenarios.Resolve("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := timeline.WriteMeta(dir, MetaFor(s, "shared", "gd-shared")); err != nil {
		t.Fatal(err)
	}
	m, err := timeline.ReadMeta(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.ScenarioDigest == "" || m.ScenarioDigest != s.Digest {
		t.Errorf("digest %q, want the scenario's %q", m.ScenarioDigest, s.Digest)
	}
	if m.ScoringVersion != reports.ScoringVersion {
		t.Errorf("scoring version %d, want %d", m.ScoringVersion, reports.ScoringVersion)
	}
	if len(m.Objectives) != len(s.Objectives) {
		t.Errorf("%d objectives, want %d", len(m.Objectives), len(s.Objectives))
	}
}
