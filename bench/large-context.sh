#!/usr/bin/env bash
# How fast does the checker send a large build context? A realistic node_modules, 100,000
# small files, built `FROM scratch` with `COPY . /ctx/`, on the engine DOCKER_HOST names:
#   docker:  `docker buildx build` (the docker CLI's BuildKit client and its session), wall
#            time; where the machine's docker has no buildx (Debian bookworm's has none),
#            Debian sid's docker-buildx is installed as a plugin by `.ci/engines buildx`;
#   checker: the build as `checker check --fresh` times it (`build_seconds`: from the
#            request to the image, the context sent through the checker's session), and the
#            whole check (the build, then measuring and judging 100,000 files) beside it.
# The build cache is emptied before every run, so each sends the whole context; runs are
# interleaved so drift in the machine affects both sides alike. Each checker run checks that
# it measured what it names (every file sent, nothing from the result cache).
# Usage: bash bench/large-context.sh [RUNS] [FILES]   (defaults 3 and 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
files=${2:-100000}
docker_cli=docker
if ! $docker_cli buildx version >/dev/null 2>&1; then
  DOCKER_CONFIG=$(bash .ci/engines buildx)
  export DOCKER_CONFIG
fi
echo "docker: $($docker_cli buildx version); engine $($docker_cli version --format '{{.Server.Version}}')"

# The profile the README's commands run (dev, with the decoders and hashes optimised).
cargo build -q -p checker
checker=${CARGO_TARGET_DIR:-$PWD/target}/debug/checker

workbook=$(mktemp -d)
report=$(mktemp)
trap 'rm -rf "$workbook" "$report"' EXIT
exercise=$workbook/exercises/01-large-context
mkdir -p "$exercise"
printf 'FROM scratch\nCOPY . /ctx/\n' >"$exercise/Dockerfile"
printf '[exercise]\ntitle = "large context"\nlesson = []\n\n[[goals]]\nid = "context"\nkind = "context-size"\nmax_mb = 1000\n' >"$exercise/exercise.toml"
python3 - "$exercise/node_modules" "$files" <<'EOF'
import os, sys
root, total = sys.argv[1], int(sys.argv[2])
for n in range(total):
    folder = os.path.join(root, f"package-{n // 100}")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"f{n % 100}.js"), "w") as f:
        f.write(f"module.exports = {n};\n")
EOF
expected=$((files + 2))   # and the Dockerfile and exercise.toml

now() { date +%s.%N; }
elapsed() { awk -v a="$(now)" -v b="$1" 'BEGIN { printf "%.3f", a - b }'; }
empty_cache() { $docker_cli builder prune -af >/dev/null; }
# "<from_cache> <build seconds> <verdict's measured text>" of a check's report.
made() {
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["from_cache"], "%.3f" % r["measurements"]["build_seconds"], r["verdicts"][0]["measured"])' "$1"
}

docker_times=() build_times=() check_times=()
for i in $(seq 1 "$runs"); do
  empty_cache
  t=$(now)
  $docker_cli buildx build -q -t workbook-bench/large-context:$i "$exercise" >/dev/null
  docker_times+=("$(elapsed "$t")")
  $docker_cli rmi workbook-bench/large-context:$i >/dev/null

  empty_cache
  t=$(now)
  $checker --root "$workbook" check --fresh --format json 01 >"$report" 2>/dev/null
  check_times+=("$(elapsed "$t")")
  read -r from_cache build measured < <(made "$report")
  if [ "$from_cache" != False ] || [[ "$measured" != *" in $expected files" ]]; then
    echo "not a full send: from the result cache: $from_cache; measured: $measured" >&2
    exit 1
  fi
  build_times+=("$build")
  echo "run $i: docker buildx build ${docker_times[-1]} s; checker build $build s (whole check ${check_times[-1]} s)"
done
$checker --root "$workbook" clean >/dev/null 2>&1 || true

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
d=$(median "${docker_times[@]}") b=$(median "${build_times[@]}") c=$(median "${check_times[@]}")
echo "median of $runs, $files files: docker buildx build $d s, checker build $b s (ratio $(awk -v b="$b" -v d="$d" 'BEGIN { printf "%.2f", b / d }')), whole check $c s"
