package run

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/reports/reporttest"
	"gameday.dev/gameday/scenarios"
	"gameday.dev/gameday/scenarios/engine"
	"gameday.dev/gameday/scenarios/timeline"
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
	if err := finish(g, out, results, 1, nil); err != nil {
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
	err = finish(g, out, results, 1, b)
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
	if err := finish(g, out, results, 1, b); err != nil {
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

// A baseline folder that holds its timeline is scored again: the score its
// report.json claims (another scoring version's, or edited) is not gated.
func TestBaselineFolderIsScoredAgain(t *testing.T) {
	out, results := recorded(t)
	sep := filepath.Join(out, "separate")
	os.WriteFile(filepath.Join(sep, reports.JSONFile), []byte(`{"schema":"`+reports.Schema+`","scenario":"cascading-outage","topology":"separate","score":99.9}`), 0o644)
	for _, path := range []string{sep, out} { // the topology's folder, the run's folder
		b, err := loadBaseline(path, 10)
		if err != nil {
			t.Fatal(err)
		}
		g, stdout := globals()
		if err := finish(g, out, results[1:], 1, b); err != nil {
			t.Errorf("%s: separate against its own timeline: %v", path, err)
		}
		// Today's score of the timeline, on both sides; not the 99.9 claimed.
		today, err := reports.FromRun(sep)
		if err != nil {
			t.Fatal(err)
		}
		sc := reports.ScoreText(today.Score)
		if want := "gate separate: PASS (score " + sc + ", baseline " + sc + " on separate"; sc == "99.9" || !strings.Contains(stdout.String(), want) {
			t.Errorf("%s: stdout lacks %q:\n%s", path, want, stdout)
		}
	}
}

// A report.json alone, of another scoring version or none, is refused.
func TestBaselineReportOfAnotherScoringVersion(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, reports.JSONFile)
	os.WriteFile(path, []byte(`{"schema":"`+reports.Schema+`","scenario":"cascading-outage","topology":"separate","score":69.9}`), 0o644)
	_, err := loadBaseline(path, 5)
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "was scored by an older gameday") || strings.Contains(err.Error(), "\n") {
		t.Errorf("report.json without a scoring version: %v (exit %d), want one line, exit 2", err, cli.ExitCode(err))
	}
}

