#!/usr/bin/env bash
# The learner's loop, measured: re-checking every exercise with nothing changed, through
# the result cache (`checker check`) and building and judging again (`checker check --fresh`);
# then the time from saving a change under `checker watch` to its verdict, against the
# build's own time.
#   bash bench/recheck.sh                          (the release build; engine: DOCKER_HOST)
#   bash bench/recheck.sh OLD-CHECKER NEW-CHECKER  (side by side, in turns, in one run)
# ROUNDS (default 5) re-checks and saves per checker, reported as their median; FRESH=0
# leaves out the --fresh re-check, which builds every probe again and takes minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  default=${CHECKER:-$PWD/target/release/checker}
  [ -x "$default" ] || cargo build --release --locked -p checker
  set -- "$default"
fi
rounds=${ROUNDS:-5}
# Each checker gets a workbook copy of its own: image tags are per checkout, and two
# checkers rebuilding the same tags in turns would each find the other's image there and
# take its own stored results as stale.
declare -A dirs
for checker in "$@"; do
  dirs[$checker]=$(mktemp -d)
  mkdir -p "${dirs[$checker]}/exercises"
  cp -a exercises/. "${dirs[$checker]}/exercises/"
done
cleanup() {
  # shellcheck disable=SC2086 # one pid per running watch
  [ -n "${watcher:-}" ] && { kill $watcher 2>/dev/null; for pid in $watcher; do wait "$pid" 2>/dev/null || true; done; }
  for checker in "${!dirs[@]}"; do
    "$checker" --root "${dirs[$checker]}" clean >/dev/null 2>&1 || true
    rm -rf "${dirs[$checker]}"
  done
}
trap cleanup EXIT
names=$(ls exercises)
now() { date +%s.%N; }
seconds() { local start end; start=$(now); "$@" >/dev/null 2>&1 || true; end=$(now); awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f\n", e - s }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) printf "%.2f", v[(NR + 1) / 2]; else printf "%.2f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "engine: $(docker version --format '{{.Server.Version}}' 2>/dev/null || echo unknown) at ${DOCKER_HOST:-the default socket}"
# SAVES_ONLY=1 leaves out the re-check of every exercise (its first check of each takes
# minutes), for measuring the save-to-verdict time alone.
if [ "${SAVES_ONLY:-0}" != 1 ]; then
# The first check of each exercise fills the cache; it is not counted.
for checker in "$@"; do
  "$checker" --root "${dirs[$checker]}" check $names --solution >/dev/null 2>&1 || true
done
declare -A cached
for round in $(seq "$rounds"); do
  for checker in "$@"; do
    cached[$checker]+="$(seconds "$checker" --root "${dirs[$checker]}" check $names --solution) "
  done
done
for checker in "$@"; do
  line="re-check of all $(echo $names | wc -w), nothing changed ($checker): $(echo ${cached[$checker]} | tr ' ' '\n' | median) s median of $rounds from the result cache [${cached[$checker]% }]"
  if [ "${FRESH:-1}" != 0 ]; then
    line+=", $(seconds "$checker" --root "${dirs[$checker]}" check $names --solution --fresh | median) s with --fresh"
  fi
  echo "$line"
done
fi

# Save to verdict under watch: the plain watch (no terminal) prints a report per save. The
# time from the save to the report's last line, against the build's own time, read from
# the result the check stored: the build request's wall time (what the report rounds as
# "built in": BuildKit solving the steps, all cached here, and exporting the image), and
# within it the span of BuildKit's own step timestamps (its solve time). With several
# checkers, each runs a watch of its own and the saves go to them in turns, so that they
# share the machine's load alike.
newest_result() { ls -t "$1/.workbook-cache/results/"*.json | head -1; }
build_times() {
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
steps = [s for s in r["build_steps"] if s.get("started") is not None and s.get("completed") is not None]
solve = max(s["completed"] for s in steps) - min(s["started"] for s in steps) if steps else 0.0
print("%.3f %.3f" % (r["measurements"]["build_seconds"], solve))' "$1"
}
declare -A watchers totals builds solves
for checker in "$@"; do
  work=${dirs[$checker]}
  ex="$work/exercises/01-static-binary"
  cp "$ex/solution/Dockerfile" "$ex/Dockerfile"
  : > "$work/watch.log"
  "$checker" --root "$work" watch 01 > "$work/watch.log" 2>&1 &
  watchers[$checker]=$!
  watcher="${watchers[*]}"
  until grep -q "goals met" "$work/watch.log"; do sleep 0.1; done
done
for attempt in $(seq "$rounds"); do
  for checker in "$@"; do
    work=${dirs[$checker]}
    log="$work/watch.log"
    lines=$(grep -c "goals met" "$log")
    saved=$(now)
    printf '\n# attempt %s %s\n' "$attempt" "$saved" >> "$work/exercises/01-static-binary/Dockerfile"
    until [ "$(grep -c "goals met" "$log")" -gt "$lines" ]; do sleep 0.005; done
    shown=$(now)
    read -r build solve < <(build_times "$(newest_result "$work")")
    total=$(awk -v s="$saved" -v e="$shown" 'BEGIN { printf "%.3f", e - s }')
    totals[$checker]+="$total " builds[$checker]+="$build " solves[$checker]+="$solve "
    echo "  save to verdict ($checker), attempt $attempt: $total s (build request $build s, BuildKit's solve $solve s)"
    sleep 0.5
  done
done
for pid in "${watchers[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
watcher=""
for checker in "$@"; do
  t=$(echo ${totals[$checker]} | tr ' ' '\n' | median) b=$(echo ${builds[$checker]} | tr ' ' '\n' | median) s=$(echo ${solves[$checker]} | tr ' ' '\n' | median)
  rest=$(paste <(echo ${totals[$checker]} | tr ' ' '\n') <(echo ${builds[$checker]} | tr ' ' '\n') | awk '{ print $1 - $2 }' | median)
  echo "save to verdict under watch ($checker), medians of $rounds: $t s; the build request $b s (BuildKit's solve $s s); the rest $rest s"
done
