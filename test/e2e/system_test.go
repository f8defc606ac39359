//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"

	ggcrname "github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/reports"
	"gameday.dev/gameday/scenarios/timeline"
)

// A team's system: its own site image (built here, in a tarball: no
// registry, no Docker daemon copy) calling the mock API, on the pools the
// System file names, reached on its own service names.
const shopSystem = `apiVersion: gameday.dev/v1alpha1
kind: System
name: shop
tiers:
  - name: catalog
    app: api
    replicas: 2
    pools: [backend]
    readiness: {path: /readyz, period: 1s, failureThreshold: 2}
  - name: site
    image: shop.example/site:1.0
    imageArchive: site.tar
    args: [-role, frontend, -api, "http://catalog:8080"]
    replicas: 2
    pools: [frontend]
    readiness: {path: /readyz, period: 1s, failureThreshold: 2}
    stop: {preStop: 2s, grace: 4s}
    calls: [{tier: catalog}]
services:
  - name: shop
    tier: site
    nodePort: 30080
    userFacing: true
    journeys: [{path: /}, {path: /items, critical: true}]
  - name: catalog
    tier: catalog
    nodePort: 30081
    journeys: [{path: /api/items, critical: true}]
releases:
  - name: v1
  # The site's next version: its next tag (in the same tarball), a flag on.
  - {name: v2, tag: "1.1", env: {SHOP_FEATURE: "on"}}
`

const shopScenario = `apiVersion: gameday.dev/v1alpha1
kind: Scenario
name: shop-steady
system: shop.yaml
topologies: [separate]
steadyState: {duration: 5s}
timeline:
  - action: note
    at: 0s
    message: the shop serves
  - name: site-v2
    action: release
    at: 2s
    target: {tier: site}
    version: v2
  - name: site-back
    action: rollback
    at: 10s
    target: {tier: site}
horizon: 20s
maxDuration: 1m
`

// ownImageSpecs run a scenario on a System file of the team's own: its
// image loaded into the nodes from a tarball, its tiers placed by pool, its
// journeys probed; then the default system is deployed back.
func ownImageSpecs(e *env) {
	Context("a System of the team's own, with its own image", Label("scenario"), Ordered, func() {
		prefix, name := e.prefix, e.name
		var run result
		var rep *reports.Report
		var es []timeline.Entry

		setupAll(func() {
			DeferCleanup(func() { mustGameday("fixtures", "deploy", "--name", name) })
			dir := GinkgoT().TempDir()
			// The site's image: the mock app's binary under another name,
			// as a team's image would be, saved as `docker save` would.
			mock, err := fixtures.BuildImage(filepath.Join(filepath.Dir(*gamedayBin), "mockapp"), "amd64", dir)
			Expect(err).NotTo(HaveOccurred())
			img, err := tarball.ImageFromPath(mock.Tarball, nil)
			Expect(err).NotTo(HaveOccurred())
			tags := map[ggcrname.Reference]v1.Image{ggcrname.MustParseReference("shop.example/site:1.0"): img, ggcrname.MustParseReference("shop.example/site:1.1"): img}
			Expect(tarball.MultiRefWriteToFile(filepath.Join(dir, "site.tar"), tags)).To(Succeed())
			Expect(os.WriteFile(filepath.Join(dir, "shop.yaml"), []byte(shopSystem), 0o644)).To(Succeed())
			file := filepath.Join(dir, "shop-steady.yaml")
			Expect(os.WriteFile(file, []byte(shopScenario), 0o644)).To(Succeed())
			out := filepath.Join(dir, "out")
			cmd := exec.Command(*gamedayBin, "run", file, "--name", prefix, "--out", out, "--reuse")
			run = runCmd(cmd, name)
			GinkgoWriter.Printf("stdout:\n%s\nstderr:\n%s", run.Stdout, run.Stderr)
			rep, err = reports.Load(filepath.Join(out, "separate", "report.json"))
			Expect(err).NotTo(HaveOccurred())
			es = readTimeline(filepath.Join(out, "separate", "timeline.jsonl"))
		})

		It("loads the team's image into the nodes from its tarball, and runs to the end", func() {
			Expect(run.Code).To(Equal(0), "stderr:\n%s", run.Stderr)
			Expect(run.Stderr).To(ContainSubstring("Loading shop.example/site:1.0 into"))
			Expect(rep.System).To(Equal("shop"))
		})

		It("places each tier on the pool its System file names", func() {
			nodePool := map[string]string{}
			for _, en := range es {
				if en.Kind == timeline.KindNode {
					nodePool[en.Name] = en.Pool
				}
			}
			pools := map[string]map[string]bool{}
			for _, en := range es {
				if en.Kind == timeline.KindPod && en.Node != "" && !en.Deleted {
					Expect(en.Pool).To(Equal(nodePool[en.Node]), "pod %s's entry names its node's pool", en.Name)
					if pools[en.Tier] == nil {
						pools[en.Tier] = map[string]bool{}
					}
					pools[en.Tier][nodePool[en.Node]] = true
				}
			}
			Expect(pools).To(HaveKeyWithValue("site", map[string]bool{"frontend": true}))
			Expect(pools).To(HaveKeyWithValue("catalog", map[string]bool{"backend": true}))
		})

		It("rolls the site to its release's tag and environment, and back, as its pods show", func() {
			var onV2, releaseOK, rollbackOK bool
			for _, en := range es {
				if en.Kind == timeline.KindPod && en.Tier == "site" && en.Release == "v2" && en.Ready != nil && *en.Ready {
					onV2 = true
				}
				if en.Kind == timeline.KindStep && en.Phase == "end" && en.Error == "" {
					releaseOK = releaseOK || en.Step == "site-v2"
					rollbackOK = rollbackOK || en.Step == "site-back"
				}
			}
			Expect(releaseOK && rollbackOK).To(BeTrue(), "both steps ended without error")
			Expect(onV2).To(BeTrue(), "a pod of the site was Ready on v2")
			d, err := e.client.AppsV1().Deployments(fixtures.Namespace).Get(context.Background(), "site", metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())
			c := d.Spec.Template.Spec.Containers[0]
			Expect(c.Image).To(Equal("shop.example/site:1.0"), "rolled back")
			Expect(c.Env).To(BeEmpty())
		})

		It("probes its own services' journeys, and they answer", func() {
			ok := map[string]int{}
			for _, en := range es {
				if en.Kind == timeline.KindProbe && en.OK != nil && *en.OK {
					ok[en.Endpoint]++
				}
			}
			for _, j := range []string{"shop /", "shop /items", "catalog /api/items"} {
				Expect(ok[j]).To(BeNumerically(">", 50), "successful probes of %s", j)
			}
		})
	})
}

// runCmd runs a gameday command that changes cluster, putting the cluster
// back if the spec ends before it does.
func runCmd(cmd *exec.Cmd, cluster string) result {
	GinkgoHelper()
	cmd.Env = suiteEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	Expect(cmd.Start()).To(Succeed())
	putBack(cmd, cluster)
	err := cmd.Wait()
	r := result{Stdout: stdout.String(), Stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		r.Code = ee.ExitCode()
	}
	return r
}
