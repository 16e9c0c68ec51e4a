# wfp-reservation's mechanics with real processes (board, executor,
# reservation): create -> active, release -> released, a failure ->
# failed, capacity back each time; bad requests dead-lettered or refused
# while it keeps serving; it refuses to start without a readable
# WFP_CLASSES_DIR.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"

# --- Start refusals and --help ---------------------------------------
ok "--help lists --classes-dir" grep -q -- "--classes-dir " <<<"$("$WFP_BIN/wfp-reservation" --help)"
ok "--help names WFP_CLASSES_DIR" grep -q WFP_CLASSES_DIR <<<"$("$WFP_BIN/wfp-reservation" --help)"
ok "--help does not list --concurrency" bash -c "! '$WFP_BIN/wfp-reservation' --help | grep -q -- --concurrency"
: >"$TMP/afile"
for dir in "" "$TMP/nowhere" "$TMP/afile"; do
  rc=0
  env -u WFP_CLASSES_DIR ${dir:+WFP_CLASSES_DIR=$dir} timeout 10 "$WFP_BIN/wfp-reservation" >"$TMP/start.txt" 2>&1 || rc=$?
  ok "WFP_CLASSES_DIR='$dir': stops at start (status $rc)" test "$rc" != 0 -a "$rc" != 124
  ok "WFP_CLASSES_DIR='$dir': the message names the variable" grep -q "WFP_CLASSES_DIR" "$TMP/start.txt"
done
ok "a missing folder is named" grep -q "WFP_CLASSES_DIR '$TMP/afile' is not a readable directory" "$TMP/start.txt"

# --- The service ------------------------------------------------------
file_class vm
file_class broken "exit 3; "
file_class stubborn "" '[ -e "$WFP_IN_dir/block" ] && exit 4; '
noop_class ip
echo '{"reserve": ["true"], "configure": ["true"], "acquire": ["true"],
       "destroy": ["true"], "unreserve": ["true"]}' >"$CLASSES/both.json"
port=$(wfp_free_port)
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES" WFP_METRICS_ADDR="127.0.0.1:$port"
start_executor e1

out=$("$REQ" pool_set name=cpus capacity:=10)
ok "pool_set creates" grep -qx "created=true" <<<"$out"
ok "pool_set answers the capacity" grep -qx "capacity=10" <<<"$out"
"$REQ" pool_set name=ips capacity:=2 >/dev/null
eq "pool capacity stored" "$(pool_field cpus capacity)" 10

# create -> active: capacity taken at once, the items' files made.
f=$(rsv_file web "[$(item vm cpus 4 vm), $(item addr ips 1 ip)]")
out=$(create r1 "$f")
ok "create answers pending" grep -qx "state=pending" <<<"$out"
ok "create names the job" grep -qx "job=r1.fulfil" <<<"$out"
ok "create: created" grep -qx "created=true" <<<"$out"
eq "capacity taken at create" "$(pool_field cpus used)" 4
ok "r1 active" wait_rsv r1 active
eq "the vm's files" "$(files vm)" "vm.acquired vm.configured vm.reserved"
eq "item phase recorded" "$(rsv_field r1 item:vm)" acquired
eq "noop item phase recorded" "$(rsv_field r1 item:addr)" acquired
rc=0; create r1 "$f" >/dev/null 2>"$TMP/err.txt" || rc=$?
eq "another create with the same id is refused" "$rc" 1
ok "it says EXISTS" grep -q "^EXISTS" "$TMP/err.txt"
eq "capacity taken once" "$(pool_field cpus used)" 4

