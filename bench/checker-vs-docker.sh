#!/usr/bin/env bash
# What does the checker add to a build? Compares, on the same context and the same engine:
#   cold: `checker check --fresh 02-go-api`  vs  `docker build` (BuildKit) + `docker image
#         inspect`, with the build cache emptied before each run (base images stay);
#   warm: `checker check 02-go-api` again with nothing changed (its stored result).
# Runs are interleaved so drift in the machine affects both sides alike. Each run checks
# that it measured what it names: a cold check built every step (nothing from the build
# cache, nothing from the result cache, which once made "cold" 0.04 s), a warm one gave the
# stored result; a run that did not is an error, not a number.
# Usage: bash bench/checker-vs-docker.sh [RUNS]   (default 3; each cold run takes ~30 s)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
exercise=02-go-api
# Debian's docker.io client builds with BuildKit; a newer client without buildx cannot.
docker_cli=/usr/bin/docker
[ -x "$docker_cli" ] || docker_cli=docker

cargo build --release -q -p checker
checker=./target/release/checker
$checker images >/dev/null 2>&1 || $checker images --offline >/dev/null

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
empty_cache() { $docker_cli builder prune -af >/dev/null; }

report=$(mktemp)
trap 'rm -f "$report"' EXIT
# What a report says of how its result was made: "<from_cache> <cached steps> <all steps>".
how_made() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; m=r["measurements"]; print(r["from_cache"], m["cached_steps"], m["total_steps"])' "$1"
}
measured_cold() {
  read -r from_cache cached total < <(how_made "$1")
  if [ "$from_cache" != "False" ] || [ "$cached" != 0 ]; then
    echo "not a cold check: from the result cache: $from_cache, $cached of $total steps cached" >&2
    exit 1
  fi
}
measured_warm() {
  read -r from_cache _ _ < <(how_made "$1")
  [ "$from_cache" = "True" ] || { echo "not a warm re-check: the result was made afresh" >&2; exit 1; }
}

docker_times=() checker_times=() warm_times=()
for i in $(seq 1 "$runs"); do
  empty_cache
  t=$(now)
  DOCKER_BUILDKIT=1 $docker_cli build -q -t workbook-bench/docker:$i -f exercises/$exercise/Dockerfile exercises/$exercise >/dev/null
  $docker_cli image inspect workbook-bench/docker:$i >/dev/null
  docker_times+=("$(elapsed "$t")")
  $docker_cli rmi workbook-bench/docker:$i >/dev/null

  empty_cache
  t=$(now)
  # exit 1: the starter misses goals, by design
  $checker check --fresh --format json "$exercise" >"$report" 2>/dev/null || true
  checker_times+=("$(elapsed "$t")")
  measured_cold "$report"

  t=$(now)
  $checker check --format json "$exercise" >"$report" 2>/dev/null || true
  warm_times+=("$(elapsed "$t")")
  measured_warm "$report"
  echo "run $i: docker build+inspect ${docker_times[-1]} s, checker cold ${checker_times[-1]} s, checker warm ${warm_times[-1]} s" >&2
done

mean() { printf '%s\n' "$@" | awk '{s+=$1} END {printf "%.2f", s/NR}'; }
d=$(mean "${docker_times[@]}"); c=$(mean "${checker_times[@]}"); w=$(mean "${warm_times[@]}")
echo "engine: $($docker_cli version -f '{{.Server.Version}}'), $runs runs, exercise $exercise"
echo "cold docker build + inspect: $d s"
echo "cold checker check:          $c s"
echo "ratio checker/docker:        $(awk -v c="$c" -v d="$d" 'BEGIN { printf "%.3f", c / d }')  (target <= 1.05)"
echo "warm re-check (no change):   $w s  (target < 1 s)"
