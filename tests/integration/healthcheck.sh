# wfp-healthcheck (the containers' health check): exit 0 while the daemon
# answers 200 on /healthz, 1 when it answers 503 (its Redis gone), 404 or
# nothing, 2 on bad use; the address defaults to WFP_METRICS_ADDR with a
# wildcard host meaning this machine.
. "$(dirname "$0")/lib.sh"
hc="$WFP_BIN/wfp-healthcheck"

own_redis
mport=$(wfp_free_port)
start_board WFP_METRICS_ADDR="0.0.0.0:$mport"
eq "healthy board" "$(status_of "$hc" "127.0.0.1:$mport")" 0
eq "address from WFP_METRICS_ADDR (0.0.0.0 is this machine)" \
  "$(WFP_METRICS_ADDR="0.0.0.0:$mport" status_of "$hc")" 0
eq "another path (/metrics)" "$(status_of "$hc" "localhost:$mport" /metrics)" 0
out=$("$hc" "127.0.0.1:$mport" /nope 2>&1) && fail "a 404 passed"
ok "a 404 is unhealthy, and says so: $out" grep -q "404" <<<"$out"
eq "bad use: no address" "$(WFP_METRICS_ADDR='' status_of "$hc")" 2
eq "bad use: not HOST:PORT" "$(status_of "$hc" "$mport")" 2
eq "bad use: path" "$(status_of "$hc" "127.0.0.1:$mport" 'a b')" 2
eq "--help: exit 0" "$(status_of "$hc" --help)" 0
ok "--help: the usage on stdout" grep -q "^usage: wfp-healthcheck" <<<"$("$hc" --help 2>/dev/null)"
eq "bad use: an unknown option" "$(status_of "$hc" -x)" 2

# The daemon's Redis goes away: /healthz answers 503 and the check fails.
wfp_redis_stop
unhealthy() { [ "$(status_of "$hc" "127.0.0.1:$mport")" = 1 ]; }
ok "503 while Redis is down" wfp_wait_for unhealthy
out=$("$hc" "127.0.0.1:$mport" 2>&1) || true
ok "the reason is the status line: $out" grep -q "503" <<<"$out"

# Redis back: healthy again (the board reconnects).
wfp_redis_start "$TMP/redis"
healthy() { [ "$(status_of "$hc" "127.0.0.1:$mport")" = 0 ]; }
ok "healthy again once Redis is back" wfp_wait_for healthy

# Nothing listening.
stop_board
eq "nothing listening" "$(status_of "$hc" "127.0.0.1:$mport")" 1
finish
