#!/usr/bin/env bash
# The learner's loop, measured: re-checking every exercise with nothing changed, through
# the result cache (`checker check`) and building and judging again (`checker check --fresh`);
# then the time from saving a change under `checker watch` to its verdict, against the
# build's own time, for a save that keeps the image (a comment) and one that makes another
# (a LABEL), and the engine's own time to run a container of it, the floor under the second.
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
# Two edits, in turns: a comment, which leaves the image as it was (the same id), and a
# LABEL in the final stage, which makes another image (a new config, the same layers), so
# that the app goal's container starts again. Each is appended to exercise 01's solution.
newest_result() { ls -t "$1/.workbook-cache/results/"*.json | head -1; }
build_times() {
  python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
steps = [s for s in r["build_steps"] if s.get("started") is not None and s.get("completed") is not None]
solve = max(s["completed"] for s in steps) - min(s["started"] for s in steps) if steps else 0.0
print("%.3f %.3f %s" % (r["measurements"]["build_seconds"], solve, r["image_id"]))' "$1"
}
edits="comment label"
declare -A watchers totals builds solves images
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
  for edit in $edits; do
    for checker in "$@"; do
      work=${dirs[$checker]}
      log="$work/watch.log"
      dockerfile="$work/exercises/01-static-binary/Dockerfile"
      lines=$(grep -c "goals met" "$log")
      before=$(build_times "$(newest_result "$work")" | cut -d' ' -f3)
      saved=$(now)
      case $edit in
        comment) printf '\n# attempt %s %s\n' "$attempt" "$saved" >> "$dockerfile" ;;
        label) printf '\nLABEL org.workbook.bench.attempt="%s %s"\n' "$attempt" "$saved" >> "$dockerfile" ;;
      esac
      until [ "$(grep -c "goals met" "$log")" -gt "$lines" ]; do sleep 0.005; done
      shown=$(now)
      read -r build solve image < <(build_times "$(newest_result "$work")")
      same=$([ "$image" = "$before" ] && echo "the same image" || echo "a new image")
      total=$(awk -v s="$saved" -v e="$shown" 'BEGIN { printf "%.3f", e - s }')
      key="$checker $edit"
      totals[$key]+="$total " builds[$key]+="$build " solves[$key]+="$solve " images[$key]="$same"
      echo "  save to verdict ($checker, $edit), attempt $attempt: $total s (build request $build s, BuildKit's solve $solve s; $same)"
      sleep 0.5
    done
  done
done
for pid in "${watchers[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; done
watcher=""
# The floor under a save that makes a new image: the engine's own time to create, start and
# wait for a container of the last image (what the run goal asks of it), through its API
# with curl, the same sandbox's network (none), without the checker.
socket=${DOCKER_HOST:-unix:///var/run/docker.sock}
floors=""
if [[ $socket == unix://* ]] && command -v curl >/dev/null; then
  socket=${socket#unix://}
  image=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["image"])' "$(newest_result "${dirs[$1]}")")
  api() { curl -sf --unix-socket "$socket" -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "http://engine/v1.41$2"; }
  for round in $(seq "$rounds"); do
    start=$(now)
    id=$(api POST /containers/create "{\"Image\":\"$image\",\"HostConfig\":{\"NetworkMode\":\"none\"},\"Labels\":{\"org.workbook.checker\":\"true\"}}" | sed 's/.*"Id":"\([0-9a-f]*\)".*/\1/')
    api POST "/containers/$id/start" >/dev/null
    api POST "/containers/$id/wait" >/dev/null
    end=$(now)
    api DELETE "/containers/$id?force=1" >/dev/null || true
    floors+="$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", e - s }') "
    sleep 0.3
  done
  echo "the engine's own container run of $image (create, start, wait; curl): $(echo $floors | tr ' ' '\n' | median) s median of $rounds [${floors% }]"
fi
for edit in $edits; do
  for checker in "$@"; do
    key="$checker $edit"
    t=$(echo ${totals[$key]} | tr ' ' '\n' | median) b=$(echo ${builds[$key]} | tr ' ' '\n' | median) s=$(echo ${solves[$key]} | tr ' ' '\n' | median)
    rest=$(paste <(echo ${totals[$key]} | tr ' ' '\n') <(echo ${builds[$key]} | tr ' ' '\n') | awk '{ print $1 - $2 }' | median)
    echo "save to verdict under watch ($checker), a $edit ($(echo ${images[$key]})), medians of $rounds: $t s; the build request $b s (BuildKit's solve $s s); the rest $rest s"
  done
done
