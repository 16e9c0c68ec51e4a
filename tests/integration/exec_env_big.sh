# An exec task's inputs reach it as environment variables. An apply takes
# at most 1 MiB of them (WFP_TASK_INPUTS_BYTES_MAX): 18 earlier tasks each
# with a 60,000-byte output (within WFP_TASK_OUTPUTS_MAX) give the 19th
# about 1.08 MB, and it fails before it runs, the size in its error. The
# reverts, which get a little more (their own outputs too), are not held
# to it and stay under the kernel's bound (ARG_MAX, about 2 MiB): the job
# is rolled back cleanly (before, the kernel refused the apply past about
# 2 MiB, and the reverts the same way: the job ended failed). The
# executor keeps running.
. "$(dirname "$0")/lib.sh"
start_board
start_executor e1
P='printf "{\"o%s\": \"%s\"}\n" "$WFP_TASK" "$(head -c 60000 /dev/zero | tr "\0" x)"'
tasks=""
for i in $(seq 1 18); do tasks="$tasks$(task "t$i" "$P" 'echo "$WFP_TASK" >>"$WFP_IN_out"'),"; done
id=$(wf_post env "{\"linear\": [$tasks $(task last 'echo ran >>"$WFP_IN_out"')]}" "{\"out\": \"$TMP/out\"}")
ok "the job ends reverted" wait_state "$id" reverted 60
err=$(rcli HGET "$tag:job:$id" error)
ok "the reason gives the size and the bound ($err)" \
  grep -q "task last failed: inputs of 10[0-9]\{5\} bytes as environment variables are past 1048576" <<<"$err"
ok "last never ran" bash -c "! grep -q ran '$TMP/out'"
eq "the 18 tasks were reverted, last first" "$(tr '\n' ' ' <"$TMP/out")" \
  "$(for i in $(seq 18 -1 1); do printf 't%d ' "$i"; done)"
ok "the executor still runs" kill -0 "$EXEC_PID"
finish
