# Helpers for the end-to-end tests. Each test runs with its own WFP_PREFIX
# (set by ctest) against WFP_REDIS_URL, with the binaries in WFP_BIN.
#
# Rules for test writers: check with ok / eq / fail; clean up with
# `at_exit CMD...`, never with a `trap ... EXIT` of your own (the EXIT
# trap is finish's). A test fails when any check failed, when a command
# stopped it (set -e), or when a cleanup command failed, whatever the
# exit status of the last command was.
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
# A failed check leaves this file; finish fails the test when it exists,
# even when the check failed in a subshell or a trap lost the status.
WFP_FAILED_MARK="$TMP/.failed"
WFP_AT_EXIT=()

rcli() { redis-cli -u "$WFP_REDIS_URL" "$@"; }
tag="{$WFP_PREFIX}"

# Deletes every key of this test's prefix.
flush_prefix() {
  rcli EVAL "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end" 0 "$tag*" >/dev/null
}

# Records that the test failed (see WFP_FAILED_MARK).
mark_failed() { : >>"$WFP_FAILED_MARK" 2>/dev/null || true; }

fail() { echo "FAIL: $*" >&2; mark_failed; exit 1; }

# at_exit CMD...: runs CMD when the test ends, newest first, before the
# board stops. A CMD that fails fails the test.
at_exit() { WFP_AT_EXIT=("$(printf '%q ' "$@")" "${WFP_AT_EXIT[@]}"); }

# Runs the at_exit commands; returns 1 when any of them failed.
run_at_exit() {
  local cmd rc=0
  for cmd in "${WFP_AT_EXIT[@]}"; do
    eval "$cmd" || { echo "FAIL: cleanup '$cmd' failed" >&2; rc=1; }
  done
  WFP_AT_EXIT=()
  return $rc
}

# ok DESCRIPTION CMD...: CMD must succeed.
ok() { local d=$1; shift; "$@" || fail "$d"; checks=$((checks + 1)); }

