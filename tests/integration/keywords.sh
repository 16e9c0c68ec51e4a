# Job ids equal to the words of the board's own keys (stream, leases,
# requests, svc, posted, ...) are just ids: posted through the board,
# claimed and completed, with the board serving on.
. "$(dirname "$0")/lib.sh"
start_board
words="stream leases requests replicas svc posted claimed completed dead deadletter events owners jobs job idem lock reply executors jobboard"
n=0
for w in $words; do
  echo "{\"id\": \"$w\", \"name\": \"$w\", \"payload\": {}}" >"$TMP/$w.json"
  eq "post $w" "$("$WFP" job post "$TMP/$w.json")" "$w"
  n=$((n + 1))
done
got=$("$WFP" job claim --owner exec-a --count 256 --json)
eq "all claimed" "$(jq -s 'flatten | length' <<<"$got")" "$n"
jq -c 'if type == "array" then .[] else . end' <<<"$got" >"$TMP/claims"
while read -r c; do
  id=$(jq -r .id <<<"$c")
  eq "complete $id" "$("$WFP" job complete "$id" "$(jq -r .token <<<"$c")" --json | jq -r .state)" completed
done <"$TMP/claims"
eq "the job stream is still a stream" "$(rcli TYPE "$tag:jobs:stream")" stream
eq "no lease left" "$(rcli ZCARD "$tag:jobs:leases")" 0
eq "every word's job completed" "$(rcli ZCARD "$tag:jobs:completed")" "$n"
eq "requests still a stream" "$(rcli TYPE "$tag:svc:jobboard:requests")" stream
id=$("$WFP" job post "$(job_file after)")
eq "board still serving" "$(rcli HGET "$tag:job:$id" state)" posted
ok "board alive" kill -0 "$BOARD_PID"
