# wfp-executor on a host whose clock is wrong: a retry's backoff resumed
# from the task log (whose `at` is Redis's clock) is measured against
# Redis's clock too. An executor 2 min slow resumed a failed attempt with
# a 1 s backoff and waited 2 min more.
. "$(dirname "$0")/lib.sh"
start_board
shim="$WFP_BIN/tests/libclock_shift.so"
asan=$(ldd "$WFP_BIN/wfp-executor" | awk '/libasan/ { print $3 }')
d="$TMP/d"
mkdir -p "$d"
# Fails the first time, then succeeds.
A='echo x >>"$WFP_IN_d/a"; [ "$(wc -l <"$WFP_IN_d/a")" -ge 2 ]'
start_executor s1 WFP_VISIBILITY_MS=1000
s1=$EXEC_PID
id=$(wf_post skew "{\"linear\": [$(task a "$A" "" '{"retry": {"attempts": 2, "backoff_ms": 1500}}')]}" "{\"d\": \"$d\"}")
ok "a failed once" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' --raw XRANGE '$tag:job:$id:log' - + | grep -c apply-failed)\" = 1 ]"
kill -9 "$s1"
start_executor slow LD_PRELOAD="${asan:+$asan:}$shim" WFP_TEST_CLOCK_SHIFT_MS=-120000 WFP_VISIBILITY_MS=1000
ok "completed on the slow one" wait_state "$id" completed 8
eq "owner" "$(rcli HGET "$tag:job:$id" owner)" slow
eq "log" "$(log_states "$id")" "a:running a:apply-failed a:running a:applied"
finish
