#!/usr/bin/env bash
# clean-node-images.sh: removes every image hack/node-image/build.sh made in
# the local Docker daemon (the node image, its bases, the component images it
# tags as kubeadm expects them) and doctor's probe images, children before
# the images they are built on.
set -uo pipefail
build=$(dirname "$0")/node-image/build.sh
v() { awk -F= -v k="$1" '$1 == k { print $2; exit }' "$build"; }
k8s=$(v K8S_VERSION) etcd=$(v ETCD_TAG) coredns=$(v COREDNS_TAG) pause=$(v PAUSE_TAG)
tags() { docker images --format '{{.Repository}}:{{.Tag}}' "$1" 2>/dev/null; }
for ref in $(tags gameday/node) $(tags gameday/kube-proxy-base) $(tags gameday/node-base) $(tags gameday/probe) \
	registry.k8s.io/kube-apiserver:"$k8s" registry.k8s.io/kube-controller-manager:"$k8s" \
	registry.k8s.io/kube-scheduler:"$k8s" registry.k8s.io/kube-proxy:"$k8s" registry.k8s.io/etcd:"$etcd" \
	registry.k8s.io/coredns/coredns:"$coredns" registry.k8s.io/pause:"$pause" kindest/minikindnet:offline; do
	docker image inspect "$ref" >/dev/null 2>&1 && docker rmi -f "$ref" >/dev/null && echo "removed $ref"
done
exit 0
