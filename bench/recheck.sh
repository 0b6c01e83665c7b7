#!/usr/bin/env bash
# The learner's loop, measured: re-checking every exercise with nothing changed, through
# the result cache (`checker check`) and building and judging again (`checker check --fresh`),
# side by side in one run; then the time from saving a change under `checker watch` to its
# verdict, against the build's own time.
#   bash bench/recheck.sh            (engine: whatever DOCKER_HOST names)
set -euo pipefail
cd "$(dirname "$0")/.."
checker=${CHECKER:-$PWD/target/release/checker}
[ -x "$checker" ] || cargo build --release --locked -p checker
work=$(mktemp -d)
cleanup() { "$checker" --root "$work" clean >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/exercises"
cp -a exercises/. "$work/exercises/"
names=$(ls exercises)
seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null 2>&1 || true; end=$(date +%s.%N); awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }'; }

# The first check of each fills the cache; it is not counted.
"$checker" --root "$work" check $names --solution >/dev/null 2>&1 || true
cached=$(seconds "$checker" --root "$work" check $names --solution)
fresh=$(seconds "$checker" --root "$work" check $names --solution --fresh)
echo "re-check of all 13, nothing changed: ${cached} s from the result cache, ${fresh} s with --fresh"

# Save to verdict under watch: the plain watch (no terminal) prints a report per save; the
# time from the save to the report's last line, and the build's own time in that report.
ex="$work/exercises/01-static-binary"
cp "$ex/solution/Dockerfile" "$ex/Dockerfile"
log="$work/watch.log"
"$checker" --root "$work" watch 01 > "$log" 2>&1 &
watcher=$!
until grep -q "goals met" "$log"; do sleep 0.1; done
for attempt in 1 2 3; do
  lines=$(grep -c "goals met" "$log")
  saved=$(date +%s.%N)
  printf '\n# attempt %s %s\n' "$attempt" "$saved" >> "$ex/Dockerfile"
  until [ "$(grep -c "goals met" "$log")" -gt "$lines" ]; do sleep 0.02; done
  shown=$(date +%s.%N)
  build=$(grep -o 'built in [0-9.]* s' "$log" | tail -1 | grep -o '[0-9.]*')
  awk -v s="$saved" -v e="$shown" -v b="$build" 'BEGIN { printf "save to verdict, attempt %d: %.2f s (the build itself: %s s; the rest: %.2f s)\n", '"$attempt"', e - s, b, e - s - b }'
done
kill "$watcher" 2>/dev/null; wait "$watcher" 2>/dev/null || true
