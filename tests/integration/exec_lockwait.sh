# wfp-executor, lock waits: a task waiting for a lock held by someone else
# runs within a few hundred ms of the holder's expiry: the first job on a
# fresh Redis and fresh daemons, a job whose wait began while the
# executor was full, and one whose waiting request's reply was lost
# (hold_proxy holds it past the executor's WFP_TIMEOUT_MS: the request
# reaches wfp-lock all the same, and its grant must not hold the lock for
# a whole ttl while the executor waits under a new request).
. "$(dirname "$0")/lib.sh"
own_redis
start_board
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

# 3. The waiting request's reply is lost: the first request still
# queues in wfp-lock; its grant is released, the second one gets the lock.
stop_executors
rport=$(sed -E 's#^redis://([^@/]*@)?[^:/]*:([0-9]+).*#\2#' <<<"$WFP_REDIS_URL")
pport=$(wfp_free_port)
"$WFP_BIN/tests/hold_proxy" "$pport" "$rport" 'svc:lock:requests' "$TMP/held" "$TMP/go" &
proxy=$!
at_exit kill "$proxy"
start_executor w2 WFP_REDIS_URL="redis://127.0.0.1:$pport" WFP_TIMEOUT_MS=300
"$WFP" lock acquire shared --ttl 2500 --owner outsider >/dev/null
end=$(lock_until shared)
j3=$(wf_post third "$(lockwf c)" "{\"ev\": \"$ev\"}")
ok "the waiting request is held" wfp_wait_for test -e "$TMP/held"
sleep 0.5
touch "$TMP/go"
ok "third completes" wait_state "$j3" completed 10
ran=$(awk '$1 == "c" { print $3 }' "$ev")
echo "c ran $((ran - end)) ms after the expiry"
ok "c ran within 300 ms of the expiry ($((ran - end)) ms)" [ $((ran - end)) -lt 300 ]
# (the lost request may be served after the second: the orphan releases
# its grant then)
ok "lock released" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' EXISTS '$tag:lock:shared')\" = 0 ]"

# 4. The direct acquire's reply is lost while the lock is free: the
# acquire took the lock under its token all the same; it is released
# before the executor asks again under a new token (else the task would
# wait behind its own lost grant for a whole ttl).
stop_executors
pport=$(wfp_free_port)
"$WFP_BIN/tests/hold_proxy" "$pport" "$rport" ':lock:shared' "$TMP/held4" "$TMP/go4" &
proxy4=$!
at_exit kill "$proxy4"
start_executor w3 WFP_REDIS_URL="redis://127.0.0.1:$pport" WFP_TIMEOUT_MS=300
t0=$(now_ms)
j4=$(wf_post fourth "$(lockwf d)" "{\"ev\": \"$ev\"}")
ok "the direct acquire is held" wfp_wait_for test -e "$TMP/held4"
ok "its reply is given up" wfp_wait_for grep -q "dropping the connection" "$TMP/exec-w3.log"
touch "$TMP/go4" # it runs now, before the executor asks again
ok "fourth completes" wait_state "$j4" completed 10
ran=$(awk '$1 == "d" { print $3 }' "$ev")
echo "d ran $((ran - t0)) ms after its post"
ok "d ran within 3 s of its post ($((ran - t0)) ms)" [ $((ran - t0)) -lt 3000 ]
eq "lock released" "$(rcli EXISTS "$tag:lock:shared")" 0
