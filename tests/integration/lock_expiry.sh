# A lock lease's end is acted on at that end, not at the lock service's
# next tick: the lease watch (common/lease.c) runs lock_tick.lua at the
# exact end, which announces the expiry and hands the lock to its first
# waiter in the same pass.
#
# A round: fifteen locks, each held by alice, each with bob waiting; once
# every bob waits, alice renews each to a short lease (ends spread by the
# renewals and by 37 ms steps, out of step with a 25 ms tick) and never
# again. The lag is read on Redis's clock (bob's acquired_at minus the
# expires_at alice's renewal set), so a slow CLI does not count. It is at
# least 1 ms: Redis deletes a key only in the millisecond after its end.
#
# A round passes when its median lag is at most LAG_MEDIAN_MS; up to
# ROUNDS rounds run, and one must pass. A loaded machine only adds to the
# lags, so the best round shows the mechanism: the watch gives medians of
# 2-4 ms. The old fixed 25 ms tick was already within ~50 ms (each lag
# near uniform in 1..26 ms; medians of 9-17 ms measured), so the bound
# here is tighter: a round of its lags has a median of 5 ms or less about
# one time in 300, one of three rounds about one time in 100. No bound on
# a single lag: a Redis busy with another test's long script (job_log.sh
# blocks it for a second) delays it whatever wfp-lock does. Every expiry
# must be announced (`expired`, naming alice).
. "$(dirname "$0")/lib.sh"
at_exit stop_lock
start_lock

N=15
ROUNDS=3
LAG_MEDIAN_MS=5
all_wait() { [ "$(rcli ZCARD "$tag:locks:waiters")" -eq "$N" ]; }

# round R: runs round R; sets median and prints the lags.
round() {
  local r=$1 i got lag
  local -a ends pids tokens lags
  for i in $(seq 1 $N); do
    tokens[i]=$("$WFP" lock acquire "r$r-$i" --owner alice --ttl 60000 --json | jq -r .token)
    ( "$WFP" lock acquire "r$r-$i" --owner bob --wait 30000 --ttl 10000 \
        --json >"$TMP/bob-$r-$i.json" ) &
    pids+=($!)
  done
  ok "round $r: every bob waits" wfp_wait_for all_wait
  for i in $(seq 1 $N); do
    ends[i]=$("$WFP" lock renew "r$r-$i" "${tokens[i]}" --ttl $((300 + 37 * i)) \
      --json | jq -r .expires_at)
  done
  wait "${pids[@]}"
  for i in $(seq 1 $N); do
    eq "r$r-$i: bob got it" "$(jq -r .owner "$TMP/bob-$r-$i.json")" bob
    got=$(rcli HGET "$tag:lockinfo:r$r-$i" acquired_at)
    lag=$((got - ends[i]))
    ok "r$r-$i granted at or after the lease's end ($lag ms)" [ "$lag" -ge 0 ]
    lags+=("$lag")
    "$WFP" lock release "r$r-$i" "$(jq -r .token "$TMP/bob-$r-$i.json")" >/dev/null
  done
  local ev n
  ev=$(rcli XRANGE "$tag:events" - + | paste -s -d' ')
  n=$(grep -o "id r$r-[0-9]* state expired owner alice detail lease ended [0-9]* ms ago" <<<"$ev" | wc -l)
  eq "round $r: each expiry announced, naming alice" "$n" "$N"
  local sorted
  sorted=$(printf '%s\n' "${lags[@]}" | sort -n | paste -s -d' ')
  median=$(cut -d' ' -f$(((N + 1) / 2)) <<<"$sorted")
  echo "round $r: grant lags (ms, sorted): $sorted; median $median"
}

best=""
for r in $(seq 1 $ROUNDS); do
  round "$r"
  if [ -z "$best" ] || [ "$median" -lt "$best" ]; then best=$median; fi
  [ "$best" -le "$LAG_MEDIAN_MS" ] && break
done
ok "best median grant lag $best ms <= $LAG_MEDIAN_MS ms" [ "$best" -le "$LAG_MEDIAN_MS" ]

# A wait that runs out is answered at its end too: bob waits 400 ms on a
# lock alice holds for 10 s.
"$WFP" lock acquire long --owner alice --ttl 10000 >/dev/null
t0=$(date +%s%N)
rc=0; "$WFP" lock acquire long --owner bob --wait 400 2>"$TMP/late.err" || rc=$?
t1=$(date +%s%N)
eq "wait ran out: exit 3" "$rc" 3
ok "told it timed out" grep -q TIMEOUT "$TMP/late.err"
echo "wait 400 ms answered after $(((t1 - t0) / 1000000)) ms (CLI start included)"
finish
