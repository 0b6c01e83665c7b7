#!/usr/bin/env bash
# Leaks: 100 `checker check` runs in a workbook of its own (its own scope label), a mix of
# passes, misses, failing builds and interrupted runs (SIGINT mid-build and mid-app-run), then
# a count of what the checker made and left: containers (there should be none), and images
# other than the one result each finished check keeps (`workbook-<scope>/<exercise>:learner`
# of the exercises checked to the end). Every interrupted run must exit 130.
# Usage: bash bench/leaks.sh [CHECKS]   (default 100; CHECKER=path skips the release build)
set -euo pipefail
cd "$(dirname "$0")/.."
checks=${1:-100}
if [ -z "${CHECKER:-}" ]; then
  cargo build --release -q -p checker
  CHECKER=$PWD/target/release/checker
fi
docker_cli=docker; [ -x /usr/bin/docker ] && docker_cli=/usr/bin/docker
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ex=$work/exercises
mkdir -p "$ex"

# pass-miss: meets every goal or misses non-root, by turns; its build-arg goal's probe builds
# and runs a second image each time.
mkdir -p "$ex/01-pass-miss"
cat > "$ex/01-pass-miss/exercise.toml" <<'EOF'
[exercise]
title = "leaks: passes and misses by turns"
lesson = []

[[goals]]
id = "non-root"
kind = "non-root"

[[goals]]
id = "alternate"
kind = "build-arg"
name = "SUITE"
alternate = "bookworm-slim"

[[goals]]
id = "runs"
kind = "run"
stdout = "^12\\."
EOF
pass='ARG SUITE=bookworm\nFROM debian:${SUITE}\nUSER 10001\nCMD ["cat", "/etc/debian_version"]\n'
miss='ARG SUITE=bookworm\nFROM debian:${SUITE}\nCMD ["cat", "/etc/debian_version"]\n'
# A build that fails, its log full of control characters.
mkdir -p "$ex/02-broken"
printf '[exercise]\ntitle = "leaks: a failing build"\nlesson = []\n\n[[goals]]\nid = "non-root"\nkind = "non-root"\n' > "$ex/02-broken/exercise.toml"
printf 'FROM debian:bookworm-slim\nRUN printf '"'"'\\033[31mfailing\\007\\n'"'"' && exit 3\n' > "$ex/02-broken/Dockerfile"
# Interrupted mid-build: a step that sleeps ten minutes.
mkdir -p "$ex/03-slow-build"
printf '[exercise]\ntitle = "leaks: a slow build"\nlesson = []\n\n[[goals]]\nid = "non-root"\nkind = "non-root"\n' > "$ex/03-slow-build/exercise.toml"
printf 'FROM debian:bookworm-slim\nRUN echo slow && sleep 600\n' > "$ex/03-slow-build/Dockerfile"
# Interrupted mid-app-run: an app that never exits.
mkdir -p "$ex/04-never-exits"
printf '[exercise]\ntitle = "leaks: an app that never exits"\nlesson = []\n\n[[goals]]\nid = "exits"\nkind = "run"\ntimeout_s = 300\n' > "$ex/04-never-exits/exercise.toml"
printf 'FROM debian:bookworm-slim\nCMD ["sleep", "600"]\n' > "$ex/04-never-exits/Dockerfile"

scope=$(python3 -c 'import hashlib,os,sys; print(hashlib.sha256(os.path.realpath(sys.argv[1]).encode()).hexdigest()[:10])' "$ex")
label="label=org.workbook.scope=$scope"
log=$work/stderr
unexpected=0
declare -A runs=()

# Runs one check; $2 is the exit code it must end with.
check() {
  local name=$1 want=$2 code=0
  "$CHECKER" --root "$work" check "$name" > /dev/null 2> "$log" || code=$?
  [ "$code" = "$want" ] || { unexpected=$((unexpected + 1)); echo "  $name: exit $code, expected $want" >&2; tail -5 "$log" >&2; }
}

# Starts a check and sends SIGINT once `$2` holds (polled every 0.2 s, at most 2 minutes).
interrupted() {
  local name=$1 ready=$2 code=0
  "$CHECKER" --root "$work" check "$name" > /dev/null 2> "$log" &
  local pid=$!
  for _ in $(seq 600); do eval "$ready" && break; sleep 0.2; done
  kill -INT "$pid"
  wait "$pid" || code=$?
  [ "$code" = 130 ] || { unexpected=$((unexpected + 1)); echo "  $name: exit $code after SIGINT, expected 130" >&2; tail -5 "$log" >&2; }
}
app_running() { [ -n "$($docker_cli ps -q --filter "$label" --filter label=org.workbook.exercise=04-never-exits)" ]; }
build_running() { grep -q 'FROM docker.io/library/debian' "$log" && sleep 1; }

start=$(date +%s)
for i in $(seq 1 "$checks"); do
  case $(( i % 5 )) in
    0) printf "$pass" > "$ex/01-pass-miss/Dockerfile"; check 01-pass-miss 0; kind=pass ;;
    1) printf "$miss" > "$ex/01-pass-miss/Dockerfile"; check 01-pass-miss 1; kind=miss ;;
    2) check 02-broken 2; kind=failing-build ;;
    3) interrupted 03-slow-build build_running; kind=sigint-mid-build ;;
    4) interrupted 04-never-exits app_running; kind=sigint-mid-app-run ;;
  esac
  runs[$kind]=$(( ${runs[$kind]:-0} + 1 ))
done
end=$(date +%s)
sleep 2   # what the engine still finishes of a cancelled build would show up by now

containers=$($docker_cli ps -aq --filter "$label" | wc -l)
# Every image of the scope but the one result the finished checks of 01 keep.
kept="workbook-$scope/01-pass-miss:learner"
images=$($docker_cli images -a --filter "$label" --format '{{.Repository}}:{{.Tag}} {{.ID}}' | grep -v "^$kept " || true)
image_count=$(printf '%s' "$images" | grep -c . || true)

echo "checks: $checks in $((end - start)) s ($(for k in "${!runs[@]}"; do printf '%s %s, ' "$k" "${runs[$k]}"; done | sed 's/, $//'))"
echo "exit codes other than expected: $unexpected"
echo "containers left: $containers"
echo "images left (besides $kept): $image_count"
[ -n "$images" ] && printf '%s\n' "$images" | sed 's/^/  /'
"$CHECKER" --root "$work" clean > /dev/null
[ "$containers" = 0 ] && [ "$image_count" = 0 ] && [ "$unexpected" = 0 ]
