# A request written straight to a service's request stream with a value
# past the message limit (a 3 MiB body): it is dead-lettered with its
# reason, but each copied value keeps only its first 1,048,576 bytes
# (DEADLETTER_VALUE_MAX), so such writes cannot grow the dead-letter
# stream by more than that a field; the service keeps serving.
. "$(dirname "$0")/lib.sh"
start_board
req="$tag:svc:jobboard:requests"
head -c $((3 * 1024 * 1024)) /dev/zero | tr '\0' x |
  rcli -x XADD "$req" '*' op post timeout_ms 60000 body >/dev/null
ok "dead-lettered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:deadletter')\" = 1 ]"
# field NAME: the length of the last dead letter's field NAME (-1: none).
field_len() {
  rcli EVAL "local e = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][2]
    for i = 1, #e, 2 do if e[i] == ARGV[1] then return #e[i + 1] end end
    return -1" 1 "$tag:deadletter" "$1"
}
eq "the body's first 1 MiB kept" "$(field_len orig_body)" 1048576
eq "the other fields whole" "$(field_len orig_op)" 4
reason=$(rcli --raw XREVRANGE "$tag:deadletter" + - COUNT 1 | awk 'f {print; f=0} $0 == "reason" {f=1}')
ok "the reason says why and that it was cut ($reason)" \
  grep -q "exceeds.*(values cut to their first 1048576 bytes)" <<<"$reason"
eq "the request stream is empty" "$(rcli XLEN "$req")" 0
ok "the board still serves" "$WFP" job post "$(job_file after)"
finish
