#!/usr/bin/env bash
# `make demo`: the main job. Replays the seed incident (cascading-outage) on
# both topologies, one cluster at a time, then shows where the debrief is:
# each topology's report (text on stdout, report.html to open) and the
# side-by-side comparison. About 8 minutes on 2 cores; the clusters are
# deleted afterwards (and on Ctrl-C, after the run puts back what it changed).
set -euo pipefail
cd "$(dirname "$0")/.."
G=bin/gameday
OUT=${DEMO_OUT:-gameday-demo}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "the plan on shared (gameday run cascading-outage --dry-run --topology shared)"
$G run cascading-outage --dry-run --topology shared | head -40

say "gameday run cascading-outage --out $OUT --name demo (both topologies)"
rm -rf "$OUT"
$G run cascading-outage --out "$OUT" --name demo

say "the debrief"
for f in "$OUT"/shared/report.html "$OUT"/separate/report.html "$OUT"/compare.html; do
  printf '   %s  (%s bytes, self-contained: open it in any browser)\n' "$f" "$(wc -c < "$f")"
done
echo "   gameday report show $OUT/shared -o md    # the same report as Markdown"
