# What the class programs of a reservation see, with a real executor:
# each step of an item gets the outputs of ALL of its item's earlier
# steps above any other item's (two items of one class whose reserve
# prints the same key, res_id, with different values: each item's
# acquire, its revert poweroff and the revert unconfigure get their own
# item's id, never the other's, whatever the order the items applied
# in); configure's outputs win over reserve's on a clash; and a revert
# takes the task's own inputs above its own recorded outputs, so a
# reserve printing {"rsv_item": "other"} never makes its revert act on
# item "other". The teardown of a released reservation sees the same. A
# destroy class's destroy (the revert of reserve, run in a rollback)
# sees what its own item's acquire printed, not the item applied last.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"

# tag: reserve waits rdelay, prints res_id ITEM-res, a conf that
# configure overrides and an rsv_item; configure waits cdelay, prints
# conf ITEM-conf; acquire fails when fail is 1; every other step writes
# "res_id conf rsv_item" to $WFP_IN_dir/ITEM.STEP (ITEM from rsv_item).
seen='echo "$WFP_IN_res_id $WFP_IN_conf $WFP_IN_rsv_item" >"$WFP_IN_dir/$WFP_IN_rsv_item'
jq -n --argjson r "$(sh_act 'sleep "$WFP_IN_rdelay"; printf '\''{"res_id": "%s-res", "conf": "from-reserve", "rsv_item": "other"}\n'\'' "$WFP_IN_rsv_item"')" \
  --argjson c "$(sh_act 'sleep "$WFP_IN_cdelay"; printf '\''{"conf": "%s-conf"}\n'\'' "$WFP_IN_rsv_item"')" \
  --argjson a "$(sh_act "[ \"\$WFP_IN_fail\" = 1 ] && exit 3; $seen.acquire\"")" \
  --argjson p "$(sh_act "$seen.poweroff\"")" \
  --argjson u "$(sh_act "$seen.unconfigure\"")" \
  --argjson x "$(sh_act "$seen.unreserve\"")" \
  '{reserve: $r, configure: $c, acquire: $a, poweroff: $p,
    unconfigure: $u, unreserve: $x}' >"$CLASSES/tag.json"
# dtag: reserve waits rdelay; acquire prints vm ITEM-vm, or fails when
# fail is 1; destroy writes "vm rsv_item" to $WFP_IN_dir/ITEM.destroy.
jq -n --argjson r "$(sh_act 'sleep "$WFP_IN_rdelay"')" \
  --argjson c "$(sh_act 'true')" \
  --argjson a "$(sh_act '[ "$WFP_IN_fail" = 1 ] && exit 3; printf '\''{"vm": "%s-vm"}\n'\'' "$WFP_IN_rsv_item"')" \
  --argjson x "$(sh_act 'echo "$WFP_IN_vm $WFP_IN_rsv_item" >"$WFP_IN_dir/$WFP_IN_rsv_item.destroy"')" \
  '{reserve: $r, configure: $c, acquire: $a, destroy: $x}' >"$CLASSES/dtag.json"
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
start_executor e1 WFP_CONCURRENCY=8
"$REQ" pool_set name=cpus capacity:=100 >/dev/null

# args DIR RDELAY CDELAY [FAIL]: an item's args.
args() { jq -cn --arg d "$1" --arg r "$2" --arg c "$3" --arg f "${4:-0}" \
  '{dir: $d, rdelay: $r, cdelay: $c, fail: $f}'; }
# seen_by DIR ITEM STEP: what ITEM's STEP saw ("" when it did not run).
seen_by() { cat "$1/$2.$3" 2>/dev/null || true; }

# 1. A fulfilment that fails: s1 reserves first and configures slowly,
# s2 reserves and finishes in between, s3 reserves last and its acquire
# fails after s1 acquired, so the newest res_id of any item when s1's
# acquire runs is s2's, and when the rollback runs s3's.
d="$OUT/f"
mkdir -p "$d"
f=$(rsv_file f "[$(item s1 cpus 1 tag "$(args "$d" 0 1)"),
  $(item s2 cpus 1 tag "$(args "$d" 0.4 0)"),
  $(item s3 cpus 1 tag "$(args "$d" 1.4 0.8 1)")]")
create f "$f" >/dev/null
ok "f failed" wait_rsv f failed 30
eq "f: job reverted" "$(job_state f.fulfil)" reverted
eq "s2 acquired before s1 configured" \
  "$(log_states f.fulfil | tr ' ' '\n' | grep -E '^(s1.configure|s2.acquire):applied' | tr '\n' ' ')" \
  "s2.acquire:applied s1.configure:applied "
for it in s1 s2; do
  eq "f: $it.acquire got its own res_id, configure's conf" "$(seen_by "$d" "$it" acquire)" "$it-res $it-conf $it"
  eq "f: $it.poweroff (acquire's revert) got its own" "$(seen_by "$d" "$it" poweroff)" "$it-res $it-conf $it"
done
for it in s1 s2 s3; do
  eq "f: $it.unconfigure (configure's revert) got its own" "$(seen_by "$d" "$it" unconfigure)" "$it-res $it-conf $it"
  eq "f: $it.unreserve (reserve's revert) acts on $it" "$(seen_by "$d" "$it" unreserve)" "$it-res from-reserve $it"
done
eq "f: nothing acted on item 'other'" "$(ls "$d" | grep -c '^other\.' || true)" 0

# 2. A reservation that completes, then is released: the same order of
# applies; the teardown of each item sees its own recorded outputs.
d="$OUT/r"
mkdir -p "$d"
f=$(rsv_file r "[$(item t1 cpus 1 tag "$(args "$d" 0 1)"),
  $(item t2 cpus 1 tag "$(args "$d" 0.4 0)")]")
create r "$f" >/dev/null
ok "r active" wait_rsv r active 30
for it in t1 t2; do
  eq "r: $it.acquire got its own res_id" "$(seen_by "$d" "$it" acquire)" "$it-res $it-conf $it"
done
"$REQ" release id=r >/dev/null
ok "r released" wait_rsv r released 30
for it in t1 t2; do
  for step in poweroff unconfigure unreserve; do
    eq "r: teardown $it.$step got its own" "$(seen_by "$d" "$it" "$step")" "$it-res $it-conf $it"
  done
done
eq "r: nothing acted on item 'other'" "$(ls "$d" | grep -c '^other\.' || true)" 0

# 3. destroy classes in a rollback: d1 acquires first, d2 later (its vm
# the newest output of any item), d3 fails; d1's destroy needs d1-vm.
d="$OUT/d"
mkdir -p "$d"
f=$(rsv_file dd "[$(item d1 cpus 1 dtag "$(args "$d" 0 0)"),
  $(item d2 cpus 1 dtag "$(args "$d" 0.5 0)"),
  $(item d3 cpus 1 dtag "$(args "$d" 1.2 0 1)")]")
create dd "$f" >/dev/null
ok "dd failed" wait_rsv dd failed 30
eq "d2 acquired after d1" \
  "$(log_states dd.fulfil | tr ' ' '\n' | grep -E '^d[12].acquire:applied' | tr '\n' ' ')" \
  "d1.acquire:applied d2.acquire:applied "
for it in d1 d2; do
  eq "dd: $it.destroy got its own acquire's vm" "$(seen_by "$d" "$it" destroy)" "$it-vm $it"
done
finish
