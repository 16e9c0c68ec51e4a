# An owner that stops heartbeating loses the job after the visibility
# timeout; the next claim gets it with a higher fence; the old owner's
# complete is refused; attempts are counted; after max_attempts it is dead.
. "$(dirname "$0")/lib.sh"
export WFP_VISIBILITY_MS=400
start_board

id=$("$WFP" job post "$(job_file flaky '"max_attempts": 2')")
a=$("$WFP" job claim --owner exec-a --json)
ta=$(jq -r .token <<<"$a")
fa=$(jq -r .fence <<<"$a")
ok "first fence from the clock" [ "$fa" -gt "$(( ($(date +%s) - 60) * 1000000 ))" ]

# exec-a goes silent; exec-b waits for the job to come back.
b=$("$WFP" job claim --owner exec-b --wait 5000 --json)
eq "same job comes back" "$(jq -r .id <<<"$b")" "$id"
ok "higher fence" [ "$(jq -r .fence <<<"$b")" -gt "$fa" ]
eq "attempt 2" "$(jq -r .attempts <<<"$b")" 2
eq "stale complete refused" "$(status_of "$WFP" job complete "$id" "$ta")" 1
ok "stale message" bash -c "'$WFP' job complete '$id' '$ta' 2>&1 | grep -q STALE"
eq "stale heartbeat refused" "$(status_of "$WFP" job heartbeat "$id" "$ta")" 1

show=$("$WFP" job show "$id" --json)
eq "one redelivery" "$(jq -r '.deliveries | length' <<<"$show")" 1
eq "redelivery reason" "$(jq -r '.deliveries[0].reason' <<<"$show")" heartbeat-timeout
eq "previous owner" "$(jq -r '.deliveries[0].prev_owner' <<<"$show")" exec-a
eq "previous fence" "$(jq -r '.deliveries[0].prev_fence' <<<"$show")" "$fa"

# exec-b goes silent too: no attempts left, so the job is dead.
ok "job goes dead" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' HGET '$tag:job:$id' state)\" = dead ]"
show=$("$WFP" job show "$id" --json)
ok "dead reason" grep -q "gave up after 2 attempts" <<<"$(jq -r .error <<<"$show")"
ok "dead-letter entry" bash -c "redis-cli -u '$WFP_REDIS_URL' XRANGE '$tag:deadletter' - + | grep -q '$id'"
eq "wait exits 1 on dead" "$(status_of "$WFP" job wait "$id" --timeout 100)" 1

# A heartbeating owner keeps its job well past its lease (1 s here, with
# heartbeats every 0.3 s: room for a slow process start on a loaded
# machine, now that the reaper acts within milliseconds of a lease's end).
id2=$("$WFP" job post "$(job_file steady)")
c=$(WFP_VISIBILITY_MS=1000 "$WFP" job claim --owner exec-c --json)
tc=$(jq -r .token <<<"$c")
for _ in 1 2 3 4 5 6 7 8; do
  sleep 0.3
  ok "heartbeat" env WFP_VISIBILITY_MS=1000 "$WFP" job heartbeat "$id2" "$tc" >/dev/null
done
eq "still claimed" "$(rcli HGET "$tag:job:$id2" state)" claimed
eq "same fence" "$(rcli HGET "$tag:job:$id2" fence)" "$(jq -r .fence <<<"$c")"
eq "complete" "$("$WFP" job complete "$id2" "$tc" --json | jq -r .state)" completed
