# A reservation whose jobs were removed after WFP_RETENTION_MS is still
# torn down right: the release builds its teardown from the item phases
# and outputs recorded in the reservation hash (item:NAME, out:NAME; the
# jobs' logs are gone), so a teardown step still gets what the create
# returned. Ended reservations themselves go after the reservation
# service's WFP_RETENTION_MS, with their index entries; active ones stay.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
file_class vm
# addr: reserve returns an address, configure a port; unreserve records
# what it was given (from the recorded outputs).
f='"$WFP_IN_dir/$WFP_IN_rsv_item'
jq -n --argjson r "$(sh_act 'echo "{\"addr\": \"A-$WFP_IN_rsv_item\"}"')" \
  --argjson c "$(sh_act 'echo "{\"port\": \"7\"}"')" \
  --argjson t "$(sh_act true)" \
  --argjson x "$(sh_act "echo \"\$WFP_IN_addr \$WFP_IN_port\" >$f.torn\"")" \
  '{reserve: $r, configure: $c, acquire: $t, poweroff: $t, unconfigure: $t,
    unreserve: $x}' >"$CLASSES/addr.json"
start_board WFP_RETENTION_MS=300
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES" WFP_RETENTION_MS=3000
start_executor e1 WFP_RETENTION_MS=300
"$REQ" pool_set name=cpus capacity:=10 >/dev/null

create old "$(rsv_file old "[$(item ovm cpus 3 vm), $(item ovm2 cpus 1 vm)]")" >/dev/null
create net "$(rsv_file net "[$(item a1 cpus 1 addr)]")" >/dev/null
ok "old active" wait_rsv old active
ok "net active" wait_rsv net active
eq "phases recorded" "$(rsv_field old item:ovm) $(rsv_field old item:ovm2)" "acquired acquired"
eq "outputs recorded" "$(rsv_field net out:a1 | jq -cS .)" '{"addr":"A-a1","port":"7"}'
eq "no outputs, no out: field" "$(rcli HEXISTS "$tag:rsv:old" out:ovm)" 0
for j in old net; do
  ok "$j: its fulfilment job is removed" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' EXISTS '$tag:job:$j.fulfil' '$tag:job:$j.fulfil:log')\" = 0 ]"
done
eq "show takes the outputs from the hash" \
  "$("$WFP" rsv show net --json | jq -c '.items[0].outputs')" '{"addr":"A-a1","port":"7"}'
out=$("$REQ" release id=old)
ok "release posts a teardown" grep -qx "action=posted" <<<"$out"
"$REQ" release id=net >/dev/null
ok "old released" wait_rsv old released
ok "net released" wait_rsv net released
eq "its files are gone" "$(files ovm) $(files ovm2)" " "
eq "the teardown got the create's outputs" "$(cat "$OUT/a1.torn")" "A-a1 7"
eq "capacity back" "$(pool_field cpus used)" 0
eq "phases none" "$(rsv_field old item:ovm) $(rsv_field old item:ovm2)" "none none"
ok "the service said the outputs were gone" grep -q "some of its jobs are gone" "$TMP/reservation.log"

# Retention: the ended ones go (hash, index entry), an active one stays.
create keep "$(rsv_file keep "[$(item k1 cpus 2 vm)]")" >/dev/null
ok "keep active" wait_rsv keep active
gone() { [ "$(rcli EXISTS "$tag:rsv:$1")" = 0 ]; }
ok "old removed after the retention" wfp_wait_for gone old
ok "net removed after the retention" wfp_wait_for gone net
eq "out of the released index" "$(rcli ZSCORE "$tag:rsvs:released" old)$(rcli ZSCORE "$tag:rsvs:released" net)" ""
eq "keep stays" "$(rsv_state keep)" active
eq "its capacity still taken" "$(pool_field cpus used)" 2
ok "the service said so" grep -q "retention: removed" "$TMP/reservation.log"
finish
