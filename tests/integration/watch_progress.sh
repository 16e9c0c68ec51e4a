# `wfp job watch` of a workflow job: besides the job's events, a progress
# line at each change of its task log (entries written here as
# log_append.lua writes them, while the watch blocks on its XREAD):
# elapsed since the run's first entry, N/TOTAL applied, the running tasks,
# the rollback; --json one object per line. Entries of an older run are
# not counted; exit 0 for completed, else 1 with the state and error.
. "$(dirname "$0")/lib.sh"
start_board

wf_file() {
  cat >"$TMP/$1.json" <<EOF
{"name": "$1", "payload": {"inputs": {"region": "eu-1"}, "workflow": {"linear": [
 {"task": "ip", "apply": ["true"], "revert": ["true"], "provides": ["ip"]},
 {"unordered": [{"task": "volume", "apply": ["true"], "revert": ["true"]},
                {"task": "dns", "apply": ["true"], "requires": ["ip"]}]},
 {"task": "boot", "apply": {"plugin": "noop"}}]}}}
EOF
  echo "$TMP/$1.json"
}
# add ID FIELDS...: appends one entry to job ID's task log.
add() { local id=$1; shift; rcli XADD "$tag:job:$id:log" '*' "$@" >/dev/null; }
# blocked: true once a watch is blocked reading the streams.
blocked() { rcli CLIENT LIST | grep -q 'cmd=xread '; }
# claim_of ID: claims the one posted job, which must be ID; prints its token.
claim_of() {
  local out
  out=$("$WFP" job claim --owner ex1)
  eq "the claim is of $1" "$(cut -d' ' -f1 <<<"$out")" "$1"
  cut -d' ' -f2 <<<"$out"
}

# Text: a line at each change, from the entries already there onwards.
id=$("$WFP" job post "$(wf_file text)")
add "$id" run 1 task ip state running attempt 1 fence 5 at 1700000000000 owner ex1
"$WFP" job watch "$id" --timeout 10000 >"$TMP/text.out" 2>"$TMP/text.err" &
w=$!
ok "the watch blocks" wfp_wait_for blocked
token=$(claim_of "$id")
add "$id" run 1 task ip state applied attempt 1 fence 5 at 1700000001500 owner ex1 outputs '{"ip":"10.0.0.1"}'
add "$id" run 1 task volume state running attempt 1 fence 5 at 1700000001600 owner ex1
add "$id" run 1 task dns state running attempt 1 fence 5 at 1700000001600 owner ex1
add "$id" run 1 task dns state applied attempt 1 fence 5 at 1700000002000 owner ex1
add "$id" run 1 task volume state applied attempt 1 fence 5 at 1700000002100 owner ex1
add "$id" run 1 task boot state running attempt 1 fence 5 at 1700000002200 owner ex1
add "$id" run 1 task boot state applied attempt 1 fence 5 at 1700000065000 owner ex1
"$WFP" job complete "$id" "$token" >/dev/null
rc=0; wait "$w" || rc=$?
eq "a completed workflow job: exit 0" "$rc" 0
eq "nothing on stderr" "$(cat "$TMP/text.err")" ""
grep '^+' "$TMP/text.out" >"$TMP/progress.out" || true
eq "the progress lines" "$(cat "$TMP/progress.out")" "+0.000s 0/4 applied; running: ip
+1.500s 1/4 applied
+1.600s 1/4 applied; running: volume
+1.600s 1/4 applied; running: volume,dns
+2.000s 2/4 applied; running: volume
+2.100s 3/4 applied
+2.200s 3/4 applied; running: boot
+1m05.000s 4/4 applied"
eq "first the state" "$(head -1 "$TMP/text.out")" "$id is posted"
ok "then the claim event" grep -q " claimed .*ex1" "$TMP/text.out"
ok "and the completion" grep -q " completed " "$TMP/text.out"

