# A reservation whose items' recorded outputs would make its teardown
# payload larger than a job's payload may be (each teardown task carries
# its item's outputs): the release is still taken (the outputs of the
# items with the longest ones are left out until the teardown fits, see
# wfp_rsv_teardown_payload), the reservation ends released and its
# capacity comes back, where it used to be held for good.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
big=$(sh_act 'head -c 30000 /dev/zero | tr "\0" a | sed "s/.*/{\"blob\":\"&\"}/"')
none=$(sh_act 'echo {}')
jq -n --argjson b "$big" --argjson o "$none" '{reserve: $o, configure: $o,
  acquire: $b, poweroff: $o, unconfigure: $o, unreserve: $o}' >"$CLASSES/bigc.json"
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
start_executor e1
"$REQ" pool_set name=cpus capacity:=10 >/dev/null
items="[$(item a cpus 1 bigc),$(item b cpus 1 bigc),$(item c cpus 1 bigc)]"
ok "big1 active" timeout 30 "$WFP" rsv create "$(rsv_file big1 "$items")" --id big1 --wait
eq "cpus used by big1" "$(pool_field cpus used)" 3
ok "release of big1 taken and finished" timeout 30 "$WFP" rsv release big1 --wait
eq "big1 released" "$(rsv_state big1)" released
eq "capacity back" "$(pool_field cpus used)" 0
finish
