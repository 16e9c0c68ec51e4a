# Bad reservation files are refused with a clear one-line message and
# change nothing: unknown pool, zero or negative amounts, unknown class, a
# class file that does not parse or breaks the class rules, oversize, too
# deep, unknown keys, bad names. The CLI refuses what it can check alone
# with exit 2 before sending anything; what needs the pools or the classes
# is refused by wfp-reservation (exit 1). Each time the keys under the
# prefix (but replies) and the pools' hashes are the same before and after.
. "$(dirname "$0")/lib.sh"
. "$here/provision.bash"
printf '{not json' >"$CLASSES/broken.json"
jq '. + {unreserve: ["fake-cloud", "ip", "destroy"]}' "$CLASSES/ip.json" >"$CLASSES/both.json"
jq 'del(.acquire)' "$CLASSES/ip.json" >"$CLASSES/noacquire.json"
start_all
example_pools
# Something to keep unchanged: one active reservation.
ok "one active" timeout 30 "$WFP" rsv create "$(rsv_file good)" --id good --wait

# snapshot: the keys (but replies, which come and go with their TTL), the
# pools' hashes, the job stream's length and the cloud's files.
snapshot() {
  rcli --scan --pattern "$tag*" | grep -v ":reply:" | sort
  local p
  for p in ips volumes vcpus; do rcli HGETALL "$tag:pool:$p" | paste - - | sort; done
  rcli XLEN "$tag:jobs:stream"
  rcli HGETALL "$tag:rsv:good" | paste - - | grep -v '^updated_at' | sort
  cloud_files
}

# refused NAME CODE PATTERN FILE: `wfp rsv create FILE` exits CODE with one
# line on stderr matching PATTERN (grep -E), and nothing changed.
refused() {
  local before after rc=0
  before=$(snapshot)
  "$WFP" rsv create "$4" >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "$1: exit status" "$rc" "$2"
  eq "$1: one line" "$(wc -l <"$TMP/err")" 1
  ok "$1: clear message ($(cat "$TMP/err"))" grep -qE "^wfp: .*($3)" "$TMP/err"
  eq "$1: nothing on stdout" "$(cat "$TMP/out")" ""
  sleep 0.1
  after=$(snapshot)
  eq "$1: nothing changed" "$after" "$before"
}

# bad NAME JQ_FILTER: a reservation file made from the small server.
bad() { rsv_file "$1" "${2:-.}"; }

refused "unknown pool" 1 "pool 'nosuch'" "$(bad p1 '.items[0].pool = "nosuch"')"
refused "zero amount" 2 "amount" "$(bad p2 '.items[1].amount = 0')"
refused "negative amount" 2 "amount" "$(bad p3 '.items[1].amount = -20')"
refused "fractional amount" 2 "amount" "$(bad p4 '.items[1].amount = 1.5')"
refused "text amount" 2 "amount" "$(bad p5 '.items[1].amount = "20"')"
refused "amount over its limit" 2 "amount" "$(bad p6 '.items[1].amount = 1000000000001')"
refused "no room" 1 "pool 'vcpus'.*free" "$(bad p7 '.items[2].amount = 7')"
refused "unknown class" 1 "class 'nosuch'" "$(bad c1 '.items[2].class = "nosuch"')"
refused "class file does not parse" 1 "broken" "$(bad c2 '.items[2].class = "broken"')"
refused "class with destroy and unreserve" 1 "both.*destroy" "$(bad c3 '.items[0].class = "both"')"
refused "class without acquire" 1 "noacquire.*acquire" "$(bad c4 '.items[0].class = "noacquire"')"
refused "class name with a slash" 2 "class" "$(bad c5 '.items[0].class = "../ip"')"
refused "unknown key" 2 "colour" "$(bad k1 '.colour = "red"')"
refused "unknown item key" 2 "size" "$(bad k2 '.items[0].size = 3')"
refused "no name" 2 "name" "$(bad k3 'del(.name)')"
refused "no items" 2 "item" "$(bad k4 '.items = []')"
refused "bad item name" 2 "item" "$(bad k5 '.items[0].name = "a/b"')"
refused "two items one name" 2 "disk" "$(bad k6 '.items[0].name = "disk"')"
refused "an arg named rsv_" 2 "rsv_id" "$(bad k7 '.items[0].args.rsv_id = "x"')"
refused "zero ttl" 2 "ttl" "$(bad k8 '.ttl_ms = 0')"
refused "ttl over a week" 2 "ttl" "$(bad k9 '.ttl_ms = 604800001')"
printf '{"name": "x", "items": [' >"$TMP/trunc.json"
refused "not JSON" 2 "JSON|json|parse" "$TMP/trunc.json"
# Oversize: a 70,000-byte arg value.
jq --arg big "$(head -c 70000 /dev/zero | tr '\0' a)" '.items[0].args.note = $big' \
  "$(bad o1)" >"$TMP/big.json"
refused "oversize" 2 "65536|WFP_RSV_FILE_MAX|too (big|large|long)" "$TMP/big.json"
# Too deep: sub-reservations nested 9 levels (8 is the limit).
deep() {
  jq -n --argjson n "$1" --arg cloud "$CLOUD" 'def sub($d): {name: "s\($d)",
      items: [{name: "i\($d)", pool: "ips", amount: 1, class: "ip", args: {cloud: $cloud}}]}
      + (if $d < $n then {reservations: [sub($d + 1)]} else {} end);
    {name: "deep", items: [{name: "top", pool: "ips", amount: 1, class: "ip", args: {cloud: $cloud}}],
     reservations: [sub(1)]}'
}
deep 9 >"$TMP/deep9.json"
refused "too deep" 2 "deep|depth|nest" "$TMP/deep9.json"
deep 7 >"$TMP/deep7.json"
# (7 sub-levels fit, but need 8 addresses: 1 is used by good, 8 in the pool.)
ok "7 levels fit" "$WFP" pool set ips --capacity 9
ok "7 levels accepted" timeout 30 "$WFP" rsv create "$TMP/deep7.json" --id deep7 --wait
eq "deep7: 8 ips" "$(used ips)" 9
finish
