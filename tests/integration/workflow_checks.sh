# A workflow the executor could not run is refused before anything is
# written: by `wfp job post` (exit 2, "wfp: FILE: message") and by
# wfp-jobboard's post handler (an error reply naming the problem), both
# through wfp_post_check -> wfp_workflow_check. A good workflow posts.
. "$(dirname "$0")/lib.sh"
start_board

# wf_file NAME WORKFLOW_JSON [INPUTS_JSON]: a job file whose payload holds
# the workflow; prints its path.
wf_file() {
  local f="$TMP/$1.json"
  printf '{"name": "%s", "payload": {"inputs": %s, "workflow": %s}}\n' \
    "$1" "${3:-{\}}" "$2" >"$f"
  echo "$f"
}

# refused NAME WORKFLOW WANT: the CLI refuses the file with exit 2 and a
# message holding WANT.
refused() {
  local f rc=0
  f=$(wf_file "$1" "$2")
  "$WFP" job post "$f" >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "$1: exit status" "$rc" 2
  ok "$1: message names the problem ($(cat "$TMP/err"))" grep -qF "wfp: $f: $3" "$TMP/err"
}

A='"apply": ["true"]'
refused unknown-key "{\"linear\": [{\"task\": \"a\", \"aply\": [\"x\"]}]}" \
  "task 'a': unknown key 'aply'"
