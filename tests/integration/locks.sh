# The lock service end to end: mutual exclusion under contention, expiry,
# wrong tokens, waiting order and timeouts, multi-lock without deadlock,
# bad requests.
. "$(dirname "$0")/lib.sh"
at_exit stop_lock
start_lock
events() { rcli XRANGE "$tag:events" - + | paste -s -d' '; }

# Mutual exclusion: 16 clients x 500 cycles on 4 locks, counter under a fence check.
out=$("$WFP_BIN/tests/lock_stress" 16 500 4)
eq "no two holders" "$out" "violations 0"
total=0
for i in 0 1 2 3; do total=$((total + $(rcli GET "$tag:counter:mx-$i"))); done
eq "every cycle counted" "$total" 8000

# Acquire shows in GET/PTTL; a wrong token is refused. (A 2 s lease: the
# checks while it holds must not outlast it on a loaded machine.)
a=$("$WFP" lock acquire db --ttl 2000 --owner alice --json)
ta=$(jq -r .token <<<"$a")
fa=$(jq -r .fence <<<"$a")
eq "GET shows the holder's token" "$(rcli GET "$tag:lock:db")" "$ta"
ok "PTTL shows time left" test "$(rcli PTTL "$tag:lock:db")" -gt 0
eq "show --json owner" "$("$WFP" lock show db --json | jq -r .owner)" alice
eq "held: busy without wait" "$(status_of "$WFP" lock acquire db --owner bob)" 3
eq "wrong token renew refused" "$(status_of "$WFP" lock renew db "bob/0123456789abcdef0123456789abcdef")" 1
eq "wrong token release refused" "$(status_of "$WFP" lock release db "bob/0123456789abcdef0123456789abcdef")" 1

# Expiry: alice stops renewing; bob, waiting, gets the lock; alice is refused.
b=$("$WFP" lock acquire db --owner bob --wait 6000 --json)
eq "waiter gets it after expiry" "$(jq -r .owner <<<"$b")" bob
ok "fence grew" test "$(jq -r .fence <<<"$b")" -gt "$fa"
ok "expired event names the lost owner" grep -q "state expired owner alice" <<<"$(events)"
eq "late renew refused" "$(status_of "$WFP" lock renew db "$ta")" 1
eq "late release refused" "$(status_of "$WFP" lock release db "$ta")" 1
ok "old fence refused by the resource" bash -c "! '$WFP_BIN/tests/fence_probe' db bob $(jq -r .fence <<<"$b") $fa"
ok "release" "$WFP" lock release db "$(jq -r .token <<<"$b")" --json

# Waiting order: first come, first served; a wait that runs out is told so.
h=$("$WFP" lock acquire q --owner holder --ttl 10000 --json)
waiters=()
for w in w1 w2 w3; do
  ( "$WFP" lock acquire q --owner "$w" --wait 8000 --ttl 10000 --json >"$TMP/$w.json"
    echo "$w" >>"$TMP/order"
    "$WFP" lock release q "$(jq -r .token "$TMP/$w.json")" >/dev/null ) &
  waiters+=($!)
  sleep 0.2
done
rc=0; "$WFP" lock acquire q --owner late --wait 300 2>"$TMP/late.err" || rc=$?
eq "wait runs out: non-zero" "$rc" 3
ok "told it timed out" grep -q TIMEOUT "$TMP/late.err"
"$WFP" lock release q "$(jq -r .token <<<"$h")" >/dev/null
wait "${waiters[@]}"
eq "served in arrival order" "$(paste -s -d' ' "$TMP/order")" "w1 w2 w3"

# Multi-lock, overlapping sets from two directions, all or nothing.
m=$("$WFP" lock acquire x y --owner m --json)
eq "two locks, one token" "$(jq -r '.[0].token == .[1].token' <<<"$m")" true
eq "all or nothing: y busy, x not taken" "$(status_of "$WFP" lock acquire z y --owner n)" 3
eq "z left free" "$(rcli EXISTS "$tag:lock:z")" 0
"$WFP" lock release x "$(jq -r '.[0].token' <<<"$m")" >/dev/null
"$WFP" lock release y "$(jq -r '.[0].token' <<<"$m")" >/dev/null
pairs=()
for dir in "x y" "y x"; do
  ( for i in $(seq 1 40); do
      t=$("$WFP" lock acquire $dir --owner "o-${dir// /}" --wait 10000 --ttl 5000 --json | jq -r '.[0].token') || exit 1
      for n in $dir; do "$WFP" lock release "$n" "$t" >/dev/null || exit 1; done
    done ) &
  pairs+=($!)
done
rc=0; for j in "${pairs[@]}"; do wait "$j" || rc=1; done
eq "overlapping sets complete without deadlock" "$rc" 0

# Bad requests: clear errors; malformed stream entries are dead-lettered.
eq "illegal name" "$(status_of "$WFP" lock acquire 'bad name!')" 2
ok "illegal name message" bash -c "'$WFP' lock acquire 'a{b}' 2>&1 | grep -q 'is not 1-128'"
eq "ttl 0" "$(status_of "$WFP" lock acquire t --ttl 0)" 2
eq "absurd ttl" "$(status_of "$WFP" lock acquire t --ttl 999999999999)" 2
eq "bad token" "$(status_of "$WFP" lock release t nonsense)" 2
req="$tag:svc:lock:requests"
printf '\xdd\xff\x00\x00\x00' | rcli -x XADD "$req" '*' op acquire timeout_ms 60000 body >/dev/null
printf '\x81\xa4name\xa1x' | rcli -x XADD "$req" '*' op acquire timeout_ms 60000 body >/dev/null
printf '\x85\xa4name\xa2a!\xa5owner\xa1o\xa5token\xa1t\xa6ttl_ms\x0a\xa7wait_ms\x00' | rcli -x XADD "$req" '*' op acquire timeout_ms 60000 body >/dev/null
ok "malformed requests dead-lettered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XLEN '$tag:deadletter')\" = 3 ]"
ok "still serving" "$WFP" lock acquire after --owner z
ok "service alive" kill -0 "$LOCK_PID"

# The same acquire request served twice is granted once.
tok=o/0123456789abcdef0123456789abcdef
for r in a b; do
  printf '\x84\xa4name\xa3rep\xa5owner\xa1o\xa5token\xd9\x22%s\xa6ttl_ms\xcd\x13\x88' "$tok" |
    rcli -x XADD "$req" '*' op acquire timeout_ms 60000 reply "$tag:reply:rep-$r" body >/dev/null
done
ok "both answered" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' LLEN '$tag:reply:rep-b')\" = 1 ]"
eq "first answered" "$(rcli LLEN "$tag:reply:rep-a")" 1
eq "held under the token" "$(rcli GET "$tag:lock:rep")" "$tok"
eq "granted once" "$(rcli XRANGE "$tag:events" - + | grep -c '^rep$')" 1
