#!/usr/bin/env bash
# Builds a kind node image equivalent to kindest/node without any container
# registry: Kubernetes, etcd and CoreDNS from their Go modules, the node rootfs
# from Debian packages (debootstrap), kind's own base files from the kind Go
# module. Every step is cached by the content of its inputs, so a second run
# with nothing changed takes seconds; each step prints its duration.
#
# Usage: hack/node-image/build.sh            builds (or finds) the image, prints its tag last
#        hack/node-image/build.sh --tag      prints the tag the current inputs produce, builds nothing
#
# Environment: GAMEDAY_CACHE (default ~/.cache/gameday), MIRROR (Debian mirror;
# default: the one apt uses).
set -euo pipefail

K8S_VERSION=v1.37.2
# The version a control-plane-upgrade step restarts the control plane into: a
# kube-apiserver image, and a kubelet for nodes that join after the upgrade,
# built from the same sources but reporting this version.
NEXT_VERSION=v1.38.0
KIND_VERSION=v0.33.0
CRICTL_VERSION=v1.37.0
SUITE=bookworm
IMAGE_REPO=gameday/node
# Image tags as `kubeadm config images list` prints them for $K8S_VERSION.
ETCD_TAG=3.7.0-0
COREDNS_TAG=v1.14.6
PAUSE_TAG=3.10.2
NODE_PKGS=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,bash,ca-certificates,curl,jq,procps,containerd,runc,socat,less
PROXY_PKGS=iptables,nftables,conntrack,kmod,ipset

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
CACHE=${GAMEDAY_CACHE:-$HOME/.cache/gameday}/node-image
MIRROR=${MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
export CGO_ENABLED=0 GOFLAGS=-trimpath

log() { printf ' • %s\n' "$*" >&2; }
# step NAME CMD...: runs CMD and prints how long it took.
step() {
  local name=$1 start=$SECONDS; shift
  log "$name ..."
  "$@"
  printf ' ✓ %s (%ss)\n' "$name" $((SECONDS - start)) >&2
}
# hash_of FILES_OR_STRINGS...: a short content hash of files (by content) and literal strings.
hash_of() {
  local a
  for a in "$@"; do
    if [ -f "$a" ]; then sha256sum "$a" | cut -d' ' -f1; else printf '%s\n' "$a"; fi
  done | sha256sum | cut -c1-12
}

INPUTS=$(cd "$ROOT" && find hack/node-image hack/capfix -type f ! -name '*_test.go' | LC_ALL=C sort)
TAG=$IMAGE_REPO:$K8S_VERSION-$(cd "$ROOT" && hash_of $INPUTS "$KIND_VERSION $CRICTL_VERSION $SUITE $NODE_PKGS $PROXY_PKGS")
if [ "${1:-}" = "--tag" ]; then echo "$TAG"; exit 0; fi

if docker image inspect "$TAG" >/dev/null 2>&1; then
  log "node image $TAG is up to date (cached)"
  docker tag "$TAG" "$IMAGE_REPO:offline"
  echo "$TAG"; exit 0
fi

mkdir -p "$CACHE/bin"
START=$SECONDS

# --- binaries, each cached by the hash of its module files -----------------------------------
ld_for() { # ld_for VERSION: link flags that make a Kubernetes binary report VERSION
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld="$ld -X $p.gitVersion=$1 -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$1" | cut -d. -f2) -X $p.gitCommit=0000000000000000000000000000000000000000 -X $p.gitTreeState=clean -X $p.buildDate=2026-01-01T00:00:00Z"
  done
  echo "$ld"
}
LD=$(ld_for $K8S_VERSION)
NEXT_LD=$(ld_for $NEXT_VERSION)
K8S_BIN=$CACHE/bin/k8s-$(hash_of "$HERE"/k8s/go.mod "$HERE"/k8s/go.sum "$HERE"/k8s/cmd/minikindnet/main.go "$LD")
build_k8s() {
  local out=$K8S_BIN.tmp b
  rm -rf "$out"; mkdir -p "$out"
  for b in kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm kubectl; do
    (cd "$HERE/k8s" && go build -ldflags "$LD" -o "$out/$b" k8s.io/kubernetes/cmd/$b)
  done
  (cd "$HERE/k8s" && go build -ldflags "-s -w" -o "$out/minikindnet" ./cmd/minikindnet)
  mv "$out" "$K8S_BIN"
}
[ -d "$K8S_BIN" ] || step "Kubernetes $K8S_VERSION binaries (cold: ~7 min)" build_k8s
# Only the link differs: the compiled packages come from the build cache.
NEXT_BIN=$CACHE/bin/k8s-next-$(hash_of "$HERE"/k8s/go.mod "$HERE"/k8s/go.sum "$NEXT_LD")
build_next() {
  local out=$NEXT_BIN.tmp b
  rm -rf "$out"; mkdir -p "$out"
  for b in kube-apiserver kubelet; do
    (cd "$HERE/k8s" && go build -ldflags "$NEXT_LD" -o "$out/$b" k8s.io/kubernetes/cmd/$b)
  done
  mv "$out" "$NEXT_BIN"
}
[ -d "$NEXT_BIN" ] || step "kube-apiserver and kubelet reporting $NEXT_VERSION" build_next

