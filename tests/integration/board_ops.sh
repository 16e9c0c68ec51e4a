# Operator actions through the daemon: transfer to a named owner and back
# to the board, repost of a dead job, idempotent posts, retention cleanup.
. "$(dirname "$0")/lib.sh"
start_board WFP_RETENTION_MS=300

# Transfer a claimed job to a named owner: the old token goes stale.
id=$("$WFP" job post "$(job_file moving)")
a=$("$WFP" job claim --owner exec-a --json)
t=$("$WFP" job transfer "$id" --to exec-b --json)
eq "transferred owner" "$(jq -r .owner <<<"$t")" exec-b
ok "new fence is higher" [ "$(jq -r .fence <<<"$t")" -gt "$(jq -r .fence <<<"$a")" ]
eq "old token refused" "$(status_of "$WFP" job complete "$id" "$(jq -r .token <<<"$a")")" 1
eq "redelivery recorded" "$("$WFP" job show "$id" --json | jq -r '.deliveries[0].reason')" transferred
# The new owner's token is a credential: `job show` prints it nowhere (a
# transfer used to keep its answer, token included, in the job hash).
tt=$(jq -r .token <<<"$t")
for fmt in "" --json; do
  ok "show $fmt hides the transferred token" bash -c "! grep -qF -- '$tt' <<<\"\$('$WFP' job show '$id' $fmt)\""
done
# Nor an answer a job hash kept from before answers had their own keys.
rcli HSET "$tag:job:$id" op_request 1-1 op_reply "[\"claimed\",\"exec-b\",\"$tt\",\"1\"]" >/dev/null
for fmt in "" --json; do
  ok "show $fmt hides an old op_reply" bash -c "! grep -qF -- '$tt' <<<\"\$('$WFP' job show '$id' $fmt)\""
done
rcli HDEL "$tag:job:$id" op_request op_reply >/dev/null
eq "new owner completes" "$("$WFP" job complete "$id" "$(jq -r .token <<<"$t")" --json | jq -r .state)" completed

# Back to the board: claimable again.
id=$("$WFP" job post "$(job_file back)")
"$WFP" job claim --owner exec-a >/dev/null
eq "released" "$("$WFP" job transfer "$id" --board --json | jq -r .state)" posted
eq "claimable again" "$("$WFP" job claim --owner exec-c --json | jq -r .id)" "$id"
eq "transfer needs a target" "$(status_of "$WFP" job transfer "$id")" 2
eq "transfer of unknown job" "$(status_of "$WFP" job transfer nosuch --to x)" 1

# Repost a dead job: fresh attempts, on the board again.
id=$("$WFP" job post "$(job_file dies '"max_attempts": 1')")
c=$("$WFP" job claim --owner exec-a --json)
eq "fail on last attempt" "$("$WFP" job fail "$id" "$(jq -r .token <<<"$c")" --reason boom --json | jq -r .state)" dead
eq "repost" "$("$WFP" job repost "$id" --json | jq -r .state)" posted
eq "attempts reset" "$(rcli HGET "$tag:job:$id" attempts)" 0
eq "kept again (no TTL)" "$(rcli PTTL "$tag:job:$id")" -1
eq "repost of a posted job refused" "$(status_of "$WFP" job repost "$id")" 1

# Idempotency key: the same key within its TTL returns the first job.
f=$(job_file once '"idempotency_key": "order-7"')
first=$("$WFP" job post "$f" --json)
again=$("$WFP" job post "$f" --json)
eq "same id" "$(jq -r .id <<<"$again")" "$(jq -r .id <<<"$first")"
eq "not created twice" "$(jq -r .created <<<"$again")" false

# Retention: a finished job and all its keys are removed after 300 ms.
# (Older jobs are still on the board: take this one by transfer.)
id=$("$WFP" job post "$(job_file brief)")
c=$("$WFP" job transfer "$id" --to exec-a --json)
"$WFP" job fail "$id" "$(jq -r .token <<<"$c")" --reason "boom" --final reverted >/dev/null
eq "reverted" "$(rcli HGET "$tag:job:$id" state)" reverted
ok "job removed after retention" wfp_wait_for bash -c "[ \"\$(redis-cli -u '$WFP_REDIS_URL' EXISTS '$tag:job:$id')\" = 0 ]"
ok "index entry removed" bash -c "[ -z \"\$(redis-cli -u '$WFP_REDIS_URL' ZSCORE '$tag:jobs:reverted' '$id')\" ]"
# Every key of the board has a TTL or is one of the board's bounded keys.
for k in $(rcli --scan --pattern "$tag:*"); do
  ttl=$(rcli PTTL "$k")
  case "$k" in
    "$tag:job:"*) [ "$ttl" -gt 0 ] || [ "$(rcli HGET "${k%:deliveries}" state 2>/dev/null)" != "" ] || fail "key $k without owner or TTL" ;;
  esac
done
checks=$((checks + 1))
