# A reservation's life after create: release tears every resource down
# (ip and disk with destroy, vm with poweroff, unconfigure, unreserve) and
# gives the capacity back; a teardown that fails leaves it active with the
# error and a later release retries; releasing a pending one cancels its
# fulfilment; a reservation not fulfilled within its TTL expires and gives
# its capacity back; an active one does not expire.
. "$(dirname "$0")/lib.sh"
. "$here/provision.bash"
start_all
example_pools
zero="ips=0 volumes=0 vcpus=0"
full="ips=1 volumes=20 vcpus=2"

# 1. release.
id=rel-1
ok "$id active" timeout 30 "$WFP" rsv create "$(rsv_file "$id")" --id "$id" --wait
eq "$id: used" "$(pools_used)" "$full"
eq "$id: 3 resources" "$(cloud_files | wc -l)" 3
ok "$id: release --wait" timeout 30 "$WFP" rsv release "$id" --wait
eq "$id: released" "$(rsv_field "$id" state)" released
eq "$id: release job" "$(rsv_field "$id" release_job)" "$id.release.1"
eq "$id: release job completed" "$(job_state "$id.release.1")" completed
eq "$id: nothing left" "$(cloud_files | wc -l)" 0
eq "$id: capacity back" "$(pools_used)" "$zero"
eq "$id: pools hold no reservation" "$(rcli HGET "$tag:pool:vcpus" reservations)" 0
eq "$id: ip torn down" "$(steps_of "$id" ip)" "reserve configure acquire destroy"
eq "$id: disk torn down" "$(steps_of "$id" disk)" "reserve configure acquire destroy"
eq "$id: vm torn down" "$(steps_of "$id" vm)" "reserve configure acquire poweroff unconfigure unreserve"
j=$(show_json "$id")
for it in ip disk vm; do eq "$id: $it phase" "$(item_of "$j" "$it" phase)" none; done
eq "$id: vm undo" "$(item_of "$j" vm undo)" "poweroff unconfigure unreserve"
rc=0
"$WFP" rsv release "$id" 2>"$TMP/err" || rc=$?
eq "$id: releasing again exits 1" "$rc" 1
ok "$id: nothing to release ($(cat "$TMP/err"))" grep -q "nothing to release" "$TMP/err"

# 2. a teardown that fails (the cloud refuses vm unconfigure for a while):
# still active, the error says so, the capacity stays held; once the cloud
# is back a second release finishes the job.
id=rel-2
ok "$id active" timeout 30 "$WFP" rsv create "$(rsv_file "$id")" --id "$id" --wait
mkdir -p "$CLOUD/.fake-cloud/fail"
: >"$CLOUD/.fake-cloud/fail/vm.unconfigure"
rc=0
timeout 30 "$WFP" rsv release "$id" --wait >/dev/null 2>"$TMP/err" || rc=$?
eq "$id: release --wait exits 1" "$rc" 1
ok "$id: release job ended ($(job_state "$id.release.1"))" job_in "$id.release.1" reverted failed dead
ok "$id: error set" wfp_wait_for field_set "$id" error
eq "$id: still active" "$(rsv_field "$id" state)" active
ok "$id: error says release failed ($(rsv_field "$id" error))" contains "$(rsv_field "$id" error)" "release failed"
eq "$id: release_job cleared" "$(rsv_field "$id" release_job)" ""
eq "$id: capacity held" "$(pools_used)" "$full"
eq "$id: vm left configured" "$(sed -n 's/^state=//p' "$CLOUD/vm-$id-vm")" configured
rm "$CLOUD/.fake-cloud/fail/vm.unconfigure"
ok "$id: second release --wait" timeout 30 "$WFP" rsv release "$id" --wait
eq "$id: released" "$(rsv_field "$id" state)" released
eq "$id: second release job" "$(job_state "$id.release.2")" completed
eq "$id: nothing left" "$(cloud_files | wc -l)" 0
eq "$id: capacity back" "$(pools_used)" "$zero"
eq "$id: vm finished from where it stopped" "$(steps_of "$id" vm)" "reserve configure acquire poweroff unconfigure unreserve"

# 3. release while pending: the fulfilment is cancelled, what it applied
# is reverted, the reservation ends released.
id=rel-3
f=$(rsv_file "$id" '.items[].args.pause_ms = 400')
out=$("$WFP" rsv create "$f" --id "$id")
eq "$id: created" "$out" "$id"
ok "$id: something applied" wfp_wait_for test -s "$CLOUD/.fake-cloud/calls"
eq "$id: pending" "$(rsv_field "$id" state)" pending
out=$("$WFP" rsv release "$id" --json)
eq "$id: release cancels" "$(jq -r .action <<<"$out")" cancelling
ok "$id: released" wait_rsv "$id" released 20
ok "$id: job reverted" wait_state "$id.fulfil" reverted
eq "$id: nothing left" "$(cloud_files | wc -l)" 0
eq "$id: capacity back" "$(pools_used)" "$zero"

# 4. expiry: a TTL shorter than the fulfilment.
id=exp-1
f=$(rsv_file "$id" '.ttl_ms = 500 | .items[].args.pause_ms = 400')
ok "$id: created" "$WFP" rsv create "$f" --id "$id"
eq "$id: pending, capacity held" "$(pools_used)" "$full"
ok "$id: expired" wait_rsv "$id" expired 10
ok "$id: error says TTL ($(rsv_field "$id" error))" contains "$(rsv_field "$id" error)" "within"
ok "$id: capacity back" wait_returned "$id" 20
eq "$id: capacity back in the pools" "$(pools_used)" "$zero"
ok "$id: job reverted" wait_state "$id.fulfil" reverted
eq "$id: nothing left" "$(cloud_files | wc -l)" 0
eq "$id: still expired" "$(rsv_field "$id" state)" expired
eq "$id: not in the expiry set" "$(rcli ZSCORE "$tag:svc:reservation:expiry" "$id")" ""

# 5. an active reservation does not expire: the TTL is for fulfilment.
id=exp-2
ok "$id active" timeout 30 "$WFP" rsv create "$(rsv_file "$id" '.ttl_ms = 400')" --id "$id" --wait
sleep 0.8
eq "$id: still active after its TTL" "$(rsv_field "$id" state)" active
eq "$id: capacity held" "$(pools_used)" "$full"
ok "$id: released" timeout 30 "$WFP" rsv release "$id" --wait
eq "$id: capacity back" "$(pools_used)" "$zero"
finish