# release -> released: the teardown undoes each step, capacity back.
out=$("$REQ" release id=r1)
ok "release posts the teardown" grep -qx "action=posted" <<<"$out"
ok "release names the teardown job" grep -qx "job=r1.release.1" <<<"$out"
ok "r1 released" wait_rsv r1 released
eq "the vm's files are gone" "$(files vm)" ""
eq "capacity back" "$(pool_field cpus used)" 0
eq "ips back" "$(pool_field ips used)" 0
eq "no holders" "$(pool_field cpus reservations)" 0
eq "item phase none" "$(rsv_field r1 item:vm)" none
rc=0; "$REQ" release id=r1 2>"$TMP/err.txt" || rc=$?
eq "releasing again is refused" "$rc" 1
ok "refusal says the state" grep -q "STATE reservation r1 is released" "$TMP/err.txt"
eq "open set empty" "$(rcli ZCARD "$tag:svc:reservation:open")" 0

# A failure -> failed: what was applied is reverted, capacity back.
f=$(rsv_file bad "[$(item bvm cpus 3 broken)]")
create r2 "$f" >/dev/null
ok "r2 failed" wait_rsv r2 failed
ok "r2 capacity back" wait_returned r2
eq "capacity back after a failure" "$(pool_field cpus used)" 0
eq "the failed item's files are gone" "$(files bvm)" ""
ok "r2's error names the failed task" grep -q "bvm.acquire" <<<"$(rsv_field r2 error)"
eq "the undo steps that ran are recorded" "$(rsv_field r2 undo:bvm)" unconfigure,unreserve
eq "the failed item's phase is none" "$(rsv_field r2 item:bvm)" none

# A teardown that fails leaves the reservation active with its error and
# the failed step; a second release (ID.release.2) finishes it.
create r3 "$(rsv_file st "[$(item svm cpus 2 stubborn)]")" >/dev/null
ok "r3 active" wait_rsv r3 active
touch "$OUT/block"
out=$("$REQ" release id=r3)
ok "r3 teardown 1 posted" grep -qx "job=r3.release.1" <<<"$out"
ok "r3 says the release failed" wfp_wait_for bash -c "redis-cli -u '$WFP_REDIS_URL' HGET '$tag:rsv:r3' error | grep -q '^release failed'"
eq "r3 still active" "$(rsv_state r3)" active
eq "r3 records the failed step" "$(rsv_field r3 failed:svm)" poweroff
eq "r3 still holds its capacity" "$(pool_field cpus used)" 2
eq "r3's teardown job is cleared" "$(rsv_field r3 release_job)" ""
rm "$OUT/block"
out=$("$REQ" release id=r3)
ok "r3 teardown 2 posted" grep -qx "job=r3.release.2" <<<"$out"
ok "r3 released" wait_rsv r3 released
eq "r3: capacity back" "$(pool_field cpus used)" 0
eq "r3: files gone" "$(files svm)" ""
eq "r3: the failed step is gone" "$(rsv_field r3 failed:svm)" ""
eq "r3: phase none" "$(rsv_field r3 item:svm)" none

# Refusals: the client gets the reason, nothing is taken.
refused() { # DESC EXPECTED_TEXT ID FILE
  local rc=0
  create "$3" "$4" >/dev/null 2>"$TMP/err.txt" || rc=$?
  eq "$1: refused" "$rc" 1
  ok "$1: says '$2'" grep -qF -- "$2" "$TMP/err.txt"
  eq "$1: no reservation" "$(rcli EXISTS "$tag:rsv:$3")" 0
}
refused "no such pool" "pool 'nopool' does not exist" r31 "$(rsv_file p "[$(item x nopool 1 vm)]")"
refused "no room" "pool 'cpus' has 10 free of 10; 11 asked" r4 "$(rsv_file p "[$(item x cpus 11 vm)]")"
refused "a class that does not parse" "class 'both' (both.json): has destroy and unreserve" r5 "$(rsv_file p "[$(item x cpus 1 both)]")"
refused "a class that does not exist" "class 'ghost'" r6 "$(rsv_file p "[$(item x cpus 1 ghost)]")"
echo '{"name": "x", "items": [' >"$TMP/broken.json"
refused "a file that is not JSON" "reservation file is not JSON" r7 "$TMP/broken.json"
refused "an unknown key" "unknown key 'colour'" r8 "$(rsv_file p "[$(item x cpus 1 vm)]" '"colour": "red"')"
eq "nothing taken by refusals" "$(pool_field cpus used)" 0
rc=0; "$REQ" release id=nosuch 2>"$TMP/err.txt" || rc=$?
eq "releasing an unknown reservation is refused" "$rc" 1
ok "it says NORSV" grep -q "^NORSV reservation 'nosuch' does not exist" "$TMP/err.txt"

