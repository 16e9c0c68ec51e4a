# The CLI's exit statuses and help, as the README promises them: 0 ok;
# 1 failed (refused, no such job); 2 bad usage or input, found by the CLI
# before anything is sent; 3 nothing happened in time (BUSY, TIMEOUT, no
# reply from a service). Refusals are classed by their code word, never
# by the words of their message.
. "$(dirname "$0")/lib.sh"

# one_line FILE: FILE holds exactly one line that starts with "wfp: ".
one_line() { [ "$(wc -l <"$1")" = 1 ] && grep -q "^wfp: " "$1"; }

# code_of DESCRIPTION WANT CMD...: CMD exits WANT with one line on stderr
# (kept in $TMP/err).
code_of() {
  local d=$1 want=$2 rc=0
  shift 2
  "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "$d: exit status" "$rc" "$want"
  ok "$d: one line on stderr ($(head -c 200 "$TMP/err"))" one_line "$TMP/err"
}

# --- 3: no reply from a service in time (no wfp-jobboard, no wfp-lock).
code_of "post, no board" 3 "$WFP" job post "$(job_file lonely)" --timeout-ms 300
ok "post says no reply came" grep -q "no reply from wfp-jobboard within 300 ms" "$TMP/err"
code_of "transfer, no board" 3 "$WFP" job transfer nosuch --board --timeout-ms 300
ok "transfer says no reply came" grep -q "no reply from wfp-jobboard" "$TMP/err"
code_of "repost, no board" 3 "$WFP" job repost nosuch --timeout-ms 300
ok "repost says no reply came" grep -q "no reply from wfp-jobboard" "$TMP/err"
# No wfp-reservation: 3.
code_of "pool set, no service" 3 "$WFP" pool set p --capacity 1 --timeout-ms 300
ok "pool set says no reply came" grep -q "no reply from wfp-reservation within 300 ms" "$TMP/err"
echo '{"name": "x", "items": [{"name": "a", "pool": "p", "amount": 1, "class": "c"}]}' >"$TMP/one.json"
code_of "rsv create, no service" 3 "$WFP" rsv create "$TMP/one.json" --timeout-ms 300
code_of "rsv release, no service" 3 "$WFP" rsv release nosuch --timeout-ms 300
# Not found: 1.
code_of "rsv show of no reservation" 1 "$WFP" rsv show nosuch
ok "says NORSV" grep -q "^wfp: NORSV reservation 'nosuch' does not exist" "$TMP/err"
code_of "pool show of no pool" 1 "$WFP" pool show nosuch
ok "says NOPOOL" grep -q "^wfp: NOPOOL " "$TMP/err"
ok "NOPOOL says how to fix it" grep -qx "wfp: NOPOOL pool 'nosuch' does not exist; create it with \`wfp pool set nosuch --capacity N\`" "$TMP/err"
held=$("$WFP" lock acquire nr --owner a --ttl 5000 --json)
# --timeout-ms bounds each Redis command too: 1000 ms leaves a loaded
# machine time to answer the direct attempt before the request.
code_of "waiting acquire, no wfp-lock" 3 "$WFP" lock acquire nr --owner b --wait 100 --timeout-ms 1000
ok "acquire says no reply came" grep -q "no reply from wfp-lock within 1100 ms (is it running?)" "$TMP/err"
# Redis itself does not answer the request (hold_proxy holds it): the
# reply did not come in time, as when no wfp-lock runs (3), not a failure.
rport=$(sed -E 's#^redis://([^@/]*@)?[^:/]*:([0-9]+).*#\2#' <<<"$WFP_REDIS_URL")
pport=$(wfp_free_port)
"$WFP_BIN/tests/hold_proxy" "$pport" "$rport" BLPOP "$TMP/held" "$TMP/go" &
at_exit kill "$!"
code_of "waiting acquire, redis silent" 3 "$WFP" lock acquire nr --owner b --wait 100 --timeout-ms 300 --redis "redis://127.0.0.1:$pport"
ok "the request was held" test -e "$TMP/held"
ok "acquire says the reply did not come" grep -q "no reply from wfp-lock within 400 ms (redis did not answer in time)" "$TMP/err"
code_of "held lock, no wait: BUSY" 3 "$WFP" lock acquire nr --owner b
ok "BUSY named" grep -q "^wfp: BUSY " "$TMP/err"
ok "release nr" "$WFP" lock release nr "$(jq -r .token <<<"$held")"

