# The reaper acts at the end of the claimer's own lease, not on a fraction
# of the board's WFP_VISIBILITY_MS: a job claimed with a 300 ms lease
# while the board runs with 60 s is back with a waiting claimer well
# before 60 s. The board's lag is read from the redelivery record ("lease
# ended N ms ago", on Redis's clock, so a slow CLI start does not count):
# under 250 ms twice, loose enough for a loaded machine, while a reaper on
# a 1 s tick fails it most of the time. The whole round trip to a waiting
# claimer is bounded loosely too.
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
  ok "back well before 60 s ($ms ms)" [ "$ms" -lt 5000 ]
  d=$("$WFP" job show "$id" --json | jq -c '.deliveries[0]')
  eq "redelivery reason" "$(jq -r .reason <<<"$d")" heartbeat-timeout
  lag=$(jq -r .detail <<<"$d" | sed -n 's/.*lease ended \([0-9]*\) ms ago.*/\1/p')
  echo "reaped $lag ms after the lease's end"
  ok "reaped within 250 ms of the lease's end ($lag ms)" [ "${lag:-99999}" -lt 250 ]
  "$WFP" job complete "$id" "$(jq -r .token <<<"$b")" >/dev/null
done
