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
# 134 s the next for the same buildx build): each run waits for the disk to be quiet. Each
# checker run checks that it measured what it names (every file sent, nothing from the
# result cache).
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
# Sectors written to every disk so far (/proc/diskstats' 10th field, 512 B each).
written() { awk '{ s += $10 } END { printf "%.0f\n", s }' /proc/diskstats; }
# Until the disk is quiet: under 4 MB written in each of 3 seconds in a row, or 3 minutes.
# A prune returns before containerd has deleted what it pruned, and after a prune of
# 100,000 files a fixed wait of 10 s was followed by runs whose COPY step took 52 s against
# 4 s in a quiet one.
settle() {
  local quiet=0 waited=0 before after
  before=$(written)
  while [ $quiet -lt 3 ] && [ $waited -lt 180 ]; do
    sleep 1
    waited=$((waited + 1))
    after=$(written)
    if [ $((after - before)) -lt 8192 ]; then quiet=$((quiet + 1)); else quiet=0; fi
    before=$after
  done
}
empty_cache() { $docker_cli builder prune -af >/dev/null; sync; settle; }
# The steps whose engine times both clients report, '|'-separated for the Python below: a step
# that either side's record lacks stops the bench (a renamed step must not read as 0 s).
export STEPS='[internal] load build context|[1/1] COPY . /ctx/|exporting to image'
# "<from_cache> <build seconds> <context s> <COPY s> <export s> <verdict's measured text>"
# of a check's report.
made() {
  python3 - "$1" <<'PY'
import json, os, sys
r = json.load(open(sys.argv[1]))["results"][0]
took = {s["name"]: s["completed"] - s["started"] for s in r["build_steps"]}
missing = [n for n in os.environ["STEPS"].split("|") if n not in took]
if missing:
    sys.exit(f"the checker's report has no step {missing} (it has {sorted(took)})")
steps = [took[n] for n in os.environ["STEPS"].split("|")]
print(r["from_cache"], "%.3f" % r["measurements"]["build_seconds"], *("%.3f" % s for s in steps), r["verdicts"][0]["measured"])
PY
}
# "<context s> <COPY s> <export s>" of buildx's rawjson progress.
buildx_steps() {
  python3 - "$1" <<'PY'
import json, os, sys
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
missing = [n for n in os.environ["STEPS"].split("|") if n not in vertexes]
if missing:
    sys.exit(f"buildx's progress has no finished step {missing} (it has {sorted(vertexes)})")
print(*("%.3f" % vertexes[n] for n in os.environ["STEPS"].split("|")))
PY
}

docker_times=() build_times=() check_times=() docker_context=() checker_context=()

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
context_ratios=()
# One timed build with each client; the order alternates from run to run (below).
run_buildx() {
  empty_cache
  local t steps
  t=$(now)
  $docker_cli buildx build --progress=rawjson -t workbook-bench/large-context:$i "$exercise" 2>"$progress"
  docker_times+=("$(elapsed "$t")")
  # Captured first: a failure inside `< <(…)` would not stop the script.
  steps=$(buildx_steps "$progress")
  read -r d_context d_copy d_export <<<"$steps"
  docker_context+=("$d_context")
}
run_checker() {
  empty_cache
  local t steps
  t=$(now)
  $checker --root "$workbook" check --fresh --format json 01 >"$report" 2>/dev/null
  check_times+=("$(elapsed "$t")")
  steps=$(made "$report")
  read -r from_cache build c_context c_copy c_export measured <<<"$steps"
  if [ "$from_cache" != False ] || [[ "$measured" != *" in $expected files" ]]; then
    echo "not a full send: from the result cache: $from_cache; measured: $measured" >&2
    exit 1
  fi
  build_times+=("$build")
  checker_context+=("$c_context")
}

# The order alternates (buildx first, then the checker first), and each run's ratio compares
# the two clients side by side: on 28.5 the second build of a run was often the slower
# whichever client made it (3,000 files: a context step of 1.1–1.2 s against 0.2 s; 100,000
# files: COPY 30–35 s against 4–5 s), even with the disk quiet before it. buildx's images are
# removed at the end, as the checker's stay until its next check.
for i in $(seq 1 "$runs"); do
  if [ $((i % 2)) = 1 ]; then run_buildx; run_checker; first=buildx; else run_checker; run_buildx; first=checker; fi
  context_ratios+=("$(ratio "$c_context" "$d_context")")
  echo "run $i ($first first): docker buildx build ${docker_times[-1]} s (context $d_context, COPY $d_copy, export $d_export); checker build $build s (context $c_context, COPY $c_copy, export $c_export; whole check ${check_times[-1]} s)"
done
$checker --root "$workbook" clean >/dev/null 2>&1 || true
for i in $(seq 1 "$runs"); do $docker_cli rmi workbook-bench/large-context:$i >/dev/null; done

median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
d=$(median "${docker_times[@]}") b=$(median "${build_times[@]}") c=$(median "${check_times[@]}")
dc=$(median "${docker_context[@]}") cc=$(median "${checker_context[@]}")
echo "median of $runs, $files files: sending the context: docker buildx $dc s, checker $cc s (ratio $(ratio "$cc" "$dc"); median of each run's ratio, the two clients side by side in one run: $(median "${context_ratios[@]}")); whole build: docker buildx build $d s, checker build $b s (ratio $(ratio "$b" "$d")), whole check $c s"
