package run

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports/reporttest"
	"gameday.dev/gameday/scenarios/engine"
)

// recorded lays out both recorded runs as one `gameday run --out DIR`.
func recorded(t *testing.T) (string, []*engine.Result) {
	out := t.TempDir()
	var results []*engine.Result
	for _, topo := range []string{"shared", "separate"} {
		dir := reporttest.RecordedRun(t, out, topo)
		results = append(results, &engine.Result{Topology: topo, Timeline: filepath.Join(dir, "timeline.jsonl")})
	}
	return out, results
}

func globals() (*cli.Globals, *bytes.Buffer) {
	var out bytes.Buffer
	return &cli.Globals{Streams: cli.IOStreams{Out: &out, ErrOut: &bytes.Buffer{}}}, &out
}

func TestFinishWritesReportsAndComparison(t *testing.T) {
	out, results := recorded(t)
	g, stdout := globals()
	if err := finish(g, out, results, nil); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"shared/report.json", "shared/report.md", "shared/report.html", "shared/junit.xml",
		"separate/report.json", "separate/report.html", "compare.md", "compare.html"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, want := range []string{"cascading-outage on shared: score", "cascading-outage on separate: score",
		"On `shared` the frontend was down", "TOPOLOGY  RESULT     SCORE", filepath.Join(out, "shared", "report.html")} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
}

func TestFinishGate(t *testing.T) {
	out, results := recorded(t)
	// Each topology against separate's report: shared regresses (exit 3).
	g, stdout := globals()
	b, err := loadBaseline(filepath.Join(out, "separate"), 10)
	if err != nil {
		t.Fatal(err)
	}
	err = finish(g, out, results, b)
	if cli.ExitCode(err) != cli.ExitObjectives || !strings.Contains(err.Error(), "shared: score dropped") {
		t.Fatalf("err %v (exit %d), want exit 3 for shared's drop", err, cli.ExitCode(err))
	}
	if !strings.Contains(stdout.String(), "gate shared: FAIL") || !strings.Contains(stdout.String(), "gate separate: PASS") {
		t.Errorf("stdout:\n%s", stdout)
	}
	// A run folder as the baseline: each topology against its own, no regression.
	g, _ = globals()
	b, err = loadBaseline(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := finish(g, out, results, b); err != nil {
		t.Errorf("each topology against itself: %v", err)
	}
}

// A run folder holding one topology gates only that topology.
func TestBaselineRunFolderOfOneTopology(t *testing.T) {
	dir := t.TempDir()
	reporttest.RecordedRun(t, dir, "shared")
	b, err := loadBaseline(dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	if b.baselineFor("shared") == nil || b.baselineFor("separate") != nil {
		t.Errorf("baseline for shared %v, for separate %v: want shared's only", b.baselineFor("shared") != nil, b.baselineFor("separate") != nil)
	}
}

func TestBaselineBadInput(t *testing.T) {
	if _, err := loadBaseline(filepath.Join(t.TempDir(), "nope.json"), 5); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("missing baseline: %v (exit %d), want exit 2", err, cli.ExitCode(err))
	}
	bad := filepath.Join(t.TempDir(), "report.json")
	os.WriteFile(bad, []byte(`{"schema":"something/else"}`), 0o644)
	if _, err := loadBaseline(bad, 5); cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "report schema") {
		t.Errorf("not a report: %v", err)
	}
	if _, err := loadBaseline(bad, -1); cli.ExitCode(err) != cli.ExitUsage {
		t.Errorf("negative --max-regression: %v", err)
	}
}
