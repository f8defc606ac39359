#!/usr/bin/env bash
# Makes Docker ready for kind on a Debian machine, idempotently:
#   1. installs docker.io when Docker is missing;
#   2. starts dockerd when it is not running (systemd, or in the background without it);
#   3. only where privileged containers fail (some VMs lack a capability in
#      their bounding set, or refuse a negative oom_score_adj even to root),
#      installs gameday's runtime wrapper (hack/capfix) as dockerd's default
#      runtime, permanently in /usr/local/bin, and restarts dockerd.
# Each step prints its duration. Needs root for 1-3 when they have work to do.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WRAPPER=/usr/local/bin/gameday-runc-wrapper
DOCKERD_LOG=/var/log/gameday-dockerd.log

step() {
  local name=$1 start=$SECONDS; shift
  printf ' • %s ...\n' "$name" >&2
  "$@"
  printf ' ✓ %s (%ss)\n' "$name" $((SECONDS - start)) >&2
}
need_root() {
  [ "$(id -u)" = 0 ] || { echo "hack/setup-docker.sh: $1 needs root; run it with sudo" >&2; exit 1; }
}

install_docker() {
  need_root "installing docker.io"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
}

wait_docker() {
  local i
  for i in $(seq 1 60); do docker info >/dev/null 2>&1 && return 0; sleep 0.5; done
  echo "dockerd did not answer within 30s; see $DOCKERD_LOG" >&2
  return 1
}

start_docker() {
  need_root "starting dockerd"
  if [ -d /run/systemd/system ]; then
    systemctl start docker
  else
    # No systemd (containers, some CI VMs): run dockerd in its own session so
    # that it outlives this script.
    pkill -x dockerd 2>/dev/null && sleep 1 || true
    setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  wait_docker
}

restart_docker() {
  if [ -d /run/systemd/system ]; then
    systemctl restart docker
  else
    local pid
    pid=$(pidof dockerd || true)
    if [ -n "$pid" ]; then
      kill $pid
      while kill -0 $pid 2>/dev/null; do sleep 0.2; done
    fi
    setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null &
  fi
  wait_docker
}

install_wrapper() {
  need_root "installing the runtime wrapper"
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$WRAPPER.tmp" ./hack/capfix)
  mv "$WRAPPER.tmp" "$WRAPPER"
  mkdir -p /etc/docker
  local cfg=/etc/docker/daemon.json
  [ -s "$cfg" ] || echo '{}' >"$cfg"
  jq --arg p "$WRAPPER" '.runtimes["gameday-runc-wrapper"] = {path: $p} | .["default-runtime"] = "gameday-runc-wrapper"' "$cfg" >"$cfg.tmp"
  mv "$cfg.tmp" "$cfg"
  restart_docker
}

gameday() {
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -o bin/gameday ./cmd/gameday) && "$ROOT/bin/gameday" "$@"
}

# Where Docker is not Debian's to install (macOS, other Linux distributions),
# say what to do instead: gameday needs a Docker that runs privileged Linux
# containers, as kind does.
if [ "$(uname -s)" = Darwin ]; then
  if docker info >/dev/null 2>&1; then
    printf ' ✓ Docker answers (Docker Desktop, colima or OrbStack): ready for kind\n' >&2
    exit 0
  fi
  echo "macOS: install and start Docker Desktop (or colima: \`colima start --cpu 2 --memory 8\`, or OrbStack), then run \`make setup\` again" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null && ! command -v dockerd >/dev/null; then
  echo "this is not a Debian-like system: install Docker with your distribution's packages (e.g. \`dnf install moby-engine\`, \`pacman -S docker\`) or Docker's own (https://docs.docker.com/engine/install/), start it, then run \`make setup\` again" >&2
  exit 1
fi
command -v dockerd >/dev/null || step "install docker.io" install_docker
command -v jq >/dev/null || { command -v apt-get >/dev/null && step "install jq" bash -c 'apt-get install -y -qq jq >/dev/null'; } || { echo "install jq, then run \`make setup\` again" >&2; exit 1; }
docker info >/dev/null 2>&1 || step "start dockerd" start_docker
if ! gameday doctor --only privileged -q >/dev/null 2>&1; then
  step "install the runtime wrapper (this machine refuses privileged containers)" install_wrapper
  gameday doctor --only privileged || { echo "privileged containers still fail; see $DOCKERD_LOG" >&2; exit 1; }
fi
printf ' ✓ Docker is ready for kind\n' >&2
