package cluster

import (
	"errors"
	"path/filepath"
	"testing"

	"gameday.dev/gameday/internal/yamlfile/yamltest"
)

func TestLoadTopologyValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/topology/valid-*.yaml")
	if len(files) < 2 {
		t.Fatalf("found %d valid topology files, want at least 2", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			topo, err := LoadTopology(f)
			if err != nil {
				t.Fatalf("LoadTopology: %v", err)
			}
			if errs := topo.Validate(); len(errs) > 0 {
				t.Fatalf("loaded topology does not validate: %v", errs)
			}
		})
	}
}

func TestLoadTopologyDefaults(t *testing.T) {
	topo, err := LoadTopology("testdata/topology/valid-three-tier.yaml")
	if err != nil {
		t.Fatal(err)
	}
	api, _ := topo.Pool("api")
	jobs, _ := topo.Pool("jobs")
	web, _ := topo.Pool("web")
	if jobs.Size != 1 {
		t.Errorf("jobs size = %d, want the default 1", jobs.Size)
	}
	if got := web.Taints[0].Effect; got != "NoSchedule" {
		t.Errorf("web taint effect = %q, want the default NoSchedule", got)
	}
	if len(api.Taints) != 1 || api.Taints[0].Value != "api" {
		t.Errorf("api taints = %v", api.Taints)
	}
	if next, _ := topo.Pool("jobs-next"); !next.Spare || next.NodeLabels()[ReplacesLabel] != "jobs" {
		t.Errorf("jobs-next = %+v, labels %v", next, next.NodeLabels())
	}
	if topo.Workers() != 5 {
		t.Errorf("workers = %d, want 5", topo.Workers())
	}
}

// Each invalid file says on its first line which error it expects.
func TestLoadTopologyInvalid(t *testing.T) {
	yamltest.CheckInvalid(t, "testdata/topology/invalid-*.yaml", 10, func(f string) error {
		_, err := LoadTopology(f)
		return err
	})
}

func TestResolveTopology(t *testing.T) {
	for _, name := range BuiltinNames() {
		topo, err := ResolveTopology(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if errs := topo.Validate(); len(errs) > 0 {
			t.Errorf("built-in %s does not validate: %v", name, errs)
		}
	}
	for _, arg := range []string{"nope", "./missing.yaml"} {
		if _, err := ResolveTopology(arg); !errors.Is(err, ErrUnknownTopology) {
			t.Errorf("ResolveTopology(%q) = %v, want ErrUnknownTopology", arg, err)
		}
	}
	if _, err := ResolveTopology("testdata/topology/valid-minimal.yaml"); err != nil {
		t.Errorf("file: %v", err)
	}
}

// The built-ins compare fairly: the same number of workers, the same number
// of spares, and every tier of the incident has a pool to run on.
func TestBuiltinsCompareFairly(t *testing.T) {
	shared, _ := Builtin("shared")
	separate, _ := Builtin("separate")
	if shared.Workers() != separate.Workers() {
		t.Errorf("workers: shared %d, separate %d", shared.Workers(), separate.Workers())
	}
	spares := func(t Topology) (n int) {
		for _, p := range t.Pools {
			if p.Spare {
				n += p.Size
			}
		}
		return n
	}
	if spares(shared) != 1 || spares(separate) != 1 {
		t.Errorf("spares: shared %d, separate %d, want 1 each", spares(shared), spares(separate))
	}
	// Builtin returns copies: changing one does not change the next.
	shared.Pools[0].Size = 7
	if again, _ := Builtin("shared"); again.Pools[0].Size != 2 {
		t.Errorf("Builtin returned shared state")
	}
}
