#!/usr/bin/env bash
# Installs Debian's chromium when it is missing: the e2e suite opens a run's
# report.html in headless Chromium, screenshots it and checks the charts
# rendered. Idempotent; prints its duration. Needs root to install.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  printf ' ✓ chromium is present (%s)\n' "$(chromium --version 2>/dev/null | head -1)" >&2
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "hack/ensure-chromium.sh: installing chromium needs root; run it with sudo" >&2; exit 1; }
start=$SECONDS
printf ' • install chromium (headless report checks) ...\n' >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
printf ' ✓ install chromium (%ss)\n' $((SECONDS - start)) >&2
