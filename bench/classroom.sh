#!/usr/bin/env bash
# Grading a classroom: 30 synthetic learners × 3 exercises (01, 02, 09), a mix of passing
# (the reference solution), failing (the starter) and broken (does not parse / a RUN that
# fails / never exits) Dockerfiles, graded with --jobs 1 and with --jobs 2. Reports wall time,
# the engine's peak disk use (the file system of its data root, sampled every second), and
# what was left afterwards. The figures go into src/measurements.json (`classroom`), where
# the instructors' chapter reads them; the times are `checker grade`'s own.
# Usage: bash bench/classroom.sh [LEARNERS]   (default 30)
set -euo pipefail
cd "$(dirname "$0")/.."
learners=${1:-30}
cargo build --release -q -p checker
checker=$PWD/target/release/checker
docker_cli=docker; [ -x /usr/bin/docker ] && docker_cli=/usr/bin/docker
root=$($docker_cli info -f '{{.DockerRootDir}}')
class=$(mktemp -d)
out=$(mktemp -d)   # outside the class folder, or the next run would grade it as a learner
trap 'rm -rf "$class" "$out"' EXIT

for i in $(seq -w 1 "$learners"); do
  for ex in 01-static-binary 02-go-api 09-non-root-data; do
    d="$class/learner-$i/$ex"
    mkdir -p "$d"
    cp -r "exercises/$ex/." "$d/"
    case $(( 10#$i % 5 )) in
      0|1) cp "exercises/$ex/solution/Dockerfile" "$d/Dockerfile" ;;             # passes
      2)   ;;                                                                    # the starter: fails
      3)   printf 'FROM debian:bookworm\nFORM broken\n' > "$d/Dockerfile" ;;      # does not parse
      4)   if [ "$ex" = 09-non-root-data ]; then                                   # never exits / fails to build
             printf 'FROM debian:bookworm-slim\nUSER 10001\nCMD ["sleep", "600"]\n' > "$d/Dockerfile"
           else
             printf 'FROM debian:bookworm-slim\nRUN echo broken >&2 && exit 7\n' > "$d/Dockerfile"
           fi ;;
    esac
  done
done

# Used bytes of the file system holding the engine's data (du would count overlay mounts twice).
sample_disk() { df -B1 --output=used "$root" 2>/dev/null | tail -1 | tr -d ' ' || true; }
figures="$out/figures.json"
echo '{}' > "$figures"
record() { python3 - "$figures" "$@" <<'PY'
import json, sys
path, *pairs = sys.argv[1:]
data = json.load(open(path))
for pair in pairs:
    k, v = pair.split('=', 1)
    data[k] = float(v) if '.' in v else int(v)
json.dump(data, open(path, 'w'))
PY
}
for jobs in 1 2; do
  before=$(sample_disk)
  peak=$before
  ( set +e; while sleep 1; do sample_disk; done ) > "$out/disk-$jobs" &
  sampler=$!
  start=$(date +%s.%N)
  $checker grade "$class" 01 02 09 --jobs "$jobs" --timeout 300 --output "$out/grades-$jobs" > "$out/out-$jobs" 2>&1
  end=$(date +%s.%N)
  kill "$sampler" 2>/dev/null || true; wait "$sampler" 2>/dev/null || true
  peak=$(sort -n "$out/disk-$jobs" | tail -1); peak=${peak:-$before}
  left_containers=$($docker_cli ps -aq --filter label=org.workbook.checker | wc -l)
  # Each learner folder's images carry its scope: the first ten hex digits of the SHA-256 of
  # the folder's real path (checker/src/workbook/exercise.rs, checkout_scope).
  left_images=0
  for learner_dir in "$class"/*/; do
    scope=$(printf '%s' "$(realpath "$learner_dir")" | sha256sum | cut -c1-10)
    n=$($docker_cli images -q --filter "label=org.workbook.scope=$scope" | wc -l)
    left_images=$(( left_images + n ))
  done
  summary=$(tail -1 "$out/out-$jobs")
  awk -v j="$jobs" -v s="$start" -v e="$end" -v b="$before" -v p="$peak" -v c="$left_containers" -v i="$left_images" -v sum="$summary" \
    'BEGIN { printf "--jobs %s: %.1f s wall; engine disk %.0f MB before, peak %.0f MB (+%.0f MB); left: %d containers, %d images\n  %s\n", j, e - s, b / 1e6, p / 1e6, (p - b) / 1e6, c, i, sum }'
  grade_seconds=$(python3 -c "import json,sys; print(round(json.load(open(sys.argv[1]))['seconds'], 2))" "$out/grades-$jobs/grades.json")
  passed=$(grep -c ',passed,' "$out/grades-$jobs/scoreboard.csv" || true)
  record "jobs_${jobs}_seconds=$grade_seconds" "jobs_${jobs}_peak_extra_bytes=$(( peak - before ))" \
    "jobs_${jobs}_left_containers=$left_containers" "jobs_${jobs}_left_images=$left_images" "jobs_${jobs}_passed=$passed"
done
record "learners=$learners" "submissions=$(( learners * 3 ))"
python3 - "$figures" src/measurements.json <<'PY'
import json, sys
figures, path = json.load(open(sys.argv[1])), sys.argv[2]
data = json.load(open(path))
data['classroom'] = figures
open(path, 'w').write(json.dumps(data, indent=2, ensure_ascii=False) + '\n')
print('classroom figures written to', path)
PY
