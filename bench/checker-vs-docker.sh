#!/usr/bin/env bash
# What does the checker add to a build? Compares, on the same context and the same engine:
#   cold: `checker check 02-go-api`  vs  `docker build` (BuildKit) + `docker image inspect`
#         with the build cache emptied before each run (base images stay);
#   warm: `checker check 02-go-api` again with nothing changed.
# Runs are interleaved so drift in the machine affects both sides alike.
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
  $checker check "$exercise" >/dev/null 2>&1 || true   # exit 1: the starter misses goals, by design
  checker_times+=("$(elapsed "$t")")

  t=$(now)
  $checker check "$exercise" >/dev/null 2>&1 || true
  warm_times+=("$(elapsed "$t")")
  echo "run $i: docker build+inspect ${docker_times[-1]} s, checker cold ${checker_times[-1]} s, checker warm ${warm_times[-1]} s" >&2
done

mean() { printf '%s\n' "$@" | awk '{s+=$1} END {printf "%.2f", s/NR}'; }
d=$(mean "${docker_times[@]}"); c=$(mean "${checker_times[@]}"); w=$(mean "${warm_times[@]}")
echo "engine: $($docker_cli version -f '{{.Server.Version}}'), $runs runs, exercise $exercise"
echo "cold docker build + inspect: $d s"
echo "cold checker check:          $c s"
echo "ratio checker/docker:        $(awk -v c="$c" -v d="$d" 'BEGIN { printf "%.3f", c / d }')  (target <= 1.05)"
echo "warm re-check (no change):   $w s  (target < 1 s)"
