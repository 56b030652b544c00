#!/usr/bin/env bash
# Throughput benchmarks of whole systems (microbenchmarks are in "$BUILD_DIR"/bin/bas-bench).
#
#   scripts/bench.sh node [--members N] [--txs T] [--batch B] [--connections C]
#       A dev-style single-validator node fed signed votes by bas-loadgen over keep-alive
#       batches: committed tx/s, p50/p99 submit-to-commit latency, and the machine's
#       signature-verification bound measured in the same run.
#
#   scripts/bench.sh audit [--txs N] [--members M] [--block-txs B]
#       bas audit of an export of N signed txs (default 1,000,000) written by bas-ledgergen
#       (cached in $BUILD_DIR/bench-audit/ per parameters): audited tx/s and peak memory, and
#       the signature-verification bound on all cores (bas-bench) measured in the same run.
#
#   scripts/bench.sh api --baseline BIN_DIR [tests/bench/api_bench.py options]
#       GET /v1/blocks?from=1&to=100 (or --target) timed on the baseline's basd and on this
#       build's, alternately on copies of one loadgen-made chain: median and p90 latency, server
#       CPU per request, and whether the two builds' answers are byte-identical.
#
# Uses $BUILD_DIR (default build/, configured and built first) and a throwaway home under /tmp; only 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
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
  # The load generator is closed-loop: each connection waits for its batch to commit. With 8
  # connections (2,000 votes in flight) the node sat 10-15% idle between batches (perf, top);
  # 16 cut that idle time at about twice the latency (docs/performance.md has the sweep).
  local members=1000 txs=50000 batch=250 connections=16
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

# The audit of a large ledger: the export is generated once per parameters and kept.
bench_audit() {
  local txs=1000000 members=1000 block_txs=5000
  while [ $# -gt 0 ]; do
    case $1 in
      --txs) txs=$2; shift 2 ;;
      --members) members=$2; shift 2 ;;
      --block-txs) block_txs=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  cmake --build "$BUILD_DIR" -j2 --target bas bas-ledgergen bas-bench >/dev/null
  local dir="$BUILD_DIR/bench-audit"
  local name="ledger-${txs}tx-${members}m-${block_txs}b"
  local ledger="$dir/$name.basexp" genesis="$dir/$name.genesis.json"
  mkdir -p "$dir"
  if [ -f "$ledger" ] && [ -f "$genesis" ]; then
    echo "ledger: $ledger (cached)"
  else
    echo "ledger: generating $txs signed txs ($members members, about $block_txs txs per block) on $(nproc) cores"
    "$BUILD_DIR"/bin/bas-ledgergen --txs "$txs" --members "$members" --block-txs "$block_txs" \
      --out "$ledger" --genesis-out "$genesis"
  fi

  # The bound: BIP340 verifications per second on every core, the benchmark of docs/performance.md
  # (and the CPU time of one verification, for the CPU-time ratio below).
  local verify_json
  verify_json=$("$BUILD_DIR"/bin/bas-bench --benchmark_filter='BM_Bip340Verify' \
                  --benchmark_min_time=3 --benchmark_format=json 2>/dev/null)

  local scratch report timing
  scratch=$(mktemp -d /tmp/bas-bench-audit.XXXXXX)
  node_home=$scratch  # removed by the EXIT trap
  report="$scratch/report.json"
  timing="$scratch/time.txt"
  /usr/bin/time -v -o "$timing" "$BUILD_DIR"/bin/bas audit --export "$ledger" --genesis "$genesis" \
    --format json --report "$report" --scratch-dir "$scratch"
  /usr/bin/python3 - "$report" "$timing" "$verify_json" <<'PY'
import json, re, sys
audit = json.load(open(sys.argv[1]))["audit"]
timing = open(sys.argv[2]).read()
verify = {b["name"]: b for b in json.loads(sys.argv[3])["benchmarks"]}
bound = next(b["items_per_second"] for n, b in verify.items() if "all_cores" in n)
verify_cpu_ns = verify["BM_Bip340Verify/one_thread"]["cpu_time"]
cpu_s = sum(float(re.search(rf"{k} time \(seconds\): (\S+)", timing).group(1))
            for k in ("User", "System"))
peak_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing).group(1))
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", timing).group(1)
parts = [float(p) for p in wall.split(":")]
seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
cpu = re.search(r"Percent of CPU this job got: (\d+)%", timing).group(1)
assert audit["verdict"] == "clean", audit
rate = audit["txs"] / seconds
# The share of the audit's CPU time that one verification per tx accounts for: the ratio the
# audit reaches when every core is its own, whatever else ran meanwhile.
cpu_ratio = verify_cpu_ns * 1e-9 * audit["txs"] / cpu_s
print(f"audited_txs {audit['txs']}\nblocks {audit['blocks']}\nseconds {seconds:.2f}"
      f"\naudit_tx_per_s {rate:.0f}\nverify_bound_per_s {bound:.0f}"
      f"\nratio_to_bound {rate / bound:.3f}\npeak_rss_mib {peak_kib / 1024:.1f}\ncpu_percent {cpu}"
      f"\naudit_cpu_us_per_tx {cpu_s / audit['txs'] * 1e6:.1f}"
      f"\nverify_cpu_us {verify_cpu_ns / 1000:.1f}\ncpu_time_ratio {cpu_ratio:.3f}")