refused cycle "{\"graph\": [{\"task\": \"a\", $A, \"requires\": [\"q\"], \"provides\": [\"p\"]},
  {\"task\": \"b\", $A, \"requires\": [\"p\"], \"provides\": [\"q\"]}]}" \
  "tasks wait for each other in a cycle: 'a' waits for 'b' waits for 'a'"
refused unmet "{\"linear\": [{\"task\": \"dns\", $A, \"requires\": [\"ip\"]}]}" \
  "task 'dns': requires 'ip', which no task provides and payload.inputs does not hold"
refused not-before "{\"unordered\": [{\"task\": \"ip\", $A, \"provides\": [\"ip\"]},
  {\"task\": \"dns\", $A, \"requires\": [\"ip\"]}]}" \
  "task 'dns': requires 'ip', but no task that runs before it provides it"
refused after-elsewhere "{\"linear\": [{\"task\": \"z\", $A}, {\"graph\": [{\"task\": \"a\", $A, \"after\": [\"z\"]}]}]}" \
  "task 'a': after names 'z', which is not in the same graph"
refused twice "{\"linear\": [{\"task\": \"a\", $A}, {\"unordered\": [{\"task\": \"a\", $A}]}]}" \
  "workflow.linear[1].unordered[0]: task 'a' is named twice"
refused empty-argv "{\"task\": \"a\", \"apply\": []}" "task 'a': apply is an empty argv"
refused two-keys "{\"linear\": [{\"task\": \"a\", $A}, {\"linear\": [], \"graph\": []}]}" \
  "workflow.linear[1]: a pattern has one key"
refused retry "{\"task\": \"a\", $A, \"retry\": {\"attempts\": 0}}" \
  "task 'a': retry.attempts 0 is not in 1..100"
eq "nothing written by the refused posts" "$(rcli --scan --pattern "$tag:job:*" | wc -l)" 0
eq "nothing on the board's request stream" "$(rcli XLEN "$tag:svc:jobboard:requests")" 0

# --- The same refusal from the board itself: a hand-made post request.
# mp_str TEXT: TEXT as a msgpack string (fixstr, str8 or str16).
mp_str() {
  local n
  n=$(LC_ALL=C; printf '%s' "$1" | wc -c)
  if [ "$n" -lt 32 ]; then printf "\\x$(printf %02x $((0xa0 + n)))"
  elif [ "$n" -lt 256 ]; then printf "\\xd9\\x$(printf %02x "$n")"
  else printf "\\xda\\x$(printf %02x $((n >> 8)))\\x$(printf %02x $((n & 255)))"
  fi
  printf '%s' "$1"
}
# board_post NONCE PAYLOAD: posts {name: "raw", payload: PAYLOAD} as a raw
# request; prints the reply's bytes as text.
board_post() {
  { printf '\x82'; mp_str name; mp_str raw; mp_str payload; mp_str "$2"; } \
    | rcli -x XADD "$tag:svc:jobboard:requests" '*' op post \
      reply "$tag:reply:$1" timeout_ms 5000 body >/dev/null
  rcli --raw BLPOP "$tag:reply:$1" 5 | tail -n +2 | tr -c '[:print:]' ' '
}
reply=$(board_post r1 "{\"workflow\": {\"graph\": [{\"task\": \"a\", $A, \"after\": [\"b\"]}, {\"task\": \"b\", $A, \"after\": [\"a\"]}]}}")
ok "board refuses a cycle ($reply)" grep -qF "tasks wait for each other in a cycle: 'a' waits for 'b' waits for 'a'" <<<"$reply"
reply=$(board_post r2 "{\"workflow\": {\"task\": \"a\", \"apply\": {\"plugin\": \"Bad\"}}}")
ok "board refuses a bad plugin name ($reply)" grep -qF "task 'a': apply: plugin name 'Bad' is not 1-63 of a-z 0-9 _ -" <<<"$reply"
reply=$(board_post r3 "{\"inputs\": {\"ip\": \"10.0.0.1\"}, \"workflow\": {\"task\": \"dns\", $A, \"requires\": [\"ip\"], \"timeout_ms\": 99999999999}}")
ok "board refuses a bad timeout ($reply)" grep -qF "task 'dns': timeout_ms 99999999999 is not in 0..86400000" <<<"$reply"
eq "nothing written by the board's refusals" "$(rcli --scan --pattern "$tag:job:*" | wc -l)" 0
eq "the three refusals are dead-lettered" "$(rcli XLEN "$tag:deadletter")" 3
ok "a dead letter names the problem" grep -qF "task 'a': apply: plugin name 'Bad'" <<<"$(rcli XRANGE "$tag:deadletter" - +)"

# --- Good workflows post: the DESIGN.md example through the CLI, one
# through the raw request.
good=$(wf_file good '{"linear": [
  {"task": "ip", "apply": ["fake-cloud", "ip", "create"], "revert": ["fake-cloud", "ip", "delete"], "provides": ["ip"]},
  {"unordered": [
    {"task": "volume", "apply": ["fake-cloud", "volume", "create"], "revert": ["fake-cloud", "volume", "delete"], "provides": ["volume"]},
    {"task": "dns", "apply": ["fake-cloud", "dns", "add"], "requires": ["ip"]}]},
  {"graph": [
    {"task": "vm", "apply": {"plugin": "noop"}, "requires": ["ip", "volume"], "provides": ["vm"]},
    {"task": "boot", "apply": ["fake-cloud", "vm", "boot"], "requires": ["vm"], "timeout_ms": 60000, "retry": {"attempts": 3, "backoff_ms": 500}}]}]}' \
  '{"region": "eu-1"}')
id=$("$WFP" job post "$good")
eq "the DESIGN.md example posts" "$(rcli HGET "$tag:job:$id" state)" posted
ok "its payload is kept" grep -q '"boot"' <<<"$(rcli HGET "$tag:job:$id" payload)"
reply=$(board_post r4 "{\"inputs\": {\"ip\": \"10.0.0.1\"}, \"workflow\": {\"task\": \"dns\", $A, \"requires\": [\"ip\"]}}")
ok "a good raw post is accepted ($reply)" grep -q "created" <<<"$reply"
eq "two jobs written" "$(rcli --scan --pattern "$tag:job:*" | grep -vc ':log$')" 2
eq "no more dead letters" "$(rcli XLEN "$tag:deadletter")" 3
finish
