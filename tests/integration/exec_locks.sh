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
