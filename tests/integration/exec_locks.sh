# wfp-executor, task locks: tasks of two workflows (on two executors)
# that share a lock never overlap in time; each gets the lock's fence in
# WFP_LOCK_FENCES; the lock is released after.
. "$(dirname "$0")/lib.sh"
start_board
start_lock
at_exit stop_lock
start_executor l1 WFP_CONCURRENCY=1
start_executor l2 WFP_CONCURRENCY=1
ev="$TMP/events"
S='echo "$WFP_TASK start $(date +%s%N) $WFP_LOCK_FENCES" >>"$WFP_IN_ev"; sleep 0.2; echo "$WFP_TASK end $(date +%s%N)" >>"$WFP_IN_ev"'
wf() { local s="" t; for t in "$@"; do s="$s${s:+,}$(task "$t" "$S" "" "{\"locks\": [\"shared\", \"own-$t\"]}")"; done; echo "{\"unordered\": [$s]}"; }
j1=$(wf_post locks1 "$(wf a1 a2 a3)" "{\"ev\": \"$ev\"}")
j2=$(wf_post locks2 "$(wf b1 b2 b3)" "{\"ev\": \"$ev\"}")
ok "first completes" wait_state "$j1" completed 20
ok "second completes" wait_state "$j2" completed 20
eq "six tasks ran" "$(grep -c ' start ' "$ev")" 6
ok "both executors took a job" bash -c "grep -q claimed '$TMP/exec-l1.log' && grep -q claimed '$TMP/exec-l2.log'"
overlaps=$(sort -k3,3n "$ev" | awk '$2 == "start" { if (n > 0) bad++; n++ } $2 == "end" { n-- } END { print bad + 0 }')
eq "never two holders at once" "$overlaps" 0
ok "fences passed" bash -c "grep ' start ' '$ev' | grep -q 'shared=[0-9][0-9]* own-'"
f1=$(grep '^a1 start' "$ev" | grep -o 'shared=[0-9]*')
f2=$(grep '^b1 start' "$ev" | grep -o 'shared=[0-9]*')
ok "distinct fences ($f1 $f2)" [ "$f1" != "$f2" ]
eq "lock released" "$(rcli EXISTS "$tag:lock:shared")" 0

# A task waiting for a lock someone else holds has not started: a cancel
# ends the job at once, the task never runs, and its wait is dropped.
held=$("$WFP" lock acquire shared --ttl 60000 --owner outsider)
hold_token=$(awk '{print $2}' <<<"$held")
: >"$ev"
j3=$(wf_post locks3 "$(wf c1)" "{\"ev\": \"$ev\"}")
ok "c1 waits for the lock" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:job:$j3:log')\" = 1 ]"
sleep 0.3
rcli HSET "$tag:job:$j3" cancel "no lock" >/dev/null
ok "cancelled while waiting" wait_state "$j3" reverted 5
eq "reason" "$(rcli HGET "$tag:job:$j3" error)" "cancelled: no lock"
eq "c1 never ran" "$(grep -c . "$ev")" 0
eq "log" "$(log_states "$j3")" "c1:running c1:apply-failed"
# (logged running, it had not started: the error says what is true)
eq "c1's error" "$(rcli --raw XRANGE "$tag:job:$j3:log" - + | awk '$0 == "error" { getline; print }')" \
  "cancelled before its action ran"
ok "release the outsider's lock" "$WFP" lock release shared "$hold_token"
sleep 0.5
eq "nobody else got it" "$(rcli EXISTS "$tag:lock:shared")" 0
