# Reservation TTLs: a pending reservation not fulfilled in time is
# expired and its capacity comes back exactly once, whether its job never
# started (no executor) or was running (a slow class: the executor rolls
# it back); and a fulfilment that completes right at the TTL ends with
# capacity back once and every resource torn down, whichever side wins.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
file_class slow "sleep 5; "
file_class sleepy 'sleep "$WFP_IN_delay"; '
noop_class ip
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
"$REQ" pool_set name=cpus capacity:=100 >/dev/null

# No executor: the fulfilment job is never claimed.
create e1 "$(rsv_file e1 "[$(item x cpus 3 ip)]" '"ttl_ms": 1500')" >/dev/null
eq "capacity taken" "$(pool_field cpus used)" 3
ok "e1 expired" wait_rsv e1 expired
ok "e1 capacity back" wait_returned e1
eq "capacity back" "$(pool_field cpus used)" 0
eq "the error says the TTL" "$(rsv_field e1 error)" "not fulfilled within 1500 ms"
eq "its job was cancelled" "$(job_state e1.fulfil)" reverted
eq "not in the expiry set any more" "$(rcli ZSCORE "$tag:svc:reservation:expiry" e1)" ""
eq "not open" "$(rcli ZSCORE "$tag:svc:reservation:open" e1)" ""

# A release while pending cancels the fulfilment: released, capacity back.
create p1 "$(rsv_file p1 "[$(item p cpus 6 ip)]")" >/dev/null
out=$("$REQ" release id=p1)
ok "release of a pending reservation cancels" grep -qx "action=cancelling" <<<"$out"
ok "p1 released" wait_rsv p1 released
ok "p1 capacity back" wait_returned p1
eq "capacity back after the cancel" "$(pool_field cpus used)" 0

# A holder whose capacity stays taken: a second give-back of anyone
# else's capacity would show below it.
start_executor e1 WFP_GRACE_MS=200 WFP_CONCURRENCY=16
create hold "$(rsv_file hold "[$(item h cpus 2 ip)]")" >/dev/null
ok "holder active" wait_rsv hold active

# A slow class: the job runs when the TTL ends; the executor rolls back.
create e2 "$(rsv_file e2 "[$(item slowvm cpus 5 slow)]" '"ttl_ms": 800')" >/dev/null
ok "e2 expired" wait_rsv e2 expired
ok "e2 capacity back" wait_returned e2 20
eq "its job was rolled back" "$(job_state e2.fulfil)" reverted
eq "its files are gone" "$(files slowvm)" ""
eq "capacity back once" "$(pool_field cpus used)" 2
eq "one holder left" "$(pool_field cpus reservations)" 1

# A fulfilment that completes after its TTL ended while the service was
# stopped: when it resumes, the expiry pass and the job's end are both
# due. The expiry goes first whichever the service sees first (a late
# completion is expired), then the teardown (ID.release.1) from the job's
# log; the files go and the capacity comes back once.
create late "$(rsv_file late "[$(item vlate cpus 4 sleepy "{\"dir\": \"$OUT\", \"delay\": \"1\"}")]" '"ttl_ms": 500')" >/dev/null
kill -STOP "$RSV_PID"
ok "late: its job completes" wait_state late.fulfil completed
eq "late: its files are made" "$(files vlate)" "vlate.acquired vlate.configured vlate.reserved"
kill -CONT "$RSV_PID"
settled() { # ID: active, or expired with its capacity back
  local s; s=$(rsv_state "$1")
  [ "$s" = active ] || { [ "$s" = expired ] && [ -n "$(rsv_field "$1" returned_at)" ]; }
}
ok "late settles" wfp_wait_for settled late
eq "late: expired" "$(rsv_state late)" expired
eq "late: torn down by its teardown job" "$(job_state late.release.1)" completed
ok "late: capacity back" wait_returned late
eq "late: its files are gone" "$(files vlate)" ""
eq "late: capacity back once" "$(pool_field cpus used)" 2
eq "late: phase none" "$(rsv_field late item:vlate)" none

# Completions racing the TTL: acquire ends near ttl_ms, on either side.
ids=""
for d in 0.6 0.75 0.85 0.9 0.95 1.0 1.05 1.1 1.2; do
  id="race${d/./_}"
  ids="$ids $id"
  create "$id" "$(rsv_file "$id" "[$(item "v$id" cpus 1 sleepy "{\"dir\": \"$OUT\", \"delay\": \"$d\"}")]" '"ttl_ms": 1000')" >/dev/null
done
actives=0; expireds=0
for id in $ids; do
  ok "$id settles" wfp_wait_for settled "$id"
  if [ "$(rsv_state "$id")" = active ]; then
    actives=$((actives + 1))
    "$REQ" release "id=$id" >/dev/null
    ok "$id released" wait_rsv "$id" released
  else
    expireds=$((expireds + 1))
  fi
  ok "$id capacity back" wait_returned "$id"
  eq "$id: its files are gone" "$(files "v$id")" ""
done
echo "race: $actives active, $expireds expired" >&2
ok "some expired" test "$expireds" -gt 0
eq "after the races only the holder's capacity is used" "$(pool_field cpus used)" 2
eq "after the races one holder" "$(pool_field cpus reservations)" 1
eq "holders set" "$(rcli ZRANGE "$tag:poolrsv:cpus" 0 -1)" hold
finish