ETCD_BIN=$CACHE/bin/etcd-$(hash_of "$HERE"/etcd/go.mod "$HERE"/etcd/go.sum)
[ -x "$ETCD_BIN" ] || step "etcd" bash -c "cd '$HERE/etcd' && go build -ldflags '-s -w' -o '$ETCD_BIN.tmp' go.etcd.io/etcd/server/v3 && mv '$ETCD_BIN.tmp' '$ETCD_BIN'"
COREDNS_BIN=$CACHE/bin/coredns-$(hash_of "$HERE"/coredns/go.mod "$HERE"/coredns/go.sum)
[ -x "$COREDNS_BIN" ] || step "CoreDNS" bash -c "cd '$HERE/coredns' && go build -ldflags '-s -w' -o '$COREDNS_BIN.tmp' github.com/coredns/coredns && mv '$COREDNS_BIN.tmp' '$COREDNS_BIN'"
CRICTL_BIN=$CACHE/bin/crictl-$CRICTL_VERSION
[ -x "$CRICTL_BIN" ] || step "crictl" bash -c "GOBIN='$CACHE/bin/crictl.tmp' go install -ldflags '-s -w' sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION && mv '$CACHE/bin/crictl.tmp/crictl' '$CRICTL_BIN'"
CAPFIX_BIN=$CACHE/bin/runc-capfix-$(hash_of "$ROOT"/hack/capfix/main.go)
[ -x "$CAPFIX_BIN" ] || step "runtime wrapper" bash -c "cd '$ROOT' && go build -ldflags '-s -w' -o '$CAPFIX_BIN' ./hack/capfix"
# The pause program is C, linked static: gcc and libc6-dev's libc.a.
[ -f /usr/lib/x86_64-linux-gnu/libc.a ] && command -v gcc >/dev/null ||
  step "install gcc" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev >/dev/null'
PAUSE_BIN=$CACHE/bin/pause-$(hash_of "$HERE"/pause/pause.c)
[ -x "$PAUSE_BIN" ] || step "pause" gcc -Os -static -o "$PAUSE_BIN" "$HERE/pause/pause.c"
go mod download -json sigs.k8s.io/kind@$KIND_VERSION >/dev/null 2>&1 || (cd "$ROOT" && go mod download sigs.k8s.io/kind)
KIND_FILES=$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files

# --- root filesystems, cached as tarballs by package list ------------------------------------
command -v debootstrap >/dev/null || step "install debootstrap" bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null'
logged() { # logged LOGFILE CMD...: CMD's output goes to LOGFILE, shown on failure
  local logfile=$1; shift
  "$@" >"$logfile" 2>&1 || { tail -20 "$logfile" >&2; echo "failed: $*; full log in $logfile" >&2; return 1; }
}
rootfs() { # rootfs NAME PKGS -> prints the cached tarball path
  local tar=$CACHE/rootfs-$1-$(hash_of "$SUITE $2").tar
  if [ ! -f "$tar" ]; then
    local dir=$CACHE/rootfs-$1.tmp
    rm -rf "$dir"
    step "debootstrap $1 rootfs" logged "$CACHE/debootstrap-$1.log" debootstrap --variant=minbase --include="$2" "$SUITE" "$dir" "$MIRROR"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -cf "$tar.tmp" . && mv "$tar.tmp" "$tar" && rm -rf "$dir"
  fi
  echo "$tar"
}
NODE_TAR=$(rootfs node "$NODE_PKGS")
PROXY_TAR=$(rootfs proxy "$PROXY_PKGS")
CNI_DEB=$(ls "$CACHE"/debs/containernetworking-plugins_*.deb 2>/dev/null | head -1 || true)
if [ -z "$CNI_DEB" ]; then
  step "CNI plugins package" bash -c "mkdir -p '$CACHE/debs' && cd '$CACHE/debs' && apt-get download containernetworking-plugins >/dev/null 2>&1"
  CNI_DEB=$(ls "$CACHE"/debs/containernetworking-plugins_*.deb | head -1)
