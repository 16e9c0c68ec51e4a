# A request a replica read but never acknowledged (it died: it has no sign
# of life in the replicas record) is taken over by a live replica at once
# and served: the client still gets its reply and the job is posted once.
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
rcli XGROUP CREATE "$req" jobboard 0 MKSTREAM >/dev/null
# {name: "orphan"}
printf '\x81\xa4name\xa6orphan' |
  rcli -x XADD "$req" '*' op post reply "$tag:reply:orphan" timeout_ms 60000 body >/dev/null
# A replica reads it, then dies without acknowledging it.
rcli XREADGROUP GROUP jobboard dead-replica COUNT 1 STREAMS "$req" '>' >/dev/null
eq "pending on the dead replica" "$(rcli XPENDING "$req" jobboard | head -1)" 1

start_board
for _ in $(seq 1 50); do
  [ "$(rcli LLEN "$tag:reply:orphan")" = 1 ] && break
  sleep 0.1
done
eq "served by the live replica" "$(rcli LLEN "$tag:reply:orphan")" 1
eq "nothing pending" "$(rcli XPENDING "$req" jobboard | head -1)" 0
eq "posted once" "$(rcli ZCARD "$tag:jobs:posted")" 1
