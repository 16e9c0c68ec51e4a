# What the lock service promises a client that gives up, and what it
# shows others: a waiting acquire never outlives its request (a client
# that gave up is never granted the lock later, and is told that no reply
# came); `lock show/list` never print a holder's token; a wait that runs
# out names the locks held by others; a lock's info hash expires with its
# lease; lock names that equal the service's own key words are safe.
. "$(dirname "$0")/lib.sh"
at_exit stop_lock
start_lock
events() { rcli XRANGE "$tag:events" - + | paste -s -d' '; }
# count KEY: ZCARD of a sorted set.
zcard_is() { [ "$(rcli ZCARD "$1")" = "$2" ]; }

# A client gives up on a waiting acquire while wfp-lock is slow: the lock
# is never granted to it later, and it says that no reply came (exit 3).
h=$("$WFP" lock acquire A --owner holder --ttl 30000 --json)
kill -STOP "$LOCK_PID"
( rc=0
  "$WFP" lock acquire A --owner gone --wait 2000 --timeout-ms 1000 --ttl 30000 \
    >"$TMP/gone.out" 2>"$TMP/gone.err" || rc=$?
  echo "$rc" >"$TMP/gone.rc" ) &
gone=$!
ok "request on the stream" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:svc:lock:requests')\" -ge 1 ]"
sleep 1.5 # wfp-lock picks the request up late, then stalls again
kill -CONT "$LOCK_PID"
ok "queued as a waiter" wfp_wait_for zcard_is "$tag:locks:waiters" 1
kill -STOP "$LOCK_PID"
wait "$gone"
kill -CONT "$LOCK_PID"
"$WFP" lock release A "$(jq -r .token <<<"$h")" >/dev/null
eq "the client gave up: exit 3" "$(cat "$TMP/gone.rc")" 3
ok "it says no reply came" grep -q "no reply from wfp-lock within 3000 ms" "$TMP/gone.err"
ok "its fallback release stays silent" bash -c "! grep -q STALE '$TMP/gone.err'"
ok "waiter forgotten" wfp_wait_for zcard_is "$tag:locks:waiters" 0
sleep 0.2
eq "A not granted to the gone client" "$(rcli GET "$tag:lock:A")" ""
ok "no grant event for it" bash -c "! grep -q 'state acquired owner gone' <<<'$(events)'"
ok "A free for the next one" "$WFP" lock acquire A --owner next

# Tokens are credentials: only the acquirer sees its own.
g=$("$WFP" lock acquire shown --owner alice --json)
hex=$(jq -r .token <<<"$g" | cut -d/ -f2)
eq "acquire prints the token to its owner" "${#hex}" 32
for cmd in "lock show shown" "lock show shown --json" "lock list" "lock list --json"; do
  out=$("$WFP" $cmd)
  ok "'wfp $cmd' shows the lock" grep -q shown <<<"$out"
  ok "'wfp $cmd' hides the token" bash -c "! grep -q '$hex' <<<'$out'"
done
s=$("$WFP" lock show shown --json)
eq "show --json: no token field" "$(jq 'has("token")' <<<"$s")" false
eq "show --json: owner" "$(jq -r .owner <<<"$s")" alice
eq "show --json: fence" "$(jq -r .fence <<<"$s")" "$(jq -r .fence <<<"$g")"

# A wait that runs out names the locks held by others, not a free one.
"$WFP" lock acquire y --owner bob --ttl 10000 >/dev/null
rc=0; "$WFP" lock acquire x y --owner carol --wait 300 2>"$TMP/t.err" || rc=$?
eq "wait ran out: exit 3" "$rc" 3
ok "names y and its holder" grep -q "TIMEOUT lock y still held by bob" "$TMP/t.err"
ok "does not name free x" bash -c "! grep -q 'lock x ' '$TMP/t.err'"
"$WFP" lock acquire z --owner dave --ttl 10000 >/dev/null
rc=0; "$WFP" lock acquire x y z --owner carol --wait 300 2>"$TMP/t2.err" || rc=$?
eq "three locks, wait ran out: exit 3" "$rc" 3
ok "names both held locks" grep -q "TIMEOUT lock y still held by bob, lock z still held by dave" "$TMP/t2.err"
eq "x left free" "$(rcli EXISTS "$tag:lock:x")" 0

# The info hash expires with the lease (plus a grace for the expiry event).
i=$("$WFP" lock acquire info --owner alice --ttl 5000 --json)
pi=$(rcli PTTL "$tag:lockinfo:info")
pl=$(rcli PTTL "$tag:lock:info")
ok "info hash has a TTL ($pi ms)" test "$pi" -gt 0
ok "no shorter than the lease ($pl ms)" test "$pi" -ge "$pl"
ok "no longer than the lease + 10 s" test "$pi" -le 15000
"$WFP" lock renew info "$(jq -r .token <<<"$i")" --ttl 60000 >/dev/null
pi=$(rcli PTTL "$tag:lockinfo:info")
ok "renew extends it ($pi ms)" test "$pi" -gt 60000 -a "$pi" -le 70000
"$WFP" lock release info "$(jq -r .token <<<"$i")" >/dev/null
eq "release removes it" "$(rcli EXISTS "$tag:lockinfo:info")" 0
"$WFP" lock acquire brief --owner erin --ttl 50 >/dev/null
ok "a lease that runs out: expired event names the owner" wfp_wait_for bash -c "redis-cli -u '$WFP_REDIS_URL' XRANGE '$tag:events' - + | paste -s -d' ' | grep -q 'id brief state expired owner erin'"
eq "expiry removes it" "$(rcli EXISTS "$tag:lockinfo:brief")" 0

# Lock names equal to the service's key words are just lock names.
declare -A tok
for n in requests replicas svc:lock:requests held waiters seq; do
  tok[$n]=$("$WFP" lock acquire "$n" --owner kw --ttl 20000 --json | jq -r .token)
  ok "renew lock '$n'" "$WFP" lock renew "$n" "${tok[$n]}" --ttl 20000
done
eq "request stream untouched" "$(rcli TYPE "$tag:svc:lock:requests")" stream
eq "held set untouched" "$(rcli TYPE "$tag:locks:held")" zset
eq "waiters set untouched" "$(rcli TYPE "$tag:locks:waiters")" none
( "$WFP" lock acquire requests --owner w --wait 5000 --json >"$TMP/kw.json" ) &
kw=$!
ok "waiting for lock 'requests'" wfp_wait_for zcard_is "$tag:lockq:requests" 1
ok "release lock 'requests'" "$WFP" lock release requests "${tok[requests]}"
wait "$kw"
eq "the waiter got it through wfp-lock" "$(jq -r .owner "$TMP/kw.json")" w
for n in replicas svc:lock:requests held waiters seq; do
  ok "release lock '$n'" "$WFP" lock release "$n" "${tok[$n]}"
done
ok "release the waiter's lock" "$WFP" lock release requests "$(jq -r .token "$TMP/kw.json")"
ok "service alive" kill -0 "$LOCK_PID"
