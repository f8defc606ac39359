package docker

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// freezerRoot is the cgroup v1 freezer hierarchy; cgroup v2 has none.
var freezerRoot = "/sys/fs/cgroup/freezer"

// ThawFrozen thaws every FROZEN cgroup v1 freezer under a container and
// returns how many it thawed. runc freezes a cgroup to kill what is in it;
// when the runc doing so is itself killed (a node container deleted while
// its kubelet starts a pod), a nested process stays frozen, the node's init
// cannot reap it, and docker can neither stop nor remove the node. It does
// nothing on cgroup v2 or where the hierarchy is not writable.
func ThawFrozen(ctx context.Context, container string) int {
	id, err := Run(ctx, "inspect", "--format", "{{.Id}}", container)
	if err != nil || id == "" {
		return 0
	}
	return thawUnder(filepath.Join(freezerRoot, "docker", id)) + // cgroupfs driver
		thawUnder(filepath.Join(freezerRoot, "system.slice", "docker-"+id+".scope")) // systemd driver
}

func thawUnder(dir string) int {
	thawed := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "freezer.state" {
			return nil
		}
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == "FROZEN" {
			if os.WriteFile(path, []byte("THAWED"), 0o644) == nil {
				thawed++
			}
		}
		return nil
	})
	return thawed
}
