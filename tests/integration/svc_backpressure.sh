# Backpressure: a replica holds at most WFP_INFLIGHT_MAX requests (read and
# not yet acknowledged) however many are queued, and a request stream
# holds at most 100,000 entries: past that, clients get a clear FULL error.
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
port=$(wfp_free_port)
rcli XGROUP CREATE "$req" jobboard 0 MKSTREAM >/dev/null

# 5,000 posts queued before the board starts, served with at most 16 held.
rcli EVAL "for i = 1, 5000 do redis.call('XADD', KEYS[1], '*', 'op', 'post', 'timeout_ms', '600000', 'body', ARGV[1]) end return 1" \
  1 "$req" "$(printf '\x81\xa4name\xa6queued')" >/dev/null
start_board WFP_INFLIGHT_MAX=16 WFP_METRICS_ADDR="127.0.0.1:$port"
rcli -r 300 -i 0.005 EVAL "return redis.call('XPENDING', KEYS[1], 'jobboard')[1]" 1 "$req" \
  >"$TMP/pending" &
sampler=$!
ok "all served" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' ZCARD '$tag:jobs:posted')\" = 5000 ]"
wait "$sampler" || true
max=$(sort -n "$TMP/pending" | tail -1)
ok "never more than 16 held (max seen $max)" test "$max" -le 16
ok "some held at a time" test "$max" -gt 0
ok "the gauge is exported" grep -q "^wfp_jobboard_inflight " <<<"$(http_get 127.0.0.1 "$port" /metrics)"
ok "nothing left" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$req')\" = 0 ]"
stop_board

# A stopped service's stream fills to its cap; the next post is refused.
rcli EVAL "for i = 1, 100000 do redis.call('XADD', KEYS[1], '*', 'op', 'post', 'timeout_ms', '1000', 'body', 'x') end return 1" \
  1 "$req" >/dev/null
rc=0; "$WFP" job post "$(job_file full)" --timeout-ms 500 2>"$TMP/err" || rc=$?
eq "refused" "$rc" 1
eq "one line" "$(wc -l <"$TMP/err")" 1
eq "says why" "$(cat "$TMP/err")" \
  "wfp: FULL request stream of wfp-jobboard holds 100000 requests: is the service running?"
eq "nothing added" "$(rcli XLEN "$req")" 100000
rcli DEL "$req" >/dev/null