fi

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/gameday-node-image.XXXXXX")
BUILDER=gameday-node-image-build-$$
cleanup() { docker rm -f "$BUILDER" >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

# --- component images, tagged exactly as kubeadm expects -------------------------------------
export DOCKER_BUILDKIT=0
image() { # image TAG BINARY DEST [BASE]
  local d=$WORK/img-$RANDOM$RANDOM
  mkdir -p "$d"; cp "$2" "$d/bin"
  printf 'FROM %s\nENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nCOPY bin %s\nENTRYPOINT ["%s"]\n' "${4:-scratch}" "$3" "$3" >"$d/Dockerfile"
  quiet_build -t "$1" "$d"
}
# quiet_build ARGS...: docker build, its output shown only when it fails.
quiet_build() {
  local out
  out=$(docker build -q "$@" 2>&1) || { echo "$out" >&2; return 1; }
}
build_images() {
  local b
  for b in kube-apiserver kube-controller-manager kube-scheduler; do
    image registry.k8s.io/$b:$K8S_VERSION "$K8S_BIN/$b" /usr/local/bin/$b
  done
  image registry.k8s.io/kube-apiserver:$NEXT_VERSION "$NEXT_BIN/kube-apiserver" /usr/local/bin/kube-apiserver
  image registry.k8s.io/etcd:$ETCD_TAG "$ETCD_BIN" /usr/local/bin/etcd
  image registry.k8s.io/coredns/coredns:$COREDNS_TAG "$COREDNS_BIN" /coredns
  image registry.k8s.io/pause:$PAUSE_TAG "$PAUSE_BIN" /pause
  image docker.io/kindest/minikindnet:offline "$K8S_BIN/minikindnet" /bin/minikindnet
  # kube-proxy's base without what it never reads (docs, locales, perl, the
  # package databases): ~1,300 files instead of ~7,200. Every new node copies
  # it, unpacked (see build_node), and Docker copies file by file.
  local proxy=$WORK/proxy-rootfs
  mkdir -p "$proxy" && tar -C "$proxy" -xf "$PROXY_TAR"
  (cd "$proxy" && rm -rf usr/share/locale usr/share/doc usr/share/man usr/share/info usr/share/zoneinfo usr/share/common-licenses \
    usr/share/bash-completion usr/share/lintian usr/share/perl5 usr/share/debconf usr/lib/*/gconv usr/lib/*/perl-base usr/lib/*/perl \
    usr/lib/apt var/lib/apt var/lib/dpkg/info var/cache/* var/log/*)
  tar -C "$proxy" -c . | docker import - gameday/kube-proxy-base:offline >/dev/null
  rm -rf "$proxy"
  image registry.k8s.io/kube-proxy:$K8S_VERSION "$K8S_BIN/kube-proxy" /usr/local/bin/kube-proxy gameday/kube-proxy-base:offline
}
step "component images" build_images

# --- base image: rootfs + kind's base files ---------------------------------------------------
build_base() {
  local R=$WORK/rootfs
  mkdir -p "$R" && tar -C "$R" -xf "$NODE_TAR"
  install -m 0755 "$KIND_FILES"/usr/local/bin/* "$R/usr/local/bin/"
  mkdir -p "$R/kind/bin" "$R/kind/manifests" "$R/etc/containerd" "$R/etc/sysctl.d" "$R/etc/default" "$R/etc/systemd/system/kubelet.service.d" "$R/opt/cni/bin" "$R/etc/kubernetes/manifests"
  cp -r "$KIND_FILES/kind/." "$R/kind/"; chmod -R u+w "$R/kind"; chmod 755 "$R/kind" "$R/kind/bin" "$R"/kind/bin/*
  install -m 0644 "$KIND_FILES/etc/crictl.yaml" "$R/etc/"
  install -m 0644 "$KIND_FILES/etc/containerd/config.toml" "$R/etc/containerd/"
  install -m 0644 "$KIND_FILES"/etc/default/* "$R/etc/default/"
  install -m 0644 "$KIND_FILES"/etc/sysctl.d/* "$R/etc/sysctl.d/"
  local f; for f in "$KIND_FILES"/etc/systemd/system/*; do [ -f "$f" ] && install -m 0644 "$f" "$R/etc/systemd/system/"; done
  install -m 0644 "$KIND_FILES"/etc/systemd/system/kubelet.service.d/* "$R/etc/systemd/system/kubelet.service.d/"
  rm -f "$R/etc/systemd/system/containerd-fuse-overlayfs.service"  # rootless only
  ln -sf /usr/bin/containerd "$R/usr/local/bin/containerd"        # kind's unit wants it there
  # The runtime wrapper: a no-op where every capability and oom_score_adj is allowed.
  install -m 0755 "$CAPFIX_BIN" "$R/usr/local/sbin/runc-capfix"
  install -m 0755 "$CRICTL_BIN" "$R/usr/local/bin/crictl"
  dpkg-deb -x "$CNI_DEB" "$WORK/cni"
  for f in host-local loopback ptp portmap bridge; do install -m 0755 "$WORK/cni/usr/lib/cni/$f" "$R/opt/cni/bin/"; done
  for f in kubelet kubeadm kubectl; do install -m 0755 "$K8S_BIN/$f" "$R/usr/bin/$f"; done
  install -D -m 0755 "$NEXT_BIN/kubelet" "$R/usr/local/lib/gameday/$NEXT_VERSION/kubelet"
  echo -n "$K8S_VERSION" >"$R/kind/version"
  install -m 0644 "$HERE/files/default-cni.yaml" "$R/kind/manifests/default-cni.yaml"
  sed -i "s#sandbox_image = .*#sandbox_image = \"registry.k8s.io/pause:$PAUSE_TAG\"#" "$R/etc/containerd/config.toml"
  sed -i 's#^\(\s*\)SystemdCgroup = true#\1SystemdCgroup = true\n\1BinaryName = "/usr/local/sbin/runc-capfix"#' "$R/etc/containerd/config.toml"
  grep -q runc-capfix "$R/etc/containerd/config.toml" || { echo "containerd config: runtime wrapper not set" >&2; return 1; }
  chroot "$R" ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer|length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' | jq 'del(.process.rlimits)' >"$R/etc/containerd/cri-base.json"
  # systemd trimmed as in kind's base Dockerfile
  find "$R/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$R"/lib/systemd/system/multi-user.target.wants/* "$R"/etc/systemd/system/*.wants/* "$R"/lib/systemd/system/local-fs.target.wants/* \
    "$R"/lib/systemd/system/sockets.target.wants/*udev* "$R"/lib/systemd/system/sockets.target.wants/*initctl* "$R"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >>"$R/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$R/sbin/init"
  chroot "$R" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$R" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  rm -f "$R/etc/machine-id"; touch "$R/etc/machine-id"
  tar -C "$R" -c . | docker import --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' --change 'ENV container=docker' - gameday/node-base:raw >/dev/null
  rm -rf "$R"
  # docker import and commit cannot set STOPSIGNAL: one metadata-only build step.
  mkdir -p "$WORK/base" && printf 'FROM gameday/node-base:raw\nSTOPSIGNAL SIGRTMIN+3\n' >"$WORK/base/Dockerfile"
  quiet_build -t gameday/node-base:offline "$WORK/base"
}
step "base image" build_base

# --- node image: preload every image into the node's containerd, then commit ----------------
# Each image is imported and unpacked into containerd's snapshotter here, once,
# and its layers' blobs are then dropped (as containerd's discard_unpacked_layers
# does after a pull): a node starts every container at once instead of
# unpacking its image first (~200 MB for kube-proxy, in every node of every new
# cluster, all at the same moment), and /var, which Docker copies into every
# new node, is no bigger. containerd works on a tmpfs meanwhile (its overlayfs
# snapshots cannot sit on the container's own overlay filesystem), copied into
# /var/lib/containerd at the end (cp -a: every image here is FROM scratch or
# one base and a COPY, so no layer holds an overlay whiteout to lose). A node
# whose containerd does not use overlayfs (kind picks native on zfs,
# fuse-overlayfs under rootless Docker) cannot use these snapshots, and has
# no blobs to unpack from: there, use kind's own node image (--image).
build_node() {
  local img
  docker run -d --privileged --init --name "$BUILDER" --tmpfs /mnt/containerd:exec,size=8g --entrypoint=sleep gameday/node-base:offline infinity >/dev/null
  docker exec "$BUILDER" bash -c 'nohup containerd --root /mnt/containerd >/var/log/containerd-build.log 2>&1 & echo $! >/run/containerd-build.pid'
  docker exec "$BUILDER" bash -c 'for i in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done; exit 1'
  for img in registry.k8s.io/kube-apiserver:$K8S_VERSION registry.k8s.io/kube-controller-manager:$K8S_VERSION \
    registry.k8s.io/kube-scheduler:$K8S_VERSION registry.k8s.io/kube-proxy:$K8S_VERSION registry.k8s.io/kube-apiserver:$NEXT_VERSION registry.k8s.io/etcd:$ETCD_TAG \
    registry.k8s.io/coredns/coredns:$COREDNS_TAG registry.k8s.io/pause:$PAUSE_TAG docker.io/kindest/minikindnet:offline; do
    docker save "$img" | docker exec -i "$BUILDER" ctr --namespace=k8s.io images import --all-platforms --digests - >/dev/null
  done
  # Every image unpacked (a snapshot per layer), then each layer's blob removed;
  # every image pinned, so that the kubelet's image GC never removes one (no
  # registry to pull it back from). (This ctr's import ignores --label.)
  docker exec "$BUILDER" bash -c '
    set -euo pipefail
    for ref in $(ctr -n k8s.io images ls -q); do ctr -n k8s.io images label "$ref" io.cri-containerd.pinned=pinned >/dev/null; done
    refs=$(ctr -n k8s.io images ls -q | grep -v "^sha256:\|^import-")
    for ref in $refs; do
      # STATUS and UNPACKED, the fourth and last columns: "complete (n/n) ... true"
      ctr -n k8s.io images check "name==$ref" | awk "NR==2 && \$4 == \"complete\" && \$NF == \"true\" {ok=1} END {exit !ok}" ||
        { echo "image $ref is not complete and unpacked" >&2; exit 1; }
      m=$(ctr -n k8s.io images ls "name==$ref" | awk "NR==2 {print \$3}")
      # A manifest lists its layers; an index (Docker with the containerd
      # image store) lists manifests.
      for d in $m $(ctr -n k8s.io content get "$m" | jq -r ".manifests[]?.digest"); do
        ctr -n k8s.io content get "$d" | jq -r ".layers[]?.digest"
      done
    done | sort -u >/tmp/layers
    [ -s /tmp/layers ] || { echo "no layer found to drop" >&2; exit 1; }
    xargs ctr -n k8s.io content rm </tmp/layers >/dev/null'
  docker exec "$BUILDER" bash -c 'kill $(cat /run/containerd-build.pid); for i in $(seq 1 60); do kill -0 $(cat /run/containerd-build.pid) 2>/dev/null || break; sleep 0.5; done
    ! kill -0 $(cat /run/containerd-build.pid) 2>/dev/null || { echo "containerd did not stop" >&2; exit 1; }
    rm -f /run/containerd-build.pid /var/log/containerd-build.log; mkdir -p /var/lib/containerd; cp -a /mnt/containerd/. /var/lib/containerd/'
  docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' --change 'ENV HTTP_PROXY="" HTTPS_PROXY="" NO_PROXY=""' \
    --change "LABEL dev.gameday.node-image=$K8S_VERSION" "$BUILDER" "$TAG" >/dev/null
  docker tag "$TAG" "$IMAGE_REPO:offline"
}
step "node image $TAG" build_node
docker image prune -f >/dev/null 2>&1 || true
printf ' ✓ node image built in %ss\n' $((SECONDS - START)) >&2
echo "$TAG"
