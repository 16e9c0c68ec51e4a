# Waiters are bounded: a lock queues at most 10,000 waiting requests
# (WFP_LOCK_WAITERS_MAX) and all locks together 100,000
# (WFP_LOCK_WAITERS_ALL_MAX). The next waiting acquire is refused BUSY
# with the reason, nothing of it written; the CLI exits non-zero with that
# line through wfp-lock, which keeps serving.
. "$(dirname "$0")/lib.sh"
acq=$(rcli SCRIPT LOAD "$("$WFP_BIN/tests/script_text" lock_acquire)")
L="$tag:lock:"
at_exit flush_prefix
out=$(rcli EVALSHA "$acq" 1 "${L}db" "$tag" alice "alice/$(printf '%032x' 0)" 60000 0 '' 0 db | head -1)
eq "alice holds db" "$out" granted
# 10,000 waiters on db, each with its own token and reply key.
for i in $(seq 1 10000); do
  printf 'EVALSHA %s 1 %sdb %s w w/%032x 60000 60000 %s:reply:w%d 0 db\n' \
    "$acq" "$L" "$tag" "$i" "$tag" "$i"
done | rcli --pipe >"$TMP/pipe.out" 2>&1
eq "10,000 queued" "$(rcli ZCARD "$tag:lockq:db")" 10000
one() {
  rcli EVALSHA "$acq" 1 "${L}$2" "$tag" w "w/$(printf '%032x' "$1")" 60000 60000 "$tag:reply:x$1" 0 "$2" | paste -s -d' '
}
eq "the 10,001st refused" "$(one 10001 db)" \
  "busy BUSY lock db has 10000 waiters, the most one lock queues"
eq "nothing of it written" "$(rcli EXISTS "$tag:waiter:w/$(printf '%032x' 10001)")" 0
eq "still 10,000" "$(rcli ZCARD "$tag:lockq:db")" 10000
eq "a waiter of another lock queues" "$(rcli EVALSHA "$acq" 1 "${L}db2" "$tag" bob "bob/$(printf '%032x' 1)" 60000 0 '' 0 db2 | head -1)" granted
eq "queued on db2" "$(one 10002 db2)" queued
# All locks: the waiter set as if 100,000 requests waited.
rcli EVAL "for i = 1, 89999 do redis.call('ZADD', KEYS[1], 9e15, 'f' .. i) end" 1 "$tag:locks:waiters" >/dev/null
eq "the 100,001st refused" "$(one 10003 db2)" \
  "busy BUSY 100000 lock requests wait, the most wfp-lock queues"
eq "db2 queue unchanged" "$(rcli ZCARD "$tag:lockq:db2")" 1
rcli ZREMRANGEBYSCORE "$tag:locks:waiters" 9e15 9e15 >/dev/null

# Through wfp-lock and the CLI: one line, exit non-zero, the service on.
start_lock
rc=0
"$WFP" lock acquire db --owner carol --wait 5000 >"$TMP/cli.out" 2>"$TMP/cli.err" || rc=$?
eq "the CLI exits 3, as for a held lock" "$rc" 3
eq "one line naming the bound" "$(cat "$TMP/cli.err")" \
  "wfp: BUSY lock db has 10000 waiters, the most one lock queues"
ok "wfp-lock still runs" kill -0 "$LOCK_PID"
eq "another lock still granted" "$(status_of "$WFP" lock acquire other --owner carol)" 0
finish
