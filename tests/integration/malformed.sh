# Malformed entries on the board's request stream are dead-lettered with a
# reason, nothing is left behind, and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"
port=$(wfp_free_port)
start_board WFP_METRICS_ADDR="127.0.0.1:$port"
req="$tag:svc:jobboard:requests"

printf '\xc1' | rcli -x XADD "$req" '*' op post timeout_ms 60000 body >/dev/null           # invalid msgpack
printf '\xdd\xff\x00\x00\x00' | rcli -x XADD "$req" '*' op post timeout_ms 60000 body >/dev/null # 4G-element array
printf '\xdb\x7f\xff\xff\xff' | rcli -x XADD "$req" '*' op post timeout_ms 60000 body >/dev/null # 2 GiB string
printf '\x81\xa7payload\xa2{}' | rcli -x XADD "$req" '*' op post timeout_ms 60000 body >/dev/null # no name
printf '\x81\xa2id\xa1x' | rcli -x XADD "$req" '*' op explode timeout_ms 60000 body >/dev/null # unknown op
rcli XADD "$req" '*' timeout_ms 60000 body x >/dev/null                                     # no op
rcli XADD "$req" '*' op post reply "not-a-reply-key" timeout_ms 60000 body x >/dev/null          # foreign reply key
printf '\x82\xa4name\xa1x\xa5extra\x01' | rcli -x XADD "$req" '*' op post timeout_ms 60000 body >/dev/null # unknown field
printf '\x81\xa4name\xa1x' | rcli -x XADD "$req" '*' op post body >/dev/null                 # no timeout_ms
printf '\x81\xa4name\xa1x' | rcli -x XADD "$req" '*' op post timeout_ms soon body >/dev/null # bad timeout_ms
printf '\x81\xa4name\xa1x' | rcli -x XADD "$req" '*' op post timeout_ms 4200001 body >/dev/null # over the limit
printf '\x81\xa2id\xa1x' | rcli -x XADD "$req" '*' op $'bad\xffop' timeout_ms 60000 body >/dev/null # op not UTF-8
printf '\x82\xa4name\xa1x\xa3\xc3\xff\\\x01' | rcli -x XADD "$req" '*' op post timeout_ms 60000 body >/dev/null # field name not UTF-8

ok "all dead-lettered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:deadletter')\" = 13 ]"
dl=$(rcli --no-raw XRANGE "$tag:deadletter" - +)
ok "reason: invalid byte" grep -q "invalid type byte" <<<"$dl"
ok "reason: huge array" grep -q "declared 4278190080 elements exceed" <<<"$dl"
ok "reason: huge string" grep -q "declared size 2147483647 exceeds" <<<"$dl"
ok "reason: missing name" grep -q "missing field 'name'" <<<"$dl"
ok "reason: unknown op" grep -q "unknown op 'explode'" <<<"$dl"
ok "reason: missing op" grep -q "missing or overlong field 'op'" <<<"$dl"
ok "reason: reply key" grep -q "not a reply key" <<<"$dl"
ok "reason: unknown field" grep -q "unknown field 'extra'" <<<"$dl"
ok "reason: no timeout" grep -q "missing field 'timeout_ms'" <<<"$dl"
ok "reason: bad timeout" grep -q "field 'timeout_ms' 'soon' is not 1..4200000 ms" <<<"$dl"
ok "reason: timeout over the limit" grep -q "field 'timeout_ms' '4200001' is not" <<<"$dl"
ok "original fields kept" grep -q "orig_op" <<<"$dl"
# Refusals quote raw input as printable ASCII (\xNN), so the reasons in the
# dead letters and the events' details are UTF-8 text for every consumer.
reasons() { rcli --raw XRANGE "$tag:deadletter" - + | awk 'f {print; f=0} $0 == "reason" {f=1}'; }
details() { rcli --raw XRANGE "$tag:events" - + | awk 'f {print; f=0} $0 == "detail" {f=1}'; }
ok "reason: unknown op quoted" grep -qF "unknown op 'bad\\xffop'" <<<"$(reasons)"
ok "reason: unknown field quoted" grep -qF "unknown field '\\xc3\\xff\\x5c'" <<<"$(reasons)"
utf8() { iconv -f UTF-8 -t UTF-8 >/dev/null <<<"$1"; }
ok "dead-letter reasons are UTF-8" utf8 "$(reasons)"
ok "event details are UTF-8" utf8 "$(details)"
ok "the bad op's event is there" grep -qF "unknown op 'bad\\xffop'" <<<"$(details)"
eq "nothing left on the request stream" "$(rcli XLEN "$req")" 0
eq "nothing pending" "$(rcli XPENDING "$req" jobboard | head -1)" 0
ok "no stray key written" bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' EXISTS not-a-reply-key)\" = 0 ]"

# Still serving: a good post goes through, and /healthz and /metrics answer.
id=$("$WFP" job post "$(job_file after)")
eq "serving after junk" "$(rcli HGET "$tag:job:$id" state)" posted
ok "daemon alive" kill -0 "$BOARD_PID"
ok "healthz" grep -q "200 OK" <<<"$(http_get 127.0.0.1 "$port" /healthz)"
ok "metrics count dead letters" grep -q "^wfp_jobboard_deadletter_total 13" <<<"$(http_get 127.0.0.1 "$port" /metrics)"

# An entry with more fields than one script call carries is still
# dead-lettered (its first fields copied, the cut said), not left pending.
args=()
for i in $(seq 1 40); do args+=("f$i" "v$i"); done
rcli XADD "$req" '*' "${args[@]}" >/dev/null
ok "wide entry dead-lettered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:deadletter')\" = 14 ]"
ok "the cut is said" grep -q "not copied" <<<"$(rcli XREVRANGE "$tag:deadletter" + - COUNT 1)"
eq "nothing left on the request stream after it" "$(rcli XLEN "$req")" 0
