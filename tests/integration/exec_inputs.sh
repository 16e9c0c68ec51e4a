# wfp-executor, what a task sees (WFP_IN_*), lowest to highest:
# payload.inputs < outputs applied so far < outputs of the task's direct
# deps < the task's own "inputs". One slot, so b applies between a and
# c: c still gets a's value (its dep), not b's (applied later).
. "$(dirname "$0")/lib.sh"
start_board
start_executor i1 WFP_CONCURRENCY=1
out="$TMP/out"
a=$(task a 'echo "{\"v\": \"a\"}"')
b=$(task b 'echo "{\"v\": \"b\", \"z\": \"b\", \"w\": \"b\"}"')
c=$(task c 'echo "$WFP_IN_p $WFP_IN_v $WFP_IN_z $WFP_IN_w $WFP_IN_n" >"$WFP_IN_out"' "" \
  '{"inputs": {"w": "own", "n": {"k": [1, true]}}}')
id=$(wf_post inputs "{\"unordered\": [{\"linear\": [$a, $c]}, $b]}" \
  "{\"out\": \"$out\", \"p\": \"payload\", \"w\": \"payload\"}")
ok "inputs job completes" wait_state "$id" completed
eq "b applied between a and c" "$(log_states "$id")" \
  "a:running a:applied b:running b:applied c:running c:applied"
eq "c's inputs: payload, dep a over b, b's z, own w, own JSON" "$(cat "$out")" \
  'payload a b own {"k":[1,true]}'

# A task's own inputs satisfy its requires; a bad one is refused at post.
id=$(wf_post own "$(task o 'echo "$WFP_IN_ip" >"$WFP_IN_out"' "" '{"requires": ["ip"], "inputs": {"ip": "10.1.1.1"}}')" \
  "{\"out\": \"$out\"}")
ok "own inputs meet requires" wait_state "$id" completed
eq "own input reached the task" "$(cat "$out")" "10.1.1.1"
if wf_post bad "$(task o true "" '{"inputs": {"a-b": 1}}')" 2>"$TMP/err"; then
  fail "a bad task input was posted"
fi
ok "refusal names the task" grep -q "task 'o': inputs: data name 'a-b'" "$TMP/err"
finish
