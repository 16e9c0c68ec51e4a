# wfp-executor, group commit of the task log: a task starts before its
# running entry is acknowledged while the acknowledged lease has more than
# a third left. A linear workflow of 2,000 noop tasks logs every entry in
# order in far fewer log_append calls than tasks (reverts too); a SIGKILL
# mid-run applies again only tasks whose `applied` was not in the log
# (counter plugin); with a lease that runs short (the first log_append
# held by a proxy) tasks stop starting early and wait for the ack.
. "$(dirname "$0")/lib.sh"
start_board
cnt="$TMP/count"
mkdir -p "$cnt"

# metric PORT NAME: the value of a metric of an executor.
metric() { http_get 127.0.0.1 "$1" /metrics | awk -v n="$2" '$1 == n { print $2 }'; }

# noop_tasks N TAIL: a linear workflow of N noop tasks t0.., then (TAIL
# "fail") a task `last` that fails.
noop_tasks() {
  python3 -c '
import json, sys
n, tail = int(sys.argv[1]), sys.argv[2]
t = [{"task": "t%d" % i, "apply": {"plugin": "noop"},
      "revert": {"plugin": "noop"}} for i in range(n)]
if tail == "fail":
    t.append({"task": "last", "apply": {"plugin": "fail"}})
print(json.dumps({"linear": t}))' "$@"
}

# 1. 2,000 noop tasks: every running+applied in order, few calls.
mport=$(wfp_free_port)
start_executor p1 WFP_METRICS_ADDR=127.0.0.1:$mport
id=$(wf_post lin "$(noop_tasks 2000 none)")
ok "2,000 tasks complete" wait_state "$id" completed 30
want=$(python3 -c 'print(" ".join("t%d:running t%d:applied" % (i, i) for i in range(2000)))')
eq "every entry logged in order" "$(log_states "$id")" "$want"
calls=$(metric "$mport" wfp_executor_log_calls_total)
early=$(metric "$mport" wfp_executor_tasks_started_early_total)
eq "4,000 entries" "$(metric "$mport" wfp_executor_log_entries_total)" 4000
ok "in far fewer calls than tasks ($calls)" [ "$calls" -le 400 ]
ok "tasks started before their ack ($early)" [ "$early" -ge 1000 ]
echo "# 2,000 tasks: $calls calls, $early started early"

# The same for reverts: 2,000 applied, the last task fails, 2,000 reverts.
id=$(wf_post rev "$(noop_tasks 2000 fail)")
ok "reverted" wait_state "$id" reverted 30
want=$(python3 -c '
a = ["t%d:running t%d:applied" % (i, i) for i in range(2000)]
r = ["t%d:reverting t%d:reverted" % (i, i) for i in reversed(range(2000))]
print(" ".join(a + ["last:running last:apply-failed"] + r))')
eq "every revert logged in order" "$(log_states "$id")" "$want"
calls2=$(metric "$mport" wfp_executor_log_calls_total)
ok "reverts in few calls too ($((calls2 - calls)))" [ $((calls2 - calls)) -le 800 ]
stop_daemon "$EXEC_PID"

# 2. SIGKILL mid-run: 2,000 counter tasks (each counts its applications
# in its own file); a task applied twice must be one whose `applied` was
# not in the log when the executor died.
N=2000 # (3,000 exceed the payload limit)
wf=$(python3 -c '
import json, sys
t = [{"task": "c%d" % i, "apply": {"plugin": "counter",
      "args": {"file": "%s/c%d" % (sys.argv[1], i)}}}
     for i in range(int(sys.argv[2]))]
print(json.dumps({"linear": t}))' "$cnt" "$N")
start_executor k1 WFP_PLUGIN_DIR="$WFP_BIN/plugins" WFP_VISIBILITY_MS=1000
k1=$EXEC_PID
id=$(wf_post crash "$wf")
ok "k1 is mid-run" wfp_wait_for bash -c "[ \$(ls '$cnt' | wc -l) -ge 600 ]"
kill -9 "$k1"
sleep 0.3 # a call k1 sent before it died is served or not, now
logged=$(log_states "$id" | tr ' ' '\n' | sed -n 's/^\(c[0-9]*\):applied$/\1/p' | sort)
done1=$(ls "$cnt" | wc -l)
echo "# at the kill: $done1 applied, $(wc -l <<<"$logged") logged"
ok "k1 died mid-run" [ "$done1" -lt "$N" ]
start_executor k2 WFP_PLUGIN_DIR="$WFP_BIN/plugins" WFP_VISIBILITY_MS=1000
ok "completed on k2" wait_state "$id" completed 30
bad="" twice=0
for ((i = 0; i < N; i++)); do
  n=$(<"$cnt/c$i") || n=0
  case $n in
  1) ;;
  2) twice=$((twice + 1))
     grep -qx "c$i" <<<"$logged" && bad="$bad c$i(applied in the log, applied again)" ;;
  *) bad="$bad c$i($n times)" ;;
  esac
done
eq "no logged apply repeated, every task applied" "$bad" ""
echo "# applied twice (not logged at the kill): $twice"
eq "each task applied once in the log" \
  "$(log_states "$id" | tr ' ' '\n' | grep -c ':applied$')" "$N"
stop_daemon "$EXEC_PID"

# 3. The first log_append held by a proxy (lease 6 s): tasks start early
# only until a third of the lease is left (4 s after the claim), then
# wait for the ack; once it comes (released 1.2 s before the lease would
# end) they go on and the job completes.
rport=$(sed -E 's#^redis://([^@/]*@)?[^:/]*:([0-9]+).*#\2#' <<<"$WFP_REDIS_URL")
pport=$(wfp_free_port)
"$WFP_BIN/tests/hold_proxy" "$pport" "$rport" log_append "$TMP/held" "$TMP/go" &
proxy=$!
at_exit kill "$proxy"
rm -f "$cnt"/*
# Plugin tasks (only plugin actions start early): counter hI marks its
# start in a file, then sleep sI paces the run (0.3 s).
tasks=$(python3 -c '
import json, sys
t = []
for i in range(1, 31):
    t.append({"task": "h%d" % i, "apply": {"plugin": "counter",
              "args": {"file": "%s/h%d" % (sys.argv[1], i)}}})
    t.append({"task": "s%d" % i, "apply": {"plugin": "sleep", "args": {"ms": 300}}})
print(json.dumps({"linear": t}))' "$cnt")
start_executor h1 WFP_REDIS_URL="redis://127.0.0.1:$pport" WFP_VISIBILITY_MS=6000 \
  WFP_PLUGIN_DIR="$WFP_BIN/plugins"
id=$(wf_post held "$tasks")
ok "first log_append held" wfp_wait_for test -f "$TMP/held"
sleep 4.4
n1=$(ls "$cnt" | wc -l)
sleep 0.4
n2=$(ls "$cnt" | wc -l)
ok "tasks started while the lease was long ($n1)" [ "$n1" -ge 5 ]
eq "then none while it ran short" "$n2" "$n1"
echo "# held: $n1 tasks started early"
eq "nothing logged yet" "$(rcli XLEN "$tag:job:$id:log")" 0
touch "$TMP/go"
ok "completed after the ack" wait_state "$id" completed 30
eq "each task applied once" "$(cat "$cnt"/* | sort -u | tr '\n' ' ')" "1 "
eq "every task ran" "$(ls "$cnt" | wc -l)" 30
eq "log in order" "$(log_states "$id")" \
  "$(python3 -c 'print(" ".join("h%d:running h%d:applied s%d:running s%d:applied" % (i, i, i, i) for i in range(1, 31)))')"
finish
