package reports

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gameday.dev/gameday/reports/reporttest"
	"gameday.dev/gameday/scenarios/timeline"
)

// recorded reads a timeline recorded by `gameday run cascading-outage` on
// kind (testdata/runs/<topology>: run.json and the gzipped timeline).
func recorded(tb testing.TB, topology string) (timeline.Meta, []timeline.Entry) {
	tb.Helper()
	dir := filepath.Join("testdata", "runs", topology)
	m, err := timeline.ReadMeta(dir)
	if err != nil {
		tb.Fatal(err)
	}
	f, err := os.Open(filepath.Join(dir, "timeline.jsonl.gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		tb.Fatal(err)
	}
	es, err := timeline.Read(zr)
	if err != nil {
		tb.Fatal(err)
	}
	return m, es
}

// recordedReports are the reports of the recorded runs: shared, separate.
func recordedReports(t *testing.T) []*Report {
	t.Helper()
	var rs []*Report
	for _, topo := range []string{"shared", "separate"} {
		m, es := recorded(t, topo)
		r, err := Build(m, es)
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	return rs
}

// TestRecordedCascadingOutage scores the recorded replay of the seed on both
// topologies: shared must score lower, with the wider blast radius, and the
// words must say why.
func TestRecordedCascadingOutage(t *testing.T) {
	rs := recordedReports(t)
	shared, separate := rs[0], rs[1]
	if !(shared.Score < separate.Score) {
		t.Errorf("shared %v, separate %v: shared must score lower", shared.Score, separate.Score)
	}
	sb, pb := shared.BlastRadius, separate.BlastRadius
	if !(sb.RequestsFailedShare > pb.RequestsFailedShare && sb.NodesLost > pb.NodesLost && sb.PoolsShare > pb.PoolsShare && sb.PodsDisrupted > pb.PodsDisrupted) {
		t.Errorf("blast radius: shared %+v, separate %+v", sb, pb)
	}
	why := strings.Join(shared.Explanation, "\n")
	if !strings.Contains(why, "The frontend was down") || !strings.Contains(why, "it shared pool `app` with the crash-looping workers") {
		t.Errorf("shared's explanation does not say why:\n%s", why)
	}
	if !strings.Contains(strings.Join(separate.Explanation, "\n"), "The frontend stayed up (0 s down; pool `frontend` untouched)") {
		t.Errorf("separate's explanation:\n%s", strings.Join(separate.Explanation, "\n"))
	}
	cmpWhy := strings.Join(Compare(rs).Explanation, "\n")
	if !strings.Contains(cmpWhy, "On `shared` the frontend was down") || !strings.Contains(cmpWhy, "on `separate` it stayed up") {
		t.Errorf("comparison:\n%s", cmpWhy)
	}
	// The control-plane upgrade heads the changes in flight on both.
	for _, r := range rs {
		if len(r.ChangesInFlight) == 0 || !r.ChangesInFlight[0].ControlPlane {
			t.Errorf("%s: changes in flight %+v", r.Topology, r.ChangesInFlight)
		}
	}
}

// BenchmarkScoreAndRender: score one recorded run (9657 timeline entries)
// and render every format, as `gameday run` does after each topology.
func BenchmarkScoreAndRender(b *testing.B) {
	m, es := recorded(b, "shared")
	b.ReportAllocs()
	for b.Loop() {
		r, err := Build(m, es)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range Formats {
			if err := Write(io.Discard, f, r); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkFromRunFolder: what `gameday report show` does with a run's
// folder: read and decode timeline.jsonl (1.6 MB), score, render every format.
func BenchmarkFromRunFolder(b *testing.B) {
	dir := reporttest.RecordedRun(b, b.TempDir(), "shared")
	for b.Loop() {
		r, err := FromRun(dir)
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range Formats {
			if err := Write(io.Discard, f, r); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkScore is the scoring alone.
func BenchmarkScore(b *testing.B) {
	m, es := recorded(b, "shared")
	for b.Loop() {
		if _, err := Build(m, es); err != nil {
			b.Fatal(err)
		}
	}
}

// A report says which scenario file ran (from run.json) and which version
// of the score computed it: today's, whatever gameday recorded the run. A
// run.json from before digests (the recorded runs) leaves the digest unknown.
func TestReportCarriesDigestAndScoringVersion(t *testing.T) {
	m, es := recorded(t, "shared")
	r, err := Build(m, es)
	if err != nil {
		t.Fatal(err)
	}
	if r.ScenarioDigest != "" || r.ScoringVersion != ScoringVersion {
		t.Errorf("old run.json: digest %q, scoring version %d; want none and %d", r.ScenarioDigest, r.ScoringVersion, ScoringVersion)
	}
	m.ScenarioDigest, m.ScoringVersion = "sha256:abc", ScoringVersion-1
	if r, err = Build(m, es); err != nil || r.ScenarioDigest != "sha256:abc" || r.ScoringVersion != ScoringVersion {
		t.Errorf("digest %q, scoring version %d (%v); want sha256:abc and %d", r.ScenarioDigest, r.ScoringVersion, err, ScoringVersion)
	}
}
