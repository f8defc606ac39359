#!/usr/bin/env bash
# `make demo`: each built-in topology in turn, created, shown, a node lost and
# recovered, deleted. Later issues add the fixtures and the incident replay.
set -euo pipefail
cd "$(dirname "$0")/.."
G=bin/gameday
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
state() { $G cluster status --name "$1" -o json | jq -r --arg n "$2" '.nodes[] | select(.name == $n) | if .ready then "Ready" else "NotReady" end'; }
wait_state() { # wait_state CLUSTER NODE STATE
  local start=$SECONDS
  until [ "$(state "$1" "$2")" = "$3" ]; do sleep 1; done
  echo "   $2 is $3 after $((SECONDS - start))s"
}
trap 'for t in shared separate; do $G cluster down --name demo-$t -q 2>/dev/null || true; done' EXIT

for topo in shared separate; do
  name=demo-$topo
  say "gameday cluster up --topology $topo --name $name"
  $G cluster up --topology "$topo" --name "$name"
  worker=$($G cluster status --name "$name" -o json | jq -r '[.nodes[] | select(.role == "worker" and .inService)][0].name')
  say "losing node $worker (its container stops, like a VM that dies)"
  docker stop --time 5 "$worker" >/dev/null
  wait_state "$name" "$worker" NotReady
  $G cluster status --name "$name"
  say "bringing $worker back"
  docker start "$worker" >/dev/null
  wait_state "$name" "$worker" Ready
  say "gameday cluster down --name $name"
  $G cluster down --name "$name"
done
