# Acknowledgements that fail are kept and sent again (the request is not
# served twice, nothing stays pending), and a reply is pushed with its TTL
# in one step (inside a script, never a bare LPUSH then PEXPIRE).
. "$(dirname "$0")/lib.sh"
req="$tag:svc:jobboard:requests"
port=$(wfp_free_port)
user="ackless-$WFP_PREFIX"
host=${WFP_REDIS_URL#redis://}
host=${host##*@}

# The board's user may not XACK or XDEL at first.
rcli ACL SETUSER "$user" reset on '>pw' '~*' '&*' +@all -xack -xdel >/dev/null
start_board WFP_REDIS_URL="redis://$user:pw@$host" WFP_METRICS_ADDR="127.0.0.1:$port"
timeout 3 redis-cli -u "$WFP_REDIS_URL" MONITOR >"$TMP/monitor" &
monitor=$!
sleep 0.2
id=$("$WFP" job post "$(job_file acked)")
eq "served" "$(rcli HGET "$tag:job:$id" state)" posted
sleep 1.5
pending=$(rcli XPENDING "$req" jobboard | head -1)
rcli ACL SETUSER "$user" +xack +xdel >/dev/null
eq "not acknowledged while refused" "$pending" 1
ok "said so" grep -q "acknowledging 1 requests failed: kept to send again" "$TMP/board.log"
for _ in $(seq 1 30); do   # 3 s at most: sent again at the next tick
  [ "$(rcli XPENDING "$req" jobboard | head -1)" = 0 ] && break
  sleep 0.1
done
eq "acknowledged once allowed" "$(rcli XPENDING "$req" jobboard | head -1)" 0
eq "deleted" "$(rcli XLEN "$req")" 0
ok "served once" grep -q "^wfp_jobboard_requests_total 1$" <<<"$(http_get 127.0.0.1 "$port" /metrics)"
rcli ACL DELUSER "$user" >/dev/null

# The reply went out inside a script: LPUSH and PEXPIRE from "lua".
wait "$monitor" || true
pushes=$(grep -F "\"LPUSH\" \"$tag:reply:" "$TMP/monitor" || true)
ok "a reply was pushed" test -n "$pushes"
ok "only from a script" bash -c "! grep -v '\[0 lua\]' <<<'$pushes'"
ok "with its TTL in the same script" grep -qF "[0 lua] \"PEXPIRE\" \"$tag:reply:" "$TMP/monitor"
