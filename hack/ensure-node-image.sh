#!/usr/bin/env bash
# Makes sure a node image is present: kind's own (kindest/node) when it is
# present or can be pulled, else gameday's offline build (hack/node-image),
# which is cached by content. GAMEDAY_OFFLINE=1 skips the pull attempt.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
KIND_IMAGE=$(cd "$ROOT" && go run ./hack/kindimage)
start=$SECONDS
if docker image inspect "$KIND_IMAGE" >/dev/null 2>&1; then
  echo " ✓ node image $KIND_IMAGE is present" >&2; exit 0
fi
TAG=$("$ROOT/hack/node-image/build.sh" --tag)
if docker image inspect "$TAG" >/dev/null 2>&1; then
  docker tag "$TAG" gameday/node:offline
  echo " ✓ node image $TAG (gameday/node:offline) is present and up to date" >&2; exit 0
fi
if [ "${GAMEDAY_OFFLINE:-}" != 1 ]; then
  echo " • pulling $KIND_IMAGE ..." >&2
  if timeout 180 docker pull "$KIND_IMAGE" >/dev/null 2>&1; then
    echo " ✓ pulled $KIND_IMAGE ($((SECONDS - start))s)" >&2; exit 0
  fi
  echo " ✗ cannot pull $KIND_IMAGE (no registry reachable?): building one offline" >&2
fi
"$ROOT/hack/node-image/build.sh" >/dev/null
