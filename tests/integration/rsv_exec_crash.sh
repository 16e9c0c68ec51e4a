# An executor SIGKILLed in the middle of a reservation's fulfilment
# (rsv_crash.sh is wfp-reservation's own crash): another executor finishes
# it after the lease; the reservation becomes active; no step is done
# twice in the cloud (the fake cloud keeps a
# marker per WFP_TASK_KEY and step, and logs every call): the step running
# at the kill is called again with the same key and finds itself done,
# every other step is called once.
. "$(dirname "$0")/lib.sh"
. "$here/provision.bash"
start_board
start_lock
at_exit stop_lock
start_rsv
example_pools
start_cloud_executor k1 WFP_VISIBILITY_MS=1000
k1=$EXEC_PID

# The vm's steps take 0.8 s each (after their effect); ip and disk are quick.
id=crash-1
f=$(rsv_file "$id" "$(set_arg vm pause_ms 800)")
out=$("$WFP" rsv create "$f" --id "$id")
eq "created" "$out" "$id"
# k1 is in vm.configure's pause: the file says configured.
vm_configured() { [ "$(sed -n 's/^state=//p' "$CLOUD/vm-$id-vm" 2>/dev/null)" = configured ]; }
ok "k1 configured the vm" wfp_wait_for vm_configured
eq "owned by k1" "$(rcli HGET "$tag:job:$id.fulfil" owner)" k1
start_cloud_executor k2 WFP_VISIBILITY_MS=1000
kill -9 "$k1"
eq "pending meanwhile" "$(rsv_field "$id" state)" pending
ok "active, finished by k2" wait_rsv "$id" active 20
eq "job completed" "$(job_state "$id.fulfil")" completed
eq "finished by k2" "$(rcli HGET "$tag:job:$id.fulfil" owner)" k2
eq "capacity held once" "$(pools_used)" "ips=1 volumes=20 vcpus=2"
for it in ip disk vm; do
  eq "$it: each step done once" "$(steps_of "$id" "$it")" "reserve configure acquire"
done
eq "the cloud: one call of each ip and disk step" \
  "$(calls | awk '$4 != "vm"' | wc -l)" 6
eq "vm configure: called twice with one key" \
  "$(calls | awk '$4 == "vm" && $2 == "configure" { print $1 }' | sort | uniq -c | awk '{ print $1 }')" 2
eq "vm configure: the second call found it done" \
  "$(calls | awk '$4 == "vm" && $2 == "configure" { print $5 }' | tr '\n' ' ')" "done again "
eq "vm reserve and acquire: once" \
  "$(calls | awk '$4 == "vm" && $2 != "configure"' | wc -l)" 2
eq "the key of the job's vm.configure" \
  "$(calls | awk '$4 == "vm" && $2 == "configure" { print $1; exit }')" "$id.fulfil:1:vm.configure"
for f in "$CLOUD"/*; do eq "$(basename "$f") acquired" "$(sed -n 's/^state=//p' "$f")" acquired; done
j=$(show_json "$id")
for it in ip disk vm; do eq "$it acquired" "$(item_of "$j" "$it" phase)" acquired; done
finish
