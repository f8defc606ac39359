#!/usr/bin/env bash
# first-fault.sh N: times command -> first fault (the first step beginning
# to act, read from the run's timeline), N runs per topology
# (shared and separate alternating), with hack/first-fault.yaml: the fixtures,
# probes and steady state of cascading-outage (its objectives are the
# defaults), then its first step only. Prints each run's phases and the
# median per topology. Not in CI: each run takes about a minute.
#
#   make build && hack/first-fault.sh 5
#
# REUSE=1 times runs in a row on one cluster per topology (--reuse): each
# topology's cluster is made once with `gameday up` (not timed), then the N
# runs reuse it; one topology after the other, one cluster at a time.
set -euo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: hack/first-fault.sh N}
[[ -x bin/gameday ]] || { echo "build first: make build" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# Every progress line gets the time it was printed.
stamp() { while IFS= read -r line; do printf '%s %s\n' "$(date +%s.%N)" "$line"; done; }
if [[ -n "${REUSE:-}" ]]; then
	for topo in shared separate; do
		bin/gameday up --topology "$topo" --name first-fault -q >/dev/null
		bin/gameday run hack/first-fault.yaml --topology "$topo" --reuse --repeat "$n" --name first-fault --out "$out/runs-$topo" 2>&1 | stamp >>"$out/log" || true
		bin/gameday cluster down --name "first-fault-$topo" -q
	done
else
	bin/gameday run hack/first-fault.yaml --repeat "$n" --name first-fault --out "$out/runs" 2>&1 | stamp >"$out/log" || true
fi

# When each run's first step began acting, from the run's own timeline (its
# step "start" entry): the fault begins there. Its ✓ line comes once the step
# is done (the upgrade's API server restarted and answering, ~4-5 s later).
for tl in $(find "$out" -name timeline.jsonl); do
	dir=$(dirname "$tl")
	case $(basename "$dir") in
	run-*) i=$(basename "$dir"); i=${i#run-}; topo=$(basename "$(dirname "$dir")") ;;
	*) i=1; topo=$(basename "$dir") ;; # one run: no run-<i> folder
	esac
	t=$(jq -r 'select(.kind == "step" and .phase == "start") | .time' "$tl" | head -1)
	[[ -n "$t" ]] && printf 'STEPSTART %s %s %s\n' "$(date -d "$t" +%s.%N)" "$topo" "$i"
	# And the report's first fault, where the run observed one (the first
	# change not made by the operator; a 5 s horizon may end before it).
	if [[ -f "$dir/report.json" ]]; then
		s=$(jq -r '.start' "$dir/report.json")
		f=$(jq -r '.first_fault_seconds // empty' "$dir/report.json")
		[[ -n "$f" ]] && printf 'OBSERVED %s %s %s\n' "$(echo "$(date -d "$s" +%s.%N) + $f" | bc)" "$topo" "$i"
	fi
done >"$out/starts"

awk '
function median(list, which,    k, v, i, j, x, med) {
	k = split(list, v, " ")
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
	med = (k % 2) ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
	return sprintf("median %.1f s of %d (min %.1f, max %.1f)", med, k, v[1], v[k])
}
$1 == "STEPSTART" { start[$3 " " $4] = $2; next }
$1 == "OBSERVED" { observed[$3 " " $4] = $2; next }
/Replaying first-fault on topology/ { t0 = $1; topo = $6; sub(/,$/, "", topo); run[topo]++ }
/✓ Joining worker nodes/ { kind = $1 - t0 }
/✓ (Rolling|Starting) cluster DNS/ { ready = $1 - t0 }
/✓ Waiting for the system to serve/ { serving = $1 - t0 }
/Replaying first-fault on topology/ && ENVIRON["REUSE"] != "" { kind = 0; ready = 0 }
/✓ control-plane-upgrade/ && t0 {
	done = $1 - t0
	began = start[topo " " run[topo]] - t0
	seen = "-"
	if ((topo " " run[topo]) in observed) {
		seen = sprintf("%.1f s", observed[topo " " run[topo]] - t0)
	}
	printf "%-8s run %2d: kind created the cluster at %5.1f s, cluster ready %5.1f s, fixtures serving %5.1f s, first fault %5.1f s (the report'"'"'s: %s; its step done %5.1f s)\n", topo, run[topo], kind, ready, serving, began, seen, done
	all[topo] = all[topo] " " began
	alldone[topo] = alldone[topo] " " done
	t0 = 0
}
END {
	for (topo in all) {
		printf "%-8s command -> first fault: %s; -> its step done: %s\n", topo, median(all[topo]), median(alldone[topo])
	}
}' "$out/starts" "$out/log"
