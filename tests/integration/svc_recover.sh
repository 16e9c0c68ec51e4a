# A read whose reply is lost with the link (reader dropped, network break,
# CLIENT KILL) leaves the delivered entries pending in this replica's
# consumer; the replica finds them (XPENDING of its own consumer, once
# nothing else is in flight) and serves them, instead of leaving them
# unserved until their deadline (takeover treats a live replica's entries
# as being served).
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
host=${WFP_REDIS_URL#redis://}
host=${host##*@}
rport=${host##*:}
rhost=${host%:*}
start_board
sleep 0.3

# resp ARG...: one command in the Redis protocol.
resp() {
  printf '*%d\r\n' $#
  for a in "$@"; do printf '$%d\r\n%s\r\n' "${#a}" "$a"; done
}
# The board's reader: the client blocked in XREADGROUP whose address is
# one of the board's sockets (other tests may share this Redis).
reader_id() {
  local a
  for a in $(ss -tnpH | grep "pid=$BOARD_PID," | awk '{print $4}'); do
    rcli CLIENT LIST | grep " addr=$a " | grep 'cmd=xreadgroup' |
      sed 's/^id=\([0-9]*\) .*/\1/'
  done | head -1
}
rid=""
for _ in $(seq 1 100); do
  rid=$(reader_id)
  [ -n "$rid" ] && break
  sleep 0.05
done
ok "the board is blocked in its read" test -n "$rid"
body=$(printf '\x81\xa4name\xa4lost')
# The add wakes the read (the entry joins its PEL, the reply is queued),
# and the kill in the same write drops the reader before the reply is sent.
{ resp XADD "$req" '*' op post reply "$tag:reply:lost" timeout_ms 30000 body "$body"
  resp CLIENT KILL ID "$rid"; } | redis-cli -h "$rhost" -p "$rport" --pipe >/dev/null
ok "the reader was killed" wfp_wait_for bash -c \
  "grep -q 'redis-reader: lost redis connection' '$TMP/board.log'"
t0=$(date +%s%N)
ok "the lost read's request is served" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' LLEN '$tag:reply:lost')\" = 1 ]"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
ok "within 3 s (${ms} ms), not at its deadline" test "$ms" -lt 3000
ok "nothing pending" wfp_wait_for bash -c \
  "[ \"\$(redis-cli -u '$WFP_REDIS_URL' XPENDING '$req' jobboard | head -1)\" = 0 ]"
ok "still serving" "$WFP" job post "$(job_file after)"
stop_board
