//go:build e2e

package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"gameday.dev/gameday/reports"
)

// gateSpecs are the CI regression gate on a System file, with the files of
// docs/example-repo (a team's repository keeping its System file beside its
// code): a baseline run of the team's file, the unchanged file gated against
// it (passes), then the file changed as a pull request might (the frontend
// moved onto the API's pool) gated against the same baseline (exit 3).
func gateSpecs(e *env) {
	Context("a resilience-config regression in a System file", Label("scenario", "slow"), Ordered, func() {
		var repo, base, weakOut string
		var same, weak result

		run := func(out string, extra ...string) result {
			args := append([]string{"run", filepath.Join(repo, "pool-lost.yaml"), "--name", e.prefix, "--reuse", "--out", out}, extra...)
			r := runCmd(exec.Command(*gamedayBin, args...), e.name)
			GinkgoWriter.Printf("$ gameday %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
			return r
		}

		setupAll(func() {
			DeferCleanup(func() { mustGameday("fixtures", "deploy", "--name", e.name) })
			repo = GinkgoT().TempDir() // a clone of the team's repository
			example, err := filepath.Abs("../../docs/example-repo/.gameday")
			Expect(err).NotTo(HaveOccurred())
			duo, err := os.ReadFile(filepath.Join(example, "duo.yaml"))
			Expect(err).NotTo(HaveOccurred())
			scenario, err := os.ReadFile(filepath.Join(example, "pool-lost.yaml"))
			Expect(err).NotTo(HaveOccurred())
			Expect(os.WriteFile(filepath.Join(repo, "duo.yaml"), duo, 0o644)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(repo, "pool-lost.yaml"), scenario, 0o644)).To(Succeed())
			base = filepath.Join(GinkgoT().TempDir(), "baseline")
			r := run(base)
			Expect(r.Code).To(Equal(0), "the baseline run:\n%s", r.Stderr)

			same = run(filepath.Join(GinkgoT().TempDir(), "same"), "--baseline", base, "--max-regression", "5")

			// The pull request: the frontend shares the API's pool now.
			changed := strings.Replace(string(duo), "    pools: [frontend]\n", "    pools: [backend]\n", 1)
			Expect(changed).NotTo(Equal(string(duo)))
			Expect(os.WriteFile(filepath.Join(repo, "duo.yaml"), []byte(changed), 0o644)).To(Succeed())
			weakOut = filepath.Join(GinkgoT().TempDir(), "weak")
			weak = run(weakOut, "--baseline", base, "--max-regression", "5")
		})

		It("passes the unchanged System file against its own baseline", func() {
			Expect(same.Code).To(Equal(0), "stderr:\n%s", same.Stderr)
			Expect(same.Stdout).To(MatchRegexp(`gate separate: PASS`))
			Expect(same.Stdout).NotTo(ContainSubstring("the system changed"))
		})

		It("fails the System file whose frontend moved onto the API's pool, exit 3, and says why", func() {
			Expect(weak.Code).To(Equal(3), "stdout:\n%s\nstderr:\n%s", weak.Stdout, weak.Stderr)
			Expect(weak.Stdout).To(ContainSubstring("the system changed"))
			Expect(weak.Stdout).To(MatchRegexp(`score dropped [0-9.]+ points`))
			Expect(weak.Stdout).To(ContainSubstring(`objective "frontend`))
			// The reports say where the frontend ran, and which file.
			pools := func(dir string) (string, []string) {
				rep, err := reports.Load(filepath.Join(dir, "separate", "report.json"))
				Expect(err).NotTo(HaveOccurred())
				for _, s := range rep.Services {
					if s.Name == "frontend" {
						return rep.SystemDigest, s.Pools
					}
				}
				Fail("no frontend in " + dir)
				return "", nil
			}
			baseDigest, basePools := pools(base)
			weakDigest, weakPools := pools(weakOut)
			Expect(basePools).To(Equal([]string{"frontend"}))
			Expect(weakPools).To(Equal([]string{"backend"}))
			Expect(weakDigest).NotTo(Equal(baseDigest))
		})
	})
}
