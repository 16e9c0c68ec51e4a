# After a failover a daemon can be left on a node that is now a read-only
# replica: its writes are answered READONLY. That is not a refusal: the
# board reports the request lost, reconnects (the address may now lead to
# the new primary), and serves it once the node takes writes again.
# Uses a redis-server of its own (made a replica and back), stopped when the
# test ends (own_redis).
. "$(dirname "$0")/lib.sh"
own_redis
req="$tag:svc:jobboard:requests"
start_board

# The request reaches the stopped board; the node turns read-only (a
# replica of a primary that is gone); the board wakes and meets READONLY.
# (A client blocked on the node gets UNBLOCKED and reports "redis
# unavailable"; the request is made by hand here, its reply list read
# afterwards.)
kill -STOP "$BOARD_PID"
printf '\x82\xa4name\xa2ro\xa2id\xa2ro' |
  rcli -x XADD "$req" '*' op post reply "$tag:reply:ro" timeout_ms 20000 body >/dev/null
rcli REPLICAOF 127.0.0.1 "$(wfp_free_port)" >/dev/null
kill -CONT "$BOARD_PID"
ok "the board reconnects on READONLY" wfp_wait_for grep -q "not a writable primary: reconnecting" "$TMP/board.log"
eq "no refusal pushed" "$(rcli EXISTS "$tag:reply:ro")" 0
eq "nothing applied on the read-only node" "$(rcli EXISTS "$tag:job:ro")" 0
rcli REPLICAOF NO ONE >/dev/null
ok "served once the node takes writes" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' HGET '$tag:job:ro' state)\" = posted ]"
ok "the reply says ok" bash -c "redis-cli -u '$WFP_REDIS_URL' LRANGE '$tag:reply:ro' 0 -1 | grep -q ok"
ok "nothing pending" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XPENDING '$req' jobboard | head -1)\" = 0 ]"
ok "still serving" "$WFP" job post "$(job_file after)"
stop_board
wfp_redis_stop
