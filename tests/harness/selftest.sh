# The test harness's self-test: checks made to fail on purpose must fail
# their test, in every kind of test we have (shell end-to-end tests with
# lib.sh, cmocka tests), and a passing test must pass. Needs WFP_BIN,
# WFP_REDIS_URL and HARNESS_CMOCKA_FAIL (the cmocka_fail binary).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${HARNESS_CMOCKA_FAIL:?set HARNESS_CMOCKA_FAIL to the cmocka_fail binary}"
bad=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

# expect WANT NAME CMD...: runs CMD; WANT is "fail" (non-zero status) or
# "pass" (status 0); PATTERN must be in its output.
expect() {
  local want=$1 name=$2 pattern=$3 rc=0
  shift 3
  "$@" >"$out" 2>&1 || rc=$?
  if { [ "$want" = fail ] && [ $rc -eq 0 ]; } ||
     { [ "$want" = pass ] && [ $rc -ne 0 ]; }; then
    echo "HARNESS BROKEN: $name: exit status $rc, expected to $want" >&2
    sed 's/^/  | /' "$out" >&2
    bad=$((bad + 1))
  elif ! grep -qF -- "$pattern" "$out"; then
    echo "HARNESS BROKEN: $name: no '$pattern' in its output" >&2
    sed 's/^/  | /' "$out" >&2
    bad=$((bad + 1))
  else
    echo "ok: $name ($want, status $rc)"
  fi
}

for t in cleanup_fail_check legacy_trap swallowed_check; do
  expect fail "$t.sh" "FAIL: a check that fails on purpose" \
    env WFP_PREFIX="harness-$t" bash "$here/$t.sh"
done
expect fail legacy_trap_errexit.sh "failed earlier" \
  env WFP_PREFIX=harness-errexit bash "$here/legacy_trap_errexit.sh"
expect fail cleanup_fails.sh "FAIL: cleanup 'false ' failed" \
  env WFP_PREFIX=harness-cleanup bash "$here/cleanup_fails.sh"
expect pass passes.sh "2 passed, 0 failed" \
  env WFP_PREFIX=harness-passes bash "$here/passes.sh"
expect fail cmocka_fail "[  FAILED  ] 1 test(s)" "$HARNESS_CMOCKA_FAIL"

[ $bad -eq 0 ] || { echo "harness self-test: $bad case(s) broken" >&2; exit 1; }
echo "harness self-test: every failure was reported"
