# Reservations that fail: a failure injected at each step of each item of
# the example's small server (ip and disk undone with destroy, vm with
# poweroff, unconfigure, unreserve). Each time: the reservation is failed,
# its fulfilment job reverted, no resource file remains, the pools' used
# capacity is back where it was, and every item was undone with the right
# steps for how far it got (from `wfp rsv show --json`, checked against
# what the fake cloud did). A failing undo step: the job ends failed, the
# resource stays (a person must look), the capacity still comes back.
. "$(dirname "$0")/lib.sh"
. "$here/provision.bash"
start_all
example_pools
zero="ips=0 volumes=0 vcpus=0"
eq "pools empty" "$(pools_used)" "$zero"

# undo_for CLASS REACHED: the undo steps of an item that got to REACHED.
undo_for() {
  case $1:$2 in
  *:none) echo "" ;;
  ip:* | volume:*) echo "destroy" ;;
  vm:acquired) echo "poweroff unconfigure unreserve" ;;
  vm:configured) echo "unconfigure unreserve" ;;
  vm:reserved) echo "unreserve" ;;
  esac
}

# forward_to REACHED: the steps that got an item to REACHED.
forward_to() {
  case $1 in
  none) echo "" ;;
  reserved) echo "reserve" ;;
  configured) echo "reserve configure" ;;
  acquired) echo "reserve configure acquire" ;;
  esac
}

# before STEP: the phase an item is in when STEP starts.
before() {
  case $1 in
  reserve) echo none ;;
  configure) echo reserved ;;
  acquire) echo configured ;;
  esac
}

class_of() { case $1 in ip) echo ip ;; disk) echo volume ;; vm) echo vm ;; esac; }

# create_fails ID FILE TASK: `wfp rsv create --wait` exits 1 naming the
# task that failed.
create_fails() {
  local rc=0
  timeout 30 "$WFP" rsv create "$2" --id "$1" --wait >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "$1: create --wait exits 1" "$rc" 1
  ok "$1: says why ($(tail -n 1 "$TMP/err"))" grep -q "task $3 failed" "$TMP/err"
}

for item in ip disk vm; do
  for step in reserve configure acquire; do
    id="f-$item-$step"
    create_fails "$id" "$(rsv_file "$id" "$(set_arg "$item" fail "$step")")" "$item.$step"
    eq "$id: failed" "$(rsv_field "$id" state)" failed
    eq "$id: job reverted" "$(job_state "$id.fulfil")" reverted
    eq "$id: no resource left" "$(cloud_files | tr '\n' ' ')" ""
    eq "$id: capacity back" "$(pools_used)" "$zero"
    ok "$id: returned_at set" test -n "$(rsv_field "$id" returned_at)"
    err=$(rsv_field "$id" error)
    ok "$id: the error names $item.$step ($err)" contains "$err" "$item.$step"
    # ... and says why: the program's last stderr line
    ok "$id: the error ends with fake-cloud's message" contains "$err" \
      "$item.$step failed: exit 3: fake-cloud: $(class_of "$item") $item: $step refused (injected failure)"
    j=$(show_json "$id")
    eq "$id: show state" "$(jq -r .state <<<"$j")" failed
    # The item that failed names its step in show and in the hash (kept
    # through the reverts after it: show falls back on the hash once the
    # jobs are gone); no other item failed.
    eq "$id: $item failed" "$(item_of "$j" "$item" failed)" "$step"
    eq "$id: $item failed in the hash" "$(rsv_field "$id" "failed:$item")" "$step"
    for it in ip disk vm; do
      [ "$it" = "$item" ] || eq "$id: $it not failed in the hash" "$(rsv_field "$id" "failed:$it")" ""
    done
    for it in ip disk vm; do
      cls=$(class_of "$it")
      reached=$(item_of "$j" "$it" reached)
      undo=$(undo_for "$cls" "$reached")
      eq "$id: $it phase" "$(item_of "$j" "$it" phase)" none
      eq "$id: $it undone with" "$(item_of "$j" "$it" undo)" "$undo"
      eq "$id: $it in the cloud" "$(steps_of "$id" "$it")" "$(echo $(forward_to "$reached") $undo)"
      eq "$id: $it in the hash" "$(rsv_field "$id" "item:$it")" none
      eq "$id: $it undo in the hash" "$(rsv_field "$id" "undo:$it")" "$(tr ' ' , <<<"$undo")"
    done
  done
done

# A failing undo step: the revert fails, the job ends failed, the
# executor still undoes what else it can; a resource whose last undo step
# failed is left in the cloud for a person; the capacity comes back.
# ITEM FAIL_LIST REVERT_FAILED (the task) LEFT (state, - for none)
# FAILED (the item's failed step in show) UNDO (the undo steps that ran)
for c in "vm acquire,unconfigure vm.configure - unconfigure unreserve" \
         "vm configure,unreserve vm.reserve reserved unreserve -" \
         "disk configure,destroy disk.reserve reserved destroy -"; do
  read -r item fails task left failed undo <<<"$c"
  [ "$undo" = - ] && undo=""
  id="u-$item-${fails#*,}"
  create_fails "$id" "$(rsv_file "$id" "$(set_arg "$item" fail "$fails")")" "$item.${fails%%,*}"
  eq "$id: failed" "$(rsv_field "$id" state)" failed
  eq "$id: job failed" "$(job_state "$id.fulfil")" failed
  err=$(rsv_field "$id" error)
  ok "$id: the error names the revert ($err)" contains "$err" "revert failed: $task"
  f="$(class_of "$item")-$id-$item"
  if [ "$left" = - ]; then
    eq "$id: nothing left" "$(cloud_files | tr '\n' ' ')" ""
  else
    eq "$id: only $f left" "$(cloud_files | tr '\n' ' ')" "$f "
    eq "$id: $f left $left" "$(sed -n 's/^state=//p' "$CLOUD/$f")" "$left"
  fi
  eq "$id: capacity back" "$(pools_used)" "$zero"
  j=$(show_json "$id")
  eq "$id: $item failed" "$(item_of "$j" "$item" failed)" "$failed"
  eq "$id: $item failed in the hash" "$(rsv_field "$id" "failed:$item")" "$failed"
  eq "$id: $item phase" "$(item_of "$j" "$item" phase)" "${left/-/none}"
  eq "$id: $item undone with" "$(item_of "$j" "$item" undo)" "$undo"
  rm -f "$CLOUD"/*
done

# A successful one after all that: active, three resources acquired.
id=ok-1
ok "$id: active" timeout 30 "$WFP" rsv create "$(rsv_file "$id")" --id "$id" --wait
eq "$id: resources" "$(cloud_files | tr '\n' ' ')" "ip-ok-1-ip vm-ok-1-vm volume-ok-1-disk "
for f in "$CLOUD"/*; do eq "$(basename "$f") acquired" "$(sed -n 's/^state=//p' "$f")" acquired; done
eq "$id: used" "$(pools_used)" "ips=1 volumes=20 vcpus=2"
j=$(show_json "$id")
for it in ip disk vm; do
  eq "$id: $it phase" "$(item_of "$j" "$it" phase)" acquired
  eq "$id: $it not undone" "$(item_of "$j" "$it" undo)" ""
done
finish
