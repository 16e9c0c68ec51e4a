# The lock scripts called directly, as another language would (EVALSHA):
# every script refuses arguments it does not expect (counts, names,
# owners, tokens, integers out of range, keys that do not match) with
# BADARG before any write; and a resource's fence check refuses a lower
# fence, and an equal fence from a different owner.
. "$(dirname "$0")/lib.sh"

# load NAME: loads the script's full text, prints its SHA-1.
load() { rcli SCRIPT LOAD "$("$WFP_BIN/tests/script_text" "$1")"; }
acq=$(load lock_acquire)
rel=$(load lock_release)
ren=$(load lock_renew)
tick=$(load lock_tick)
fence=$(load fence_check)
tok="alice/0123456789abcdef0123456789abcdef"
L="$tag:lock:"
keys_now() { rcli --scan --pattern "$tag*" | wc -l; }

# refused DESCRIPTION SHA NUMKEYS KEYS... ARGS...: the call must fail with
# BADARG and leave no key of this test's prefix behind.
refused() {
  local d=$1 out; shift
  out=$(rcli EVALSHA "$@" 2>&1) || true
  case "$out" in
    *BADARG*) ;;
    *) fail "$d: not refused with BADARG: $out" ;;
  esac
  eq "$d: nothing written" "$(keys_now)" 0
}

# The acquire: ARGV tag owner token ttl wait reply deadline names...
a() { echo "$acq" 1 "${L}db" "$tag" alice "$tok" 1000 0 '' 0; }
refused "acquire without names" $(a)
refused "acquire, 17 names" "$acq" 1 "${L}n1" "$tag" alice "$tok" 1000 0 '' 0 $(seq -f 'n%g' 1 17)
refused "acquire, owner with a space" "$acq" 1 "${L}db" "$tag" 'al ice' "$tok" 1000 0 '' 0 db
refused "acquire, token of another owner" "$acq" 1 "${L}db" "$tag" bob "$tok" 1000 0 '' 0 db
refused "acquire, token not hex" "$acq" 1 "${L}db" "$tag" alice "alice/0123456789ABCDEF0123456789abcdef" 1000 0 '' 0 db
refused "acquire, short token" "$acq" 1 "${L}db" "$tag" alice "alice/0123" 1000 0 '' 0 db
for ttl in 0 9 86400001 abc -5 1e3 '' 99999999999999999; do
  refused "acquire, ttl '$ttl'" "$acq" 1 "${L}db" "$tag" alice "$tok" "$ttl" 0 '' 0 db
done
for wait in -1 3600001 x; do
  refused "acquire, wait '$wait'" "$acq" 1 "${L}db" "$tag" alice "$tok" 1000 "$wait" '' 0 db
done
refused "acquire, reply key outside the prefix" "$acq" 1 "${L}db" "$tag" alice "$tok" 1000 10 'other:reply:x' 0 db
refused "acquire, deadline not a time" "$acq" 1 "${L}db" "$tag" alice "$tok" 1000 10 "$tag:reply:x" soon db
refused "acquire, name with a space" "$acq" 1 "${L}a b" "$tag" alice "$tok" 1000 0 '' 0 'a b'
refused "acquire, name of 129 bytes" "$acq" 1 "${L}$(printf 'n%.0s' $(seq 129))" "$tag" alice "$tok" 1000 0 '' 0 "$(printf 'n%.0s' $(seq 129))"
refused "acquire, a name twice" "$acq" 1 "${L}db" "$tag" alice "$tok" 1000 0 '' 0 db db
refused "acquire, key of another lock" "$acq" 1 "${L}other" "$tag" alice "$tok" 1000 0 '' 0 db
refused "acquire, two keys" "$acq" 2 "${L}db" "${L}x" "$tag" alice "$tok" 1000 0 '' 0 db
refused "acquire, bad tag" "$acq" 1 "{x:lock:db" "{x" alice "$tok" 1000 0 '' 0 db
out=$(rcli EVALSHA "$acq" 1 "${L}db" "$tag" alice "$tok" 1000 0 '' 0 db | paste -s -d' ')
eq "good acquire granted" "${out%% *}" granted
flush_prefix

