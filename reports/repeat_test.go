package reports

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gameday.dev/gameday/reports/reporttest"
)

func TestMedianIndex(t *testing.T) {
	for _, tc := range []struct {
		scores []float64
		want   int
	}{
		{nil, -1},
		{[]float64{42}, 0},
		{[]float64{69.9, 69.0, 72.2}, 0},       // 69.0 69.9 72.2
		{[]float64{69.0, 69.5, 69.9, 72.2}, 1}, // even: the lower middle, 69.5
		{[]float64{72.2, 69.9, 69.5, 69.0}, 2}, // the same, in another order
		{[]float64{50, 70, 50}, 2},             // ties keep run order: 50 (run 1), 50 (run 3), 70
		{[]float64{5, 1, 2, 3, 4}, 3},
	} {
		if got := MedianIndex(tc.scores); got != tc.want {
			t.Errorf("MedianIndex(%v) = %d, want %d", tc.scores, got, tc.want)
		}
	}
}

func TestNewRepeat(t *testing.T) {
	var rs []*Report
	for _, s := range []float64{69.9, 72.2, 69.0, 69.5} {
		rs = append(rs, &Report{Scenario: "separate-test", Topology: "separate", Score: s})
	}
	rp, m := NewRepeat([]string{"run-1", "run-2", "run-3", "run-4"}, rs)
	if m != 3 || rp.MedianRun != "run-4" || rp.Median != 69.5 || rp.Min != 69.0 || rp.Max != 72.2 {
		t.Errorf("median run %d %s, median %g, min %g, max %g; want run-4: 69.5, 69, 72.2", m, rp.MedianRun, rp.Median, rp.Min, rp.Max)
	}
	if len(rp.Runs) != 4 || rp.Runs[1] != (RepeatRun{Dir: "run-2", Score: 72.2}) || rp.Topology != "separate" || rp.ScoringVersion != ScoringVersion {
		t.Errorf("repeat %+v", rp)
	}
	dir := t.TempDir()
	if err := WriteRepeat(dir, rp); err != nil {
		t.Fatal(err)
	}
	back, err := ReadRepeat(dir)
	if err != nil || back.MedianRun != "run-4" || len(back.Runs) != 4 {
		t.Errorf("read back %+v, %v", back, err)
	}
	// A repeat.json naming folders outside its own is refused.
	rp.Runs[0].Dir = "../elsewhere"
	if err := WriteRepeat(dir, rp); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRepeat(dir); err == nil || !strings.Contains(err.Error(), "not a folder in") {
		t.Errorf("a run outside the folder: %v", err)
	}
}

// writeReport writes r as dir/report.json, as a past gameday would have.
func writeReport(t *testing.T, dir string, r *Report) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// A baseline folder that holds its timeline is scored again by today's code:
// the score its report.json claims is not what the gate compares.
func TestLoadBaselineScoresTheTimelineAgain(t *testing.T) {
	dir := reporttest.RecordedRun(t, t.TempDir(), "shared")
	want, err := FromRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	stale := *want
	stale.Score, stale.ScoringVersion = want.Score+20, ScoringVersion-1
	writeReport(t, dir, &stale)
	if r, _ := Load(dir); r == nil || r.Score != stale.Score {
		t.Fatalf("Load reads the stored report.json: %v", r)
	}
	for _, path := range []string{dir, filepath.Dir(dir)} { // the topology's folder, the run's folder
		rs, err := LoadBaseline(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].Score != want.Score || rs[0].ScoringVersion != ScoringVersion {
			t.Errorf("LoadBaseline(%s): score %g (version %d), want the timeline's %g (version %d)", path, rs[0].Score, rs[0].ScoringVersion, want.Score, ScoringVersion)
		}
	}
}

// A report.json alone is a baseline only if this scoring version computed it.
func TestLoadBaselineReportOfAnotherScoringVersion(t *testing.T) {
	dir := t.TempDir()
	r := &Report{Schema: Schema, Scenario: "cascading-outage", Topology: "shared", Score: 70}
	for version, by := range map[int]string{0: "an older gameday (no scoring version)", ScoringVersion - 1: fmt.Sprintf("scoring version %d", ScoringVersion-1), ScoringVersion + 1: fmt.Sprintf("scoring version %d", ScoringVersion+1)} {
		r.ScoringVersion = version
		writeReport(t, dir, r)
		path := filepath.Join(dir, JSONFile)
		_, err := LoadBaseline(path)
		if err == nil || !strings.Contains(err.Error(), path+" was scored by "+by) || !strings.Contains(err.Error(), "pass the run's folder") {
			t.Errorf("version %d: %v", version, err)
		}
		if _, err := LoadBaseline(dir); err == nil || !strings.Contains(err.Error(), "was scored by "+by) {
			t.Errorf("version %d, its folder: %v", version, err)
		}
	}
	r.ScoringVersion = ScoringVersion
	writeReport(t, dir, r)
	if rs, err := LoadBaseline(filepath.Join(dir, JSONFile)); err != nil || rs[0].Score != 70 {
		t.Errorf("this version's report.json: %v", err)
	}
}

// Repeated runs as a baseline: each run scored again from its timeline and
// the median one taken, whatever repeat.json recorded.
func TestLoadBaselineOfRepeatedRuns(t *testing.T) {
	out := t.TempDir()
	topo := filepath.Join(out, "separate")
	reporttest.RecordedRunAt(t, filepath.Join(topo, "run-1"), "shared")
	reporttest.RecordedRunAt(t, filepath.Join(topo, "run-2"), "separate")
	reporttest.RecordedRunAt(t, filepath.Join(topo, "run-3"), "separate")
	sep, err := FromRun(filepath.Join(topo, "run-2"))
	if err != nil {
		t.Fatal(err)
	}
	// Scores of another version of the score make run-1 the median.
	rp := Repeat{Schema: RepeatSchema, ScoringVersion: ScoringVersion - 1, MedianRun: "run-1",
		Runs: []RepeatRun{{"run-1", 50}, {"run-2", 10}, {"run-3", 90}}}
	if err := WriteRepeat(topo, rp); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{topo, out} {
		rs, err := LoadBaseline(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(rs) != 1 || rs[0].Topology != "separate" || rs[0].Score != sep.Score {
			t.Errorf("LoadBaseline(%s): %s %g, want the median of today's scores, separate's %g", path, rs[0].Topology, rs[0].Score, sep.Score)
		}
	}
	// report show of the folder shows the median run repeat.json names.
	if r, err := Load(topo); err != nil || r.Topology != "shared" {
		t.Errorf("Load of repeated runs: %v, want run-1's report", err)
	}
	if !IsRunFolder(out) || IsRunFolder(topo) {
		t.Errorf("IsRunFolder: %v for the run, %v for its topology", IsRunFolder(out), IsRunFolder(topo))
	}
}
