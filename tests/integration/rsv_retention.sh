# A reservation whose jobs were removed after WFP_RETENTION_MS is still
# torn down right: the release builds its teardown from the item phases
# recorded in the reservation hash (the jobs' logs are gone).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
file_class vm
start_board WFP_RETENTION_MS=300
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES" WFP_RETENTION_MS=300
start_executor e1 WFP_RETENTION_MS=300
"$REQ" pool_set name=cpus capacity:=10 >/dev/null

create old "$(rsv_file old "[$(item ovm cpus 3 vm), $(item ovm2 cpus 1 vm)]")" >/dev/null
ok "old active" wait_rsv old active
eq "phases recorded" "$(rsv_field old item:ovm) $(rsv_field old item:ovm2)" "acquired acquired"
ok "its fulfilment job is removed" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' EXISTS '$tag:job:old.fulfil' '$tag:job:old.fulfil:log')\" = 0 ]"
out=$("$REQ" release id=old)
ok "release posts a teardown" grep -qx "action=posted" <<<"$out"
ok "old released" wait_rsv old released
eq "its files are gone" "$(files ovm) $(files ovm2)" " "
eq "capacity back" "$(pool_field cpus used)" 0
eq "phases none" "$(rsv_field old item:ovm) $(rsv_field old item:ovm2)" "none none"
ok "the service said the outputs were gone" grep -q "some of its jobs are gone" "$TMP/reservation.log"
finish
