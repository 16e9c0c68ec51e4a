# Takeover never starves: a live replica's many idle entries (looked at
# only to drop expired ones) must not use up the budget of a pass, so a
# gone replica's request is still taken over and served (after the
# REPLICA_GONE_MS a new replica waits before taking over others' entries).
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
replicas="$tag:svc:jobboard:replicas"
rcli XGROUP CREATE "$req" jobboard 0 MKSTREAM >/dev/null
redis_ms() { rcli EVAL "local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)" 0; }

# a-live (first in name order, alive) holds 74 requests idle for 30 s.
for i in $(seq 1 74); do
  printf '\x81\xa4name\xa4live' |
    rcli -x XADD "$req" '*' op post reply "$tag:reply:live$i" timeout_ms 600000 body >/dev/null
done
rcli XREADGROUP GROUP jobboard a-live COUNT 74 STREAMS "$req" '>' >/dev/null
rcli EVAL "for _, r in ipairs(redis.call('XPENDING', KEYS[1], 'jobboard', '-', '+', 100, 'a-live')) do
  redis.call('XCLAIM', KEYS[1], 'jobboard', 'a-live', 0, r[1], 'IDLE', 30000, 'JUSTID') end" 1 "$req" >/dev/null
rcli ZADD "$replicas" "$(redis_ms)" a-live >/dev/null
# zz-gone (no record: gone) holds one request.
printf '\x81\xa4name\xa4gone' |
  rcli -x XADD "$req" '*' op post reply "$tag:reply:gone" timeout_ms 600000 body >/dev/null
rcli XREADGROUP GROUP jobboard zz-gone COUNT 1 STREAMS "$req" '>' >/dev/null
eq "74 + 1 pending" "$(rcli XPENDING "$req" jobboard | head -1)" 75

start_board
for _ in $(seq 1 30); do
  rcli ZADD "$replicas" "$(redis_ms)" a-live >/dev/null
  [ "$(rcli LLEN "$tag:reply:gone")" = 1 ] && break
  sleep 0.5
done
eq "the gone replica's request is served" "$(rcli LLEN "$tag:reply:gone")" 1
eq "the live replica's requests are left alone" \
  "$(rcli XPENDING "$req" jobboard - + 100 a-live | grep -c -- '-0$' || true)" 74
stop_board
