package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"gameday.dev/gameday/cluster/internal/docker"
)

// Check is one environment check of `gameday doctor`.
type Check struct {
	ID     string `json:"id"` // docker, privileged, image, disk, memory
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
	// Fix says what to run when the check fails.
	Fix string `json:"fix,omitempty"`
}

// Thresholds of the resource checks: a 4-node cluster with its images takes
// ~4.5 GB of disk and ~1.2 GB of memory idle, and the fixtures add to both.
const (
	MinFreeDisk   = 10 << 30
	MinFreeMemory = 2 << 30
)

var setupHint = hintFor(runtime.GOOS, func(p string) bool { _, err := exec.LookPath(p); return err == nil })

// hintFor says how to get a Docker kind can use on this kind of machine.
func hintFor(goos string, has func(program string) bool) string {
	switch {
	case goos == "darwin":
		return "start Docker Desktop (or colima: `colima start --cpu 2 --memory 8`, or OrbStack); kind needs a Docker that runs privileged Linux containers"
	case goos == "linux" && !has("apt-get"):
		return "install and start Docker from your distribution's packages or https://docs.docker.com/engine/install/, then `gameday doctor` again"
	}
	return "sudo hack/setup-docker.sh (installs docker.io, starts dockerd, adds the runtime wrapper where needed)"
}

// checks are Doctor's checks in the order they run; the later ones need Docker.
var checks = []struct {
	id          string
	needsDocker bool
	run         func(context.Context) Check
}{
	{"docker", false, checkDocker},
	{"privileged", true, checkPrivileged},
	{"image", true, checkImage},
	{"disk", false, checkDisk},
	{"memory", false, func(context.Context) Check { return checkMemory() }},
}

// CheckIDs are the IDs of Doctor's checks, in the order they run.
func CheckIDs() []string {
	ids := make([]string, len(checks))
	for i, c := range checks {
		ids[i] = c.id
	}
	return ids
}

// Doctor checks that this machine can run gameday's kind clusters. only, if
// not empty, limits it to those check IDs; checks that need Docker are
// skipped when Docker fails, which is reported instead.
func Doctor(ctx context.Context, only ...string) []Check {
	var out []Check
	dockerOK := true
	for _, c := range checks {
		wanted := len(only) == 0 || slices.Contains(only, c.id)
		if c.id == "docker" {
			res := c.run(ctx)
			dockerOK = res.OK
			if wanted || !dockerOK {
				out = append(out, res)
			}
			continue
		}
		if wanted && (dockerOK || !c.needsDocker) {
			out = append(out, c.run(ctx))
		}
	}
	return out
}

func checkDocker(ctx context.Context) Check {
	version, err := docker.Ping(ctx)
	if err != nil {
		return Check{ID: "docker", Name: "docker", Detail: err.Error(), Fix: setupHint}
	}
	return Check{ID: "docker", Name: "docker", OK: true, Detail: "Docker " + version + " answers"}
}

// checkPrivileged runs a privileged container that asks for a negative
// oom_score_adj, as kind's nodes and kubelet's pods do. Some VMs refuse
// either; hack/setup-docker.sh then installs a runtime wrapper.
func checkPrivileged(ctx context.Context) Check {
	c := Check{ID: "privileged", Name: "privileged containers"}
	image, err := probeImage(ctx)
	if err != nil {
		c.Detail = "cannot build the probe image: " + err.Error()
		return c
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := docker.Run(rctx, "run", "--rm", "--privileged", "--oom-score-adj=-998", "--entrypoint=/gameday", image, "version")
	if err != nil {
		c.Detail = "a privileged container fails: " + lastLine(err.Error())
		c.Fix = setupHint
		return c
	}
	c.OK, c.Detail = true, "a privileged container runs ("+strings.TrimSpace(out)+")"
	return c
}

// probeImage makes a one-file image of this very executable, so the check
// needs no registry; gameday is built static (CGO_ENABLED=0) for this.
func probeImage(ctx context.Context) (string, error) {
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	bin, err := os.ReadFile(self)
	if err != nil {
		return "", err
	}
	if f, err := elf.NewFile(bytes.NewReader(bin)); err == nil {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return "", fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0 (make build)", self)
			}
		}
	}
	image := fmt.Sprintf("gameday/probe:%x", sha256.Sum256(bin))[:len("gameday/probe:")+12]
	if docker.ImageExists(ctx, image) {
		return image, nil
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "gameday", Mode: 0o755, Size: int64(len(bin))}); err != nil {
		return "", err
	}
	if _, err := tw.Write(bin); err != nil {
		return "", err
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	_, err = docker.RunInput(ctx, buf.Bytes(), "import", "-", image)
	return image, err
}

func checkImage(ctx context.Context) Check {
	c := Check{ID: "image", Name: "node image"}
	if img := os.Getenv("GAMEDAY_NODE_IMAGE"); img != "" {
		c.OK = docker.ImageExists(ctx, img)
		c.Detail = "GAMEDAY_NODE_IMAGE=" + img
		if !c.OK {
			c.Detail += " is not present"
			c.Fix = "docker pull " + img + ", or unset GAMEDAY_NODE_IMAGE"
		}
		return c
	}
	for _, img := range []string{KindImage, OfflineImage} {
		if docker.ImageExists(ctx, img) {
			c.OK, c.Detail = true, img+" is present"
			return c
		}
	}
	var missing []string
	for _, tool := range []string{"go", "gcc", "apt-get"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if len(missing) == 0 {
		c.OK = true
		c.Detail = "none present yet; `cluster up` pulls " + KindImage + ", and where no registry is reachable `make node-image` builds one (~15 min cold)"
		return c
	}
	c.Detail = "none present, and " + strings.Join(missing, ", ") + " missing to build one offline"
	c.Fix = "docker pull " + KindImage + ", or install " + strings.Join(missing, " ") + " and run `make node-image`"
	return c
}

func checkDisk(ctx context.Context) Check {
	dir := "/var/lib/docker"
	if d, err := docker.Run(ctx, "info", "--format", "{{.DockerRootDir}}"); err == nil && d != "" {
		dir = d
	}
	for ; dir != "/"; dir = parent(dir) {
		if _, err := os.Stat(dir); err == nil {
			break
		}
	}
	c := Check{ID: "disk", Name: "free disk"}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		c.Detail = err.Error()
		return c
	}
	free := fs.Bavail * uint64(fs.Bsize)
	c.OK = free >= MinFreeDisk
	c.Detail = fmt.Sprintf("%s free at %s (need %s)", gib(free), dir, gib(MinFreeDisk))
	if !c.OK {
		c.Fix = "free disk space: `make clean` removes gameday's clusters, images and caches; `docker system prune` removes unused Docker data"
	}
	return c
}

func checkMemory() Check {
	c := Check{ID: "memory", Name: "free memory"}
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		c.OK, c.Detail = true, "unknown on this system"
		return c
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			free := kb << 10
			c.OK = free >= MinFreeMemory
			c.Detail = fmt.Sprintf("%s available (need %s)", gib(free), gib(MinFreeMemory))
			if !c.OK {
				c.Fix = "close other programs, or delete other clusters (`gameday cluster list`, `kind get clusters`)"
			}
			return c
		}
	}
	c.OK, c.Detail = true, "unknown on this system"
	return c
}

func gib(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30)) }

func parent(dir string) string {
	i := strings.LastIndex(strings.TrimSuffix(dir, "/"), "/")
	if i <= 0 {
		return "/"
	}
	return dir[:i]
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndex(s, "\n"); i >= 0 {
		return s[i+1:]
	}
	return s
}
