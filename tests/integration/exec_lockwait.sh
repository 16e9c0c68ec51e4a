# wfp-executor, lock waits: a task waiting for a lock held by someone else
# runs within a few hundred ms of the holder's expiry: the first job on a
# fresh Redis and fresh daemons, and a job whose wait began while the
# executor was full.
. "$(dirname "$0")/lib.sh"
own_redis
start_board
[ -n "${F1_MON:-}" ] && { rcli MONITOR > $F1_MON & }
start_lock
at_exit stop_lock
start_executor w1 WFP_CONCURRENCY=2
ev="$TMP/events"
S='echo "$WFP_TASK start $(date +%s%3N)" >>"$WFP_IN_ev"'
lockwf() { echo "{\"linear\": [$(task "$1" "$S" "" '{"locks": ["shared"]}')]}"; }
now_ms() { date +%s%3N; }
# lock_until NAME: the ms (local clock) when the lock's ttl ends.
lock_until() { echo $(( $(now_ms) + $(rcli PTTL "$tag:lock:$1") )); }

# 1. First job on a fresh Redis: the holder's lock expires after 2 s.
"$WFP" lock acquire shared --ttl 2000 --owner outsider >/dev/null
end=$(lock_until shared)
j1=$(wf_post first "$(lockwf a)" "{\"ev\": \"$ev\"}")
ok "first completes" wait_state "$j1" completed 10
done_ms=$(now_ms)
ran=$(awk '$1 == "a" { print $3 }' "$ev")
echo "a ran $((ran - end)) ms after the expiry, the job ended $((done_ms - end)) ms after it"
ok "a ran within 300 ms of the expiry ($((ran - end)) ms)" [ $((ran - end)) -lt 300 ]
ok "the job ended within 600 ms of it ($((done_ms - end)) ms)" [ $((done_ms - end)) -lt 600 ]

# 2. The executor is full (two slow jobs); a job claimed after them waits
# for the lock from before the holder's lock expires.
slow=$(task s 'sleep 1.5')
s1=$(wf_post slow1 "{\"linear\": [$slow]}")
s2=$(wf_post slow2 "{\"linear\": [$slow]}")
ok "slow jobs run" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:job:$s2:log')\" = 1 ]"
"$WFP" lock acquire shared --ttl 2500 --owner outsider >/dev/null
end=$(lock_until shared)
j2=$(wf_post second "$(lockwf b)" "{\"ev\": \"$ev\"}")
ok "second completes" wait_state "$j2" completed 10
done_ms=$(now_ms)
ran=$(awk '$1 == "b" { print $3 }' "$ev")
echo "b ran $((ran - end)) ms after the expiry, the job ended $((done_ms - end)) ms after it"
ok "b ran within 300 ms of the expiry ($((ran - end)) ms)" [ $((ran - end)) -lt 300 ]
ok "slow jobs completed" wait_state "$s1" completed 5
ok "slow jobs completed" wait_state "$s2" completed 5
