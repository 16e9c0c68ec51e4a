# post -> claim -> complete through the daemon and the CLI, with the states
# visible in redis-cli HGETALL and `wfp job show --json`; CLI errors.
. "$(dirname "$0")/lib.sh"
start_board

f=$(job_file provision '"max_attempts": 4')
id=$("$WFP" job post "$f")
ok "post printed an id" test -n "$id"
eq "posted in the hash" "$(rcli HGET "$tag:job:$id" state)" posted
eq "show --json state" "$("$WFP" job show "$id" --json | jq -r .state)" posted
eq "max_attempts kept" "$("$WFP" job show "$id" --json | jq -r .max_attempts)" 4
eq "payload kept" "$("$WFP" job show "$id" --json | jq -c .payload)" '{"step":1}'

ok "status: no live owner says none" bash -c "'$WFP' status | grep -qx 'live owners  *none'"
claim=$("$WFP" job claim --owner exec-1 --json)
eq "claimed id" "$(jq -r .id <<<"$claim")" "$id"
token=$(jq -r .token <<<"$claim")
fence=$(jq -r .fence <<<"$claim")
# Fences are floored at Redis's clock in microseconds, written as digits.
ok "fence from the clock" [ "$fence" -gt "$(( ($(date +%s) - 60) * 1000000 ))" ]
eq "fence in the hash, as digits" "$(rcli HGET "$tag:job:$id" fence)" "$fence"
eq "claimed in the hash" "$(rcli HGET "$tag:job:$id" state)" claimed
eq "owner in the hash" "$(rcli HGET "$tag:job:$id" owner)" exec-1
show=$("$WFP" job show "$id" --json)
eq "show owner" "$(jq -r .owner <<<"$show")" exec-1
eq "show attempts" "$(jq -r .attempts <<<"$show")" 1
eq "token hidden from show" "$(jq -r 'has("token")' <<<"$show")" false

ok "heartbeat" "$WFP" job heartbeat "$id" "$token"
eq "complete" "$("$WFP" job complete "$id" "$token" --json | jq -r .state)" completed
eq "completed in the hash" "$(rcli HGETALL "$tag:job:$id" | paste - - | awk '$1=="state"{print $2}')" completed
ok "wait exits 0 on completed" "$WFP" job wait "$id" --timeout 1000
eq "list --state completed" "$("$WFP" job list --state completed --json | jq -r '.[0].id')" "$id"
eq "status counts" "$("$WFP" status --json | jq -r .jobs.completed)" 1
# The text form: values lined up in one column; owners by name, or none.
"$WFP" status >"$TMP/status.out"
eq "status: every value at column 25" "$(awk '{ v = $NF; print index($0, v) == 25 ? "ok" : "bad: " $0 }' "$TMP/status.out" | sort -u)" ok
ok "status: a live owner by name" grep -qx "live owners  *exec-1" "$TMP/status.out"
ok "status: its services" grep -qx "wfp-jobboard pending  *[0-9]*" "$TMP/status.out"
ok "events recorded" bash -c "redis-cli -u '$WFP_REDIS_URL' XRANGE '$tag:events' - + | grep -q '$id'"

# A second complete with the same token is refused, non-zero, one line.
eq "second complete refused" "$(status_of "$WFP" job complete "$id" "$token")" 1
err=$("$WFP" job complete "$id" "$token" 2>&1 || true)
ok "refusal says STALE" grep -q "STALE" <<<"$err"
eq "one line" "$(wc -l <<<"$err")" 1

