# Failure injection: the board is killed (SIGKILL) and restarted again and
# again while clients post. Every post either fails with a clear error or
# lands whole: no job hash without its index entry and stream entry, no
# stream entry without its job, nothing left pending on the request stream.
. "$(dirname "$0")/lib.sh"
start_board
f=$(job_file crashy)

( for i in $(seq 1 60); do
    "$WFP" job post "$f" --timeout-ms 1500 >>"$TMP/posted" 2>>"$TMP/errors" || true
  done ) &
poster=$!
for round in 1 2 3; do
  sleep 0.4
  kill -9 "$BOARD_PID"; wait "$BOARD_PID" 2>/dev/null || true
  sleep 0.3
  start_board
done
wait "$poster"

posted=$(wc -l <"$TMP/posted")
failed=$(wc -l <"$TMP/errors")
eq "every post answered" "$((posted + failed))" 60
ok "some posts landed" test "$posted" -gt 0
if [ "$failed" -gt 0 ]; then
  ok "failures say why" bash -c "! grep -v 'no reply from wfp-jobboard' '$TMP/errors'"
fi
# A request a killed board had read but not acknowledged is taken over by
# the live board once it has been idle 10 s (then served, or dropped when
# its deadline has passed).
for _ in $(seq 1 60); do
  [ "$(rcli XPENDING "$tag:svc:jobboard:requests" jobboard | head -1)" = 0 ] && break
  sleep 0.5
done
eq "nothing pending" "$(rcli XPENDING "$tag:svc:jobboard:requests" jobboard | head -1)" 0

# Invariants over every job that exists.
jobs=$(rcli --scan --pattern "$tag:job:*" | grep -vE ':(deliveries|log)$' || true)
n=0
for k in $jobs; do
  id=${k##*:}
  state=$(rcli HGET "$k" state)
  eq "$id indexed as $state" "$(rcli ZSCORE "$tag:jobs:$state" "$id" | grep -c .)" 1
  entry=$(rcli HGET "$k" entry)
  eq "$id has its stream entry" "$(rcli XRANGE "$tag:jobs:stream" "$entry" "$entry" | grep -c "^$id$")" 1
  n=$((n + 1))
done
eq "jobs = posted index" "$n" "$(rcli ZCARD "$tag:jobs:posted")"
eq "stream entries = posted jobs" "$(rcli XLEN "$tag:jobs:stream")" "$n"
# Every id a client was given exists.
while read -r id; do
  eq "acknowledged post $id exists" "$(rcli EXISTS "$tag:job:$id")" 1
done <"$TMP/posted"
