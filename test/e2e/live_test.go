//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// liveLinks reads the live page's link per role from a command's stdout.
func liveLinks(stdout func() string) map[string]string {
	GinkgoHelper()
	re := regexp.MustCompile(`(?m)^\s+(facilitator|reporter|observer)\s+(http://\S+#[0-9a-f]+)$`)
	links := map[string]string{}
	Eventually(func() int {
		for _, m := range re.FindAllStringSubmatch(stdout(), -1) {
			links[m[1]] = m[2]
		}
		return len(links)
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Equal(3))
	return links
}

// browser is headless Chromium driven through the DevTools protocol, one
// tab per role.
type browser struct {
	cancel context.CancelFunc
	root   context.Context
	tabs   map[string]context.Context
}

func newBrowser() *browser {
	GinkgoHelper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(GinkgoT().TempDir()), chromedp.WindowSize(1280, 1000))
	if p, err := exec.LookPath("chromium"); err == nil {
		opts = append(opts, chromedp.ExecPath(p))
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	root, _ := chromedp.NewContext(actx)
	b := &browser{cancel: cancel, root: root, tabs: map[string]context.Context{}}
	DeferCleanup(b.cancel)
	Expect(chromedp.Do(root)).To(Succeed(), "start chromium")
	return b
}

// open opens url in a new tab for role and waits for the page to sign in.
func (b *browser) open(role, url string) {
	GinkgoHelper()
	tab, _ := chromedp.NewContext(b.root)
	// The tab's first action attaches it on this context, which must live
	// as long as the tab: a timeout here would end the tab's message loop.
	Expect(chromedp.Do(tab)).To(Succeed())
	b.tabs[role] = tab
	Expect(b.do(role, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("#live")))).To(Succeed())
}

func (b *browser) do(role string, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.tabs[role], time.Minute)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// eval evaluates js (awaiting a promise) in role's tab.
func eval[T any](b *browser, role, js string) T {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(b.tabs[role], time.Minute)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	Expect(err).NotTo(HaveOccurred(), js)
	return v
}

// shot saves a screenshot of role's tab as name under _artifacts/ and
// checks it is not blank.
func (b *browser) shot(role, name string) string {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(b.tabs[role], time.Minute)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(artifacts(), name)
	Expect(os.WriteFile(path, buf, 0o644)).To(Succeed())
	img, _, err := image.Decode(bytes.NewReader(buf))
	Expect(err).NotTo(HaveOccurred())
	Expect(colours(img)).To(BeNumerically(">", 20), "%s is (nearly) blank", name)
	return path
}

// offsite lists what role's page loaded from anywhere but base.
func (b *browser) offsite(role, base string) []string {
	GinkgoHelper()
	var out []string
	for _, u := range eval[[]string](b, role, `performance.getEntries().map(e => e.name).filter(n => n.startsWith("http"))`) {
		if !strings.HasPrefix(u, base) {
			out = append(out, u)
		}
	}
	return out
}
