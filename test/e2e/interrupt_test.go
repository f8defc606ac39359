//go:build e2e

package e2e

import (
	"bytes"
	"os/exec"
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

	It("keeps it with --retain, for cluster down to remove", func() {
		code, _ := interruptedUp("--retain")
		Expect(code).To(Equal(130))
		Expect(leftovers(name)).NotTo(BeEmpty(), "--retain keeps the half-created cluster")
		Expect(listed(name)).To(BeTrue(), "a retained cluster is gameday's: listed, and removable")
		mustGameday("cluster", "down", "--name", name)
		Expect(leftovers(name)).To(BeEmpty())
		Expect(listed(name)).To(BeFalse())
	})
})
