# A request a replica read but never acknowledged (it died) is taken over
# by a live replica after 10 s idle and served: the client still gets its
# reply and the job is posted once.
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
rcli XGROUP CREATE "$req" jobboard 0 MKSTREAM >/dev/null
# {name: "orphan"}
printf '\x81\xa4name\xa6orphan' |
  rcli -x XADD "$req" '*' op post reply "$tag:reply:orphan" body >/dev/null
# A replica reads it, then dies without acknowledging it.
rcli XREADGROUP GROUP jobboard dead-replica COUNT 1 STREAMS "$req" '>' >/dev/null
eq "pending on the dead replica" "$(rcli XPENDING "$req" jobboard | head -1)" 1

start_board
for _ in $(seq 1 60); do
  [ "$(rcli LLEN "$tag:reply:orphan")" = 1 ] && break
  sleep 0.5
done
eq "served by the live replica" "$(rcli LLEN "$tag:reply:orphan")" 1
eq "nothing pending" "$(rcli XPENDING "$req" jobboard | head -1)" 0
eq "posted once" "$(rcli ZCARD "$tag:jobs:posted")" 1
