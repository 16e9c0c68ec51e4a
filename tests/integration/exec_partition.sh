# wfp-executor cut off from Redis while a task runs: once its lease has
# run out unrenewed, the job may already be another executor's, so it
# kills its tasks and forgets the job (no task runs on two executors at
# once past the lease); the other executor resumes it from the log.
# hold_proxy holds the cut-off executor's command link (from its first
# registry write that lists the running task) for up to 10 s.
. "$(dirname "$0")/lib.sh"
start_board
rport=$(sed -E 's#^redis://([^@/]*@)?[^:/]*:([0-9]+).*#\2#' <<<"$WFP_REDIS_URL")
pport=$(wfp_free_port)
"$WFP_BIN/tests/hold_proxy" "$pport" "$rport" '"tasks":["slow"]' "$TMP/held" "$TMP/go" &
proxy=$!
at_exit kill "$proxy"
d="$TMP/d"
mkdir -p "$d"
A='echo $$ >>"$WFP_IN_d/pids"; sleep 20'
start_executor p1 WFP_REDIS_URL="redis://127.0.0.1:$pport" WFP_VISIBILITY_MS=1000 WFP_GRACE_MS=200
id=$(wf_post part "{\"linear\": [$(task slow "$A")]}" "{\"d\": \"$d\"}")
ok "slow runs on p1" wfp_wait_for test -s "$d/pids"
ok "p1's link is held" wfp_wait_for test -e "$TMP/held"
first=$(head -1 "$d/pids")
start_executor p2 WFP_VISIBILITY_MS=1000 WFP_GRACE_MS=200
ok "p2 runs slow again" wfp_wait_for bash -c "[ \$(wc -l <'$d/pids') -ge 2 ]"
ok "p1 had stopped its copy by then" bash -c "! kill -0 $first 2>/dev/null"
ok "p1 says why" grep -q "job $id lost (its lease ran out" "$TMP/exec-p1.log"
eq "owned by p2" "$(rcli HGET "$tag:job:$id" owner)" p2
touch "$TMP/go"
finish