# --- 1: a lock nobody holds (released, expired) is refused (STALE), not
# bad usage.
g=$("$WFP" lock acquire rt2 --owner alice --ttl 5000 --json)
tok=$(jq -r .token <<<"$g")
ok "release" "$WFP" lock release rt2 "$tok"
code_of "release of a released lock" 1 "$WFP" lock release rt2 "$tok"
ok "says STALE: not held" grep -q "^wfp: STALE lock rt2 is not held" "$TMP/err"
code_of "renew of a released lock" 1 "$WFP" lock renew rt2 "$tok"
ok "says STALE" grep -q "^wfp: STALE " "$TMP/err"
g=$("$WFP" lock acquire rt3 --owner alice --ttl 50 --json)
sleep 0.3
code_of "renew of an expired lock" 1 "$WFP" lock renew rt3 "$(jq -r .token <<<"$g")"
code_of "release of an expired lock" 1 "$WFP" lock release rt3 "$(jq -r .token <<<"$g")"
code_of "lock of never-used name" 1 "$WFP" lock release never "alice/0123456789abcdef0123456789abcdef"
# The job commands: refusals are 1 whatever their words.
code_of "heartbeat of no job" 1 "$WFP" job heartbeat nosuch tok
ok "says NOJOB" grep -q "^wfp: NOJOB " "$TMP/err"
code_of "complete of no job" 1 "$WFP" job complete nosuch tok
code_of "show of no job" 1 "$WFP" job show nosuch

