# Shell helpers for scripts/run, scripts/test and the end-to-end tests.
# Source it; it defines functions only.

# Prints a TCP port on 127.0.0.1 that nothing listens on, picked below the
# kernel's ephemeral range so no outgoing connection can take it meanwhile.
wfp_free_port() {
  local low=32768 port
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  [ "$low" -gt 12000 ] || low=32768
  for _ in $(seq 1 50); do
    port=$(( 10000 + RANDOM % (low - 10000) ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# wfp_redis_start DIR [extra redis-server args...]
# Starts a private redis-server with its files in DIR on a free port, and
# sets REDIS_PORT and REDIS_PID. Waits until it answers PING.
wfp_redis_start() {
  local dir=$1; shift
  mkdir -p "$dir"
  REDIS_PORT=${REDIS_PORT:-$(wfp_free_port)}
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$dir" \
    --save '' --appendonly no --maxmemory-policy noeviction \
    --logfile "$dir/redis.log" --daemonize no "$@" &
  REDIS_PID=$!
  for _ in $(seq 1 100); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "redis-server did not start on port $REDIS_PORT (see $dir/redis.log)" >&2
  return 1
}

# Stops the redis-server started by wfp_redis_start.
wfp_redis_stop() {
  if [ -n "${REDIS_PID:-}" ]; then
    kill "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
    REDIS_PID=""
  fi
}

# wfp_wait_for CMD...: runs CMD every 50 ms until it succeeds (10 s at most).
wfp_wait_for() {
  for _ in $(seq 1 200); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  return 1
}
