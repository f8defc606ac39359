// Package docker runs the docker CLI for what kind's Go API does not cover:
// stopping and starting node containers, probing the daemon, images and networks.
package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// ErrUnreachable means the docker CLI is missing or its daemon does not answer.
var ErrUnreachable = errors.New("docker is not reachable")

// Run runs `docker args...` and returns its trimmed stdout; on failure the
// error holds the command and its stderr.
func Run(ctx context.Context, args ...string) (string, error) {
	return RunInput(ctx, nil, args...)
}

// RunInput is Run with stdin.
func RunInput(ctx context.Context, stdin []byte, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "docker", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("docker %s: %s", strings.Join(args, " "), msg)
	}
	return strings.TrimSpace(stdout.String()), nil
}

// Ping checks that the daemon answers within a few seconds and returns its version.
func Ping(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("docker"); err != nil {
		return "", fmt.Errorf("%w: the docker command is not installed", ErrUnreachable)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := Run(ctx, "version", "--format", "{{.Server.Version}}")
	if err != nil || v == "" {
		return "", fmt.Errorf("%w: the Docker daemon does not answer", ErrUnreachable)
	}
	return v, nil
}

// ImageExists reports whether image is present locally.
func ImageExists(ctx context.Context, image string) bool {
	_, err := Run(ctx, "image", "inspect", "--format", "{{.Id}}", image)
	return err == nil
}

// ClusterContainers lists the containers (running or not) of the kind cluster name.
func ClusterContainers(ctx context.Context, name string) ([]string, error) {
	states, err := ClusterContainerStates(ctx, name)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(states))
	for n := range states {
		names = append(names, n)
	}
	return names, nil
}

// ClusterContainerStates maps each container of the kind cluster name to
// whether it is running, in one docker call.
func ClusterContainerStates(ctx context.Context, name string) (map[string]bool, error) {
	out, err := Run(ctx, "ps", "-a", "--filter", "label=io.x-k8s.kind.cluster="+name, "--format", "{{.Names}} {{.State}}")
	if err != nil {
		return nil, err
	}
	states := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if n, state, ok := strings.Cut(strings.TrimSpace(line), " "); ok {
			states[n] = state == "running"
		}
	}
	return states, nil
}

// NetworkExists reports whether a docker network of that name exists.
func NetworkExists(ctx context.Context, name string) (bool, error) {
	out, err := Run(ctx, "network", "ls", "--filter", "name=^"+name+"$", "--format", "{{.Name}}")
	if err != nil {
		return false, err
	}
	return out == name, nil
}

// RemoveNetwork removes a docker network; a missing one is not an error.
func RemoveNetwork(ctx context.Context, name string) error {
	ok, err := NetworkExists(ctx, name)
	if err != nil || !ok {
		return err
	}
	_, err = Run(ctx, "network", "rm", name)
	return err
}
