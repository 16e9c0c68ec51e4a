# A pool's capacity under concurrent reservations: 20 `wfp rsv create` at
# once against a pool of capacity 10 accept exactly the ones that fit and
# refuse the others with a message naming the pool; `used` (sampled all
# the time by a redis-cli in a loop) never exceeds the capacity and ends
# equal to the sum over the active reservations, also when some of the
# accepted ones fail and give their capacity back.
. "$(dirname "$0")/lib.sh"
. "$here/provision.bash"
start_all
ok "pool cap made" "$WFP" pool set cap --capacity 10
samples="$TMP/samples"
# (redis-cli itself, not the rcli function: $! of a function run with & is
# a subshell, and killing it left redis-cli sampling for ever)
redis-cli -u "$WFP_REDIS_URL" -r -1 -i 0.005 HGET "$tag:pool:cap" used >"$samples" 2>/dev/null &
sampler=$!
at_exit kill_quiet "$sampler"

# slot_file NAME AMOUNT [FAIL]: one item of AMOUNT on the pool cap (the
# fake cloud's ip class, 30 ms a step; failing at FAIL).
slot_file() {
  jq -n --arg name "$1" --argjson n "$2" --arg cloud "$CLOUD" --arg fail "${3:-}" \
    '{name: $name, items: [{name: "slot", pool: "cap", amount: $n, class: "ip",
      args: ({cloud: $cloud, pause_ms: 30} + (if $fail != "" then {fail: $fail} else {} end))}]}' \
    >"$TMP/$1.json"
  echo "$TMP/$1.json"
}

# burst TAG AMOUNT [FAIL_ODD]: 20 creates at once (ids TAG-1..20, the odd
# ones failing at FAIL_ODD); their exit statuses in $TMP/TAG-N.rc.
burst() {
  local i f
  for i in $(seq 1 20); do
    f=$(slot_file "$1-$i" "$2" "$([ $((i % 2)) = 1 ] && echo "${3:-}")")
    ( rc=0; "$WFP" rsv create "$f" --id "$1-$i" >"$TMP/$1-$i.out" 2>"$TMP/$1-$i.err" || rc=$?
      echo "$rc" >"$TMP/$1-$i.rc" ) &
  done
  wait_for_rcs "$1"
}
wait_for_rcs() {
  local i
  for i in $(seq 1 20); do ok "create $1-$i ended" wfp_wait_for test -s "$TMP/$1-$i.rc"; done
}

# accepted TAG: the ids whose create exited 0, one a line.
accepted() { local i; for i in $(seq 1 20); do [ "$(cat "$TMP/$1-$i.rc")" = 0 ] && echo "$1-$i"; done; true; }
refused() { local i; for i in $(seq 1 20); do [ "$(cat "$TMP/$1-$i.rc")" != 0 ] && echo "$1-$i"; done; true; }

# active_sum: the sum of the amounts the active reservations hold of cap.
active_sum() {
  local id s=0
  for id in $(rcli ZRANGE "$tag:rsvs:active" 0 -1); do
    s=$((s + $(rsv_field "$id" pools | awk '{ for (i = 1; i < NF; i += 2) if ($i == "cap") print $(i + 1) }')))
  done
  echo "$s"
}

# settle IDS...: waits until none of the reservations is pending.
settle() {
  local id
  for id in "$@"; do
    ok "$id settles" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' HGET '$tag:rsv:$id' state)\" != pending ]"
  done
}

# check_refused TAG: every refused create exited 1 with one line naming
# the pool, and left no reservation behind.
check_refused() {
  local id
  for id in $(refused "$1"); do
    eq "$id: exit 1" "$(cat "$TMP/$id.rc")" 1
    ok "$id: names pool cap ($(cat "$TMP/$id.err"))" grep -q "pool 'cap'" "$TMP/$id.err"
    eq "$id: one line" "$(wc -l <"$TMP/$id.err")" 1
    eq "$id: no reservation" "$(rcli EXISTS "$tag:rsv:$id")" 0
  done
}

# 1. amount 1: exactly 10 fit.
burst a 1
eq "10 accepted" "$(accepted a | wc -l)" 10
check_refused a
settle $(accepted a)
for id in $(accepted a); do eq "$id active" "$(rsv_field "$id" state)" active; done
eq "used 10" "$(used cap)" 10
eq "used = sum over active" "$(active_sum)" 10
eq "reservations 10" "$(rcli HGET "$tag:pool:cap" reservations)" 10
eq "10 ips in the cloud" "$(cloud_files | wc -l)" 10
rc=0
"$WFP" pool set cap --capacity 5 2>"$TMP/err" || rc=$?
eq "shrinking below used refused" "$rc" 1
ok "says so ($(cat "$TMP/err"))" grep -q "10 used" "$TMP/err"
eq "capacity kept" "$(rcli HGET "$tag:pool:cap" capacity)" 10

# Released, all at once: capacity back.
for id in $(accepted a); do "$WFP" rsv release "$id" --wait >/dev/null 2>&1 & done
wait_rel() { local id; for id in "$@"; do ok "$id released" wait_rsv "$id" released 20; done; }
wait_rel $(accepted a)
eq "used 0 after the releases" "$(used cap)" 0
eq "reservations 0" "$(rcli HGET "$tag:pool:cap" reservations)" 0
eq "cloud empty" "$(cloud_files | wc -l)" 0

# 2. amount 3: exactly 3 fit (9 of 10; a 4th would need 12).
burst b 3
eq "3 accepted" "$(accepted b | wc -l)" 3
check_refused b
ok "a refusal says what is free ($(cat "$TMP/$(refused b | head -n 1).err"))" \
  grep -q "1 free of 10; 3 asked" "$TMP/$(refused b | head -n 1).err"
settle $(accepted b)
eq "used 9" "$(used cap)" 9
eq "used = sum over active" "$(active_sum)" 9
wait_rel_all() { local id; for id in "$@"; do "$WFP" rsv release "$id" >/dev/null; done; wait_rel "$@"; }
wait_rel_all $(accepted b)
eq "used 0 again" "$(used cap)" 0

# 3. amount 1, the odd ones failing at configure: the failed ones give
# their capacity back (some of the later creates may take it: at least 10
# accepted), used ends = the active ones.
burst c 1 configure
nacc=$(accepted c | wc -l)
ok "at least 10 accepted ($nacc)" test "$nacc" -ge 10
check_refused c
settle $(accepted c)
nact=$(rcli ZCARD "$tag:rsvs:active")
ok "some failed, some active ($nact active)" test "$nact" -gt 0 -a "$nact" -le 10
for id in $(accepted c); do
  case $id in
  c-*[13579]) eq "$id failed" "$(rsv_field "$id" state)" failed ;;
  *) eq "$id active" "$(rsv_field "$id" state)" active ;;
  esac
done
eq "used = the active ones" "$(used cap)" "$nact"
eq "used = sum over active" "$(active_sum)" "$nact"
eq "files = the active ones" "$(cloud_files | wc -l)" "$nact"

kill_quiet "$sampler"
n=$(grep -c . "$samples" || true)
max=$(sort -n "$samples" | tail -n 1)
ok "sampled used throughout ($n samples)" [ "$n" -ge 50 ]
ok "used never exceeded 10 (max $max)" [ "$max" -le 10 ]
ok "used reached 10" grep -qx 10 "$samples"
finish
