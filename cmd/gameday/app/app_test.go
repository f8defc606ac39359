package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gameday.dev/gameday/internal/cli"
	"gameday.dev/gameday/internal/golden"
	"gameday.dev/gameday/play"
	"gameday.dev/gameday/reports/reporttest"
)

func run(t *testing.T, args ...string) (stdout, stderr string, code int, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = Run(context.Background(), cli.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}, args)
	return out.String(), errOut.String(), ExitCode(err), err
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: gameday.dev/v1alpha1\nkind: Topology\nname: t\npools:\n- name: app\n  size: -1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("GAMEDAY_HOME", dir)
	recorded := reporttest.RecordedRun(t, t.TempDir(), "separate")
	scen := "../../../scenarios/testdata/scenario/"
	oldReport := filepath.Join(t.TempDir(), "report.json") // a report.json of before scoring versions, without its timeline
	if err := os.WriteFile(oldReport, []byte(`{"schema":"gameday.dev/report/v1","scenario":"cascading-outage","topology":"separate","score":69.9}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		code    int
		errHas  string
		stdoHas string
	}{
		{name: "help", args: []string{"--help"}, code: 0, stdoHas: "gameday cluster up --topology shared"},
		{name: "no args shows help", args: nil, code: 0, stdoHas: "Available Commands"},
		{name: "cluster up help has examples", args: []string{"cluster", "up", "--help"}, code: 0, stdoHas: "--dry-run"},
		{name: "version", args: []string{"version"}, code: 0, stdoHas: "gameday dev"},
		{name: "unknown command", args: []string{"explode"}, code: 2, errHas: `unknown command "explode"`},
		{name: "unknown subcommand", args: []string{"cluster", "explode"}, code: 2, errHas: `unknown command "explode" for "gameday cluster"`},
		{name: "unknown flag", args: []string{"cluster", "up", "--nodes", "3"}, code: 2, errHas: "unknown flag: --nodes"},
		{name: "bad flag value", args: []string{"cluster", "up", "--wait", "soon"}, code: 2, errHas: "invalid argument"},
		{name: "bad output format", args: []string{"cluster", "status", "-o", "xml"}, code: 2, errHas: `unknown output format "xml"`},
		{name: "extra argument", args: []string{"cluster", "down", "mycluster"}, code: 2, errHas: "takes no arguments"},
		{name: "unknown topology", args: []string{"cluster", "up", "--topology", "mesh", "--dry-run"}, code: 2, errHas: `unknown topology "mesh"`},
		{name: "missing topology file", args: []string{"cluster", "up", "--topology", "./nope.yaml", "--dry-run"}, code: 2, errHas: "nope.yaml"},
		{name: "invalid topology file", args: []string{"cluster", "up", "--topology", bad, "--dry-run"}, code: 2, errHas: bad + ":6: pools[0].size: Invalid value: -1"},
		{name: "invalid name", args: []string{"cluster", "up", "--name", "Bad_Name", "--dry-run"}, code: 2, errHas: `invalid cluster name "Bad_Name"`},
		{name: "name too long", args: []string{"cluster", "status", "--name", strings.Repeat("a", 41)}, code: 2, errHas: "at most 40 characters"},
		{name: "unknown doctor check", args: []string{"doctor", "--only", "vibes"}, code: 2, errHas: `unknown check "vibes"`},
		{name: "dry run", args: []string{"cluster", "up", "--dry-run"}, code: 0, stdoHas: "nothing is created"},
		{name: "not a tier name", args: []string{"fixtures", "release", "Data_base", "v2"}, code: 2, errHas: `unknown tier "Data_base": a lowercase RFC 1123 label`},
		{name: "unknown release", args: []string{"fixtures", "release", "workers", "v3"}, code: 2, errHas: `unknown release "v3"`},
		{name: "release without version", args: []string{"fixtures", "release", "workers"}, code: 2, errHas: "takes TIER and VERSION"},
		{name: "replicas out of range", args: []string{"fixtures", "deploy", "--replicas", "api=0"}, code: 2, errHas: "api=0: must be between 1 and 10"},
		{name: "replicas of an unknown tier", args: []string{"up", "--replicas", "web=2"}, code: 2, errHas: `unknown tier "web"`},
		{name: "up with a bad release", args: []string{"up", "--release", "workers=v9"}, code: 2, errHas: `unknown release "v9"`},
		{name: "run help has examples", args: []string{"run", "--help"}, code: 0, stdoHas: "gameday run cascading-outage --dry-run"},
		{name: "unknown scenario", args: []string{"run", "outage-of-the-century", "--dry-run"}, code: 2, errHas: `unknown scenario "outage-of-the-century"`},
		{name: "missing scenario file", args: []string{"run", "./nope.yaml", "--dry-run"}, code: 2, errHas: "nope.yaml"},
		{name: "scenario with an unknown step", args: []string{"run", scen + "invalid-unknown-step.yaml", "--dry-run"}, code: 2, errHas: scen + `invalid-unknown-step.yaml:6: timeline[0].action: Unsupported value: "explode"`},
		{name: "scenario with an unknown pool", args: []string{"run", scen + "invalid-unknown-pool.yaml", "--dry-run"}, code: 2, errHas: `invalid-unknown-pool.yaml:7: timeline[0].target.pool: Invalid value: "gpu"`},
		{name: "scenario with an unknown tier", args: []string{"run", scen + "invalid-unknown-tier.yaml"}, code: 2, errHas: `invalid-unknown-tier.yaml:7: timeline[0].target.tier: Unsupported value: "database"`},
		{name: "scenario with a negative duration", args: []string{"run", scen + "invalid-wait-negative.yaml"}, code: 2, errHas: `invalid-wait-negative.yaml:7: timeline[0].duration: Invalid value: "-10s"`},
		{name: "scenario with steps out of order", args: []string{"run", scen + "invalid-out-of-order.yaml"}, code: 2, errHas: `invalid-out-of-order.yaml:11: timeline[1].at: Invalid value: "10s": steps out of order`},
		{name: "run on a topology the scenario lacks", args: []string{"run", "cascading-outage", "--topology", "mesh", "--dry-run"}, code: 2, errHas: `does not run on topology "mesh"`},
		{name: "run with a bad cluster name", args: []string{"run", "cascading-outage", "--name", "Bad_Name"}, code: 2, errHas: `invalid cluster name "Bad_Name-shared"`},
		{name: "scenarios list", args: []string{"scenarios", "list"}, code: 0, stdoHas: "cascading-outage  shared,separate"},
		{name: "scenarios validate", args: []string{"scenarios", "validate", "cascading-outage"}, code: 0, stdoHas: "cascading-outage: valid (8 steps"},
		{name: "scenarios validate a bad file", args: []string{"scenarios", "validate", scen + "invalid-mode.yaml"}, code: 2, errHas: `invalid-mode.yaml:7: timeline[0].target.mode: Unsupported value: "some"`},
		{name: "scenarios show", args: []string{"scenarios", "show", "cascading-outage"}, code: 0, stdoHas: "kind: Scenario"},
		{name: "report show of nothing", args: []string{"report", "show", filepath.Join(dir, "no-run")}, code: 2, errHas: "no run at"},
		{name: "report show of a folder without runs", args: []string{"report", "show", dir}, code: 2, errHas: "holds no run"},
		{name: "report show in an unknown format", args: []string{"report", "show", "-o", "pdf", dir}, code: 2, errHas: `unknown format "pdf"`},
		{name: "report compare needs two", args: []string{"report", "compare", recorded}, code: 2, errHas: "at least two reports"},
		{name: "report show of a recorded run", args: []string{"report", "show", recorded}, code: 0, stdoHas: "cascading-outage on separate: score"},
		{name: "report schema", args: []string{"report", "schema"}, code: 0, stdoHas: `"$id": "https://gameday.dev/schemas/report-v1.json"`},
		{name: "report help has examples", args: []string{"report", "compare", "--help"}, code: 0, stdoHas: "gameday report compare out/shared out/separate"},
		{name: "run with a missing baseline", args: []string{"run", "cascading-outage", "--baseline", filepath.Join(dir, "nope.json")}, code: 2, errHas: "--baseline: no run at"},
		{name: "dry run checks the baseline too", args: []string{"run", "cascading-outage", "--dry-run", "--baseline", filepath.Join(dir, "nope.json")}, code: 2, errHas: "--baseline: no run at"},
		{name: "run with a negative max regression", args: []string{"run", "cascading-outage", "--dry-run", "--baseline", recorded, "--max-regression", "-1"}, code: 2, errHas: "must be 0 or more points"},
		{name: "scenarios schema", args: []string{"scenarios", "schema"}, code: 0, stdoHas: `"$id": "https://gameday.dev/schemas/scenario-v1alpha1.json"`},
		{name: "run help shows --repeat", args: []string{"run", "--help"}, code: 0, stdoHas: "--repeat 3 --out out"},
		{name: "run with --repeat 0", args: []string{"run", "cascading-outage", "--dry-run", "--repeat", "0"}, code: 2, errHas: "--repeat 0: each topology needs 1 run or more"},
		{name: "run with a negative --repeat", args: []string{"run", "cascading-outage", "--dry-run", "--repeat", "-2"}, code: 2, errHas: "--repeat -2"},
		{name: "run with --retain and --repeat", args: []string{"run", "cascading-outage", "--dry-run", "--repeat", "2", "--retain"}, code: 2, errHas: "use --retain with --repeat 1"},
		{name: "run against a baseline of another scenario", args: []string{"run", scen + "valid-minimal.yaml", "--dry-run", "--baseline", recorded}, code: 2,
			errHas: "is a run of scenario cascading-outage, this run is of scenario minimal"},
		{name: "run against a baseline of another scenario, allowed", args: []string{"run", scen + "valid-minimal.yaml", "--dry-run", "--baseline", recorded, "--allow-other-scenario"}, code: 0},
		{name: "run against a baseline of its own scenario", args: []string{"run", "cascading-outage", "--dry-run", "--baseline", recorded}, code: 0},
		{name: "run against a report.json of an older score", args: []string{"run", "cascading-outage", "--dry-run", "--baseline", oldReport}, code: 2,
			errHas: oldReport + " was scored by an older gameday (no scoring version)"},
		{name: "play help has examples", args: []string{"play", "--help"}, code: 0, stdoHas: "--players ana=developer,ben=ios-developer,chloe"},
		{name: "play without players", args: []string{"play", "cascading-outage"}, code: 2, errHas: "a game needs players"},
		{name: "play with a player name that is no DNS label", args: []string{"play", "cascading-outage", "--players", "Ana_B"}, code: 2, errHas: `invalid player name`},
		{name: "play with a reserved player name", args: []string{"play", "cascading-outage", "--players", "ana,admin"}, code: 2, errHas: `"admin"`},
		{name: "play with a role the scenario lacks", args: []string{"play", "cascading-outage", "--players", "ana=boss"}, code: 2, errHas: `has no role "boss" (it has developer, ios-developer, on-call)`},
		{name: "play with the same player twice", args: []string{"play", "cascading-outage", "--players", "ana,ana"}, code: 2, errHas: "ana"},
		{name: "play a scenario with nothing to play", args: []string{"play", scen + "valid-minimal.yaml", "--players", "ana"}, code: 2, errHas: "nothing to play: scenario minimal has no operator step"},
		{name: "play on a topology the scenario lacks", args: []string{"play", "cascading-outage", "--players", "ana", "--topology", "mesh"}, code: 2, errHas: `does not run on topology "mesh"`},
		{name: "play with a par that is not there", args: []string{"play", "cascading-outage", "--players", "ana", "--par", filepath.Join(dir, "nope")}, code: 2, errHas: "--par"},
		{name: "play end of no game", args: []string{"play", "end", "--name", "no-game"}, code: 2, errHas: `no game is being played on cluster "no-game"`},
		{name: "console without a kit", args: []string{"console", "nodegroups", "--kit", dir}, code: 2, errHas: "no console kit at"},
		{name: "console create without a version", args: []string{"console", "nodegroup", "create", "x", "--kit", dir}, code: 2, errHas: "needs --version"},
		// An existing cluster's flags, refused before any cluster is asked.
		{name: "run --image-repo without --context", args: []string{"run", "cascading-outage", "--image-repo", "registry.example/gameday"}, code: 2, errHas: "--image-repo is for a run on an existing cluster"},
		{name: "run --image-repo with a tag", args: []string{"run", "cascading-outage", "--context", "staging", "--kubeconfig", filepath.Join(dir, "nope"), "--image-repo", "registry.example/gameday:v1", "--yes"}, code: 2, errHas: "--image-repo"},
		{name: "run --service-url not http", args: []string{"run", "cascading-outage", "--context", "staging", "--kubeconfig", filepath.Join(dir, "nope"), "--service-url", "frontend=ftp://x,api=http://y", "--yes"}, code: 2, errHas: "not an http(s) URL"},
		{name: "run --service-url for one service of two", args: []string{"run", "cascading-outage", "--context", "staging", "--kubeconfig", filepath.Join(dir, "nope"), "--service-url", "frontend=http://x", "--yes"}, code: 2, errHas: "give --service-url api=URL too"},
		{name: "run --context with a kubeconfig that is not there", args: []string{"run", "cascading-outage", "--context", "staging", "--kubeconfig", filepath.Join(dir, "nope"), "--yes"}, code: 2, errHas: "nope"},
		{name: "stop without a context", args: []string{"stop"}, code: 2, errHas: "context"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, _, code, err := run(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit code %d, want %d (err: %v)", code, tc.code, err)
			}
			if tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)) {
				t.Errorf("error %v, want it to contain %q", err, tc.errHas)
			}
			if !strings.Contains(stdout, tc.stdoHas) {
				t.Errorf("stdout lacks %q:\n%s", tc.stdoHas, stdout)
			}
		})
	}
}

func TestExitCodeMapping(t *testing.T) {
	if got := ExitCode(context.Canceled); got != 130 {
		t.Errorf("interrupt: %d, want 130", got)
	}
	if got := ExitCode(errors.New("boom")); got != 1 {
		t.Errorf("plain error: %d, want 1", got)
	}
	if got := ExitCode(cli.WithCode(cli.ExitObjectives, errors.New("objective failed"))); got != 3 {
		t.Errorf("objectives: %d, want 3", got)
	}
}

func TestDryRunGolden(t *testing.T) {
	for _, topo := range []string{"shared", "separate", "../../../cluster/testdata/topology/valid-three-tier.yaml"} {
		t.Run(filepath.Base(topo), func(t *testing.T) {
			stdout, _, code, err := run(t, "cluster", "up", "--dry-run", "--topology", topo, "--image", "example/node:v1")
			if code != 0 {
				t.Fatalf("exit %d: %v", code, err)
			}
			name := strings.TrimSuffix(filepath.Base(topo), ".yaml")
			golden.Assert(t, "testdata/dry-run-"+name+".golden", []byte(stdout))
		})
	}
}

// The plan of the seed scenario on both topologies, as `gameday run --dry-run` prints it.
func TestRunDryRunGolden(t *testing.T) {
	stdout, _, code, err := run(t, "run", "cascading-outage", "--dry-run")
	if code != 0 {
		t.Fatalf("exit %d: %v", code, err)
	}
	golden.Assert(t, "testdata/run-dry-run-cascading-outage.golden", []byte(stdout))
}

// With no Docker daemon, commands that need one fail with exit code 1 and a
// one-line error that says what to run. DOCKER_HOST points at nothing here;
// where no docker CLI is installed the same error says so.
func TestDockerUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	t.Setenv("GAMEDAY_HOME", t.TempDir())
	for _, args := range [][]string{{"cluster", "up"}, {"cluster", "list"}, {"cluster", "status"}, {"cluster", "down"}} {
		_, _, code, err := run(t, append(args, "-q")...)
		if code != 1 || err == nil || !strings.Contains(err.Error(), "docker is not reachable") || !strings.Contains(err.Error(), "setup-docker.sh") {
			t.Errorf("%v: exit %d, err %v", args, code, err)
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: error is not one line: %q", args, err)
		}
	}
	stdout, _, code, _ := run(t, "doctor")
	if code != 1 || !strings.Contains(stdout, "✗  docker") || !strings.Contains(stdout, "to fix docker: sudo hack/setup-docker.sh") {
		t.Errorf("doctor: exit %d:\n%s", code, stdout)
	}
}

// Bad input to the gate is refused before anything exists: no cluster (no
// Docker daemon is reachable here, so trying would exit 1), no folder.
func TestRunRefusesBadGateInputFirst(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
	t.Setenv("GAMEDAY_HOME", t.TempDir())
	recorded := reporttest.RecordedRun(t, t.TempDir(), "separate")
	for _, tc := range []struct {
		args   []string
		errHas string
	}{
		{[]string{"cascading-outage", "--repeat", "0"}, "--repeat 0"},
		{[]string{"../../../scenarios/testdata/scenario/valid-minimal.yaml", "--baseline", recorded}, "this run is of scenario minimal"},
	} {
		out := filepath.Join(t.TempDir(), "out")
		_, _, code, err := run(t, append([]string{"run", "--out", out}, tc.args...)...)
		if code != 2 || err == nil || !strings.Contains(err.Error(), tc.errHas) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: exit %d, err %v; want one line with %q, exit 2", tc.args, code, err, tc.errHas)
		}
		if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%v: %s exists (%v)", tc.args, out, err)
		}
	}
}

// stubProvider is a provider with one node group and nothing behind it.
type stubProvider struct{}

func (stubProvider) ControlPlaneVersion(context.Context) (string, error) { return "v1.38.0", nil }
func (stubProvider) NodeGroups(context.Context) ([]play.NodeGroup, error) {
	return []play.NodeGroup{{Name: "app", Version: "v1.37.2", Size: 2, Desired: 2, Status: play.StatusActive}}, nil
}
func (stubProvider) Provision(context.Context, string, string) (play.NodeGroup, error) {
	return play.NodeGroup{}, errors.New("no capacity")
}
func (stubProvider) Retire(context.Context, string) error { return nil }

// `gameday console` against a console: a player's token works; a wrong
// token, or a node group that does not exist, is refused in one line, exit 2,
// and changes nothing.
func TestConsoleClient(t *testing.T) {
	c, tokens, err := play.NewConsole("shop", stubProvider{}, []string{"ana"})
	if err != nil {
		t.Fatal(err)
	}
	var acts []play.Action
	c.Actions = func(a play.Action) { acts = append(acts, a) }
	srv := httptest.NewServer(c.Handler())
	defer srv.Close()
	kit := func(token string) string {
		dir := t.TempDir()
		data := fmt.Sprintf(`{"url": %q, "token": %q, "player": "ana"}`, srv.URL, token)
		if err := os.WriteFile(filepath.Join(dir, "console.json"), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	good, bad := kit(tokens["ana"]), kit("not-a-token")
	stdout, _, code, err := run(t, "console", "nodegroups", "--kit", good)
	if code != 0 || !strings.Contains(stdout, "app   v1.37.2  2        2      ACTIVE") {
		t.Fatalf("nodegroups: exit %d, %v:\n%s", code, err, stdout)
	}
	stdout, _, code, _ = run(t, "console", "cluster", "--kit", good)
	if code != 0 || !strings.Contains(stdout, "v1.38.0") {
		t.Errorf("cluster: exit %d:\n%s", code, stdout)
	}
	_, _, code, err = run(t, "console", "nodegroups", "--kit", bad)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "UnauthorizedException (401 Unauthorized): missing or unknown token") {
		t.Errorf("a wrong token: exit %d, %v", code, err)
	}
	_, _, code, err = run(t, "console", "nodegroup", "describe", "gpu", "--kit", good)
	if code != 2 || err == nil || !strings.Contains(err.Error(), `ResourceNotFoundException (404 Not Found): no node group "gpu" in cluster shop`) {
		t.Errorf("an unknown node group: exit %d, %v", code, err)
	}
	_, _, code, err = run(t, "console", "nodegroup", "delete", "gpu", "--kit", good)
	if code != 2 || err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Errorf("deleting an unknown node group: exit %d, %v", code, err)
	}
	for _, a := range acts {
		if a.Player != "ana" {
			t.Errorf("an action by %q reached the timeline: %+v", a.Player, a)
		}
	}
	if len(acts) != 4 {
		t.Errorf("%d actions reported, want 4 (the refused token's none): %+v", len(acts), acts)
	}
}

// An interrupted run whose recovery failed says so, after "interrupted".
func TestPrintErrorInterruptedRecoveryFailed(t *testing.T) {
	var b strings.Builder
	rerr := errors.New("recovery failed (finish it with `gameday recover --name lab-shared`): revoke the players' rights: forbidden")
	printError(&b, fmt.Errorf("topology shared: %w", errors.Join(context.Canceled, rerr)))
	want := "ERROR: interrupted\nERROR: " + rerr.Error() + "\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
	b.Reset()
	printError(&b, fmt.Errorf("topology shared: %w", context.Canceled))
	if b.String() != "ERROR: interrupted\n" {
		t.Errorf("a plain interrupt: %q", b.String())
	}
}
