#!/usr/bin/env bash
# Throughput benchmarks of whole systems (microbenchmarks are in "$BUILD_DIR"/bin/bas-bench).
#
#   scripts/bench.sh node [--members N] [--txs T] [--batch B] [--connections C]
#       A dev-style single-validator node fed signed votes by bas-loadgen over keep-alive
#       batches: committed tx/s, p50/p99 submit-to-commit latency, and the machine's
#       signature-verification bound measured in the same run.
#
# Uses $BUILD_DIR (default build/, configured and built first) and a throwaway home under /tmp; only 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
what=$1
shift

./scripts/setup.sh
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD_DIR" -j2 --target basd bas-loadgen >/dev/null

# The node under test and its home: globals, because the EXIT trap runs outside bench_node.
node_pid=""
node_home=""
cleanup() {
  if [ -n "$node_pid" ]; then kill "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true; fi
  if [ -n "$node_home" ]; then rm -rf "$node_home"; fi
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

bench_node() {
  local members=1000 txs=50000 batch=250 connections=8
  while [ $# -gt 0 ]; do
    case $1 in
      --members) members=$2; shift 2 ;;
      --txs) txs=$2; shift 2 ;;
      --batch) batch=$2; shift 2 ;;
      --connections) connections=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  local home port
  home=$(mktemp -d /tmp/bas-bench-node.XXXXXX)
  node_home=$home
  port=$(free_port)
  local key
  key=$("$BUILD_DIR"/bin/basd init --home "$home" --rpc "127.0.0.1:$port" | awk '/^node key/ {print $3}')
  "$BUILD_DIR"/bin/bas-loadgen genesis --members "$members" --validator "$key" --out "$home/genesis.json"
  # Generous API limits: the load generator is one client address.
  sed -i 's/^rate_limit_per_s = .*/rate_limit_per_s = 100000/; s/^log_level = .*/log_level = "warn"/' "$home/config.toml"
  "$BUILD_DIR"/bin/basd start --home "$home" 2>"$home/basd.log" &
  node_pid=$!
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/v1/status" >/dev/null && break
    sleep 0.1
  done
  echo "node: 1 validator, $members members, $(nproc) cores; load: $txs votes, batches of $batch, $connections connections"
  "$BUILD_DIR"/bin/bas-loadgen run --node "http://127.0.0.1:$port" --members "$members" --txs "$txs" \
    --batch "$batch" --connections "$connections"
}

case $what in
  node) bench_node "$@" ;;
  *) usage ;;
esac
