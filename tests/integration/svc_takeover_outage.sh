# After an outage of Redis every replica's record is old; the first one
# back must not take over the others' requests before they had time to
# reconnect and say they are alive (REPLICA_GONE_MS after its own
# connect). Here replica "other" holds a request with a record 10 s old
# (it was cut off with everyone else) and says it is alive 1 s after the
# board connects: its request stays its own.
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
replicas="$tag:svc:jobboard:replicas"
rcli XGROUP CREATE "$req" jobboard 0 MKSTREAM >/dev/null
redis_ms() { rcli EVAL "local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)" 0; }
rcli ZADD "$replicas" "$(( $(redis_ms) - 10000 ))" other >/dev/null
printf '\x81\xa4name\xa4kept' |
  rcli -x XADD "$req" '*' op post reply "$tag:reply:kept" timeout_ms 600000 body >/dev/null
id=$(rcli XREADGROUP GROUP jobboard other COUNT 1 STREAMS "$req" '>' | sed -n 2p)
start_board
sleep 1
for _ in $(seq 1 8); do
  rcli ZADD "$replicas" "$(redis_ms)" other >/dev/null
  sleep 1
done
eq "the live replica's request was not taken over" \
  "$(rcli XPENDING "$req" jobboard - + 10 other | grep -c -- "$id")" 1
eq "nor served by the board" "$(rcli LLEN "$tag:reply:kept")" 0
# The board's record is written at Redis's time (not its local clock).
own=$(rcli ZRANGE "$replicas" 0 -1 | grep -v '^other$')
score=$(rcli ZSCORE "$replicas" "$own")
now=$(redis_ms)
ok "its record is recent on Redis's clock ($score vs $now)" \
  test "$(( now - ${score%.*} ))" -lt 3000
# Once "other" falls silent, its request is taken over.
ok "taken over once silent" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' LLEN '$tag:reply:kept')\" = 1 ]"
stop_board
