#!/usr/bin/env bash
# The BAS-DC pilot on a local network of four validators, played through `bas` as the members
# would (README, "Two commands"). Installs what is missing, builds bas and basd, writes four
# validator homes with `basd localnet` on free ports of 127.0.0.1 and starts them; each member
# talks to "its" node (one of the four, by key name), so txs enter the network everywhere. Then:
#
#   1. applicant-1 applies for membership (GOVERNMENT, as gov-3); the members admit it
#   2. bmm-1, the BMM assessment partner, submits an assessment of a solution; priv-1 proposes
#      to list it in the directory; members vote
#   3. civ-1, the secretariat, records a meeting with its minutes
#   4. once gov-3 is in, gov-1 proposes the annual plan for the IGF (a plan document written
#      here, with a workshop); members of every group vote YES, gov-2 votes NO with a reason
#      (the dissent), tech-1 signs its vote on an "air-gapped" machine (bas tx sign --offline)
#   5. after the voting periods: the decisions register, the directory, the members, and the
#      proof that gov-2's vote was counted (bas verify-vote)
#   6. every node reports the same block hash and the same decisions register
#
# The script checks its own outcome and exits non-zero when the pilot's decisions are not the
# expected ones. It stops the nodes on exit, unless --keep is given (then, on success, they
# keep running and their URLs and homes are printed).
#
#   ./scripts/demo.sh [--keep]
#   BUILD_DIR  build directory (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."

KEEP=0
for arg in "$@"; do
  case "$arg" in
    --keep) KEEP=1 ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "demo.sh: unknown argument $arg (usage: ./scripts/demo.sh [--keep])" >&2
      exit 2
      ;;
  esac
done

BUILD_DIR=${BUILD_DIR:-build}
VOTING_PERIOD=20

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() {
  echo "demo.sh: FAILED: $*" >&2
  exit 1
}

step "Building bas and basd (scripts/setup.sh installs what is missing)"
./scripts/setup.sh
cmake -S . -B "$BUILD_DIR" >/dev/null
cmake --build "$BUILD_DIR" -j2 --target bas basd
BAS_BIN=$PWD/$BUILD_DIR/bin/bas
BASD_BIN=$PWD/$BUILD_DIR/bin/basd

