#!/usr/bin/env bash
# `make tour`: a guided walk through each built-in topology in turn: the cluster with the stand-in
# system deployed and serving, the incident's bad release crash-looping the
# workers while the site keeps answering from the host, the rollback, a lost
# node and its return, and the cluster deleted. `make demo` replays the
# whole incident and scores it.
set -euo pipefail
cd "$(dirname "$0")/.."
G=bin/gameday
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
port() { $G cluster status --name "$1" -o json | jq -r --arg t "$2" '.ports[] | select(.name == $t) | .hostPort'; }
pages() { # pages CLUSTER: what a user gets from the host
  local fe api p
  fe=$(port "$1" frontend); api=$(port "$1" api)
  # a failed request is part of the story: shown as 000 with curl's reason, never fatal
  for p in / /items /jobs; do
    curl -s -o /dev/null --max-time 3 -w "   frontend $p -> %{http_code}\n" "http://127.0.0.1:$fe$p" || echo "   (curl exit $?: no answer)"
  done
  printf '   api /api/jobs/stats -> %s\n' "$(curl -s --max-time 3 "http://127.0.0.1:$api/api/jobs/stats" || echo "no answer")"
}
node_state() { $G cluster status --name "$1" -o json | jq -r --arg n "$2" '.nodes[] | select(.name == $n) | if .ready then "Ready" else "NotReady" end'; }
wait_node() { # wait_node CLUSTER NODE STATE
  local start=$SECONDS
  until [ "$(node_state "$1" "$2")" = "$3" ]; do sleep 1; done
  echo "   $2 is $3 after $((SECONDS - start))s"
}
trap 'for t in shared separate; do $G cluster down --name tour-$t -q 2>/dev/null || true; done' EXIT

for topo in shared separate; do
  name=tour-$topo
  say "gameday up --topology $topo --name $name"
  $G up --topology "$topo" --name "$name"
  $G fixtures status --name "$name"
  pages "$name"

  say "the bad release: gameday fixtures release workers v2"
  $G fixtures release workers v2 --name "$name"
  start=$SECONDS
  until $G fixtures status --name "$name" -o json | jq -e '[.[] | select(.tier == "workers") | .pods[] | select(.waiting == "CrashLoopBackOff")] | length > 0' >/dev/null; do sleep 1; done
  echo "   a worker is in CrashLoopBackOff after $((SECONDS - start))s"
  $G fixtures status --name "$name" | grep -E 'TIER|workers'
  pages "$name"

  say "the rollback: gameday fixtures release workers v1"
  $G fixtures release workers v1 --name "$name"
  worker=$($G cluster status --name "$name" -o json | jq -r '[.nodes[] | select(.role == "worker" and .inService)][0].name')
  say "losing node $worker (its container stops, like a VM that dies)"
  docker stop --time 5 "$worker" >/dev/null
  wait_node "$name" "$worker" NotReady
  pages "$name"
  docker start "$worker" >/dev/null
  wait_node "$name" "$worker" Ready

  say "gameday cluster down --name $name"
  $G cluster down --name "$name"
done
