# The scripts as Redis Functions: the board, the lock service, the
# executor and the CLI load the library wfp_<hash> on first use and again
# after FUNCTION FLUSH + SCRIPT FLUSH mid-run (a restarted or flushed
# Redis), with no call lost; another build's library beside it is left
# alone; and a script refuses the same call with the same error through
# FCALL as through EVAL of its full text.
. "$(dirname "$0")/lib.sh"
own_redis
st="$WFP_BIN/tests/script_text"
lib=$("$st" --library)
name=$(head -1 <<<"$lib" | sed 's/^#!lua name=//')
ok "library name is wfp_ and 12 hex ($name)" grep -qE '^wfp_[0-9a-f]{12}$' <<<"$name"
eq "functions are named after it" "$("$st" --function heartbeat)" "${name}_heartbeat"
eq "bare scripts have no function" "$(status_of "$st" --function request_add)" 2
libs() { rcli FUNCTION LIST | grep -A1 -x library_name | grep '^wfp_' | sort | tr '\n' ' '; }
flush() { rcli FUNCTION FLUSH >/dev/null; rcli SCRIPT FLUSH >/dev/null; }
job='{"name": "f", "payload": {}}'
echo "$job" >"$TMP/job.json"

# Another build's library (same scripts under another name) loaded first:
# ours loads beside it, and neither replaces the other.
other=wfp_0123456789ab
[ "$name" != "$other" ] || fail "test needs another name"
rcli FUNCTION LOAD "${lib//$name/$other}" >/dev/null || fail "other library"

start_board
start_lock
at_exit stop_lock
id=$("$WFP" job post "$TMP/job.json") || fail "post"
eq "both libraries, ours loaded by the board" "$(libs)" "$other $name "
K="$tag:job:zz"
rcli FCALL "${other}_heartbeat" 1 "$K" "$tag" zz tok 30000 >"$TMP/o" 2>&1 || true
ok "the other library still answers" grep -q NOJOB "$TMP/o"

# The board: flushed mid-run, the next post and claim still work.
flush
id2=$("$WFP" job post "$TMP/job.json") || fail "post after a flush"
eq "board reloaded ours only" "$(libs)" "$name "
read -r cid tok fence _ < <("$WFP" job claim --owner me) || fail "claim"
eq "claimed the first job" "$cid" "$id"
flush
ok "heartbeat after a flush" "$WFP" job heartbeat "$cid" "$tok"
flush
ok "complete after a flush" "$WFP" job complete "$cid" "$tok"
eq "it completed" "$(job_state "$id")" completed

# The CLI's own link (lock acquire/release call the scripts directly).
flush
a=$("$WFP" lock acquire db --owner alice --json) || fail "CLI lock after a flush"
eq "CLI reloaded it" "$(libs)" "$name "
flush
ltok=$(jq -r .token <<<"$a")
ok "CLI release after a flush" "$WFP" lock release db "$ltok"

# The lock service: a wait goes through it.
flush
b=$("$WFP" lock acquire q --owner bob --wait 2000 --json) || fail "lock service after a flush"
ok "a grant" jq -e .token <<<"$b" >/dev/null
eq "loaded again" "$(libs)" "$name "

# The executor: a workflow before and after a flush, its task log whole.
start_executor e1
w="{\"linear\": [$(task a true), $(task b true)]}"
j1=$(wf_post w1 "$w")
ok "workflow completes" wait_state "$j1" completed
flush
j2=$(wf_post w2 "$w")
ok "workflow after a flush completes" wait_state "$j2" completed
eq "its log" "$(log_states "$j2")" "a:running a:applied b:running b:applied"
eq "one library" "$(libs)" "$name "
eq "no job left claimed" "$(rcli ZCARD "$tag:jobs:leases")" 0

# ACL users: one who may FCALL but not load the library, one who may not
# FCALL at all: the CLI's link falls back to EVAL and EVALSHA. (The
# daemons are stopped: their timers would load the library meanwhile.)
stop_executors
stop_lock
stop_board
url=$WFP_REDIS_URL
rcli ACL SETUSER noload on '>pw' '~*' '&*' +@all -function >/dev/null
rcli ACL SETUSER nofcall on '>pw' '~*' '&*' +@all -function -fcall >/dev/null
for u in noload nofcall; do
  flush
  rcli CONFIG RESETSTAT >/dev/null
  WFP_REDIS_URL="redis://$u:pw@${url#redis://}" "$WFP" lock acquire "acl-$u" \
    --owner "$u" --json >"$TMP/$u.json" || fail "$u: lock acquire"
  ok "$u: a grant" jq -e .token "$TMP/$u.json" >/dev/null
  eq "$u: no library loaded" "$(libs)" ""
  ok "$u: sent the full text" grep -q '^cmdstat_eval:calls=1,' <<<"$(rcli INFO commandstats)"
done

# The same refusals through FCALL and EVAL (error text after trimming
# Redis's " script: ..." suffix, as the C code does).
same() {
  local d=$1 s=$2 f e; shift 2
  f=$(rcli FCALL "$("$st" --function "$s")" "$@" 2>&1 | sed 's/ script: .*//')
  e=$(rcli EVAL "$("$st" "$s")" "$@" 2>&1 | sed 's/ script: .*//')
  eq "$d: same through FCALL and EVAL" "$f" "$e"
  ok "$d: refused ($f)" grep -qE '^(BADARG|STALE|NOJOB|ERR)' <<<"$f"
}
rcli FUNCTION LOAD "$lib" >/dev/null || fail "load the library"
same "heartbeat arg count" heartbeat 1 "$K" "$tag" zz
same "heartbeat stale token" heartbeat 1 "$K" "$tag" zz tok 30000
same "log_append bad fence" log_append 2 "$K" "$K:log" "$tag" zz tok 0 0 0
same "log_append bad state" log_append 2 "$K" "$K:log" "$tag" zz tok 5 0 1 t1 bogus 1 '' '' '' '' ''
same "finish bad outcome" finish 1 "$K" "$tag" zz tok 0 maybe '' 1000
same "post bad payload" post 1 "$K" "$tag" zz n 1 '[1]' '' 1000
same "lock_acquire bad owner" lock_acquire 1 "$tag:lock:x" "$tag" 'bad owner'
same "fence_check bad tag" fence_check 1 x y
finish
