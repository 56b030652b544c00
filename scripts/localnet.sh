#!/usr/bin/env bash
# A network of BAS Ledger validators on this machine, each a `basd` process on 127.0.0.1.
#
#   scripts/localnet.sh up [--nodes N] [--dir DIR] [--base-port P]
#       Builds basd and bas if missing ($BUILD_DIR, default build/), writes N validator homes
#       with `basd localnet` if DIR has none (node i: API on P+2i, p2p on P+2i+1; default
#       N=4, P=26700; the demo members' keys in DIR/keys, empty passphrase), starts every node
#       not already running (logs in DIR/nodeI/basd.log), waits until each answers
#       GET /v1/status, writes DIR/nodes.json and prints a summary.
#   scripts/localnet.sh down [--dir DIR]
#       SIGTERM to every node in DIR/nodes.json, SIGKILL to any still running after 10 s.
#   scripts/localnet.sh status [--dir DIR]
#       Each node's pid, API, height and latest block hash.
#
# DIR defaults to /tmp/bas-localnet. Both commands are idempotent: `up` on a running network
# starts only the nodes that are down, `down` on a stopped one does nothing. To start afresh:
# `down`, then `rm -rf DIR`.
#
#   BAS_NODE=http://127.0.0.1:26700 BAS_KEYSTORE=/tmp/bas-localnet/keys BAS_PASSPHRASE= \
#     build/bin/bas proposals
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 1 ] || usage
cmd=$1
shift
nodes=4
dir=/tmp/bas-localnet
base_port=26700
while [ $# -gt 0 ]; do
  case $1 in
    --nodes) nodes=$2; shift 2 ;;
    --dir) dir=$2; shift 2 ;;
    --base-port) base_port=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "localnet.sh: unknown option $1" >&2; usage ;;
  esac
