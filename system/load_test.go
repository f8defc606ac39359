package system

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gameday.dev/gameday/internal/yamlfile/yamltest"
)

// Each invalid file says on its first line which error it expects.
func TestInvalidFiles(t *testing.T) {
	yamltest.CheckInvalid(t, "testdata/invalid/invalid-*.yaml", 30, func(f string) error {
		_, err := Load(f)
		return err
	})
}

func TestBuiltins(t *testing.T) {
	if got := BuiltinNames(); !slices.Contains(got, Default) {
		t.Fatalf("built-ins %v lack the default %s", got, Default)
	}
	for _, name := range BuiltinNames() {
		s, _, err := Builtin(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if s.Name != name {
			t.Errorf("%s.yaml names itself %q", name, s.Name)
		}
	}
}

func TestStorefront(t *testing.T) {
	s := MustDefault()
	if got := s.TierNames(); !slices.Equal(got, []string{"api", "workers", "frontend"}) {
		t.Errorf("tiers %v, want the API first", got)
	}
	if s.Baseline() != "v1" || s.Bad() != "v2" {
		t.Errorf("baseline %s bad %s, want v1 and v2", s.Baseline(), s.Bad())
	}
	if s.MockAPI() != "api" {
		t.Errorf("mock API %q", s.MockAPI())
	}
	fe, _ := s.Service("frontend")
	if !fe.UserFacing || fe.NodePort != 30080 || len(fe.Journeys) != 5 {
		t.Errorf("frontend service %+v", fe)
	}
	w, _ := s.Tier("workers")
	if w.Liveness == nil || w.Liveness.Period != 2*time.Second || w.Grace == nil || *w.Grace != time.Second || w.PreStop != 0 {
		t.Errorf("workers %+v", w)
	}
	if len(w.Calls) != 1 || w.Calls[0].Timeout != 2*time.Second {
		t.Errorf("workers' calls %+v", w.Calls)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse("x/min.yaml", []byte(`apiVersion: gameday.dev/v1alpha1
kind: System
name: min
tiers:
  - name: web
    image: nginx:1.27
    imageArchive: web.tar
    readiness: {path: /}
    disruptionBudget: {maxUnavailable: "50%"}
    spread: {}
services:
  - {name: shop, tier: web, nodePort: 30080, journeys: [{path: /}]}
releases:
  - name: good
  - {name: bad, bad: true, tag: "1.28", env: {FAIL: "1"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	web := s.Tiers[0]
	if web.Replicas != DefaultReplicas || web.Port != DefaultPort || web.Grace != nil {
		t.Errorf("defaults %+v", web)
	}
	if web.ImageArchive != filepath.Join("x", "web.tar") {
		t.Errorf("archive %q, want it relative to the file", web.ImageArchive)
	}
	if r := web.Readiness; r.Period != DefaultProbePeriod || r.Timeout != DefaultProbeTimeout || r.FailureThreshold != DefaultProbeThreshold {
		t.Errorf("probe defaults %+v", r)
	}
	if web.Budget.MaxUnavailable.String() != "50%" || web.Budget.MinAvailable != nil {
		t.Errorf("budget %+v", web.Budget)
	}
	if web.Spread.MaxSkew != 1 || web.Spread.WhenUnsatisfiable != "DoNotSchedule" {
		t.Errorf("spread %+v", web.Spread)
	}
	if s.Baseline() != "good" || s.Bad() != "bad" {
		t.Errorf("releases %+v", s.Releases)
	}
	if err := s.CanRun(web, "bad"); err != nil {
		t.Errorf("an image tier cannot run its release: %v", err)
	}
	if err := s.CanRun(web, "v9"); err == nil {
		t.Error("an unknown release is runnable")
	}
}

func TestMockTierRunsOnlyMockReleases(t *testing.T) {
	s, err := Parse("mixed.yaml", []byte(`apiVersion: gameday.dev/v1alpha1
kind: System
name: mixed
tiers:
  - {name: api, app: api}
  - {name: web, image: "nginx:1.27"}
services:
  - {name: shop, tier: web, nodePort: 30080, journeys: [{path: /}]}
releases:
  - name: v1
  - {name: v3, tag: "1.28"}
`))
	if err != nil {
		t.Fatal(err)
	}
	api, _ := s.Tier("api")
	if err := s.CanRun(api, "v3"); err == nil || !strings.Contains(err.Error(), "mock app") {
		t.Errorf("the mock API can run v3: %v", err)
	}
	web, _ := s.Tier("web")
	if err := s.CanRun(web, "v3"); err != nil {
		t.Error(err)
	}
}

func TestResolve(t *testing.T) {
	if _, _, err := Resolve("storefront"); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"no-such-system", "./nope.yaml"} {
		if _, _, err := Resolve(arg); !errors.Is(err, ErrUnknownSystem) {
			t.Errorf("Resolve(%q) = %v, want ErrUnknownSystem", arg, err)
		}
	}
	dir := t.TempDir()
	if _, _, err := Resolve(dir); err == nil || errors.Is(err, ErrUnknownSystem) {
		t.Errorf("a directory: %v", err)
	}
	f := filepath.Join(dir, "s.yaml")
	data, _ := library.ReadFile(Default + ".yaml")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s, _, err := Resolve(f)
	if err != nil || s.File != f {
		t.Fatalf("a copy: %v", err)
	}
	if s.Digest != MustDefault().Digest {
		t.Error("a byte-for-byte copy has another digest")
	}
}

// The digest of a System file with kustomize tiers covers what its
// directories build: the same file over changed manifests is another
// system for the gate.
func TestDigestCoversTheManifests(t *testing.T) {
	dir := t.TempDir()
	src := "testdata/kustomize/shop"
	for _, f := range []string{"system.yaml", "base/kustomization.yaml", "base/web.yaml", "base/catalog.yaml", "overlay/kustomization.yaml"} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	before, err := Load(filepath.Join(dir, "system.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	overlay := filepath.Join(dir, "overlay/kustomization.yaml")
	data, _ := os.ReadFile(overlay)
	if err := os.WriteFile(overlay, bytes.Replace(data, []byte("count: 2"), []byte("count: 1"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	after, err := Load(filepath.Join(dir, "system.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if before.Digest == after.Digest {
		t.Errorf("web cut to 1 replica in the overlay, the digest did not change: %s", before.Digest)
	}
	if after.Tiers[1].Replicas != 1 {
		t.Errorf("web's replicas after the change: %d", after.Tiers[1].Replicas)
	}
}