// scenario loads a scenario for the checks of a baseline's scenario.
func scenario(t *testing.T, arg string) *scenarios.Scenario {
	t.Helper()
	s, _, err := scenarios.Resolve(arg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBaselineOfAnotherScenario(t *testing.T) {
	out, _ := recorded(t) // cascading-outage, recorded before digests
	b, err := loadBaseline(out, 5)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.sameScenario(scenario(t, "cascading-outage")); err != nil {
		t.Errorf("same scenario, no digest recorded: %v", err)
	}
	err = b.sameScenario(scenario(t, "../../../scenarios/testdata/scenario/valid-minimal.yaml"))
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "is a run of scenario cascading-outage, this run is of scenario minimal") ||
		!strings.Contains(err.Error(), "--allow-other-scenario") || strings.Contains(err.Error(), "\n") {
		t.Errorf("another scenario: %v (exit %d), want one line naming both, exit 2", err, cli.ExitCode(err))
	}

	// With a digest, another version of the file is another scenario.
	builtin := scenario(t, "cascading-outage")
	for _, topo := range []string{"shared", "separate"} {
		dir := filepath.Join(out, topo)
		m, err := timeline.ReadMeta(dir)
		if err != nil {
			t.Fatal(err)
		}
		m.ScenarioDigest = builtin.Digest
		if err := timeline.WriteMeta(dir, m); err != nil {
			t.Fatal(err)
		}
	}
	if b, err = loadBaseline(out, 5); err != nil {
		t.Fatal(err)
	}
	if err := b.sameScenario(builtin); err != nil {
		t.Errorf("same file: %v", err)
	}
	_, data, _ := scenarios.Resolve("cascading-outage")
	edited := filepath.Join(t.TempDir(), "cascading-outage.yaml")
	os.WriteFile(edited, append(data, []byte("# objectives loosened\n")...), 0o644)
	err = b.sameScenario(scenario(t, edited))
	if cli.ExitCode(err) != cli.ExitUsage || !strings.Contains(err.Error(), "is a run of another version of scenario cascading-outage") {
		t.Errorf("another version of the file: %v (exit %d), want exit 2", err, cli.ExitCode(err))
	}
}

// --repeat: each topology's runs in run-<i>, repeat.json with every score,
// the median and the spread; the summary, the text and the gate take the
// median run.
func TestFinishRepeat(t *testing.T) {
	out := t.TempDir()
	var results []*engine.Result
	for i, rec := range []string{"separate", "shared", "separate"} { // 69.9, 50.3, 69.9
		dir := reporttest.RecordedRunAt(t, filepath.Join(out, "separate", runDir(i+1)), rec)
		results = append(results, &engine.Result{Topology: "separate", Timeline: filepath.Join(dir, "timeline.jsonl")})
	}
	g, stdout := globals()
	if err := finish(g, out, results, 3, nil); err != nil {
		t.Fatal(err)
	}
	rp, err := reports.ReadRepeat(filepath.Join(out, "separate"))
	if err != nil {
		t.Fatal(err)
	}
	// The recorded runs score 70 (separate) and 50.3 (shared) today.
	if rp.MedianRun != "run-1" || rp.Median != 70 || rp.Min != 50.3 || rp.Max != 70 || len(rp.Runs) != 3 || rp.Runs[1].Score != 50.3 {
		t.Errorf("repeat.json: %+v", rp)
	}
	for _, want := range []string{"separate: the median of 3 scored runs is run-1's (70; lowest 50.3, highest 70)",
		"TOPOLOGY  RESULT     MEDIAN  MIN   MAX  SCORES      REPORT",
		"separate  completed  70      50.3  70   70 50.3 70  " + filepath.Join(out, "separate", "run-1", reports.HTMLFile)} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Count(stdout.String(), "cascading-outage on ") != 1 {
		t.Errorf("want the median run's report only:\n%s", stdout)
	}
	// The folder is a baseline: its median run, each scored again.
	b, err := loadBaseline(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	g, stdout = globals()
	if err := finish(g, out, results, 3, b); err != nil || !strings.Contains(stdout.String(), "gate separate: PASS (score 70, baseline 70") {
		t.Errorf("gate against itself: %v\n%s", err, stdout)
	}
	// A run stopped by a failure says which.
	results[2].Failed = true
	g, stdout = globals()
	finish(g, out, results, 4, nil)
	if !strings.Contains(stdout.String(), "separate  run 3 failed (below)") {
		t.Errorf("a failed run:\n%s", stdout)
	}
}

// A baseline measured another way (an existing cluster, probes through the
// API server) is said to be, beside the gate's verdict.
func TestGateSaysNotMeasuredAlike(t *testing.T) {
	out, results := recorded(t)
	g, stdout := globals()
	b, err := loadBaseline(out, 0)
	if err != nil {
		t.Fatal(err)
	}
	b.byTopo["shared"].Backend, b.byTopo["shared"].ProbedVia = "kubeconfig", "the API server's service proxy"
	_ = finish(g, out, results, 1, b)
	want := "gate shared: not measured alike: the baseline ran on backend kubeconfig, probed through the API server's service proxy, this run ran on backend kind, probed straight from the runner"
	if !strings.Contains(stdout.String(), want) {
		t.Errorf("stdout lacks %q:\n%s", want, stdout)
	}
	if strings.Contains(stdout.String(), "gate separate: not measured alike") {
		t.Errorf("separate was measured alike:\n%s", stdout)
	}
}
