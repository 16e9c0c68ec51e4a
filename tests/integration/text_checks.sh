# A post request made by hand (as any language may send one) with a name
# or payload that is not UTF-8 text is refused with a clear reason and
# dead-lettered: no job is posted, so none can be claimed and lost by a
# client that cannot print it. The CLI refuses such files before sending.
. "$(dirname "$0")/lib.sh"
start_board
req="$tag:svc:jobboard:requests"

# {name: "\xff\xfe", payload: "{}"}
printf '\x82\xa4name\xa2\xff\xfe\xa7payload\xa2{}' \
  | rcli -x XADD "$req" '*' op post reply "$tag:reply:n1" timeout_ms 60000 body >/dev/null
# {name: "ok", payload: '{"a":"\xc0\xaf"}'} (an overlong '/')
printf '\x82\xa4name\xa2ok\xa7payload\xaa{"a":"\xc0\xaf"}' \
  | rcli -x XADD "$req" '*' op post reply "$tag:reply:n2" timeout_ms 60000 body >/dev/null
# {name: "ok", payload: "[1]"}
printf '\x82\xa4name\xa2ok\xa7payload\xa3[1]' \
  | rcli -x XADD "$req" '*' op post reply "$tag:reply:n3" timeout_ms 60000 body >/dev/null
# {id: "t1", to: "\xed\xa0\x80"} (a surrogate as the transfer target)
printf '\x82\xa2id\xa2t1\xa2to\xa3\xed\xa0\x80' \
  | rcli -x XADD "$req" '*' op transfer timeout_ms 60000 body >/dev/null

ok "all dead-lettered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:deadletter')\" = 4 ]"
dl=$(rcli XRANGE "$tag:deadletter" - +)
ok "reason: name" grep -q "name is not UTF-8 text without control characters" <<<"$dl"
ok "reason: payload" grep -q "payload is not JSON" <<<"$dl"
ok "reason: payload object" grep -q "payload is not a JSON object" <<<"$dl"
ok "reason: owner" grep -q "owner is not UTF-8 text" <<<"$dl"
ok "the client is told" grep -q "name is not UTF-8" <<<"$(rcli LRANGE "$tag:reply:n1" 0 -1)"
eq "no job posted" "$(rcli ZCARD "$tag:jobs:posted")" 0
eq "nothing to claim" "$(status_of "$WFP" job claim --owner exec-a --json)" 3

# The CLI runs the same check on a job file.
printf '{"name": "tab\\there", "payload": {}}' >"$TMP/ctl.json"
eq "CLI refuses a control character" "$(status_of "$WFP" job post "$TMP/ctl.json")" 2
ok "CLI says why" bash -c "'$WFP' job post '$TMP/ctl.json' 2>&1 | grep -q 'not UTF-8 text without control characters'"
# Still serving.
id=$("$WFP" job post "$(job_file after)")
eq "serving after refusals" "$(rcli HGET "$tag:job:$id" state)" posted
