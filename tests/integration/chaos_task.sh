# tests/chaos/chaos-task, the task program of the chaos run: what its
# checks rely on. One application per key and phase (a rerun finds it
# done, a dead run's claim is taken over), a step's effect and injected
# failure, and the locked mode's fenced enter/write: a lower fence is
# refused STALE and changes nothing, a fence never granted is refused, a
# rerun of an applied key changes nothing, a live holder in the critical
# section is logged as an overlap.
. "$(dirname "$0")/lib.sh"
prog="$here/../chaos/chaos-task"
D="$TMP/run"
mkdir -p "$D/claims" "$D/res" "$D/cs"
port=${WFP_REDIS_URL##*:}
port=${port%%/*}

# ct KEY PHASE MODE [ARGS...]: runs chaos-task as the executor would.
ct() {
  local key=$1 phase=$2
  shift 2
  env -i PATH="$PATH" WFP_IN_dir="$D" WFP_TASK_KEY="$key" WFP_PHASE="$phase" \
    WFP_JOB_ID="${key%%:*}" WFP_TASK="${key##*:}" WFP_IN_redis="$port" \
    WFP_IN_prefix="$WFP_PREFIX" WFP_IN_rsv_id=r1 WFP_IN_rsv_item=ip0 \
    ${CT_ENV:-} "$prog" "$@"
}
apps() { grep -c "^applied $1 " "$D/applied.log" || true; }

ok "plain applies" ct j1:1:a apply plain
ok "plain again with the same key" ct j1:1:a apply plain
eq "one application of j1:1:a" "$(apps j1:1:a:apply)" 1
ok "its revert (same key, other phase)" ct j1:1:a revert plain
eq "one application of the revert" "$(apps j1:1:a:revert)" 1

# A claim whose run died before its done mark is taken over.
sh -c 'exit 0' &
dead=$!
wait "$dead"
ln -s "$dead" "$D/claims/j2:1:a:apply"
ok "a dead run's claim is taken over" ct j2:1:a apply plain
eq "applied once by the new run" "$(apps j2:1:a:apply)" 1
ok "done mark" test -e "$D/claims/j2:1:a:apply.done"

# Steps: reserve makes the resource, destroy removes it; an injected
# failure exits 3 before anything.
ok "reserve" ct r1.fulfil:1:ip0.reserve apply step reserve
eq "resource made" "$(cat "$D/res/r1-ip0")" reserved
eq "configure refused (injected)" "$(CT_ENV=WFP_IN_fail=configure status_of ct r1.fulfil:1:ip0.configure apply step configure)" 3
eq "nothing applied for it" "$(apps r1.fulfil:1:ip0.configure:apply)" 0
ok "destroy (the revert of reserve)" ct r1.fulfil:1:ip0.reserve revert step destroy
ok "resource gone" test ! -e "$D/res/r1-ip0"

# Locked: fences. The lock service granted fence 100 of chaos.L1.
t="{$WFP_PREFIX}:chaos"
rcli SET "{$WFP_PREFIX}:lockfence:chaos.L1" 100 >/dev/null
CT_ENV=WFP_LOCK_FENCES=chaos.L1=100
ok "fence 100 writes" ct k1:1:lk apply locked
eq "counter 1" "$(rcli GET "$t:counter:chaos.L1")" 1
CT_ENV=WFP_LOCK_FENCES=chaos.L1=99
eq "fence 99 (stale) refused" "$(status_of ct k2:1:lk apply locked)" 4
eq "counter still 1" "$(rcli GET "$t:counter:chaos.L1")" 1
eq "stale refusal counted" "$(rcli HGET "$t:stats" stale_refused)" 1
CT_ENV=WFP_LOCK_FENCES=chaos.L1=101
eq "fence 101 (never granted) refused" "$(status_of ct k3:1:lk apply locked)" 4
eq "unknown fence counted" "$(rcli HGET "$t:stats" unknown_fence)" 1
rcli SET "{$WFP_PREFIX}:lockfence:chaos.L1" 101 >/dev/null
CT_ENV=WFP_LOCK_FENCES=chaos.L1=101
ok "k1 again under a newer fence" ct k1:1:lk apply locked
eq "applied once: counter still 1" "$(rcli GET "$t:counter:chaos.L1")" 1
eq "k1 applied once" "$(rcli HGET "$t:apps:chaos.L1" k1:1:lk)" 1
ok "k4 under fence 101" ct k4:1:lk apply locked
eq "counter 2" "$(rcli GET "$t:counter:chaos.L1")" 2
eq "accepted fences in order" "$(rcli LRANGE "$t:accepted:chaos.L1" 0 -1 | tr '\n' ' ')" "100 101 "

# A live holder inside the critical section: the newcomer logs an overlap.
sleep 30 &
holder=$!
at_exit kill "$holder"
ln -s "$holder 101" "$D/cs/chaos.L1"
rcli SET "{$WFP_PREFIX}:lockfence:chaos.L1" 102 >/dev/null
CT_ENV=WFP_LOCK_FENCES=chaos.L1=102
ok "k5 beside a live holder" ct k5:1:lk apply locked
eq "overlap logged" "$(cat "$D/overlaps.log")" "overlap chaos.L1 102 $holder 101"
eq "the holder's marker left alone" "$(readlink "$D/cs/chaos.L1")" "$holder 101"
finish
