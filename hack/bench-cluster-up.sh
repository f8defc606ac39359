#!/usr/bin/env bash
# Measures `gameday cluster up` per topology next to a bare `kind create
# cluster` of the same generated config and image, N times each, alternating,
# and the cluster's peak memory (sum over its node containers, sampled every
# 2 s for 45 s after create, untimed: sampling on 2 cores would slow the create
# it measures). Prints medians and the ratio.
# Usage: hack/bench-cluster-up.sh [N]   (default 3; one cluster at a time)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3}
IMAGE=${IMAGE:-gameday/node:offline}
make build >/dev/null
go build -o bin/kind sigs.k8s.io/kind
export GAMEDAY_HOME=$(mktemp -d)
OUT=$(mktemp -d /tmp/bench-cluster-up.XXXXXX)
trap 'bin/gameday cluster down --name bench -q 2>/dev/null || true; bin/kind delete cluster --name bench >/dev/null 2>&1 || true; docker network rm gameday-bench >/dev/null 2>&1 || true; rm -rf "$GAMEDAY_HOME"' EXIT

mem_mib() { # sum of the bench cluster's containers' memory, MiB
  docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' | awk '$1 ~ /^bench-/ {
    v=$2; u=v; gsub(/[0-9.]/,"",u); gsub(/[A-Za-z]/,"",v);
    if (u=="GiB") v*=1024; else if (u=="KiB") v/=1024; else if (u=="B") v/=1048576; s+=v } END {printf "%d", s}'
}
sample_peak() { # sample_peak SECONDS -> peak MiB while the cluster starts and settles
  local peak=0 m end=$((SECONDS + $1))
  while [ $SECONDS -lt $end ]; do m=$(mem_mib); [ "$m" -gt "$peak" ] && peak=$m; sleep 2; done
  echo "$peak"
}
# kind_delete: kind's own delete, with the thaw gameday does on cgroup v1
# hosts where a node killed mid pod-start stays unkillable (see cluster/internal/docker/thaw.go).
kind_delete() {
  local i f
  for i in 1 2 3; do
    bin/kind delete cluster --name bench -q 2>/dev/null && return 0
    for f in $(find /sys/fs/cgroup/freezer/docker -name freezer.state 2>/dev/null); do
      grep -q FROZEN "$f" && echo THAWED >"$f"
    done
  done
  bin/kind delete cluster --name bench
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
now() { date +%s.%N; }

bench_kind() {
  bin/gameday cluster up --dry-run --topology "$1" --name bench --image "$IMAGE" >"$OUT/$1.yaml"
  local t0=$(now)
  KIND_EXPERIMENTAL_DOCKER_NETWORK=gameday-bench bin/kind create cluster --name bench --config "$OUT/$1.yaml" --image "$IMAGE" --wait 5m -q
  awk -v a="$(now)" -v b="$t0" 'BEGIN {printf "%.1f\n", a - b}' >>"$OUT/kind-$1"
  kind_delete; docker network rm gameday-bench >/dev/null
}
bench_gameday() {
  local t0=$(now)
  bin/gameday cluster up --topology "$1" --name bench --image "$IMAGE" >/dev/null 2>"$OUT/gameday-$1-$i.log" ||
    { cat "$OUT/gameday-$1-$i.log" >&2; return 1; }
  awk -v a="$(now)" -v b="$t0" 'BEGIN {printf "%.1f\n", a - b}' >>"$OUT/gameday-$1"
  sample_peak 45 >>"$OUT/peak-$1"
  bin/gameday cluster down --name bench -q
}
for i in $(seq 1 "$N"); do
  for topo in shared separate; do
    # alternate which goes first, so that neither always runs on a warmer machine
    if [ $((i % 2)) = 1 ]; then bench_kind "$topo"; bench_gameday "$topo"; else bench_gameday "$topo"; bench_kind "$topo"; fi
    echo "run $i $topo: kind $(tail -1 "$OUT/kind-$topo")s, gameday $(tail -1 "$OUT/gameday-$topo")s, peak $(tail -1 "$OUT/peak-$topo") MiB" >&2
  done
done
printf '\n%-9s %12s %12s %7s %14s\n' topology "kind create" "gameday up" ratio "peak memory"
for topo in shared separate; do
  k=$(median <"$OUT/kind-$topo"); g=$(median <"$OUT/gameday-$topo"); p=$(median <"$OUT/peak-$topo")
  printf '%-9s %11.1fs %11.1fs %6.2fx %10s MiB\n' "$topo" "$k" "$g" "$(awk -v g="$g" -v k="$k" 'BEGIN {print g / k}')" "$p"
done
echo "(medians of $N runs each, image $IMAGE; gameday's logs with step timings in $OUT)"
