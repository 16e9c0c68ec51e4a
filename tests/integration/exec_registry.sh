# wfp-executor's registry ({P}:svc:executor:replicas and :info:NAME):
# - beats are at Redis's clock (the CLI compares them with Redis's TIME):
#   an executor whose host clock is two minutes slow is still listed;
# - the record is rewritten as soon as a job starts or ends, so `wfp
#   executor list` right after a job ends does not show it running.
. "$(dirname "$0")/lib.sh"
start_board
shim="$WFP_BIN/tests/libclock_shift.so"
[ -e "$shim" ] || fail "no $shim"
# Under a sanitizer build its runtime must be loaded first.
asan=$(ldd "$WFP_BIN/wfp-executor" | awk '/libasan/ { print $3 }')
start_executor slow LD_PRELOAD="${asan:+$asan:}$shim" WFP_TEST_CLOCK_SHIFT_MS=-120000
ok "the shim moves the clock" bash -c "LD_PRELOAD='${asan:+$asan:}$shim' WFP_TEST_CLOCK_SHIFT_MS=-120000 date +%s | awk -v now=\$(date +%s) '{ exit !(now - \$1 >= 100) }'"
listed() { "$WFP" executor list --json | jq -e ".[] | select(.name == \"slow\") | $1" >/dev/null; }
ok "a slow host clock: still listed" wfp_wait_for listed '.'
z=$(rcli ZSCORE "$tag:svc:executor:replicas" slow)
now=$(rcli EVAL "local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)" 0)
ok "its beat is at Redis's clock ($z vs $now)" [ $((now - ${z%.*})) -lt 5000 ]
hb=$(rcli HGET "$tag:svc:executor:info:slow" heartbeat_at)
ok "heartbeat_at too ($hb)" [ $((now - hb)) -lt 5000 ]
st=$(rcli HGET "$tag:svc:executor:info:slow" started_at)
ok "started_at too ($st)" [ $((now - st)) -lt 60000 ]

# soon CHECK: true within 200 ms (the periodic record comes every 1 s).
soon() {
  local t0; t0=$(date +%s%3N)
  while [ $(($(date +%s%3N) - t0)) -lt 200 ]; do listed "$1" && return 0; sleep 0.02; done
  return 1
}
d="$TMP/d"
mkdir -p "$d"
A='touch "$WFP_IN_d/started"; while [ ! -e "$WFP_IN_d/go" ]; do sleep 0.02; done'
for round in 1 2 3 4; do
  rm -f "$d/started" "$d/go"
  id=$(wf_post "reg$round" "{\"linear\": [$(task a "$A")]}" "{\"d\": \"$d\"}")
  ok "round $round: started" wfp_wait_for test -e "$d/started"
  ok "round $round: shown at once" soon ".jobs == 1 and .detail[0].job == \"$id\""
  touch "$d/go"
  ok "round $round: completed" wait_state "$id" completed 10
  ok "round $round: gone at once" soon '.jobs == 0 and .running == 0'
done
finish
