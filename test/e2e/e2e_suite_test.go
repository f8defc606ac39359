//go:build e2e

// Package e2e tests gameday on real kind clusters. Run it with `make e2e`.
//
// Two lanes. `make e2e` (and .ci/run) runs the fast one: every spec but those
// labelled slow. A spec is slow when it shows again, on another topology or
// backend or by a second way, a mechanism the fast lane already shows (on
// shared: the bad release, the drain, a node's loss; the seed incident
// scored through the kubeconfig backend; the game on shared; a kubelet
// stopped; cluster up --retain interrupted; Ctrl-C during a run that made
// its cluster; kill -9 in the middle of a run's fault on kind; 60 s of host traffic), or runs a scenario over again for one
// more claim (the gate on a System file, outside changes). The README lists
// them. Some slow specs use what fast ones before them left (the game on
// shared takes the replay on shared as par): `make e2e-all` runs both lanes,
// together.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var gamedayBin = flag.String("gameday.bin", "../../bin/gameday", "the gameday binary under test")

// home is the GAMEDAY_HOME of every command the suite runs: fixed, so that a
// cluster left by a crashed run is still gameday's to delete on the next one.
var home = filepath.Join(os.TempDir(), "gameday-e2e-home")

// userKubeconfig stands in for the user's default kubeconfig (KUBECONFIG of
// every command the suite runs), so that no test touches the real one.
var userKubeconfig = filepath.Join(home, "user-kubeconfig")

func suiteEnv() []string {
	return append(os.Environ(), "GAMEDAY_HOME="+home, "KUBECONFIG="+userKubeconfig)
}

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "gameday e2e")
}

var _ = BeforeSuite(func() {
	abs, err := filepath.Abs(*gamedayBin)
	Expect(err).NotTo(HaveOccurred())
	*gamedayBin = abs
	Expect(abs).To(BeAnExistingFile(), "build it first: make build")
	Expect(os.MkdirAll(home, 0o700)).To(Succeed())
})

// result is a finished gameday command.
type result struct {
	Code     int
	Stdout   string
	Stderr   string
	Duration time.Duration
}

// gameday runs the CLI with GAMEDAY_HOME set to the suite's home.
func gameday(args ...string) result {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, *gamedayBin, args...)
	cmd.Env = suiteEnv()
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := result{Stdout: out.String(), Stderr: errOut.String(), Duration: time.Since(start)}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		Expect(ok).To(BeTrue(), "gameday %v: %v", args, err)
		r.Code = ee.ExitCode()
	}
	GinkgoWriter.Printf("$ gameday %s  -> exit %d in %s\n%s", strings.Join(args, " "), r.Code, r.Duration.Round(100*time.Millisecond), r.Stderr)
	return r
}

// mustGameday runs the CLI and expects success.
func mustGameday(args ...string) result {
	GinkgoHelper()
	r := gameday(args...)
	Expect(r.Code).To(Equal(0), "gameday %v failed:\n%s", args, r.Stderr)
	return r
}

// docker runs the docker CLI and returns its trimmed stdout.
func docker(args ...string) string {
	GinkgoHelper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "docker %v: %s", args, out)
	return strings.TrimSpace(string(out))
}

// leftovers lists what a cluster could leave behind: containers and its network.
func leftovers(name string) []string {
	GinkgoHelper()
	var left []string
	if c := docker("ps", "-a", "--filter", "label=io.x-k8s.kind.cluster="+name, "--format", "{{.Names}}"); c != "" {
		left = append(left, strings.Split(c, "\n")...)
	}
	if n := docker("network", "ls", "--filter", "name=^gameday-"+name+"$", "--format", "{{.Name}}"); n != "" {
		left = append(left, "network "+n)
	}
	return left
}

// listed reports whether `gameday cluster list` shows a cluster.
func listed(name string) bool {
	GinkgoHelper()
	var entries []struct{ Name string }
	Expect(json.Unmarshal([]byte(mustGameday("cluster", "list", "-o", "json").Stdout), &entries)).To(Succeed())
	for _, e := range entries {
		if e.Name == name {
			return true
		}
	}
	return false
}

// setupFailed begins the failure of a spec whose setup failed.
const setupFailed = "the setup of these specs failed: "

// setupAll runs body before the first spec of its container, as BeforeAll
// does, but a failure in it fails each of the container's specs (saying
// why) instead of skipping every spec left in the suite's ordered
// container: the suite goes on to the next container (ContinueOnFailure
// carries on after a failed spec, never after a failed BeforeAll).
func setupAll(body func()) {
	var failed error
	BeforeAll(func() {
		failed = func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v", r)
				}
			}()
			return InterceptGomegaFailure(body)
		}()
		if failed != nil {
			GinkgoWriter.Printf("the setup failed: %v\n", failed)
			snapshotClusters("the setup failed: " + failed.Error())
		}
	})
	BeforeEach(func() {
		if failed != nil {
			Fail(setupFailed + failed.Error())
		}
	})
}

// putBack, when the spec's container ends, kills cmd if it still runs and
// recovers what it left on cluster: a spec that failed half-way leaves the
// shared cluster as gameday leaves one, for the specs after it.
func putBack(cmd *exec.Cmd, cluster string) {
	DeferCleanup(func() {
		_ = cmd.Process.Kill()
		if r := gameday("recover", "--name", cluster); r.Code != 0 {
			GinkgoWriter.Printf("recover after %s: exit %d\n", cmd.Args, r.Code)
		}
	})
}

// clusterOf is the cluster of a run's or game's arguments: --name's prefix
// and --topology.
func clusterOf(args []string) string {
	name, topo := "gameday", ""
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "--name":
			name = args[i+1]
		case "--topology":
			topo = args[i+1]
		}
	}
	return name + "-" + topo
}
