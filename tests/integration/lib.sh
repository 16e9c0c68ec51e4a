# Helpers for the end-to-end tests. Each test runs with its own WFP_PREFIX
# (set by ctest) against WFP_REDIS_URL, with the binaries in WFP_BIN.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../../scripts/lib.sh"

: "${WFP_BIN:?set WFP_BIN to the build folder}"
: "${WFP_REDIS_URL:?set WFP_REDIS_URL}"
: "${WFP_PREFIX:=e2e}"
export WFP_PREFIX
WFP="$WFP_BIN/wfp"
TMP=$(mktemp -d)
BOARD_PID=""
checks=0

rcli() { redis-cli -u "$WFP_REDIS_URL" "$@"; }
tag="{$WFP_PREFIX}"

# Deletes every key of this test's prefix.
flush_prefix() {
  rcli EVAL "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 "$tag*" >/dev/null
}

fail() { echo "FAIL: $*" >&2; exit 1; }

# ok DESCRIPTION CMD...: CMD must succeed.
ok() { local d=$1; shift; "$@" || fail "$d"; checks=$((checks + 1)); }

# eq DESCRIPTION GOT WANT
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; checks=$((checks + 1)); }

# status_of CMD...: prints the exit status of CMD (never fails).
status_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

# start_board [VAR=value...]: starts wfp-jobboard with extra environment;
# waits until it has connected both its links.
start_board() {
  env "$@" ${WFP_WRAP:-} "$WFP_BIN/wfp-jobboard" >"$TMP/board.log" 2>&1 &
  BOARD_PID=$!
  wfp_wait_for grep -q "redis-reader: connected" "$TMP/board.log" \
    || { cat "$TMP/board.log" >&2; fail "board did not connect"; }
}

# stop_daemon PID: SIGTERM, then wait. Under WFP_WRAP=valgrind
# (--error-exitcode=9), a daemon that leaked or misused memory fails the test.
stop_daemon() {
  local rc=0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || rc=$?
  if [ -n "${WFP_WRAP:-}" ] && [ "$rc" = 9 ]; then
    echo "FAIL: memory errors in daemon $1 (see the valgrind log)" >&2
    return 1
  fi
}

stop_board() {
  if [ -n "$BOARD_PID" ]; then
    local pid=$BOARD_PID
    BOARD_PID=""
    stop_daemon "$pid"
  fi
}

# http_get HOST PORT PATH: prints the response (status line, headers, body).
http_get() {
  exec 5<>"/dev/tcp/$1/$2"
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$3" "$1" >&5
  cat <&5
  exec 5>&-
}

# job_file NAME [EXTRA_JSON_FIELDS]: writes a job file, prints its path.
job_file() {
  local f="$TMP/$1.json"
  echo "{\"name\": \"$1\", \"payload\": {\"step\": 1}${2:+, $2}}" >"$f"
  echo "$f"
}

finish() {
  local rc=$?
  stop_board || rc=1
  [ $rc -eq 0 ] || { echo "--- board log" >&2; cat "$TMP/board.log" >&2 2>/dev/null || true; }
  rm -rf "$TMP"
  [ $rc -eq 0 ] && echo "$checks passed, 0 failed"
  exit $rc
}
trap finish EXIT
flush_prefix
