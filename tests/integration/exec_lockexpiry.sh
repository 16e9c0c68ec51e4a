# A task waiting in wfp-lock's queue gets the lock as soon as its holder's
# lease runs out, also when wfp-lock's tick runs in the very millisecond
# the lease ends (PTTL 0: Redis still has the key and deletes it only
# after that millisecond; the tick took the lock for expired, found it
# still held, and never looked at it again: the task waited its whole
# 30 s wait, then asked again). 60 expiries, each with a task waiting:
# the tick (every 25 ms) meets the last millisecond of one with a
# probability of about 90 %.
. "$(dirname "$0")/lib.sh"
start_board
start_lock
at_exit stop_lock
start_executor x1
wf=$(echo "{\"linear\": [$(task a 'true' '' '{"locks": ["race"]}')]}")
slow=0
for i in $(seq 1 60); do
  "$WFP" lock acquire race --ttl 150 --owner holder >/dev/null
  t0=$(date +%s%3N)
  id=$(wf_post "race$i" "$wf")
  wait_state "$id" completed 5 || fail "job $i did not complete"
  ms=$(( $(date +%s%3N) - t0 ))
  [ "$ms" -lt 1500 ] || { echo "job $i took $ms ms" >&2; slow=$((slow + 1)); }
done
eq "jobs whose task waited past the expiry" "$slow" 0