NODES=4
HOME_DIR=$(mktemp -d "${TMPDIR:-/tmp}/bas-demo-XXXXXX")
# A base port with 2 * NODES free ports after it (node i: API P+2i, p2p P+2i+1).
BASE_PORT=$(python3 - "$NODES" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
for _ in range(200):
    base = random.randrange(20000, 60000 - 2 * n)
    socks = []
    try:
        for p in range(base, base + 2 * n):
            s = socket.socket()
            s.bind(("127.0.0.1", p))
            socks.append(s)
        print(base)
        break
    except OSError:
        pass
    finally:
        for s in socks:
            s.close()
PY
)
URLS=()
for i in $(seq 0 $((NODES - 1))); do URLS+=("http://127.0.0.1:$((BASE_PORT + 2 * i))"); done
URL=${URLS[0]}
NODE_PIDS=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ ${#NODE_PIDS[@]} -gt 0 ]]; then
    if [[ $KEEP -eq 1 && $status -eq 0 ]]; then
      echo
      echo "The four validators keep running (pids ${NODE_PIDS[*]}):"
      echo "  URLs  ${URLS[*]}"
      echo "  homes $HOME_DIR/node0..node$((NODES - 1)) (logs: basd.log in each)"
      echo "  try   BAS_NODE=$URL BAS_KEYSTORE=$HOME_DIR/keys BAS_PASSPHRASE= $BAS_BIN decisions"
      echo "  stop  kill ${NODE_PIDS[*]}"
    else
      kill -TERM "${NODE_PIDS[@]}" 2>/dev/null || true
      wait "${NODE_PIDS[@]}" 2>/dev/null || true
      echo "nodes stopped"
    fi
  fi
  if [[ $status -ne 0 ]]; then
    echo "demo.sh: the nodes' homes and logs are in $HOME_DIR" >&2
    [[ -f "$HOME_DIR/node0/basd.log" ]] && tail -n 20 "$HOME_DIR/node0/basd.log" >&2
  elif [[ $KEEP -eq 0 ]]; then
    rm -rf "$HOME_DIR"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "Starting $NODES validators on 127.0.0.1 (voting periods of ${VOTING_PERIOD} s)"
"$BASD_BIN" localnet --nodes "$NODES" --dir "$HOME_DIR" --base-port "$BASE_PORT" \
  --voting-period "$VOTING_PERIOD" >/dev/null
for i in $(seq 0 $((NODES - 1))); do
  "$BASD_BIN" start --home "$HOME_DIR/node$i" >"$HOME_DIR/node$i/basd.log" 2>&1 &
  NODE_PIDS+=($!)
done

# The members' keys are in DIR/keys with an empty passphrase. Each key talks to one node,
# chosen from its name, so its nonces come from the node it submits to.
export BAS_NODE="$URL" BAS_KEYSTORE="$HOME_DIR/keys" BAS_PASSPHRASE=""
bas() {
  local prev="" arg key=""
  for arg in "$@"; do
    [[ $prev == --key ]] && key=$arg
    prev=$arg
  done
  local i=0
  [[ -n $key ]] && i=$(($(cksum <<<"$key" | cut -d' ' -f1) % NODES))
  BAS_NODE=${URLS[$i]} "$BAS_BIN" "$@"
}

for i in $(seq 0 $((NODES - 1))); do
  for _ in $(seq 1 100); do
    if BAS_NODE=${URLS[$i]} "$BAS_BIN" status >/dev/null 2>&1; then break; fi
    kill -0 "${NODE_PIDS[$i]}" 2>/dev/null || fail "node $i exited (see $HOME_DIR/node$i/basd.log)"
    sleep 0.2
  done
done
bas status
bas members --coalition bas-dc

# Prints the id a tx command returns (its --json answer's tx_id).
tx_id() { jq -r .tx_id; }

# Waits until a proposal is no longer ACTIVE (blocks close it once its end has passed).
wait_closed() {
  local id=$1 status
  for _ in $(seq 1 $((VOTING_PERIOD * 4 + 60))); do
    status=$(bas proposal "$id" --json | jq -r .proposal.status)
    [[ "$status" != ACTIVE ]] && return 0
    sleep 1
  done
  fail "proposal $id is still ACTIVE"
}

step "1. applicant-1 applies for membership; the members vote"
ADMISSION=$(bas apply --key applicant-1 --coalition bas-dc --member-id gov-3 --group GOVERNMENT \
  --name "Kwame Mensah" --organisation "National IT Development Agency" \
  --statement "We run the national blockchain sandbox and want to contribute." --json | tx_id)
echo "admission proposal $ADMISSION"
for member in gov-1 gov-2 priv-1 civ-1 tech-1 aca-1; do
  bas vote "$ADMISSION" YES --key "$member" --reason "Welcome" >/dev/null
done
bas proposal "$ADMISSION"

step "2. bmm-1 submits a BMM assessment; priv-1 proposes listing the solution; members vote"
printf 'BMM-1.0 assessment of LedgerX\nGovernance 3, Security 4, Interoperability 3\n' \
  >"$HOME_DIR/ledgerx-report.txt"
ASSESSMENT=$(bas assess --key bmm-1 --solution-id ledgerx --solution-name "LedgerX Registry" \
  --vendor "LedgerWorks Ltd" --bmm-version BMM-1.0 --level 3 --element Governance=3 \
  --element Security=4 --element Interoperability=3 --valid-until 2027-12-31 \
  --report "$HOME_DIR/ledgerx-report.txt" --json | tx_id)
echo "assessment $ASSESSMENT"
LISTING=$(bas propose --key priv-1 --coalition bas-dc --title "List LedgerX Registry" \
  --summary "Assessed at BMM level 3 by Assurance Partners" \
  --list-solution "ledgerx:$ASSESSMENT" --json | tx_id)
echo "listing proposal $LISTING"
for member in gov-1 priv-1 civ-1 tech-1 aca-1; do
  bas vote "$LISTING" YES --key "$member" >/dev/null
done
bas proposal "$LISTING" | sed -n '/^GROUP/,/^$/p'

step "3. civ-1 (secretariat) records the monthly meeting"
printf 'BAS-DC monthly call, minutes\nAttendees: all members\nAgreed: draft the 2027 plan\n' \
  >"$HOME_DIR/minutes.txt"
bas meeting --key civ-1 --coalition bas-dc --date "$(date -u +%Y-%m-%d)" \
  --minutes "$HOME_DIR/minutes.txt"

step "Waiting for the admission to close, so that gov-3 votes on the plan"
wait_closed "$ADMISSION"
bas members --coalition bas-dc

step "4. gov-1 proposes the 2027 annual plan for the IGF; members vote, gov-2 dissents"
cat >"$HOME_DIR/annual-plan-2027.md" <<'EOF'
# BAS-DC annual plan 2027
1. A workshop at IGF 2027 on blockchain assurance in the public sector.
2. Four BMM assessments of solutions used by governments.
3. A public directory of Trusted Blockchain Solutions.
EOF
PLAN=$(bas propose --key gov-1 --coalition bas-dc --title "Annual plan 2027" \
  --summary "Our programme for IGF 2027" \
  --annual-plan 2027 --document "$HOME_DIR/annual-plan-2027.md" \
  --igf-session "2027:WORKSHOP:Blockchain assurance in the public sector" --json | tx_id)
echo "plan proposal $PLAN"
bas vote "$PLAN" YES --key gov-1 --reason "Proposer" >/dev/null
# gov-3 signs with the key it applied with, still named applicant-1 in the keystore.
bas vote "$PLAN" YES --key applicant-1 --reason "Good first year" >/dev/null
DISSENT=$(bas vote "$PLAN" NO --key gov-2 \
  --reason "The plan should fund a second IGF session for regulators" --json | tx_id)
for member in priv-1 civ-1 aca-1; do
  bas vote "$PLAN" YES --key "$member" >/dev/null
done
# tech-1 signs on an air-gapped machine (no network: chain id and nonce given), then a
# networked machine submits the file.
CHAIN_ID=$(bas status --json | jq -r .chain_id)
NONCE=$(bas account --key tech-1 --json | jq -r .next_nonce)
BAS_NODE=http://127.0.0.1:9 bas tx sign --offline --chain-id "$CHAIN_ID" --nonce "$NONCE" \
  --key tech-1 --out "$HOME_DIR/tech-1-vote.hex" vote "$PLAN" YES --reason "Supports standards work"
bas tx broadcast "$HOME_DIR/tech-1-vote.hex" --wait
bas proposal "$PLAN"

step "Waiting past the voting periods"
wait_closed "$LISTING"
wait_closed "$PLAN"

step "5. The decisions register"
bas decisions
step "The directory of Trusted Blockchain Solutions"
bas directory
step "Meetings"
bas meetings
step "gov-2 checks that its NO vote was counted, from the proof alone"
bas verify-vote "$DISSENT" || fail "verify-vote $DISSENT"

step "Checking the pilot's outcome"
DECISIONS=$(bas decisions --json)
check() {
  local what=$1 filter=$2
  if [[ "$(jq -r "$filter" <<<"$DECISIONS")" != true ]]; then
    fail "$what"
  fi
  echo "ok  $what"
}
check "three decisions" '.decisions | length == 3'
check "gov-3 admitted" "any(.decisions[]; .title == \"Admit gov-3\" and .status == \"PASSED\")"
check "LedgerX listing passed" \
  "any(.decisions[]; .title == \"List LedgerX Registry\" and .status == \"PASSED\")"
check "annual plan passed in every group, with gov-2's dissent" \
  "any(.decisions[]; .title == \"Annual plan 2027\" and .status == \"PASSED\"
     and (.dissent | length == 1) and .dissent[0].member_id == \"gov-2\"
     and .tally.yes == \"6\" and .tally.no == \"1\")"
[[ "$(bas directory --json | jq -r '.listings[] | select(.solution_id == "ledgerx") | .status')" \
  == ACTIVE ]] || fail "ledgerx is not ACTIVE in the directory"
echo "ok  ledgerx ACTIVE in the directory"
bas members --coalition bas-dc --json | jq -e 'any(.members[]; .info.id == "gov-3")' >/dev/null ||
  fail "gov-3 is not a member"
echo "ok  gov-3 is a member"
[[ "$(bas meetings --json | jq '.meetings | length')" == 1 ]] || fail "the meeting is not recorded"
echo "ok  the meeting is recorded"

step "6. Every node holds the same chain and the same decisions"
# Wait until all nodes are at one height, then compare block hashes and registers.
for _ in $(seq 1 60); do
  heights=$(for u in "${URLS[@]}"; do BAS_NODE=$u "$BAS_BIN" status --json | jq -r .height; done | sort -u)
  [[ $(wc -l <<<"$heights") -eq 1 ]] && break
  sleep 0.5
done
for i in $(seq 0 $((NODES - 1))); do
  st=$(BAS_NODE=${URLS[$i]} "$BAS_BIN" status --json)
  printf 'node%d  %s  height %s  block %s\n' "$i" "${URLS[$i]}" "$(jq -r .height <<<"$st")" \
    "$(jq -r .latest_block_hash <<<"$st")"
done
[[ $(for u in "${URLS[@]}"; do BAS_NODE=$u "$BAS_BIN" status --json | jq -r '.height, .latest_block_hash'; done |
  paste - - | sort -u | wc -l) -eq 1 ]] || fail "the nodes disagree on the latest block"
for u in "${URLS[@]:1}"; do
  [[ "$(BAS_NODE=$u "$BAS_BIN" decisions --json)" == "$DECISIONS" ]] ||
    fail "$u returns another decisions register"
done
echo "ok  the $NODES nodes agree on the chain and the decisions register"

step "The BAS-DC pilot ran as expected"
