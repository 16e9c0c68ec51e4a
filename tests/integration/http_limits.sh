# The /healthz + /metrics endpoint of a daemon is bounded: headers past
# 8,192 bytes (WFP_HTTP_HEADERS_MAX) and bodies past 1,024 bytes
# (WFP_HTTP_BODY_MAX) are refused (400, 413, or the connection closed first), methods other than GET and HEAD are
# refused (405), and the daemon keeps serving.
. "$(dirname "$0")/lib.sh"
port=$(wfp_free_port)
start_board WFP_METRICS_ADDR=127.0.0.1:$port
wfp_wait_for bash -c "exec 5<>/dev/tcp/127.0.0.1/$port" 2>/dev/null

# send REQUEST_TEXT: the status line of the answer ('' when the daemon
# closed the connection first). SIGPIPE is ignored: a daemon that refuses
# may close before the whole request was written.
send() (
  trap '' PIPE
  exec 5<>"/dev/tcp/127.0.0.1/$port"
  printf '%b' "$1" >&5 2>/dev/null || true
  head -1 <&5 2>/dev/null | tr -d '\r' || true
)
# refused CODE STATUS_LINE: the answer is CODE, or none (closed first).
refused() { [ -z "$2" ] || [ "${2:9:3}" = "$1" ]; }
eq "a plain GET" "$(send 'GET /healthz HTTP/1.0\r\n\r\n')" "HTTP/1.0 200 OK"
big=$(head -c 9000 /dev/zero | tr '\0' a)
status=$(send "GET /healthz HTTP/1.0\r\nX-Big: $big\r\n\r\n")
ok "headers of 9,000 bytes refused ($status)" refused 400 "$status"
small=$(head -c 7000 /dev/zero | tr '\0' a)
eq "headers of 7,000 bytes served" "$(send "GET /healthz HTTP/1.0\r\nX-Small: $small\r\n\r\n")" "HTTP/1.0 200 OK"
body=$(head -c 2000 /dev/zero | tr '\0' a)
status=$(send "GET /healthz HTTP/1.0\r\nContent-Length: 2000\r\n\r\n$body")
ok "a body of 2,000 bytes refused ($status)" refused 413 "$status"
status=$(send 'POST /metrics HTTP/1.0\r\nContent-Length: 2\r\n\r\nhi')
eq "POST refused" "${status:9:3}" 501
ok "the board still runs" kill -0 "$BOARD_PID"
eq "and serves" "$(send 'GET /metrics HTTP/1.0\r\n\r\n')" "HTTP/1.0 200 OK"
finish