# eq DESCRIPTION GOT WANT
eq() { [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"; checks=$((checks + 1)); }

# status_of CMD...: prints the exit status of CMD (never fails).
status_of() { local rc=0; "$@" >/dev/null 2>&1 || rc=$?; echo "$rc"; }

# own_redis [redis-server args...]: a redis-server of this test's own on a
# free port (for tests that stop, fill or reconfigure it), WFP_REDIS_URL
# pointing at it; stopped when the test ends, however it ends, after the
# board (a board stopped with its Redis gone would wait for it).
own_redis() {
  REDIS_PORT=$(wfp_free_port)
  export WFP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  at_exit own_redis_stop
  wfp_redis_start "$TMP/redis" "$@"
}
own_redis_stop() { stop_board; wfp_redis_stop; }

# start_service NAME LOG [VAR=value...]: starts build/NAME with extra
# environment, its output in LOG; waits until it has connected both its
# links. Its pid is in SERVICE_PID.
start_service() {
  local name=$1 log=$2; shift 2
  env "$@" ${WFP_WRAP:-} "$WFP_BIN/$name" >"$log" 2>&1 &
  SERVICE_PID=$!
  wfp_wait_for grep -q "redis-reader: connected" "$log" \
    || { cat "$log" >&2; fail "$name did not connect"; }
}

# start_board [VAR=value...]: starts wfp-jobboard (BOARD_PID).
start_board() {
  start_service wfp-jobboard "$TMP/board.log" "$@"
  BOARD_PID=$SERVICE_PID
}

# start_lock [VAR=value...]: starts wfp-lock (LOCK_PID); the test stops it
# with `at_exit stop_lock`.
LOCK_PID=""
start_lock() {
  start_service wfp-lock "$TMP/lock.log" "$@"
  LOCK_PID=$SERVICE_PID
}

# stop_lock: stops wfp-lock (resumed first: a stopped process cannot stop).
stop_lock() {
  [ -n "$LOCK_PID" ] || return 0
  kill -CONT "$LOCK_PID" 2>/dev/null || true
  stop_daemon "$LOCK_PID"
  LOCK_PID=""
}

# start_reservation [VAR=value...]: starts wfp-reservation (RSV_PID), its
# output in $TMP/reservation.log (appended: a restart keeps the earlier
# lines); waits until its events link is connected too. The test stops it
# with `at_exit stop_reservation`.
RSV_PID=""
start_reservation() {
  local before
  before=$(rsv_connects)
  env "$@" ${WFP_WRAP:-} "$WFP_BIN/wfp-reservation" >>"$TMP/reservation.log" 2>&1 &
  RSV_PID=$!
  wfp_wait_for rsv_connected_since "$before" \
    || { cat "$TMP/reservation.log" >&2; fail "wfp-reservation did not connect"; }
}

# rsv_connects: how many times wfp-reservation's reader and events links
# connected, as "READER EVENTS".
rsv_connects() {
  local log="$TMP/reservation.log"
  [ -e "$log" ] || { echo "0 0"; return 0; }
  echo "$(grep -c 'redis-reader: connected' "$log" || true) $(grep -c 'redis-events: connected' "$log" || true)"
}

# rsv_connected_since "READER EVENTS": both links connected again since.
rsv_connected_since() {
  local now
  read -r -a now <<<"$(rsv_connects)"
  read -r -a was <<<"$1"
  [ "${now[0]}" -gt "${was[0]}" ] && [ "${now[1]}" -gt "${was[1]}" ]
}

# stop_reservation: stops wfp-reservation (resumed first: a stopped
# process cannot stop).
stop_reservation() {
  [ -n "$RSV_PID" ] || return 0
  kill -CONT "$RSV_PID" 2>/dev/null || true
  stop_daemon "$RSV_PID"
  RSV_PID=""
}

# rsv_field ID FIELD: a field of reservation ID's hash (the reservation
# tests' helpers, rsv_lib.bash and provision.bash, share these three).
rsv_field() { rcli HGET "$tag:rsv:$1" "$2"; }

# wait_rsv ID STATE [SECONDS]: waits until the reservation is in STATE
# (15 s).
wait_rsv() {
  local i n=$(( ${3:-15} * 20 ))
  for ((i = 0; i < n; i++)); do
    [ "$(rsv_field "$1" state)" = "$2" ] && return 0
    sleep 0.05
  done
  echo "reservation $1 is $(rsv_field "$1" state) ($(rsv_field "$1" error)), not $2" >&2
  return 1
}

# wait_returned ID [SECONDS]: waits until the reservation's capacity is
# back (15 s).
wait_returned() {
  local i n=$(( ${2:-15} * 20 ))
  for ((i = 0; i < n; i++)); do
    [ -n "$(rsv_field "$1" returned_at)" ] && return 0
    sleep 0.05
  done
  echo "reservation $1 ($(rsv_field "$1" state)) has not given its capacity back" >&2
  return 1
}

# stop_daemon PID: SIGTERM, then wait. Under WFP_WRAP=valgrind
# (--error-exitcode=9), a daemon that leaked or misused memory fails the
# test; so does a sanitizer report in a sanitizer build (scripts/test sets
# ASAN_OPTIONS/UBSAN_OPTIONS exitcode=WFP_SANITIZER_EXIT, 97).
stop_daemon() {
  local rc=0
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || rc=$?
  if [ -n "${WFP_WRAP:-}" ] && [ "$rc" = 9 ]; then
    echo "FAIL: memory errors in daemon $1 (see the valgrind log)" >&2
    mark_failed
    return 1
  fi
  if [ "$rc" = "${WFP_SANITIZER_EXIT:-97}" ]; then
    echo "FAIL: sanitizer report from daemon $1 (see its log in $TMP)" >&2
    mark_failed
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

# The EXIT trap: cleans up and exits non-zero when anything failed.
finish() {
  local rc=$?
  set +eu
  run_at_exit || rc=1
  stop_board || rc=1
  if [ -e "$WFP_FAILED_MARK" ] && [ $rc -eq 0 ]; then
    echo "FAIL: a check or command failed earlier (its exit status was lost)" >&2
    rc=1
  fi
  if [ $rc -ne 0 ]; then # the daemons' logs (*.log in TMP), when any
    for log in "$TMP"/*.log; do
      [ -s "$log" ] || continue
      echo "--- $(basename "$log")" >&2
      cat "$log" >&2 || true
    done
  fi
  rm -rf "$TMP"
  [ $rc -eq 0 ] && echo "$checks passed, 0 failed"
  exit $rc
}
trap finish EXIT
# With set -e a command that fails at the top level ends the test: record it
# so that no status lost later can make the test pass (not while a test
# turned set -e off to look at a status itself).
trap 'case $- in *e*) mark_failed ;; esac' ERR
flush_prefix

# --- Executor helpers ------------------------------------------------

EXEC_PIDS=""
# start_executor NAME [VAR=value...]: starts wfp-executor called NAME with
# extra environment, its log in $TMP/exec-NAME.log, its pid in EXEC_PID;
# waits until both its links are connected. Every executor started is
# stopped when the test ends (stop_executors).
start_executor() {
  local name=$1; shift
  [ -n "$EXEC_PIDS" ] || at_exit stop_executors
  env WFP_EXECUTOR_NAME="$name" "$@" ${WFP_WRAP:-} "$WFP_BIN/wfp-executor" \
    >"$TMP/exec-$name.log" 2>&1 &
  EXEC_PID=$!
  EXEC_PIDS="$EXEC_PIDS $EXEC_PID"
  wfp_wait_for grep -q "redis-block: connected" "$TMP/exec-$name.log" \
    || { cat "$TMP/exec-$name.log" >&2; fail "wfp-executor $name did not connect"; }
}

# stop_executors: SIGTERM to every executor still running, then waits.
stop_executors() {
  local pid rc=0
  for pid in $EXEC_PIDS; do
    if kill -0 "$pid" 2>/dev/null; then stop_daemon "$pid" || rc=1; fi
  done
  EXEC_PIDS=""
  return $rc
}

# job_state ID: the job's state word from its hash.
job_state() { rcli HGET "$tag:job:$1" state; }

# wait_state ID STATE [SECONDS]: waits until the job is in STATE (10 s).
wait_state() {
  local i n=$(( ${3:-10} * 20 ))
  for ((i = 0; i < n; i++)); do
    [ "$(job_state "$1")" = "$2" ] && return 0
    sleep 0.05
  done
  echo "job $1 is $(job_state "$1") ($(rcli HGET "$tag:job:$1" error)), not $2" >&2
  return 1
}

# wf_post NAME WORKFLOW_JSON [INPUTS_JSON] [EXTRA]: posts a job running the
# workflow, prints its id.
wf_post() {
  local f="$TMP/$1.json"
  echo "{\"name\": \"$1\"${4:+, $4}, \"payload\": {\"inputs\": ${3:-{\}}, \"workflow\": $2}}" >"$f"
  "$WFP" job post "$f"
}

# log_states ID: the job's task log as "task:state" words, in order.
log_states() {
  rcli --raw XRANGE "$tag:job:$1:log" - + | awk '
    $0 == "task" { getline; t = $0 }
    $0 == "state" { getline; printf "%s%s:%s", sep, t, $0; sep = " " }
    END { print "" }'
}

# task NAME APPLY_SH [REVERT_SH] [EXTRA_JSON]: one workflow task as JSON,
# its actions run as `sh -c CODE` (no revert when REVERT_SH is "").
task() {
  jq -cn --arg n "$1" --arg a "$2" --arg r "${3:-}" --argjson x "${4:-{\}}" \
    '{task: $n, apply: ["sh", "-c", $a]}
     + (if $r != "" then {revert: ["sh", "-c", $r]} else {} end) + $x'
}