# Bad input: exit 2 with a clear message.
eq "missing file" "$(status_of "$WFP" job post /nonexistent.json)" 2
echo '{"name": "x", ' >"$TMP/bad.json"
eq "bad JSON" "$(status_of "$WFP" job post "$TMP/bad.json")" 2
ok "bad JSON message" bash -c "'$WFP' job post '$TMP/bad.json' 2>&1 | grep -q 'bad JSON'"
echo '{"name": "x", "colour": "red"}' >"$TMP/unknown.json"
ok "unknown field message" bash -c "'$WFP' job post '$TMP/unknown.json' 2>&1 | grep -q \"unknown field 'colour'\""
echo '{"name": "x", "max_attempts": 0}' >"$TMP/zero.json"
ok "max_attempts 0 refused by the board" bash -c "'$WFP' job post '$TMP/zero.json' 2>&1 | grep -q max_attempts"
eq "unknown job" "$(status_of "$WFP" job show deadbeef)" 1
ok "unknown job message" bash -c "'$WFP' job show deadbeef 2>&1 | grep -q 'does not exist'"
eq "redis down" "$(status_of "$WFP" job list --redis redis://127.0.0.1:1)" 1
ok "redis down message" bash -c "'$WFP' job list --redis redis://127.0.0.1:1 2>&1 | grep -q 'cannot reach redis'"
eq "bad URL" "$(status_of "$WFP" status --redis http://x)" 2
eq "unknown verb" "$(status_of "$WFP" job explode)" 2
eq "nothing to claim" "$(status_of "$WFP" job claim --owner x)" 3

# watch follows a job's state changes until it ends; exit 0 on completed.
id=$("$WFP" job post "$(job_file watched)")
"$WFP" job watch "$id" --timeout 10000 >"$TMP/watch.out" &
watcher=$!
sleep 0.3
c=$("$WFP" job claim --owner exec-w --json)
"$WFP" job complete "$id" "$(jq -r .token <<<"$c")" >/dev/null
rc=0; wait "$watcher" || rc=$?
eq "watch exits 0 on completed" "$rc" 0
ok "watch saw the claim" grep -q "claimed .*exec-w" "$TMP/watch.out"
ok "watch saw the end" grep -q "completed" "$TMP/watch.out"
eq "watch times out with 3" "$(status_of "$WFP" job watch "$("$WFP" job post "$(job_file idle)")" --timeout 300)" 3
eq "wait times out with 3" "$(status_of "$WFP" job wait "$("$WFP" job post "$(job_file idle2)")" --timeout 300)" 3

# The payload is sent as the file spells it, the whitespace between
# tokens removed: numbers and escapes as written (jansson re-encoding made
# 2.50 into 2.5 and 0.1 into 0.10000000000000001).
cat >"$TMP/spelled.json" <<'JSON'
{"name": "spelled", "payload": {"inputs": {"k": [1, 2.50], "v": 0.1, "e": 1E+2, "s": "\u0061\n"},
 "workflow": {"task": "a", "apply": ["true"], "requires": ["k"]}}}
JSON
sid=$("$WFP" job post "$TMP/spelled.json")
eq "payload as the file spells it" "$(rcli HGET "$tag:job:$sid" payload)" '{"inputs":{"k":[1,2.50],"v":0.1,"e":1E+2,"s":"\u0061\n"},"workflow":{"task":"a","apply":["true"],"requires":["k"]}}'
echo '{"name": "big", "payload": {"n": 123456789012345678901}}' >"$TMP/big.json"
eq "an integer beyond int64 is refused" "$(status_of "$WFP" job post "$TMP/big.json")" 2

# A request Redis refuses (here: the request stream's key is a string)
# fails at once with Redis's reason instead of waiting for a reply.
rcli DEL "$tag:svc:jobboard:requests" >/dev/null
rcli SET "$tag:svc:jobboard:requests" oops >/dev/null
start=$(date +%s%N)
err=$("$WFP" job post "$(job_file refused)" 2>&1 || true)
ok "refused post says WRONGTYPE" grep -q WRONGTYPE <<<"$err"
ok "refused at once" test $(( ($(date +%s%N) - start) / 1000000 )) -lt 2000

# status shows the live board replica (it says so every second).
ok "status: board live" wfp_wait_for bash -c "[ \"\$('$WFP' status --json | jq .services.jobboard.live)\" = 1 ]"
eq "status: no lock service here" "$("$WFP" status --json | jq .services.lock.live)" 0
