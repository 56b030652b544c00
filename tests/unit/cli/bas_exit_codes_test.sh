#!/bin/sh
# The exit statuses of `bas` (docs/scenarios.md, docs/cli.md): 0 ok, 1 internal, I/O or network
# error, 2 malformed input (arguments or scenario), 4 not found, each with the reason on stderr;
# and the keystore commands, which need no node. (3 and 5 need a node: scripts/demo.sh and the
# functional tests.)
# usage: bas_exit_codes_test.sh BAS GOOD_SCENARIO.json
set -u
bas=$1
good=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

# expect STATUS STDERR_SUBSTRING COMMAND...: runs COMMAND (stdin from $tmp/stdin if present).
expect() {
  want=$1
  message=$2
  shift 2
  if [ -f "$tmp/stdin" ]; then
    "$@" <"$tmp/stdin" >"$tmp/out" 2>"$tmp/err"
  else
    "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  fi
  got=$?
  rm -f "$tmp/stdin"
  if [ "$got" -ne "$want" ]; then
    echo "FAIL: $*: exit $got, expected $want"; cat "$tmp/err"; failures=$((failures + 1))
  elif [ -n "$message" ] && ! grep -qF -- "$message" "$tmp/err" "$tmp/out"; then
    echo "FAIL: $*: output lacks \"$message\""; cat "$tmp/err"; failures=$((failures + 1))
  else
    echo "ok   exit $got: $*"
  fi
}

expect 0 "bas " "$bas" --version
expect 0 "scenario" "$bas" --help
expect 0 "FILE" "$bas" scenario run --help
expect 2 "" "$bas"
expect 2 "" "$bas" no-such-command
expect 2 "FILE" "$bas" scenario run

expect 0 "" "$bas" scenario run "$good"
cp "$good" "$tmp/stdin"
expect 0 "" "$bas" scenario run -
grep -q '"app_hash"' "$tmp/out" || { echo "FAIL: no app_hash from stdin"; failures=$((failures + 1)); }

expect 1 "cannot read" "$bas" scenario run "$tmp/missing.json"
expect 1 "is a directory" "$bas" scenario run "$tmp"

printf '{"start": 1767225600,' >"$tmp/stdin"
expect 2 "invalid JSON" "$bas" scenario run -
printf '{"start": 1767225600}' >"$tmp/stdin"
expect 2 "steps: missing" "$bas" scenario run -
printf '{"start": 1767225600, "steps": [{"t": 0, "txs": [{"type": "vote", "by": "a", "choice": "yes"}]}]}' >"$tmp/stdin"
expect 2 "steps[0].txs[0].choice: expected one of YES, NO, ABSTAIN" "$bas" scenario run -
# A genesis the engine refuses (no coalition) is the author's mistake too.
printf '{"start": 1767225600, "steps": []}' >"$tmp/stdin"
expect 2 "genesis" "$bas" scenario run -

# The keystore, without a node.
keys="$tmp/keys"
export BAS_PASSPHRASE="pass phrase"
expect 0 "public key" "$bas" keys new alice --keystore "$keys"
expect 2 "exists already" "$bas" keys new alice --keystore "$keys"
expect 2 "bad key name" "$bas" keys new ../alice --keystore "$keys"
expect 0 "alice" "$bas" --keystore "$keys" keys list
alice=$("$bas" --keystore "$keys" keys export alice)
expect 0 "$alice" "$bas" --keystore "$keys" keys show alice
printf '%s\n' 0000000000000000000000000000000000000000000000000000000000000003 >"$tmp/stdin"
expect 0 "f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9" \
  "$bas" --keystore "$keys" keys import three
expect 0 "0000000000000000000000000000000000000000000000000000000000000003" \
  "$bas" --keystore "$keys" keys export three --secret
expect 4 "no key nobody" "$bas" --keystore "$keys" keys show nobody
printf 'wrong\n' >"$tmp/wrong"
expect 2 "wrong passphrase" "$bas" --keystore "$keys" --passphrase-file "$tmp/wrong" keys export alice --secret
expect 2 "64 hex digits" "$bas" --keystore "$keys" keys import bad --secret-hex abcd
unset BAS_PASSPHRASE

# Offline signing needs no node; bad arguments are refused before any network use.
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
BAS_PASSPHRASE="pass phrase" expect 0 "vote NO on proposal $id" "$bas" --keystore "$keys" --key alice \
  tx sign --offline --chain-id bas-dev --nonce 0 --out "$tmp/vote.hex" --vote "$id:NO:too early"
BAS_PASSPHRASE="pass phrase" expect 0 "written to" "$bas" --keystore "$keys" --key alice \
  tx sign --offline --chain-id bas-dev --nonce 1 --out "$tmp/p.hex" propose --coalition bas-dc \
  --title T --resolution R
expect 2 "--offline needs --chain-id and --nonce" "$bas" --key alice tx sign --offline --out x --vote "$id:YES"
expect 2 "either --vote or one tx subcommand" "$bas" tx sign --out x
BAS_PASSPHRASE="pass phrase" expect 2 "expected 64 hex digits" "$bas" --keystore "$keys" --key alice \
  tx sign --offline --chain-id c --nonce 0 --out x --vote "0123:YES"

# Network errors exit 1; malformed URLs and values exit 2.
expect 1 "cannot connect" "$bas" --node http://127.0.0.1:1 status
expect 1 "cannot connect" "$bas" --node http://127.0.0.1:1 tx broadcast "$tmp/vote.hex"
expect 2 "https is not supported" "$bas" --node https://127.0.0.1:1 status
expect 2 "expected 64 hex digits" "$bas" --node http://127.0.0.1:1 verify-vote abc
expect 2 "--format: unknown format xml" "$bas" --node http://127.0.0.1:1 decisions --format xml
expect 2 "no key" "$bas" --node http://127.0.0.1:1 vote "$id" YES
expect 2 "" "$bas" vote "$id"
printf "not hex\n" >"$tmp/nothex"
expect 2 "expected the hex" "$bas" tx broadcast "$tmp/nothex"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
