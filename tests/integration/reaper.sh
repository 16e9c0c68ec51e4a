# The reaper acts at the end of the claimer's own lease, not on a fraction
# of the board's WFP_VISIBILITY_MS: a job claimed with a 300 ms lease
# while the board runs with 60 s is back with a waiting claimer well
# before 60 s. Bounded loosely (lease + 250 ms, twice) so a loaded machine
# passes, while a reaper on a 1 s tick fails it most of the time.
. "$(dirname "$0")/lib.sh"
start_board WFP_VISIBILITY_MS=60000

for round in 1 2; do
  id=$("$WFP" job post "$(job_file "short-lease-$round")")
  t0=$(date +%s%N)
  a=$(WFP_VISIBILITY_MS=300 "$WFP" job claim --owner exec-a --json)
  eq "claimed ($round)" "$(jq -r .id <<<"$a")" "$id"
  # exec-a is silent from now on; exec-b waits for the job.
  b=$("$WFP" job claim --owner exec-b --wait 10000 --json)
  t1=$(date +%s%N)
  eq "the job comes back to the waiting claimer ($round)" "$(jq -r .id <<<"$b")" "$id"
  ms=$(( (t1 - t0) / 1000000 ))
  echo "lease 300 ms: reclaimed after $ms ms"
  ok "reaped after the lease ($ms ms >= 300)" [ "$ms" -ge 300 ]
  ok "reaped within lease + 250 ms ($ms ms)" [ "$ms" -lt 550 ]
  eq "redelivery reason" "$("$WFP" job show "$id" --json | jq -r '.deliveries[0].reason')" heartbeat-timeout
  "$WFP" job complete "$id" "$(jq -r .token <<<"$b")" >/dev/null
done
