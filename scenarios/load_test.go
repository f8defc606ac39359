package scenarios

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"gameday.dev/gameday/fixtures"
	"gameday.dev/gameday/internal/yamlfile"
	"gameday.dev/gameday/internal/yamlfile/yamltest"
)

func TestLoadValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/scenario/valid-*.yaml")
	if len(files) < 2 {
		t.Fatalf("found %d valid scenario files, want at least 2", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			if _, err := Load(f); err != nil {
				t.Fatalf("Load: %v", err)
			}
		})
	}
}

func TestLoadEveryAction(t *testing.T) {
	s, err := Load("testdata/scenario/valid-every-action.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, st := range s.Timeline {
		seen = append(seen, string(st.Action))
	}
	for _, a := range Actions() {
		if !slices.Contains(seen, a) {
			t.Errorf("valid-every-action.yaml has no %s step", a)
		}
	}
	if got := []string{s.Topologies[0].Name, s.Topologies[1].Name}; !slices.Equal(got, []string{"shared", "per-tier"}) {
		t.Errorf("topologies = %v; the file is read relative to the scenario", got)
	}
}

func TestLoadDefaults(t *testing.T) {
	s, err := Load("testdata/scenario/valid-minimal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Topologies) != 2 || s.Topologies[0].Name != "shared" || s.Topologies[1].Name != "separate" {
		t.Errorf("topologies = %v, want shared and separate", s.Topologies)
	}
	if want := (Probes{Rate: 10, Timeout: 2 * time.Second, Critical: []string{"frontend /items", "frontend /items/1", "api /api/items"}}); !reflect.DeepEqual(s.Probes, want) {
		t.Errorf("probes = %+v, want every probe on a new connection and the pages that need the API critical", s.Probes)
	}
	want := []Objective{
		{Service: ServiceFrontend, SuccessRatio: 0.99, Latency: time.Second, Window: 10 * time.Second},
		{Service: ServiceAPI, SuccessRatio: 0.99, Latency: time.Second, Window: 10 * time.Second},
	}
	if !slices.Equal(s.Objectives, want) {
		t.Errorf("objectives = %+v", s.Objectives)
	}
	if s.SteadyState != (SteadyState{Duration: 10 * time.Second, Timeout: 2 * time.Minute}) || s.MaxDuration != 15*time.Minute {
		t.Errorf("steady state %+v, max duration %s", s.SteadyState, s.MaxDuration)
	}
	if s.Fixtures.Replicas[fixtures.Frontend] != 2 || s.Fixtures.Releases[fixtures.Workers] != "v1" {
		t.Errorf("fixtures = %+v", s.Fixtures)
	}
	if st := s.Timeline[0]; st.Name != "1-note" || st.Line != 5 || st.At != nil {
		t.Errorf("step = %+v, want the default name 1-note on line 5", st)
	}
}

// Each invalid file says on its first line which error it expects.
func TestLoadInvalid(t *testing.T) {
	yamltest.CheckInvalid(t, "testdata/scenario/invalid-*.yaml", 30, func(f string) error {
		_, err := Load(f)
		return err
	})
}

// A run records which scenario file ran: the digest of its bytes, a
// built-in's embedded ones included, so one byte more is another scenario.
func TestDigest(t *testing.T) {
	s, data, err := Resolve("cascading-outage")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := "sha256:" + hex.EncodeToString(sum[:]); s.Digest != want {
		t.Errorf("built-in's digest %q, want %q", s.Digest, want)
	}
	f := filepath.Join(t.TempDir(), "copy.yaml")
	if err := os.WriteFile(f, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if c, _, err := Resolve(f); err != nil || c.Digest != s.Digest {
		t.Errorf("a byte-for-byte copy's digest %q (%v), want the built-in's %q", c.Digest, err, s.Digest)
	}
	if err := os.WriteFile(f, append(data, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, _, err := Resolve(f); err != nil || c.Digest == s.Digest {
		t.Errorf("a changed copy has the built-in's digest (%v)", err)
	}
}

func TestResolve(t *testing.T) {
	for _, name := range BuiltinNames() {
		if _, _, err := Resolve(name); err != nil {
			t.Errorf("built-in %s: %v", name, err)
		}
	}
	if !slices.Contains(BuiltinNames(), "cascading-outage") {
		t.Errorf("built-ins = %v, want cascading-outage", BuiltinNames())
	}
	for _, arg := range []string{"nope", "./missing.yaml"} {
		if _, _, err := Resolve(arg); !errors.Is(err, ErrUnknownScenario) {
			t.Errorf("Resolve(%q) = %v, want ErrUnknownScenario", arg, err)
		}
	}
}

// The loader never panics and, when it fails, fails with located errors.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/scenario/*.yaml")
	seeds = append(seeds, "cascading-outage.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data)
		if err != nil {
			var yerrs yamlfile.Errors
			if !errors.As(err, &yerrs) || len(yerrs) == 0 {
				t.Fatalf("error is not a located yamlfile.Errors: %T %v", err, err)
			}
			for _, e := range yerrs {
				if e.File != "fuzz.yaml" || e.Msg == "" {
					t.Fatalf("bad error %+v", e)
				}
			}
			return
		}
		if len(s.Timeline) == 0 || len(s.Topologies) == 0 || len(s.Objectives) == 0 {
			t.Fatalf("a loaded scenario lacks its timeline, topologies or objectives: %+v", s)
		}
		if bad := yamlfile.CheckNumbers(s); len(bad) > 0 {
			t.Fatalf("a loaded scenario holds a number out of bounds: %v", bad)
		}
		if !(s.StoryScale >= 0 && s.StoryScale <= MaxStoryScale) || !(s.Probes.Rate > 0 && s.Probes.Rate <= MaxProbeRate) ||
			!(s.Probes.KeepAlive >= 0 && s.Probes.KeepAlive <= 1) {
			t.Fatalf("a loaded scenario's numbers are out of range: scale %v, probes %+v", s.StoryScale, s.Probes)
		}
		for _, o := range s.Objectives {
			if !(o.SuccessRatio > 0 && o.SuccessRatio <= 1) || o.Latency <= 0 || o.Window <= 0 {
				t.Fatalf("a loaded objective is out of range: %+v", o)
			}
		}
	})
}

// A file at the size limit is located and validated in time linear in its
// size (BenchmarkParseAtSizeLimit measures it: well under a second). Locating
// each error by walking the whole document took 3 to 6 minutes here; the
// bound below is a guard against that, not a speed claim.
func TestParseAtSizeLimitIsLinear(t *testing.T) {
	for _, kind := range []string{"valid", "every-step-invalid", "every-step-mistyped"} {
		data := limitFile(t, kind)
		done := make(chan error, 1)
		go func() {
			_, err := Parse("big.yaml", data)
			done <- err
		}()
		select {
		case err := <-done:
			if (err != nil) != (kind != "valid") {
				t.Errorf("%s: %v", kind, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: a %d-byte file took more than 30 s to validate", kind, len(data))
		}
	}
}
