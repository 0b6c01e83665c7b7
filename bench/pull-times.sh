#!/usr/bin/env bash
# Pull time of every exercise's starter image against its solution image, measured honestly:
# from a registry on loopback (Debian's docker-registry) into a second Docker engine that has
# none of the layers (its own data root, in a network namespace of its own so it cannot
# disturb the first engine's bridge). Writes the times into src/measurements.json.
# Needs root, iproute2, socat, docker-registry; the first engine up with the exercises built.
# Usage: bash bench/pull-times.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in docker-registry socat ip; do
  command -v "$tool" >/dev/null || { export DEBIAN_FRONTEND=noninteractive; apt-get install -y -q docker-registry socat iproute2; break; }
done
cargo build -q -p checker
checker=$PWD/target/debug/checker
work=$(mktemp -d)
ns=wbpull$$
port=$(( 20000 + RANDOM % 20000 ))
pids=()
cleanup() {
  [ -f "$work/dockerd.pid" ] && kill "$(cat "$work/dockerd.pid")" 2>/dev/null && sleep 3
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  ip link del "${ns}h" 2>/dev/null || true
  umount -R "$work/data" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The registry on the host's loopback; the namespace reaches it through a veth pair (a test
# host of our own, 172.31.250.0/30) and a relay.
cat > "$work/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" > "$work/registry.log" 2>&1 & pids+=($!)
ip netns add "$ns"
ip link add "${ns}h" type veth peer name "${ns}n"
ip link set "${ns}n" netns "$ns"
ip addr add 172.31.250.1/30 dev "${ns}h" && ip link set "${ns}h" up
ip netns exec "$ns" ip addr add 172.31.250.2/30 dev "${ns}n"
ip netns exec "$ns" ip link set "${ns}n" up
ip netns exec "$ns" ip link set lo up
socat "TCP-LISTEN:$port,bind=172.31.250.1,fork,reuseaddr" "TCP:127.0.0.1:$port" & pids+=($!)

# The empty engine, in the namespace, with a data root of its own.
mkdir -p "$work/data" "$work/exec"
# nsenter, not `ip netns exec`: the latter remounts /sys, and dockerd then finds no cgroups.
nsenter --net=/run/netns/"$ns" setsid dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" \
  -H "unix://$work/docker.sock" --insecure-registry "172.31.250.1:$port" --bridge none --iptables=false \
  --containerd-namespace "$ns" --containerd-plugins-namespace "$ns-plugins" > "$work/dockerd.log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do DOCKER_HOST="unix://$work/docker.sock" docker info >/dev/null 2>&1 && break; sleep 1; done
DOCKER_HOST="unix://$work/docker.sock" docker info >/dev/null || { tail -20 "$work/dockerd.log"; exit 1; }

$checker pulls --registry "127.0.0.1:$port" --target-registry "172.31.250.1:$port" \
  --target-host "unix://$work/docker.sock" --output src/measurements.json
