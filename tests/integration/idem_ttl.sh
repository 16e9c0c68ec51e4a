# An idempotency key's TTL (idempotency_ttl_ms of a job file) is 1 ms -
# 30 days (WFP_IDEM_TTL_MAX_MS): the CLI refuses past it with one line
# (exit 2, nothing sent); at the bound the post is taken (post.lua's own
# refusal: itest_scripts).
. "$(dirname "$0")/lib.sh"
start_board
max=$((30 * 86400000))
for v in 0 $((max + 1)); do
  f=$(job_file "ttl$v" "\"idempotency_key\": \"k$v\", \"idempotency_ttl_ms\": $v")
  rc=0
  "$WFP" job post "$f" 2>"$TMP/err" >/dev/null || rc=$?
  eq "ttl $v: exit 2" "$rc" 2
  ok "ttl $v: one line naming the bound" grep -q "idempotency_ttl_ms $v is not in 1..$max" "$TMP/err"
  eq "ttl $v: one line" "$(wc -l <"$TMP/err")" 1
done
eq "nothing posted" "$(rcli --scan --pattern "$tag:job:*" | wc -l)" 0
f=$(job_file at-max "\"idempotency_key\": \"kmax\", \"idempotency_ttl_ms\": $max")
ok "at the bound: posted" "$WFP" job post "$f"
ttl=$(rcli PTTL "$tag:idem:kmax")
ok "its key lives up to 30 days ($ttl ms)" [ "$ttl" -gt $((max - 60000)) ]
finish
