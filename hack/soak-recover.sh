#!/usr/bin/env bash
# soak-recover.sh N: N times, kill -9 a run of cascading-outage (topology
# shared) at a random moment between its cluster's creation and the end of
# its recovery, run `gameday recover`, and check the cluster with the control
# plane's own kubectl: nodes, spares (not joined: no Node, kubelet down and
# disabled, no pods), releases, replicas, surges, the version record and the
# API server's version.
# One line per trial, then a total. Not in CI: each trial takes ~5 minutes.
# A run killed before its fixtures served has changed nothing yet: its trial
# only needs `gameday recover` to succeed (the half-made cluster is deleted).
#
#   make build && hack/soak-recover.sh 10
#
# KILL_WITHIN (seconds, default 280) bounds the random kill moment, counted
# from the cluster's record appearing; a run of cascading-outage ends its
# recovery about that long after it.
set -uo pipefail
cd "$(dirname "$0")/.."

n=${1:?usage: hack/soak-recover.sh N}
within=${KILL_WITHIN:-280}
name=soak
cluster=$name-shared
bin=bin/gameday
home=${GAMEDAY_HOME:-$HOME/.local/state/gameday}
record=$home/clusters/$cluster/cluster.json
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

[[ -x $bin ]] || { echo "build first: make build" >&2; exit 2; }
if [[ -e $record ]]; then
	echo "cluster $cluster exists: delete it first (gameday cluster down --name $cluster)" >&2
	exit 2
fi

cp_kubectl() { docker exec "$cluster-control-plane" kubectl --kubeconfig /etc/kubernetes/admin.conf "$@"; }

# check prints what is not as before the run, one problem per line.
check() {
	local node pool spare taints unsched ready
	# '|' between fields: an unset field (spec.unschedulable) must not shift the others.
	while IFS='|' read -r node pool unsched ready taints; do
		spare=false
		[[ $pool == *-next ]] && spare=true
		if $spare; then
			echo "spare $node has joined: its Node is registered (taints: $taints, unschedulable: $unsched)"
		else
			[[ $ready == True ]] || echo "node $node is not Ready"
			[[ $unsched != true ]] || echo "node $node is cordoned"
		fi
	done < <(cp_kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name}|{.metadata.labels.gameday\.dev/pool}|{.spec.unschedulable}|{.status.conditions[?(@.type=="Ready")].status}|{.spec.taints[*].key}{"\n"}{end}')
	# Spares have no Node until they join: gameday's marker names them.
	for node in $(cp_kubectl get configmap -n kube-system gameday-cluster -o jsonpath='{.data.spares}' | grep -o '"[^"]*"' | tr -d '"' | grep -v -- '-next$'); do
		docker exec "$node" systemctl is-active --quiet kubelet.service && echo "spare $node: its kubelet runs"
		docker exec "$node" systemctl is-enabled --quiet kubelet.service && echo "spare $node: its kubelet would start with its node"
		local pods
		pods=$(cp_kubectl get pods -A --field-selector "spec.nodeName=$node" \
			-o jsonpath='{range .items[?(@.metadata.ownerReferences[0].kind!="DaemonSet")]}{.metadata.namespace}/{.metadata.name} {end}')
		[[ -z $pods ]] || echo "pods left on spare $node: $pods"
	done
	# The API server back at its node's version after an upgrade.
	local served kubelet
	served=$(cp_kubectl get --raw /version | grep -o '"gitVersion": *"[^"]*"' | grep -o 'v[0-9][^"]*')
	kubelet=$(cp_kubectl get nodes -l gameday.dev/pool=system -o jsonpath='{.items[0].status.nodeInfo.kubeletVersion}')
	[[ $served == "$kubelet" ]] || echo "the API server reports $served, its node runs $kubelet"
	local d rel want ready_r surge
	while IFS='|' read -r d rel want ready_r surge; do
		[[ $rel == v1 ]] || echo "deployment $d runs release $rel, not v1"
		[[ $want == 2 ]] || echo "deployment $d wants $want replicas, not 2"
		[[ $ready_r == 2 ]] || echo "deployment $d has $ready_r ready replicas, not 2"
		[[ -z $surge ]] || echo "deployment $d is still surged by a vacate"
	done < <(cp_kubectl -n gameday get deployments -o jsonpath='{range .items[*]}{.metadata.name}|{.metadata.annotations.gameday\.dev/release}|{.spec.replicas}|{.status.readyReplicas}|{.metadata.annotations.gameday\.dev/vacate-replicas}{"\n"}{end}')
	local v
	v=$(cp_kubectl -n kube-system get configmap gameday-cluster -o jsonpath='{.metadata.annotations.gameday\.dev/control-plane-version}')
	[[ -z $v ]] || echo "the control plane still has the recorded version $v"
}

whole=0
for i in $(seq 1 "$n"); do
	kill_at=$((RANDOM % within))
	log=$out/run-$i.log
	setsid "$bin" run cascading-outage --topology shared --name "$name" --out "$out/run-$i" --retain >"$log" 2>&1 &
	pid=$!
	# The clock starts when the cluster's record appears (its creation).
	until [[ -e $record ]] || ! kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
	t0=$(date +%s.%N)
	moment="ended by itself before +${kill_at}s"
	while kill -0 "$pid" 2>/dev/null; do
		if (($(printf '%.0f' "$(echo "$(date +%s.%N) - $t0" | bc)") >= kill_at)); then
			last=$(tail -n 1 "$log" | sed 's/^ *[•✓✗⊘] *//' | cut -c1-60)
			kill -9 "$pid"
			moment="killed at +${kill_at}s (during: $last)"
			break
		fi
		sleep 0.2
	done
	wait "$pid" 2>/dev/null
	rec=$("$bin" recover --name "$cluster" 2>&1)
	code=$?
	rec=$(tail -n 1 <<<"$rec")
	if ! grep -q '"phase":"fixtures"' "$out/run-$i/shared/timeline.jsonl" 2>/dev/null; then
		# Killed while it set the cluster up: no change made yet, nothing to
		# put back; the half-made cluster is only to delete.
		moment="$moment, before its fixtures served"
		problems=""
	else
		problems=$(check 2>&1)
	fi
	[[ $code == 0 ]] || problems="gameday recover exited $code${problems:+; }$problems"
	if [[ -z $problems ]]; then
		whole=$((whole + 1))
		echo "trial $i: $moment; recover: $rec; whole"
	else
		echo "trial $i: $moment; recover: $rec; NOT WHOLE: $(echo "$problems" | paste -sd ';')"
	fi
	"$bin" cluster down --name "$cluster" -q >/dev/null 2>&1 || echo "trial $i: cluster down failed" >&2
done
echo "$whole of $n clusters back to their state before the run"
[[ $whole == "$n" ]]