# --- 2: bad input, found before anything is sent: the commands are run
# against an address where no Redis listens, so a command that tried to
# send would exit 1 ("cannot reach redis").
nored=(--redis redis://127.0.0.1:1)
tok40="exec-1-0123456789abcdef0123456789abcdef"
ltok="alice/0123456789abcdef0123456789abcdef"
names17=(); for i in $(seq 1 17); do names17+=("n$i"); done
bad_inputs=(
  "job show|bad id!"
  "job log|bad id!"
  "job wait|bad id!"
  "job watch|bad id!"
  "job repost|bad id!"
  "job cancel|bad id!"
  "job cancel|j1|--reason|a"$'\x01'"b"
  "job cancel|j1|--reason|$(head -c 1013 /dev/zero | tr '\0' x)"
  "job cancel|j1|--to|x"
  "job cancel"
  "job log|j1|x"
  "executor list|x"
  "executor list|--all"
  "executor explode"
  "job transfer|bad id!|--board"
  "job transfer|j1|--to|x"$'\n'"y"
  "job transfer|j1|--to|"
  "job transfer|j1"
  "job claim|--owner|bad"$'\n'"owner"
  "job claim|--owner|"
  "job claim"
  "job claim|--owner|x|--wait|-1"
  "job claim|--owner|x|--wait|3600001"
  "job claim|--owner|x|--count|0"
  "job claim|--owner|x|--count|257"
  "job heartbeat|bad id!|$tok40"
  "job heartbeat|j1|bad token!"
  "job complete|j1|bad token!"
  "job complete|j1|$tok40|--fence|0"
  "job complete|j1|$tok40|--fence|9007199254740992"
  "job complete|j1|$tok40|--fence|x"
  "job fail|j1|$tok40"
  "job fail|j1|$tok40|--reason|a"$'\x01'"b"
  "job fail|j1|$tok40|--reason|x|--final|nope"
  "job fail|bad id!|$tok40|--reason|x"
  "job list|--state|nope"
  "job list|--limit|0"
  "job list|--limit|10001"
  "job wait|j1|--timeout|-1"
  "job watch|j1|--timeout|86400001"
  "job post|/nonexistent.json"
  "lock acquire|bad name!"
  "lock acquire|a|a"
  "lock acquire|a|--owner|bad owner"
  "lock acquire|a|--owner|"
  "lock acquire|a|--ttl|0"
  "lock acquire|a|--ttl|5"
  "lock acquire|a|--ttl|86400001"
  "lock acquire|a|--wait|-1"
  "lock acquire|a|--wait|3600001"
  "lock renew|bad name!|$ltok"
  "lock renew|a|nonsense"
  "lock renew|a|$ltok|--ttl|5"
  "lock release|a|nonsense"
  "lock release|a"
  "lock show|bad name!"
  "lock explode"
  "job explode"
  "pool set|bad name!|--capacity|1"
  "pool set|p"
  "pool set|p|--capacity|-1"
  "pool set|p|--capacity|1000000000000001"
  "pool set|p|--capacity|x"
  "pool set|p|q|--capacity|1"
  "pool show|bad name!"
  "pool show|p|--limit|0"
  "pool list|x"
  "pool list|--limit|10001"
  "pool explode"
  "rsv create|/nonexistent.json"
  "rsv create|$TMP/one.json|--id|bad id!"
  "rsv create|$TMP/one.json|--id|$(head -c 41 /dev/zero | tr '\0' x)"
  "rsv create|$TMP/one.json|--timeout|5"
  "rsv create|$TMP/one.json|--wait|--timeout|-1"
  "rsv create|$TMP/one.json|--colour|red"
  "rsv show|bad id!"
  "rsv show|a|b"
  "rsv release|bad id!"
  "rsv release|a|--timeout|5"
  "rsv list|--state|nope"
  "rsv list|--state|posted"
  "rsv list|--limit|0"
  "rsv explode"
)
for spec in "${bad_inputs[@]}"; do
  IFS='|' read -r -d '' -a words < <(printf '%s|\0' "$spec")
  verb=(${words[0]})
  code_of "wfp ${spec//$'\n'/\\n}" 2 "$WFP" "${verb[@]}" "${words[@]:1}" "${nored[@]}"
done
# A reservation file the parser refuses: exit 2, nothing sent.
echo '{"name": "x", "items": [{"name": "a", "pool": "p", "amount": 0, "class": "c"}]}' >"$TMP/zero.json"
code_of "rsv create, amount 0" 2 "$WFP" rsv create "$TMP/zero.json" "${nored[@]}"
ok "rsv create, amount 0: names the file" grep -q "^wfp: $TMP/zero.json: " "$TMP/err"
head -c 65537 /dev/zero | tr '\0' ' ' >"$TMP/big.json"
code_of "rsv create, file too large" 2 "$WFP" rsv create "$TMP/big.json" "${nored[@]}"
ok "rsv create, file too large: names the limit" grep -q "larger than 65536 bytes" "$TMP/err"
code_of "17 lock names" 2 "$WFP" lock acquire "${names17[@]}" "${nored[@]}"
ok "17 names: says the limit" grep -q "give 1 to 16 lock names, not 17" "$TMP/err"
# Up to 16 names go through the CLI (the library's limit, not the CLI's).
g=$("$WFP" lock acquire "${names17[@]:0:16}" --owner many --ttl 60000 --json)
eq "16 names granted at once" "$(jq length <<<"$g")" 16
for n in "${names17[@]:0:16}"; do
  ok "release $n" "$WFP" lock release "$n" "$(jq -r '.[0].token' <<<"$g")" >/dev/null
done

# --- One ttl range, the real one, in every message.
for spec in "acquire a --ttl 0" "acquire a --ttl 5" "acquire a --ttl 86400001" \
            "renew a $ltok --ttl 5" "renew a $ltok --ttl 864000000"; do
  code_of "lock $spec" 2 "$WFP" lock $spec "${nored[@]}"
  ok "lock $spec: says 10 to 86400000" grep -Eq "10( to |\.\.)86400000$" "$TMP/err"
done

# --- Help: every noun and verb; a noun alone or with --help: its usage.
rc=0; "$WFP" --help >"$TMP/help" 2>&1 || rc=$?
eq "wfp --help exits 0" "$rc" 0
for line in "job post" "job show" "job list" "job log" "job wait" "job watch" \
            "job transfer" "job repost" "job cancel" "job claim" "job heartbeat" "job complete" \
            "job fail" "lock acquire" "lock renew" "lock release" "lock show" \
            "lock list" "executor list" "status" "pool set" "pool show" "pool list" \
            "rsv create" "rsv show" "rsv list" "rsv release"; do
  eq "wfp --help lists 'wfp $line' once" "$(grep -c "^  wfp $line\b" "$TMP/help")" 1
done
for noun in job lock executor pool rsv; do
  other=$([ $noun = job ] && echo lock || echo job)
  rc=0; "$WFP" $noun --help >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "wfp $noun --help exits 0" "$rc" 0
  ok "wfp $noun --help shows $noun verbs" grep -q "^  wfp $noun " "$TMP/out"
  ok "wfp $noun --help shows no $other verbs" bash -c "! grep -q '^  wfp $other ' '$TMP/out'"
  rc=0; "$WFP" $noun >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "wfp $noun alone exits 2" "$rc" 2
  ok "wfp $noun alone prints its usage on stderr" grep -q "^  wfp $noun " "$TMP/err"
  ok "wfp $noun alone: nothing on stdout" test ! -s "$TMP/out"
done
# pool and rsv take no board settings; their help lines fit 96 columns.
for noun in pool rsv; do
  "$WFP" $noun --help >"$TMP/out"
  ok "wfp $noun --help: no --visibility-ms/--retention-ms" bash -c "! grep -Eq -- '--(visibility|retention)-ms' '$TMP/out'"
  eq "wfp $noun --help: lines of at most 96 characters" "$(awk 'length > 96' "$TMP/out")" ""
done
ok "wfp job --help keeps --visibility-ms" grep -q -- "--visibility-ms" <<<"$("$WFP" job --help)"
code_of "lock unknown verb" 2 "$WFP" lock explode
eq "unknown verb named, no trailing space" "$(cat "$TMP/err")" \
  "wfp: unknown verb 'lock explode' (try: wfp lock --help)"
rc=0; "$WFP" status --help >"$TMP/out" 2>&1 || rc=$?
eq "wfp status --help exits 0" "$rc" 0
ok "wfp status --help shows status" grep -q "^  wfp status " "$TMP/out"

# --- The post reply's "created" is a msgpack boolean; the CLI reads it.
start_board
# request BODY_HEX NONCE: sends a hand-made post request, prints the reply
# as hex.
request() {
  printf "$1" | rcli -x XADD "$tag:svc:jobboard:requests" '*' op post \
    reply "$tag:reply:$2" timeout_ms 5000 body >/dev/null
  rcli --raw BLPOP "$tag:reply:$2" 5 | tail -n +2 | xxd -p | tr -d '\n'
}
# {name: "x", idempotency_key: "k"}
body='\x82\xa4name\xa1x\xafidempotency_key\xa1k'
# "created" (a7 + 7 bytes) then true (c3) / false (c2).
ok "first post: created is true (c3)" grep -q a763726561746564c3 <<<"$(request "$body" n1)"
ok "repeat post: created is false (c2)" grep -q a763726561746564c2 <<<"$(request "$body" n2)"
f=$(job_file idem '"idempotency_key": "cli-k"')
eq "CLI post --json: created true" "$("$WFP" job post "$f" --json | jq -r .created)" true
eq "CLI post again --json: created false" "$("$WFP" job post "$f" --json | jq -r .created)" false
eq "nothing dead-lettered" "$(rcli XLEN "$tag:deadletter")" 0

# --- repost takes what its help says: a claimed or finished job, never a
# posted one.
ok "help: repost takes claimed and every final state" grep -q "^  wfp job repost ID  *a claimed or finished (completed, reverted, failed, dead) job" "$TMP/help"
"$WFP" job claim --owner drain --count 100 >/dev/null # the jobs above
rp=$("$WFP" job post "$(job_file reposted '"max_attempts": 1')")
code_of "repost of a posted job: STATE" 1 "$WFP" job repost "$rp"
tk=$("$WFP" job claim --owner rp --json | jq -r .token)
ok "repost of a claimed job" "$WFP" job repost "$rp"
for final in completed reverted failed dead; do
  tk=$("$WFP" job claim --owner rp --json | jq -r .token)
  case $final in
    completed) "$WFP" job complete "$rp" "$tk" >/dev/null ;;
    dead) "$WFP" job fail "$rp" "$tk" --reason x >/dev/null ;; # its last attempt
    *) "$WFP" job fail "$rp" "$tk" --reason x --final $final >/dev/null ;;
  esac
  eq "a $final job" "$("$WFP" job show "$rp" --json | jq -r .state)" $final
  ok "repost of a $final job" "$WFP" job repost "$rp"
done