# A request served at or past its deadline (less the 100 ms reply margin)
# is refused with TIMEOUT even with its lock free: its client is gone.
redis_ms() { local t; t=($(rcli TIME)); echo $(( t[0] * 1000 + t[1] / 1000 )); }
R="$tag:reply:late"
out=$(rcli EVALSHA "$acq" 1 "${L}late" "$tag" alice "$tok" 30000 5000 "$R" 1000 late | paste -s -d' ')
eq "late request (deadline long past) refused" "${out%% *}" timeout
eq "late request: lock not held" "$(rcli EXISTS "${L}late")" 0
ok "late request: its reply says TIMEOUT" grep -q "TIMEOUT" <<<"$(rcli LRANGE "$R" 0 -1)"
out=$(rcli EVALSHA "$acq" 1 "${L}late" "$tag" alice "$tok" 30000 0 '' 1000 late | paste -s -d' ')
eq "late direct call refused" "${out%% *}" timeout
eq "late direct call: lock not held" "$(rcli EXISTS "${L}late")" 0
out=$(rcli EVALSHA "$acq" 1 "${L}late" "$tag" alice "$tok" 30000 5000 "$R" "$(( $(redis_ms) + 50 ))" late | paste -s -d' ')
eq "request within the reply margin of its deadline refused" "${out%% *}" timeout
eq "within the margin: lock not held" "$(rcli EXISTS "${L}late")" 0
out=$(rcli EVALSHA "$acq" 1 "${L}late" "$tag" alice "$tok" 30000 5000 "$R" "$(( $(redis_ms) + 10000 ))" late | paste -s -d' ')
eq "request in time granted" "${out%% *}" granted
# A repeat of a grant that still holds is answered as the first time,
# deadline or not; once released, a late repeat is refused.
again=$(rcli EVALSHA "$acq" 1 "${L}late" "$tag" alice "$tok" 30000 5000 "$R" 1000 late | paste -s -d' ')
eq "late repeat of a held grant: same answer" "$again" "$out"
rcli EVALSHA "$rel" 1 "${L}late" "$tag" late "$tok" '' >/dev/null
out=$(rcli EVALSHA "$acq" 1 "${L}late" "$tag" alice "$tok" 30000 5000 "$R" 1000 late | paste -s -d' ')
eq "late repeat after release refused" "${out%% *}" timeout
eq "late repeat: lock not held" "$(rcli EXISTS "${L}late")" 0
flush_prefix

# A refused value is quoted as clean text: bytes outside printable ASCII
# as \xNN, cut at 140 bytes of the value (never inside a character).
clean() { ! LC_ALL=C grep -q $'[^\t -~]' <<<"$1"; }
out=$(rcli EVALSHA "$acq" 1 "${L}db" "$tag" $'al\xffice' "$tok" 1000 0 '' 0 db 2>&1 || true)
ok "bad owner's bytes shown as \\xNN" grep -qF "got 'al\xFFice'" <<<"$out"
ok "bad owner: message is clean text" clean "$out"
long=$(printf 'é%.0s' $(seq 100))
out=$(rcli EVALSHA "$acq" 1 "${L}db" "$tag" alice "$tok" 1000 0 '' 0 "x$long" 2>&1 || true)
ok "long bad name: refused" grep -q "BADARG ARGV\[8\] lock name" <<<"$out"
ok "long bad name: message is clean text" clean "$out"
ok "long bad name: cut, and says so" grep -qF "\xA9\xC3'..." <<<"$out"
out=$(rcli EVALSHA "$fence" 1 "${tag}:fence:r" "$tag" 5 $'b\xc3' 2>&1 || true)
ok "fence check: bad owner's bytes shown as \\xNN" grep -qF "got 'b\xC3'" <<<"$out"
eq "nothing written by the refusals" "$(keys_now)" 0

# Release: ARGV tag name token reply; renew: tag name token ttl reply.
refused "release, 3 arguments" "$rel" 1 "${L}x" "$tag" x "$tok"
refused "release, bad token" "$rel" 1 "${L}x" "$tag" x nonsense ''
refused "release, bad name" "$rel" 1 "${L}x!" "$tag" 'x!' "$tok" ''
refused "release, key of another lock" "$rel" 1 "${L}y" "$tag" x "$tok" ''
refused "release, bad reply key" "$rel" 1 "${L}x" "$tag" x "$tok" "$tag:job:1"
refused "renew, 4 arguments" "$ren" 1 "${L}x" "$tag" x "$tok" 1000
refused "renew, ttl 0" "$ren" 1 "${L}x" "$tag" x "$tok" 0 ''
refused "renew, ttl too long" "$ren" 1 "${L}x" "$tag" x "$tok" 86400001 ''
refused "renew, bad owner in token" "$ren" 1 "${L}x" "$tag" x "a b/0123456789abcdef0123456789abcdef" 1000 ''
# The tick: KEYS the held set, ARGV tag limit.
refused "tick, limit 0" "$tick" 1 "$tag:locks:held" "$tag" 0
refused "tick, limit too high" "$tick" 1 "$tag:locks:held" "$tag" 10001
refused "tick, another key" "$tick" 1 "$tag:locks:waiters" "$tag" 10
refused "tick, 3 arguments" "$tick" 1 "$tag:locks:held" "$tag" 10 10

