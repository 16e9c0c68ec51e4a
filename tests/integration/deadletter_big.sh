# A request written straight to a service's request stream with a value
# past the message limit (a 3 MiB body): it is dead-lettered with its
# reason, but the copied names and values keep only 1,048,576 bytes in
# all (DEADLETTER_COPY_MAX), so such writes cannot grow the dead-letter
# stream by more than that an entry (a huge field name, or many fields
# of 1 MiB, neither); the service keeps serving.
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
# op post timeout_ms 60000 body: 25 bytes before the body's value.
eq "the body's first 1 MiB - 25 bytes kept" "$(field_len orig_body)" $((1048576 - 25))
eq "the other fields whole" "$(field_len orig_op)" 4
reason=$(rcli --raw XREVRANGE "$tag:deadletter" + - COUNT 1 | awk 'f {print; f=0} $0 == "reason" {f=1}')
ok "the reason says why and that it was cut ($reason)" \
  grep -q "exceeds.*(names and values cut to 1048576 bytes in all)" <<<"$reason"
# copied_bytes: the bytes of the last dead letter's orig_ names and values
# (less their orig_ prefixes).
copied_bytes() {
  rcli EVAL "local e = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1][2]
    local n = 0
    for i = 1, #e, 2 do
      if string.sub(e[i], 1, 5) == 'orig_' then n = n + #e[i] - 5 + #e[i + 1] end
    end
    return n" 1 "$tag:deadletter"
}
# A 2 MiB field name first, then three 600 KiB values: 1 MiB in all.
rcli EVAL "redis.call('XADD', KEYS[1], '*', string.rep('n', 2097152), 'v',
  'op', 'post', 'a', string.rep('y', 614400), 'b', string.rep('y', 614400),
  'c', string.rep('y', 614400))" 1 "$req" >/dev/null
ok "the second dead-lettered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:deadletter')\" = 2 ]"
eq "its copy holds 1 MiB of names and values" "$(copied_bytes)" 1048576
eq "the request stream is empty" "$(rcli XLEN "$req")" 0
ok "the board still serves" "$WFP" job post "$(job_file after)"
finish
