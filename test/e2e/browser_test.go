//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"html"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// artifacts is where the suite leaves what a person may want to look at
// (screenshots, cluster snapshots): $E2E_ARTIFACTS, else _artifacts/ at the
// repository's root.
func artifacts() string {
	GinkgoHelper()
	dir, err := artifactsDir()
	Expect(err).NotTo(HaveOccurred())
	return dir
}

// artifactsDir makes artifacts' directory, for callers that must not fail
// their spec over it.
func artifactsDir() (string, error) {
	dir := os.Getenv("E2E_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "_artifacts")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return abs, os.MkdirAll(abs, 0o755)
}

// chromium runs headless Chromium (Debian's, installed by make e2e) with a
// throwaway profile and returns its stdout.
func chromium(args ...string) string {
	GinkgoHelper()
	bin, err := exec.LookPath("chromium")
	Expect(err).NotTo(HaveOccurred(), "chromium is missing: hack/ensure-chromium.sh installs it")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--hide-scrollbars", "--user-data-dir=" + GinkgoT().TempDir()}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "chromium %v: %s", args, stderr.String())
	return string(out)
}

// measure is injected into a copy of the page: it records, for every chart,
// its laid-out size and how many of its shapes have a non-empty box.
const measure = `<script>
const out = {};
for (const svg of document.querySelectorAll('svg[data-chart]')) {
  const r = svg.getBoundingClientRect();
  let drawn = 0;
  for (const s of svg.querySelectorAll('path,rect,line,polyline,polygon,circle')) {
    const b = s.getBBox();
    if (b.width > 0 || b.height > 0) drawn++;
  }
  const k = svg.dataset.chart;
  out[k] = out[k] || [];
  out[k].push({w: r.width, h: r.height, drawn: drawn});
}
document.body.setAttribute('data-measured', JSON.stringify(out));
</script>`

type chartBox struct {
	W, H  float64
	Drawn int
}

// checkRendered opens page in headless Chromium, saves a screenshot to shot,
// and checks the screenshot is a rendered page (not blank) and that the
// availability, lanes and score charts were laid out with shapes in them.
func checkRendered(page, shot string, more ...string) {
	GinkgoHelper()
	src, err := os.ReadFile(page)
	Expect(err).NotTo(HaveOccurred())
	Expect(string(src)).NotTo(MatchRegexp(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`), "the page must not load anything from the network")

	chromium("--window-size=1280,2400", "--screenshot="+shot, "file://"+page)
	f, err := os.Open(shot)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	img, err := png.Decode(f)
	Expect(err).NotTo(HaveOccurred())
	Expect(img.Bounds().Dx()).To(Equal(1280))
	Expect(colours(img)).To(BeNumerically(">", 20), "the screenshot is (nearly) blank")

	// The same page with the measuring script, its DOM dumped after it ran.
	probe := filepath.Join(GinkgoT().TempDir(), "measured.html")
	Expect(os.WriteFile(probe, []byte(strings.Replace(string(src), "</body>", measure+"</body>", 1)), 0o644)).To(Succeed())
	dom := chromium("--window-size=1280,2400", "--dump-dom", "file://"+probe)
	m := regexp.MustCompile(`data-measured="([^"]*)"`).FindStringSubmatch(dom)
	Expect(m).NotTo(BeNil(), "the measuring script did not run")
	var charts map[string][]chartBox
	Expect(json.Unmarshal([]byte(html.UnescapeString(m[1])), &charts)).To(Succeed())
	for _, name := range append([]string{"availability", "lanes", "score"}, more...) {
		Expect(charts[name]).NotTo(BeEmpty(), "no %s chart", name)
		for _, c := range charts[name] {
			Expect(c.W).To(BeNumerically(">", 200), "%s chart width", name)
			Expect(c.H).To(BeNumerically(">", 20), "%s chart height", name)
			Expect(c.Drawn).To(BeNumerically(">=", 3), "%s chart shapes drawn", name)
		}
	}
}

// colours counts the distinct colours of an image (up to 1000).
func colours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>8)<<16|(g>>8)<<8|bl>>8] = true
			if len(seen) >= 1000 {
				return len(seen)
			}
		}
	}
	return len(seen)
}
