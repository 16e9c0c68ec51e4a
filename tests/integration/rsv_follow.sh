# The `--wait` follow of `wfp rsv create/release` in the cases the service
# reaches rarely: a cancel whose fulfilment completed after the TTL and
# whose teardown failed (settles at once, says to release again); a
# teardown that ended before the follow switched to its log (its item
# lines still shown); on a terminal, lines cut to its width and a retry's
# note gone once the step failed for good. The late ends are made by hand
# (hash fields and log entries) while the executor and wfp-reservation
# are stopped, as rsv_cancel_late.sh does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"

noop='{"plugin": "noop"}'
cat >"$CLASSES/slow.json" <<EOF
{"reserve": $noop, "configure": $noop,
 "acquire": {"plugin": "sleep", "args": {"ms": 20000}}, "destroy": $noop}
EOF
# "flaky": configure fails twice (for good); its undo takes 3 s, so that
# the follow draws the item failed before it is undone.
cat >"$CLASSES/flaky.json" <<EOF
{"reserve": $noop, "configure": {"plugin": "fail", "args": {"reason": "flaky"}},
 "acquire": $noop, "destroy": {"plugin": "sleep", "args": {"ms": 3000}},
 "retry": {"attempts": 2, "backoff_ms": 300}}
EOF
noop_class quick
start_board
start_executor x1
x1=$EXEC_PID
start_reservation WFP_CLASSES_DIR="$CLASSES"
at_exit stop_reservation
"$WFP" pool set p --capacity 10 >/dev/null

# --- On a terminal: lines cut to its width; the retry's note gone once
# the step failed for good.
long=an-item-name-much-wider-than-the-terminal-is
f=$(rsv_file q "[$(item "$long" p 1 quick)]")
script -qec "stty cols 30 rows 40; '$WFP' rsv create '$f' --id t1 --wait --timeout 30000" "$TMP/tty1.out" >/dev/null
ok "tty: ends active" grep -q "^t1 active" "$TMP/tty1.out"
# shown: the redrawn lines (between "\r\033[K" and the line's end)
shown() { sed 's/\x1b\[[0-9]*A//g' "$1" | tr '\r' '\n' | sed -n 's/^\x1b\[K//p'; }
eq "tty: no redrawn line wider than 29" "$(shown "$TMP/tty1.out" | awk 'length > 29' | head -3)" ""
shown "$TMP/tty1.out" >"$TMP/tty1.lines"
ok "tty: the item's line cut" grep -qx '  an-item-name-much-wider-...' "$TMP/tty1.lines"
f=$(rsv_file fl "[$(item fx p 1 flaky)]")
script -qec "stty cols 200 rows 40; '$WFP' rsv create '$f' --id t2 --wait --timeout 30000" "$TMP/tty2.out" >/dev/null || true
ok "tty: the retry shown" bash -c "tr '\r' '\n' <'$TMP/tty2.out' | grep -q 'configure attempt 1 failed: flaky; retrying'"
ok "tty: the failed step drawn" bash -c "tr '\r' '\n' <'$TMP/tty2.out' | grep -q 'failed: configure'"
eq "tty: no retry note once it failed for good" \
  "$(tr '\r' '\n' <"$TMP/tty2.out" | grep 'failed: configure' | grep retrying | head -2)" ""

# --- c2: create --wait whose fulfilment completes after the TTL and
# whose teardown ended before the follow saw it posted; c1: a release of
# a pending one whose late teardown failed.
f=$(rsv_file s "[$(item a p 1 slow)]")
"$WFP" rsv create "$f" --id c2 --wait --timeout 30000 >"$TMP/c2.out" 2>"$TMP/c2.err" &
c2=$!
ok "c1 created" "$WFP" rsv create "$f" --id c1
log_has() { rcli XRANGE "$tag:job:$1.fulfil:log" - + | grep -qx a.acquire; }
ok "c1 acquire running" wfp_wait_for log_has c1
ok "c2 acquire running" wfp_wait_for log_has c2
cont() { kill -CONT "$x1" "$RSV_PID" 2>/dev/null || true; }
at_exit cont
kill -STOP "$x1"
start=$(date +%s)
"$WFP" rsv release c1 --wait --timeout 8000 >"$TMP/c1.out" 2>"$TMP/c1.err" &
c1=$!
field_is() { [ "$(rsv_field "$1" "$2")" = "$3" ]; }
ok "c1 release asked" wfp_wait_for field_is c1 release_requested 1
kill -STOP "$RSV_PID"
sleep 0.5
now=$(rcli TIME | head -1)000
# c1: expired, its teardown failed (release_job cleared, the error).
rcli HSET "$tag:rsv:c1" state expired releases 1 release_job "" \
  error "teardown failed: failed: stuck" >/dev/null
# c2: expired, its teardown done and the capacity back in one look.
rl="$tag:job:c2.release.1:log"
rcli XADD "$rl" '*' task a.destroy state running attempt 1 at "$now" >/dev/null
rcli XADD "$rl" '*' task a.destroy state applied attempt 1 at "$now" >/dev/null
rcli HSET "$tag:rsv:c2" state expired releases 1 release_job c2.release.1 \
  returned_at "$now" >/dev/null
code=0; wait "$c1" || code=$?
took=$(( $(date +%s) - start ))
cat "$TMP/c1.out" "$TMP/c1.err" >&2
eq "c1 release --wait: exit 1" "$code" 1
ok "c1: says to release again" grep -qx 'wfp: reservation c1 is expired: teardown failed: failed: stuck; run `wfp rsv release c1` again' "$TMP/c1.err"
ok "c1: settled, not at the timeout ($took s)" test "$took" -lt 7
code=0; wait "$c2" || code=$?
cat "$TMP/c2.out" "$TMP/c2.err" >&2
eq "c2 create --wait: exit 1" "$code" 1
ok "c2: the teardown's item line shown" grep -Eq '^\+[0-9.]+s +a +none; undone: destroy$' "$TMP/c2.out"
eq "c2: last line" "$(tail -1 "$TMP/c2.out")" "c2 expired"
finish