PY
}

# scripts/bench.sh localnet [--nodes N] [--members M] [--txs T] [--batch B] [--connections C]
#   N validators (default 4) on this machine, each a basd process (scripts/localnet.sh in a
#   throwaway directory), fed signed votes by bas-loadgen over all their APIs in turn: committed
#   tx/s, p50/p99 submit-to-commit latency, and the machine's signature-verification bound
#   measured in the same run. Every node verifies every signature on the same cores, so the
#   network's bound is bound/N: ratio = tx/s / (bound/N), target >= 0.5 with p99 < 2 s.
bench_localnet() {
  # 16 connections, 4 per node: with 8 the validators were not saturated (see bench_node).
  local nodes=4 members=1000 txs=60000 batch=250 connections=16
  while [ $# -gt 0 ]; do
    case $1 in
      --nodes) nodes=$2; shift 2 ;;
      --members) members=$2; shift 2 ;;
      --txs) txs=$2; shift 2 ;;
      --batch) batch=$2; shift 2 ;;
      --connections) connections=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  cmake --build "$BUILD_DIR" -j2 --target bas >/dev/null
  local dir base
  dir=$(mktemp -d /tmp/bas-bench-localnet.XXXXXX)
  node_home=$dir  # removed by cleanup, after the nodes are stopped
  trap 'BUILD_DIR="$BUILD_DIR" ./scripts/localnet.sh down --dir "$node_home" >/dev/null 2>&1 || true; cleanup' EXIT
  base=$(/usr/bin/python3 - "$((2 * nodes))" <<'PY'
import random, socket, sys
count = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 32000 - count)
    try:
        for port in range(base, base + count):
            with socket.socket() as s:
                s.bind(("127.0.0.1", port))
        print(base)
        break
    except OSError:
        continue
PY
)
  "$BUILD_DIR"/bin/basd localnet --nodes "$nodes" --dir "$dir" --base-port "$base" >"$dir/localnet.json"
  local validator_args=() node_args=() home
  mapfile -t validator_args < <(/usr/bin/python3 -c 'import json, sys
for n in json.load(open(sys.argv[1])): print("--validator"); print(n["key"])' "$dir/localnet.json")
  mapfile -t node_args < <(/usr/bin/python3 -c 'import json, sys
for n in json.load(open(sys.argv[1])): print("--node"); print("http://" + n["rpc"])' "$dir/localnet.json")
  "$BUILD_DIR"/bin/bas-loadgen genesis --members "$members" "${validator_args[@]}" --out "$dir/genesis.json"
  for home in "$dir"/node*; do
    cp "$dir/genesis.json" "$home/genesis.json"
    # Generous API limits: the load generator is one client address.
    sed -i 's/^rate_limit_per_s = .*/rate_limit_per_s = 100000/; s/^log_level = .*/log_level = "warn"/' "$home/config.toml"
  done
  BUILD_DIR="$BUILD_DIR" ./scripts/localnet.sh up --dir "$dir" >/dev/null
  echo "network: $nodes validators on 127.0.0.1, $members members, $(nproc) cores; load: $txs votes, batches of $batch, $connections connections over the $nodes APIs"
  local out rc=0
  out=$("$BUILD_DIR"/bin/bas-loadgen run "${node_args[@]}" --members "$members" --txs "$txs" \
          --batch "$batch" --connections "$connections") || rc=$?
  printf '%s\n' "$out"
  printf '%s\n' "$out" | /usr/bin/python3 -c 'import sys
nodes = int(sys.argv[1])
m = dict(line.split(None, 1) for line in sys.stdin if line.strip())
tps, bound, p99 = float(m["committed_tx_per_s"]), float(m["verify_bound_per_s"]), float(m["latency_p99_ms"])
ratio = tps / (bound / nodes)
print(f"network_bound_per_s {bound / nodes:.0f}\nratio_to_network_bound {ratio:.3f}")
print("target (ratio >= 0.5, p99 < 2000 ms): " + ("met" if ratio >= 0.5 and p99 < 2000 else "NOT met"))' "$nodes"
  BUILD_DIR="$BUILD_DIR" ./scripts/localnet.sh down --dir "$dir" >/dev/null
  return $rc
}

bench_api() {
  [ $# -ge 2 ] && [ "$1" = --baseline ] || usage
  local baseline=$2
  shift 2
  /usr/bin/python3 tests/bench/api_bench.py --a "$baseline" --b "$BUILD_DIR/bin" \
    --loadgen "$BUILD_DIR/bin/bas-loadgen" "$@"
}

case $what in
  node) bench_node "$@" ;;
  api) bench_api "$@" ;;
  audit) bench_audit "$@" ;;
  localnet) bench_localnet "$@" ;;
  *) usage ;;
esac
