package reports

import (
	"path/filepath"
	"testing"

	goldenfile "gameday.dev/gameday/internal/golden"
)

// golden compares got with testdata/golden/name (rewritten with -update).
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Assert(t, filepath.Join("testdata", "golden", name), got)
}

// goldenReports are the reports every renderer's golden files show: the
// hand-worked one-outage timeline on shared, and a calmer one as the
// topology it is compared with.
func goldenReports(t *testing.T) (*Report, *Report) {
	t.Helper()
	m := meta()
	m.StoryScale = 60
	shared := build(t, oneOutage(), m)
	m.Topology = "separate"
	calm := newSynth().cluster().step(0, "control-plane-upgrade", "control-plane-upgrade", true).
		probes("frontend", -10, 60, func(sec int) outcome {
			if sec >= 20 && sec < 30 {
				return outcome{ok: true, degraded: true, latencyMs: 300}
			}
			return fine
		}).
		probes("api", -10, 60, failIn([2]int{20, 30})).run(60, "recover-start")
	return shared, build(t, calm, m)
}
