# Item progress with real processes: a step whose `running` entry was
# logged but whose action never ran (a release of the pending
# reservation came first: the executor logs it apply-failed with "cancelled
# before its action ran") is not failed, in `wfp rsv show` or in the
# hash; a teardown that failed at a step and is tried again shows the
# step running, not failed too, then done.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"

# slowres: reserve waits rdelay; unconfigure fails while $dir/block
# exists and waits for $dir/go while $dir/hold exists.
jq -n --argjson r "$(sh_act 'sleep "$WFP_IN_rdelay"')" \
  --argjson u "$(sh_act '[ -e "$WFP_IN_dir/block" ] && exit 4; while [ -e "$WFP_IN_dir/hold" ] && [ ! -e "$WFP_IN_dir/go" ]; do sleep 0.05; done; true')" \
  '{reserve: $r, configure: ["true"], acquire: ["true"], poweroff: ["true"],
    unconfigure: $u, unreserve: ["true"]}' >"$CLASSES/slowres.json"
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
start_executor e1 WFP_CONCURRENCY=4 WFP_VISIBILITY_MS=60000 # cancels seen in log replies only
"$REQ" pool_set name=cpus capacity:=100 >/dev/null

# error_of JOB TASK STATE: the error of TASK's STATE entry in JOB's log.
error_of() {
  rcli --raw XRANGE "$tag:job:$1:log" - + | awk -v t="$2" -v s="$3" '
    $0 == "task" { getline; task = $0 }
    $0 == "state" { getline; st = $0 }
    $0 == "error" { getline; if (task == t && st == s) print }'
}
# item_json ID ITEM: the item's object of `wfp rsv show --json`.
item_json() { "$WFP" rsv show "$1" --json | jq -c --arg n "$2" '.items[] | select(.name == $n)'; }

# 1. A release while reserve runs: reserve applies, then configure is
# logged running, and the cancel refuses it before it starts.
d="$OUT/n"
mkdir -p "$d"
f=$(rsv_file n "[$(item a cpus 1 slowres "$(jq -cn --arg d "$d" '{dir: $d, rdelay: "1"}')")]")
create n "$f" >/dev/null
log_is() { [ "$(log_states "$1")" = "$2" ]; }
ok "n: reserve running" wfp_wait_for log_is n.fulfil a.reserve:running
sleep 0.3
"$REQ" release id=n >/dev/null
ok "n released" wait_rsv n released 30
eq "n: configure logged running, then refused" "$(log_states n.fulfil)" \
  "a.reserve:running a.reserve:applied a.configure:running a.configure:apply-failed a.reserve:reverting a.reserve:reverted"
eq "n: the refusal says it never ran" "$(error_of n.fulfil a.configure apply-failed)" "cancelled before its action ran"
j=$(item_json n a)
eq "n: show: phase none" "$(jq -r .phase <<<"$j")" none
eq "n: show: nothing failed" "$(jq -r .failed <<<"$j")" null
eq "n: show: undone unreserve" "$(jq -c .undo <<<"$j")" '["unreserve"]'
eq "n: hash: no failed:a" "$(rsv_field n failed:a)" ""

# 2. A teardown that fails at unconfigure, then one that runs it again.
d="$OUT/t"
mkdir -p "$d"
f=$(rsv_file t "[$(item b cpus 1 slowres "$(jq -cn --arg d "$d" '{dir: $d, rdelay: "0"}')")]")
create t "$f" >/dev/null
ok "t active" wait_rsv t active 30
: >"$d/block"
"$REQ" release id=t >/dev/null
error_set() { [ -n "$(rsv_field "$1" error)" ]; }
ok "t: error set" wfp_wait_for error_set t
eq "t: still active" "$(rsv_state t)" active
j=$(item_json t b)
eq "t: show: unconfigure failed" "$(jq -r .failed <<<"$j")" unconfigure
rm "$d/block"
: >"$d/hold"
"$REQ" release id=t >/dev/null
running_in() { [ "$(log_states "$1" | tr ' ' '\n' | tail -n 1)" = "$2:running" ]; }
ok "t: unconfigure runs again" wfp_wait_for running_in t.release.2 b.unconfigure
j=$(item_json t b)
eq "t: show: running unconfigure" "$(jq -r .running <<<"$j")" unconfigure
eq "t: show: not failed while it runs again" "$(jq -r .failed <<<"$j")" null
: >"$d/go"
ok "t released" wait_rsv t released 30
j=$(item_json t b)
eq "t: show: none, nothing failed" "$(jq -r '.phase + " " + (.failed // "null")' <<<"$j")" "none null"
eq "t: hash: no failed:b" "$(rsv_field t failed:b)" ""
finish
