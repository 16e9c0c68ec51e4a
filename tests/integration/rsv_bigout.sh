# A reservation whose items' recorded outputs make its teardown payload
# larger than a job's payload may be (each teardown task carries its
# item's outputs): a release is refused with that reason, not with the
# script's bare "need a teardown payload" (the capacity stays held: see
# docs-pending/reva.md).
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
out=$("$REQ" release id=big1 2>&1) && fail "release of big1 was taken: $out"
ok "the release names the payload's size" \
  grep -qE "reservation big1 cannot be torn down: teardown payload is [0-9]+ bytes, more than 262144" <<<"$out"
eq "still active" "$(rsv_state big1)" active
finish