done
BUILD_DIR=${BUILD_DIR:-build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR="$PWD/$BUILD_DIR" ;; esac
BASD="$BUILD_DIR/bin/basd"
PY=/usr/bin/python3

# Is PID a live basd of HOME? (a pid in nodes.json may have been reused since)
is_node() {
  local pid=$1 home=$2
  [ -n "$pid" ] && [ "$pid" != null ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "basd start --home $home "
}

# One line per node of DIR/localnet.json: NAME HOME RPC P2P KEY (the output of basd localnet).
node_lines() {
  $PY - "$dir/localnet.json" <<'PY'
import json, sys
for n in json.load(open(sys.argv[1])):
    print(n["name"], n["home"], n["rpc"], n["p2p"], n["key"])
PY
}

# The pid recorded for NAME in DIR/nodes.json, or nothing.
recorded_pid() {
  [ -f "$dir/nodes.json" ] || return 0
  $PY - "$dir/nodes.json" "$1" <<'PY'
import json, sys
for n in json.load(open(sys.argv[1])):
    if n["name"] == sys.argv[2] and n.get("pid"):
        print(n["pid"])
PY
}

# The JSON of `basd localnet` for existing homes DIR/node0, node1, ...: rpc and p2p from each
# config.toml, the key from the public key in its key file (docs/keystore.md).
describe_homes() {
  $PY - "$dir" <<'PY'
import json, pathlib, sys, tomllib
out, i = [], 0
while (home := pathlib.Path(sys.argv[1]) / f"node{i}").joinpath("config.toml").exists():
    config = tomllib.loads(home.joinpath("config.toml").read_text())
    key_file = home / config.get("node", {}).get("key_file", "node_key.json")
    data = key_file.read_bytes()
    name_len = int.from_bytes(data[54:56], "big")
    out.append({"name": f"node{i}", "home": str(home), "rpc": config["rpc"]["listen"],
                "p2p": config["p2p"]["listen"], "key": data[56 + name_len:88 + name_len].hex()})
    i += 1
print(json.dumps(out, indent=2))
PY
}

api_up() { curl -sf -o /dev/null --max-time 2 "http://$1/v1/status"; }

up() {
  if [ ! -x "$BASD" ] || [ ! -x "$BUILD_DIR/bin/bas" ]; then
    echo "building basd and bas in $BUILD_DIR" >&2
    ./scripts/setup.sh
    cmake -S . -B "$BUILD_DIR" >/dev/null
    cmake --build "$BUILD_DIR" -j2 --target basd bas >/dev/null
  fi
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ ! -f "$dir/localnet.json" ]; then
    if [ -f "$dir/node0/config.toml" ]; then
      # Homes written by `basd localnet` itself: the same list, from their configs and keys.
      describe_homes >"$dir/localnet.json.tmp"
    else
      "$BASD" localnet --nodes "$nodes" --dir "$dir" --base-port "$base_port" >"$dir/localnet.json.tmp"
      echo "wrote $nodes validator homes in $dir" >&2
    fi
    mv "$dir/localnet.json.tmp" "$dir/localnet.json"
  fi

  local name home rpc p2p key pid started=()
  declare -A pids=()
  while read -r name home rpc p2p key; do
    pid=$(recorded_pid "$name")
    if is_node "$pid" "$home"; then
      pids[$name]=$pid
      continue
    fi
    if api_up "$rpc"; then
      echo "localnet.sh: $rpc already answers, but not as $name of $dir" >&2
      exit 1
    fi
    # setsid: the node outlives this script and the terminal's Ctrl-C.
    setsid "$BASD" start --home "$home" >>"$home/basd.log" 2>&1 </dev/null &
    pids[$name]=$!
    started+=("$name")
  done < <(node_lines)

  # Wait for every API; a node that exits shows its log.
  local deadline=$((SECONDS + 30))
  while read -r name home rpc p2p key; do
    until api_up "$rpc"; do
      if ! kill -0 "${pids[$name]}" 2>/dev/null; then
        echo "localnet.sh: $name exited; the end of $home/basd.log:" >&2
        tail -n 20 "$home/basd.log" >&2
        exit 1
      fi
      if [ $SECONDS -ge $deadline ]; then
        echo "localnet.sh: $name does not answer on http://$rpc/v1/status after 30 s" >&2
        exit 1
      fi
      sleep 0.1
    done
  done < <(node_lines)

  local pid_args=()
  for name in "${!pids[@]}"; do pid_args+=("$name=${pids[$name]}"); done
  $PY - "$dir/localnet.json" "$dir/nodes.json" "${pid_args[@]}" <<'PY'
import json, os, sys
nodes = json.load(open(sys.argv[1]))
pids = dict(a.split("=", 1) for a in sys.argv[3:])
out = [{"name": n["name"], "home": n["home"], "pid": int(pids[n["name"]]),
        "rpc": "http://" + n["rpc"], "p2p": n["p2p"], "key": n["key"]} for n in nodes]
tmp = sys.argv[2] + ".tmp"
with open(tmp, "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
os.replace(tmp, sys.argv[2])
PY
  if [ ${#started[@]} -gt 0 ]; then
    echo "started: ${started[*]}"
  else
    echo "already running"
  fi
  status
}

status() {
  if [ ! -f "$dir/nodes.json" ]; then
    echo "no network in $dir (no nodes.json)"
    return 0
  fi
  printf '%-7s %-8s %-28s %-17s %-8s %s\n' NODE PID API P2P HEIGHT "KEY / LATEST BLOCK"
  $PY - "$dir/nodes.json" <<'PY' | while read -r name pid rpc p2p key home; do
import json, sys
for n in json.load(open(sys.argv[1])):
    print(n["name"], n.get("pid") or "-", n["rpc"], n["p2p"], n["key"], n["home"])
PY
    local height="down" block=""
    if is_node "$pid" "$home"; then
      local s
      if s=$(curl -sf --max-time 2 "$rpc/v1/status"); then
        height=$(printf '%s' "$s" | $PY -c 'import json,sys; print(json.load(sys.stdin)["height"])')
        block=$(printf '%s' "$s" | $PY -c 'import json,sys; print(json.load(sys.stdin)["latest_block_hash"][:16])')
      else
        height="no-api"
      fi
    else
      pid="-"
    fi
    printf '%-7s %-8s %-28s %-17s %-8s %s %s\n' "$name" "$pid" "$rpc" "$p2p" "$height" "${key:0:16}" "$block"
  done
  echo "logs: $dir/node*/basd.log; member keys: $dir/keys (empty passphrase)"
}

down() {
  if [ ! -f "$dir/nodes.json" ]; then
    echo "nothing to stop in $dir"
    return 0
  fi
  dir=$(cd "$dir" && pwd)
  local name pid home live=()
  while read -r name pid home; do
    if is_node "$pid" "$home"; then
      kill -TERM "$pid"
      live+=("$pid:$name")
    fi
  done < <($PY - "$dir/nodes.json" <<'PY'
import json, sys
for n in json.load(open(sys.argv[1])):
    print(n["name"], n.get("pid") or "null", n["home"])
PY
  )
  local deadline=$((SECONDS + 10)) entry
  for entry in "${live[@]}"; do
    pid=${entry%%:*}
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "${entry#*:} (pid $pid) still running 10 s after SIGTERM: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  $PY - "$dir/nodes.json" <<'PY'
import json, os, sys
nodes = json.load(open(sys.argv[1]))
for n in nodes:
    n["pid"] = None
tmp = sys.argv[1] + ".tmp"
with open(tmp, "w") as f:
    json.dump(nodes, f, indent=2)
    f.write("\n")
os.replace(tmp, sys.argv[1])
PY
  if [ ${#live[@]} -gt 0 ]; then echo "stopped ${#live[@]} node(s) in $dir"; else echo "nothing running in $dir"; fi
}

case $cmd in
  up) up ;;
  down) down ;;
  status) status ;;
  *) usage ;;
esac
