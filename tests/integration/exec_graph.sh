# wfp-executor, graphs and task features: a task starts only after what
# it requires has applied; independent tasks overlap in time; an
# unordered pattern runs in parallel up to WFP_CONCURRENCY; outputs flow
# to later tasks and to a revert; retries wait a doubling backoff; a
# timeout kills the task with its children.
. "$(dirname "$0")/lib.sh"
start_board
start_executor g1 WFP_CONCURRENCY=3
ev="$TMP/events"
IN="{\"ev\": \"$ev\"}"
# Each task records its start and end (ns) around a sleep.
S='echo "$WFP_TASK start $(date +%s%N)" >>"$WFP_IN_ev"; sleep 0.3; echo "$WFP_TASK end $(date +%s%N)" >>"$WFP_IN_ev"'
t_of() { awk -v t="$1" -v w="$2" '$1 == t && $2 == w { print $3 }' "$ev"; }

id=$(wf_post graph "{\"graph\": [$(task q "$S" "" '{"requires": ["x", "y"]}'), $(task p1 "$S" "" '{"provides": ["x"]}'), $(task p2 "$S" "" '{"provides": ["y"]}')]}" "$IN")
ok "graph completes" wait_state "$id" completed
ok "q after p1" [ "$(t_of q start)" -ge "$(t_of p1 end)" ]
ok "q after p2" [ "$(t_of q start)" -ge "$(t_of p2 end)" ]
ok "p1 and p2 overlap" [ "$(t_of p1 start)" -lt "$(t_of p2 end)" -a "$(t_of p2 start)" -lt "$(t_of p1 end)" ]

# Six independent tasks, three slots: at most three at once, and three.
: >"$ev"
id=$(wf_post unordered "{\"unordered\": [$(for t in u1 u2 u3 u4 u5 u6; do printf '%s,' "$(task $t "$S")"; done | sed 's/,$//')]}" "$IN")
ok "unordered completes" wait_state "$id" completed
peak=$(sort -k3,3n "$ev" | awk '$2 == "start" { n++; if (n > m) m = n } $2 == "end" { n-- } END { print m }')
eq "parallel up to WFP_CONCURRENCY" "$peak" 3

# Outputs: a's last stdout line is a JSON object; b gets ip, and a's
# revert gets its own recorded ip back.
out="$TMP/out"
id=$(wf_post outputs "{\"linear\": [$(task a 'echo noise; echo "{\"ip\": \"10.0.0.7\", \"n\": 2}"' 'echo "revert $WFP_IN_ip" >>"$WFP_IN_out"'), $(task b 'echo "b saw $WFP_IN_ip $WFP_IN_n in $WFP_IN_region" >>"$WFP_IN_out"; exit 1')]}" "{\"out\": \"$out\", \"region\": \"eu-1\"}")
ok "outputs job reverted" wait_state "$id" reverted
eq "outputs flow" "$(cat "$out")" "b saw 10.0.0.7 2 in eu-1
revert 10.0.0.7"
ok "outputs in the log" bash -c "redis-cli -u '$WFP_REDIS_URL' --raw XRANGE '$tag:job:$id:log' - + | grep -qx '{\"ip\":\"10.0.0.7\",\"n\":2}'"

# Retries: fails twice, then applies; waits 200 then 400 ms.
n="$TMP/n"
echo 0 >"$n"
id=$(wf_post retry "{\"linear\": [$(task r 'echo "$WFP_ATTEMPT $(date +%s%N)" >>"$WFP_IN_ev"; c=$(($(cat "$WFP_IN_n") + 1)); echo $c >"$WFP_IN_n"; [ $c -ge 3 ]' "" '{"retry": {"attempts": 3, "backoff_ms": 200}}')]}" "{\"ev\": \"$TMP/tries\", \"n\": \"$n\"}")
ok "retried until applied" wait_state "$id" completed
eq "attempt numbers" "$(awk '{print $1}' "$TMP/tries" | tr '\n' ' ')" "1 2 3 "
gap1=$(awk 'NR==1{a=$2} NR==2{print int(($2-a)/1000000)}' "$TMP/tries")
gap2=$(awk 'NR==2{a=$2} NR==3{print int(($2-a)/1000000)}' "$TMP/tries")
ok "first backoff >= 200 ms ($gap1)" [ "$gap1" -ge 200 ]
ok "second backoff >= 400 ms ($gap2)" [ "$gap2" -ge 400 ]
eq "retry log" "$(log_states "$id")" "r:running r:apply-failed r:running r:apply-failed r:running r:applied"

# Timeout: the task and the child it started are killed.
id=$(wf_post timeout "{\"linear\": [$(task t 'sleep 30 & echo $! >"$WFP_IN_pid"; sleep 30' "" '{"timeout_ms": 300}')]}" "{\"pid\": \"$TMP/pid\"}")
ok "timeout fails the job" wait_state "$id" reverted
ok "reason says timed out" grep -q "timed out" <<<"$(rcli HGET "$tag:job:$id" error)"
ok "child killed" wfp_wait_for bash -c "! kill -0 $(cat "$TMP/pid")"

# The executor registry: a beat every second, with what runs.
info="$tag:svc:executor:info:g1"
id=$(wf_post slow "{\"linear\": [$(task slow 'sleep 1.5')]}")
ok "registry shows the running task" wfp_wait_for bash -c \
  "redis-cli -u '$WFP_REDIS_URL' HGET '$info' detail | grep -qF '[{\"job\":\"$id\",\"tasks\":[\"slow\"]}]'"
ok "replicas zset" test -n "$(rcli ZSCORE "$tag:svc:executor:replicas" g1)"
eq "info name" "$(rcli HGET "$info" name)" g1
eq "info concurrency" "$(rcli HGET "$info" concurrency)" 3
ok "info expires" [ "$(rcli PTTL "$info")" -gt 0 ]
ok "slow completes" wait_state "$id" completed