# Fence check: KEYS {p}:fence:RESOURCE, ARGV tag fence owner.
F="$tag:fence:"
refused "fence 0" "$fence" 1 "${F}r" "$tag" 0 alice
refused "fence not a number" "$fence" 1 "${F}r" "$tag" 1x alice
refused "fence past 2^53" "$fence" 1 "${F}r" "$tag" 9007199254740992 alice
refused "fence without owner" "$fence" 1 "${F}r" "$tag" 5
refused "fence, owner with a control byte" "$fence" 1 "${F}r" "$tag" 5 $'a\tb'
refused "fence, owner over 127 bytes" "$fence" 1 "${F}r" "$tag" 5 "$(printf 'o%.0s' $(seq 128))"
refused "fence, key outside the family" "$fence" 1 "$tag:job:r" "$tag" 5 alice
refused "fence, bad resource name" "$fence" 1 "${F}r r" "$tag" 5 alice
tick_out=$(rcli EVALSHA "$tick" 1 "$tag:locks:held" "$tag" 10 | paste -s -d' ')
eq "tick still works (nothing due, no end left)" "$(echo "$tick_out" | cut -d' ' -f1-3,5)" "0 0 0 -1"
now_s=$(rcli TIME | head -1)
ok "tick reports the server clock" test "$(( $(echo "$tick_out" | cut -d' ' -f4) / 1000 - now_s ))" -ge -2

# An equal fence is accepted again only from the owner it came from.
fc() { rcli EVALSHA "$fence" 1 "${F}res" "$tag" "$1" "$2" 2>&1; }
eq "a job's owner (UTF-8 text) may write" "$(fc 90 'exec é/1')" 90
eq "first write" "$(fc 100 alice)" 100
eq "same fence, same owner" "$(fc 100 alice)" 100
ok "same fence, other owner refused" grep -q "^STALE fence 100 was accepted from alice" <<<"$(fc 100 bob)"
ok "lower fence refused" grep -q "^STALE fence 99 is older than 100" <<<"$(fc 99 alice)"
eq "higher fence" "$(fc 101 bob)" 101
eq "records owner" "$(rcli HGET "${F}res" owner)" bob
eq "records fence" "$(rcli HGET "${F}res" fence)" 101
ok "old owner's equal fence refused" grep -q "^STALE" <<<"$(fc 101 alice)"
# A fence a previous version recorded as a plain string is read and kept.
rcli SET "${F}old" 50 >/dev/null
ok "legacy: lower refused" grep -q "^STALE" <<<"$(rcli EVALSHA "$fence" 1 "${F}old" "$tag" 49 alice 2>&1)"
eq "legacy: higher accepted" "$(rcli EVALSHA "$fence" 1 "${F}old" "$tag" 60 alice)" 60
eq "legacy: now a record" "$(rcli TYPE "${F}old")" hash
rcli SET "${F}old2" 50 >/dev/null
eq "legacy: equal fence taken by the first owner" "$(rcli EVALSHA "$fence" 1 "${F}old2" "$tag" 50 carol)" 50
ok "legacy: then refused from another" grep -q "^STALE fence 50 was accepted from carol" <<<"$(rcli EVALSHA "$fence" 1 "${F}old2" "$tag" 50 alice 2>&1)"
# The same through the client library.
ok "library: a fence of bob" "$WFP_BIN/tests/fence_probe" lib bob 7 7 8
rc=0; "$WFP_BIN/tests/fence_probe" lib alice 8 2>"$TMP/probe.err" || rc=$?
eq "library: equal fence of alice refused" "$rc" 1
ok "library: says why" grep -q "STALE fence 8 was accepted from bob, not from alice" "$TMP/probe.err"
eq "library: bad owner refused" "$(status_of "$WFP_BIN/tests/fence_probe" lib $'a\tb' 9)" 1
