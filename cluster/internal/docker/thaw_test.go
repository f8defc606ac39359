package docker

import (
	"os"
	"path/filepath"
	"testing"
)

// ThawFrozen needs a container ID from docker; this tests the walk itself on
// a fake freezer hierarchy.
func TestThawWalk(t *testing.T) {
	root := t.TempDir()
	freezerRoot = root
	id := "abc123"
	frozen := filepath.Join(root, "docker", id, "kubelet.slice", "pod1", "cri-containerd-x.scope")
	thawed := filepath.Join(root, "docker", id, "kubelet.slice", "pod2")
	other := filepath.Join(root, "docker", "otherid")
	for dir, state := range map[string]string{frozen: "FROZEN\n", thawed: "THAWED\n", other: "FROZEN\n"} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "freezer.state"), []byte(state), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := thawUnder(filepath.Join(root, "docker", id)); n != 1 {
		t.Fatalf("thawed %d cgroups, want 1", n)
	}
	for dir, want := range map[string]string{frozen: "THAWED", thawed: "THAWED\n", other: "FROZEN\n"} {
		b, _ := os.ReadFile(filepath.Join(dir, "freezer.state"))
		if string(b) != want {
			t.Errorf("%s: %q, want %q", dir, b, want)
		}
	}
}
