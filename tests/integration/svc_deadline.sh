# A request's deadline counts from when Redis added it (field `at`, Redis's
# TIME, written by request_add.lua), not from its id: Redis gives `*` ids
# max(now, last id's ms), so one entry with a future id would otherwise
# push the deadline of every later request into the future.
#  - after a hand-made entry with an id an hour ahead, a post with
#    --timeout-ms 500 whose board was stopped past it is dropped, never
#    applied;
#  - a hand-made entry (no `at`) whose id is ahead of Redis's clock is
#    dead-lettered, as is one with an id at the largest time (its deadline
#    must not overflow) or an unreadable `at`;
#  - timeout_ms is read digits only (1e3, 0x10, " 5" are refused).
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
dead="$tag:deadletter"
redis_ms() { rcli EVAL "local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)" 0; }
start_board

future=$(( $(redis_ms) + 3600000 ))
rcli XADD "$req" "$future-0" op post reply "$tag:reply:ahead" timeout_ms 600000 \
  body x >/dev/null
ok "the entry ahead is dead-lettered" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' LLEN '$tag:reply:ahead')\" = 1 ]"
ok "saying why" grep -q "ahead of redis's clock" "$TMP/board.log"

# Every later id now carries the future time; the post's deadline must not.
kill -STOP "$BOARD_PID"
rc=0
"$WFP" job post "$(job_file late '"id": "late-job"')" --timeout-ms 500 \
  >/dev/null 2>"$TMP/late.err" || rc=$?
ok "the client gave up" test "$rc" -ne 0
last=$(rcli XINFO STREAM "$req" | sed -n '/^last-generated-id$/{n;p}')
ok "its id is in the future ($last)" test "${last%-*}" -ge "$future"
kill -CONT "$BOARD_PID"
ok "dropped" wfp_wait_for bash -c "grep -q 'dropped: its deadline passed' '$TMP/board.log'"
eq "never applied" "$(rcli EXISTS "$tag:job:late-job")" 0
ok "later posts are served" "$WFP" job post "$(job_file later)"

# Hand-made entries with unreadable times: dead-lettered, one line each.
n0=$(rcli XLEN "$dead")
rcli XADD "$req" '*' op post at 12x timeout_ms 5000 body x >/dev/null
for t in 1e3 0x10 " 5" +5 inf; do
  rcli XADD "$req" '*' op post timeout_ms "$t" body x >/dev/null
done
ok "all dead-lettered" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$dead')\" = $((n0 + 6)) ]"
ok "'at' named" grep -q "field 'at' '12x' is not a time" "$TMP/board.log"
ok "'1e3' refused" grep -q "field 'timeout_ms' '1e3' is not" "$TMP/board.log"
# The largest id: its deadline must not overflow (checked by UBSan).
rcli XADD "$req" 9223372036854775807-0 op post timeout_ms 5000 body x >/dev/null
ok "the largest id is dead-lettered" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$dead')\" = $((n0 + 7)) ]"
eq "nothing pending" "$(rcli XPENDING "$req" jobboard | head -1)" 0
stop_board
