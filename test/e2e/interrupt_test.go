//go:build e2e

package e2e

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Ctrl-C during `cluster up`, once kind has created the node containers.
var _ = Describe("interrupting cluster up", Label("kind"), Ordered, func() {
	const name = "e2e-interrupt"

	interruptedUp := func(extra ...string) (int, string) {
		GinkgoHelper()
		if r := gameday("cluster", "down", "--name", name, "-q"); r.Code != 0 {
			Expect(r.Stderr).To(ContainSubstring("no such cluster"))
		}
		cmd := exec.Command(*gamedayBin, append([]string{"cluster", "up", "--topology", "separate", "--name", name}, extra...)...)
		cmd.Env = suiteEnv()
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		Expect(cmd.Start()).To(Succeed())
		// Wait for the half-created state: the control-plane container exists.
		Eventually(func() string {
			return docker("ps", "-a", "--filter", "name=^"+name+"-control-plane$", "--format", "{{.Names}}")
		}).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).ShouldNot(BeEmpty())
		Expect(cmd.Process.Signal(syscall.SIGINT)).To(Succeed())
		err := cmd.Wait()
		GinkgoWriter.Printf("stderr:\n%s", stderr.String())
		ee, ok := err.(*exec.ExitError)
		Expect(ok).To(BeTrue(), "cluster up was not interrupted: %v", err)
		return ee.ExitCode(), stderr.String()
	}

	It("deletes the half-created cluster and exits 130", func() {
		code, stderr := interruptedUp()
		Expect(code).To(Equal(130))
		Expect(stderr).To(ContainSubstring("ERROR: interrupted"))
		Expect(leftovers(name)).To(BeEmpty())
		Expect(listed(name)).To(BeFalse())
	})

	// The lock is the kernel's: a holder killed with -9 holds nothing.
	It("frees the cluster's lock at once when killed with -9", func() {
		cmd := exec.Command(*gamedayBin, "cluster", "up", "--topology", "shared", "--name", name)
		cmd.Env = suiteEnv()
		Expect(cmd.Start()).To(Succeed())
		Eventually(func() string {
			return docker("ps", "-a", "--filter", "name=^"+name+"-control-plane$", "--format", "{{.Names}}")
		}).WithTimeout(2 * time.Minute).WithPolling(200 * time.Millisecond).ShouldNot(BeEmpty())
		Expect(cmd.Process.Kill()).To(Succeed())
		_ = cmd.Wait()
		r := gameday("cluster", "down", "--name", name)
		Expect(r.Stderr).NotTo(ContainSubstring("in use"), "the lock of a process killed with -9 is free at once")
		// kind's docker commands, children of the killed process, may still
		// be creating containers: clear what they leave, once they are done.
		Eventually(func() []string {
			if gameday("cluster", "down", "--name", name, "-q").Code != 0 {
				for _, l := range leftovers(name) {
					if n, ok := strings.CutPrefix(l, "network "); ok {
						_ = exec.Command("docker", "network", "rm", n).Run()
					} else {
						_ = exec.Command("docker", "rm", "-f", l).Run()
					}
				}
			}
			return leftovers(name)
		}).WithTimeout(2 * time.Minute).WithPolling(2 * time.Second).Should(BeEmpty())
	})

	It("keeps it with --retain, for cluster down to remove", Label("slow"), func() {
		code, _ := interruptedUp("--retain")
		Expect(code).To(Equal(130))
		Expect(leftovers(name)).NotTo(BeEmpty(), "--retain keeps the half-created cluster")
		Expect(listed(name)).To(BeTrue(), "a retained cluster is gameday's: listed, and removable")
		mustGameday("cluster", "down", "--name", name)
		Expect(leftovers(name)).To(BeEmpty())
		Expect(listed(name)).To(BeFalse())
	})
})