# --json: a failure, the rollback, an older run's entry ignored; the
# reverted job exits 1 naming its state and error.
id=$("$WFP" job post "$(wf_file json)")
rcli HSET "$tag:job:$id" run 2 >/dev/null
add "$id" run 1 task ip state applied attempt 1 fence 4 at 1700000000000 owner ex0
"$WFP" job watch "$id" --timeout 10000 --json >"$TMP/json.out" 2>"$TMP/json.err" &
w=$!
ok "the --json watch blocks" wfp_wait_for blocked
token=$(claim_of "$id")
add "$id" run 1 task boot state applied attempt 1 fence 4 at 1700000000000 owner ex0
add "$id" run 2 task ip state running attempt 1 fence 6 at 1700000010000 owner ex1
add "$id" run 2 task ip state applied attempt 1 fence 6 at 1700000010100 owner ex1
add "$id" run 2 task dns state running attempt 1 fence 6 at 1700000010200 owner ex1
add "$id" run 2 task dns state apply-failed attempt 1 fence 6 at 1700000010300 owner ex1 error "exit 3" stderr "no zone"
add "$id" run 2 task dns state running attempt 2 fence 6 at 1700000010400 owner ex1
add "$id" run 2 task dns state apply-failed attempt 2 fence 6 at 1700000010500 owner ex1 error "exit 4" final 1
add "$id" run 2 task ip state reverting attempt 1 fence 6 at 1700000010600 owner ex1
add "$id" run 2 task ip state reverted attempt 1 fence 6 at 1700000010700 owner ex1
"$WFP" job fail "$id" "$token" --reason "dns: exit 4" --final reverted >/dev/null
rc=0; wait "$w" || rc=$?
eq "a reverted workflow job: exit 1" "$rc" 1
eq "nothing on stderr" "$(cat "$TMP/json.err")" ""
jq -c 'select(.type == "progress") | [.run, .elapsed_ms, .applied, .total, .running, .rollback, .reverted, .to_revert, .reverting, [.failed[] | .task + ":" + .error]]' \
  "$TMP/json.out" >"$TMP/p.json"
eq "the progress objects" "$(cat "$TMP/p.json")" '[2,0,0,4,[],false,0,0,[],[]]
[2,0,0,4,["ip"],false,0,0,[],[]]
[2,100,1,4,[],false,0,1,[],[]]
[2,200,1,4,["dns"],false,0,1,[],[]]
[2,300,1,4,[],false,0,1,[],["dns:exit 3"]]
[2,400,1,4,["dns"],false,0,1,[],[]]
[2,500,1,4,[],true,0,1,[],["dns:exit 4"]]
[2,600,0,4,[],true,0,1,["ip"],["dns:exit 4"]]
[2,700,0,4,[],true,1,1,[],["dns:exit 4"]]'
eq "each names the job" "$(jq -r 'select(.type == "progress") | .id' "$TMP/json.out" | sort -u)" "$id"
eq "each names its log entry" "$(jq -r 'select(.type == "progress") | .entry | test("^[0-9]+-[0-9]+$")' "$TMP/json.out" | sort -u)" true
eq "the last line is the end" "$(tail -1 "$TMP/json.out" | jq -r .state)" reverted
eq "events have type job" "$(jq -r 'select(.type != "progress") | .type' "$TMP/json.out" | sort -u)" job

# A finished workflow job: its state and final progress at once.
rc=0; out=$(timeout 5 "$WFP" job watch "$id" 2>"$TMP/done.err") || rc=$?
eq "a finished job: exit 1 at once" "$rc" 1
eq "its state and progress" "$out" "$id is reverted
+0.700s 0/4 applied; rolled back: 1/1 reverted; failed: dns (exit 4)"
eq "nothing on stderr" "$(cat "$TMP/done.err")" ""
rc=0; out=$(timeout 5 "$WFP" job watch "$id" --json 2>"$TMP/done.err") || rc=$?
eq "a finished job, --json: exit 1 at once" "$rc" 1
eq "--json: its state, then its progress" "$(printf '%s\n' "$out" | jq -c '[.type, .id, .state, .applied, .reverted]')" "[\"job\",\"$id\",\"reverted\",null,null]
[\"progress\",\"$id\",null,0,1]"
eq "nothing on stderr" "$(cat "$TMP/done.err")" ""

# A payload without a workflow: no progress lines (see watch.sh).
id=$("$WFP" job post "$(job_file plain)")
add "$id" run 1 task ip state running attempt 1 fence 5 at 1700000000000 owner ex1
token=$(claim_of "$id")
"$WFP" job complete "$id" "$token" >/dev/null
eq "a plain job: no progress" "$("$WFP" job watch "$id" | grep -c '^+')" 0

eq "a bad timeout" "$(status_of "$WFP" job watch "$id" --timeout abc)" 2
eq "no id" "$(status_of "$WFP" job watch)" 2
ok "--help says what --json prints" sh -c "'$WFP' job --help | grep -q 'one JSON object per line'"
finish
