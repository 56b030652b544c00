#!/bin/sh
# The exit statuses of `bas` (docs/scenarios.md): 0 ran, 1 internal or I/O error, 2 malformed
# input (arguments or scenario), each with the reason on stderr.
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

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