# Bad bodies are dead-lettered with a reason.
req="$tag:svc:reservation:requests"
dl0=$(rcli XLEN "$tag:deadletter")
printf '\x81\xa4file\xa2{}' | rcli -x XADD "$req" '*' op create timeout_ms 60000 body >/dev/null # no id
printf '\x82\xa2id\xa2r9\xa4file\x05' | rcli -x XADD "$req" '*' op create timeout_ms 60000 body >/dev/null # file not a string
printf '\x82\xa2id\xa3r/9\xa4file\xa2{}' | rcli -x XADD "$req" '*' op create timeout_ms 60000 body >/dev/null # bad id
printf '\x82\xa4name\xa1p\xa8capacity\xff' | rcli -x XADD "$req" '*' op pool_set timeout_ms 60000 body >/dev/null # capacity -1
printf '\x82\xa4name\xa3a b\xa8capacity\x01' | rcli -x XADD "$req" '*' op pool_set timeout_ms 60000 body >/dev/null # bad pool name
printf '\x82\xa2id\xa2r1\xa5extra\x01' | rcli -x XADD "$req" '*' op release timeout_ms 60000 body >/dev/null # unknown field
printf '\xc1' | rcli -x XADD "$req" '*' op release timeout_ms 60000 body >/dev/null # not msgpack
ok "bad bodies dead-lettered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:deadletter')\" = $((dl0 + 7)) ]"
dl=$(rcli --no-raw XRANGE "$tag:deadletter" - +)
ok "reason: missing id" grep -q "missing field 'id'" <<<"$dl"
ok "reason: file" grep -q "field 'file'" <<<"$dl"
ok "reason: capacity" grep -q "capacity" <<<"$dl"
ok "reason: unknown field" grep -q "unknown field 'extra'" <<<"$dl"
eq "nothing left on the request stream" "$(rcli XLEN "$req")" 0
ok "daemon alive" kill -0 "$RSV_PID"

# Still serving: a noop reservation goes active and is released.
create r10 "$(rsv_file n "[$(item n1 ips 2 ip)]")" >/dev/null
ok "r10 active after the junk" wait_rsv r10 active
"$REQ" release id=r10 >/dev/null
ok "r10 released" wait_rsv r10 released
eq "ips back" "$(pool_field ips used)" 0

# Job endings come from the events link, not the once-a-second sweep:
# each of five reservations goes active within 300 ms of its job's end
# (by the sweep alone all five would be that quick about once in 400 runs).
for i in 1 2 3 4 5; do
  create "q$i" "$(rsv_file "q$i" "[$(item "q$i" ips 1 ip)]")" >/dev/null
  ok "q$i active" wait_rsv "q$i" active
  lag=$(( $(rsv_field "q$i" updated_at) - $(rcli HGET "$tag:job:q$i.fulfil" finished_at) ))
  ok "q$i active ${lag} ms after its job ended" test "$lag" -lt 300
  "$REQ" release "id=q$i" >/dev/null
  ok "q$i released" wait_rsv "q$i" released
done

m=$(http_get 127.0.0.1 "$port" /metrics)
ok "metric created" grep -q "^wfp_reservation_created_total 9" <<<"$m"
ok "metric active" grep -q "^wfp_reservation_active_total 8" <<<"$m"
ok "metric released" grep -q "^wfp_reservation_released_total 8" <<<"$m"
ok "metric failed" grep -q "^wfp_reservation_failed_total 1" <<<"$m"
ok "metric refused" grep -q "^wfp_reservation_refused_total [1-9]" <<<"$m"
ok "metric expired" grep -q "^wfp_reservation_expired_total 0" <<<"$m"
finish
