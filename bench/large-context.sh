#!/usr/bin/env bash
# How fast does the checker send a large build context? A realistic node_modules, 100,000
# small files, built `FROM scratch` with `COPY . /ctx/`, on the engine DOCKER_HOST names:
#   docker:  `docker buildx build` (the docker CLI's BuildKit client and its session), wall
#            time; where the machine's docker has no buildx (Debian bookworm's has none),
#            Debian sid's docker-buildx is installed as a plugin by `.ci/engines buildx`;
#   checker: the build as `checker check --fresh` times it (`build_seconds`: from the
#            request to the image, the context sent through the checker's session), and the
#            whole check (the build, then measuring and judging 100,000 files) beside it.
# Both sides also give the engine's own times of the build's steps (buildx's
# `--progress=rawjson`, the checker's report): "[internal] load build context" is the
# transfer itself, the part a client decides; COPY and the export are the engine's work on
# what it received, and on this machine they vary more from run to run (the disk) than the
# two clients differ.
# The build cache is emptied before every run, so each sends the whole context, and the
# engine is given time to finish deleting (containerd removes snapshots after the prune
# returns: a run right after a prune of 100,000 files competed with it, 18 s one run and
# 134 s the next for the same buildx build). Runs are interleaved so drift in the machine
# affects both sides alike. Each checker run checks that it measured what it names (every
# file sent, nothing from the result cache).
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
progress=$(mktemp)
trap 'rm -rf "$workbook" "$report" "$progress"' EXIT
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
empty_cache() { $docker_cli builder prune -af >/dev/null; sync; sleep 10; }
# "<from_cache> <build seconds> <context s> <COPY s> <export s> <verdict's measured text>"
# of a check's report.
made() {
  python3 - "$1" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
took = {s["name"]: s["completed"] - s["started"] for s in r["build_steps"]}
steps = [took.get(n, 0) for n in ("[internal] load build context", "[1/1] COPY . /ctx/", "exporting to image")]
print(r["from_cache"], "%.3f" % r["measurements"]["build_seconds"], *("%.3f" % s for s in steps), r["verdicts"][0]["measured"])
PY
}
# "<context s> <COPY s> <export s>" of buildx's rawjson progress.
buildx_steps() {
  python3 - "$1" <<'PY'
import json, sys
from datetime import datetime
def seconds(text):
    head, _, zone = text.replace("Z", "+00:00").partition("+")
    whole, _, fraction = head.partition(".")
    return datetime.fromisoformat(f"{whole}.{(fraction + '000000')[:6]}+{zone}").timestamp()
vertexes = {}
for line in open(sys.argv[1]):
    if line.startswith("{"):
        for v in json.loads(line).get("vertexes") or []:
            if v.get("started") and v.get("completed"):
                vertexes[v["name"]] = seconds(v["completed"]) - seconds(v["started"])
print(*("%.3f" % vertexes.get(n, 0) for n in ("[internal] load build context", "[1/1] COPY . /ctx/", "exporting to image")))
PY
}

docker_times=() build_times=() check_times=() docker_context=() checker_context=()

for i in $(seq 1 "$runs"); do
  empty_cache
  t=$(now)
  $docker_cli buildx build --progress=rawjson -t workbook-bench/large-context:$i "$exercise" 2>"$progress"
  docker_times+=("$(elapsed "$t")")
  read -r d_context d_copy d_export < <(buildx_steps "$progress")
  docker_context+=("$d_context")
  $docker_cli rmi workbook-bench/large-context:$i >/dev/null

  empty_cache
  t=$(now)
  $checker --root "$workbook" check --fresh --format json 01 >"$report" 2>/dev/null
  check_times+=("$(elapsed "$t")")
  read -r from_cache build c_context c_copy c_export measured < <(made "$report")
  if [ "$from_cache" != False ] || [[ "$measured" != *" in $expected files" ]]; then
    echo "not a full send: from the result cache: $from_cache; measured: $measured" >&2
    exit 1
  fi
  build_times+=("$build")
  checker_context+=("$c_context")
  echo "run $i: docker buildx build ${docker_times[-1]} s (context $d_context, COPY $d_copy, export $d_export); checker build $build s (context $c_context, COPY $c_copy, export $c_export; whole check ${check_times[-1]} s)"
done
$checker --root "$workbook" clean >/dev/null 2>&1 || true

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
d=$(median "${docker_times[@]}") b=$(median "${build_times[@]}") c=$(median "${check_times[@]}")
dc=$(median "${docker_context[@]}") cc=$(median "${checker_context[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "median of $runs, $files files: sending the context: docker buildx $dc s, checker $cc s (ratio $(ratio "$cc" "$dc")); whole build: docker buildx build $d s, checker build $b s (ratio $(ratio "$b" "$d")), whole check $c s"
