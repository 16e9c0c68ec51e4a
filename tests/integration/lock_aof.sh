# Fencing tokens never go backwards, not even after Redis restarts from its
# append-only file (a redis-server of its own, killed hard and restarted).
. "$(dirname "$0")/lib.sh"
aof=(--appendonly yes --appendfsync always)
own_redis "${aof[@]}"

last=0
for round in 1 2 3; do
  for i in 1 2 3; do
    g=$("$WFP" lock acquire fenced --owner "r$round" --json)
    f=$(jq -r .fence <<<"$g")
    ok "fence $f > $last (round $round)" test "$f" -gt "$last"
    last=$f
    "$WFP" lock release fenced "$(jq -r .token <<<"$g")" >/dev/null
  done
  kill -9 "$REDIS_PID"; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=""
  wfp_redis_start "$TMP/redis" "${aof[@]}"
  ok "counter survived the restart" test "$(rcli GET "$tag:lockfence:fenced")" -ge "$last"
done
