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

# wfp_debian_mirror SUITE [SOURCE_FILE...]: prints the URI of the first apt
# source of type deb that serves SUITE (e.g. bookworm), read from one-line
# files (`deb [opts] URI SUITE COMPONENTS...`, *.list) and deb822 files
# (stanzas with Types:, URIs:, Suites:, Enabled:, *.sources). By default
# it reads /etc/apt/sources.list, /etc/apt/sources.list.d/*.list and
# *.sources; files that do not exist are skipped. Returns 1 when no source
# serves SUITE.
wfp_debian_mirror() {
  local suite=$1 f uri
  shift
  [ $# -gt 0 ] || set -- /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
    /etc/apt/sources.list.d/*.sources
  for f in "$@"; do
    [ -r "$f" ] || continue
    case "$f" in
      *.sources) uri=$(awk -v suite="$suite" "$_wfp_deb822_awk" "$f") ;;
      *) uri=$(awk -v suite="$suite" "$_wfp_oneline_awk" "$f") ;;
    esac
    [ -n "$uri" ] && { echo "$uri"; return 0; }
  done
  return 1
}

# One-line sources: "deb [options] URI SUITE COMPONENT...".
_wfp_oneline_awk='
$1 == "deb" {
  i = 2
  if ($i ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
  if ($(i + 1) == suite) { print $i; exit }
}'

# deb822 sources: stanzas separated by blank lines; "Key: value" fields,
# continuation lines start with a blank; "#" lines are comments.
_wfp_deb822_awk='
function stanza_end(   n, s, j, u) {
  gsub(/^[ \t]+/, "", uris); gsub(/^[ \t]+/, "", suites)
  if (enabled != "no" && (types " ") ~ /[ \t]deb[ \t]/) {
    n = split(suites, s, /[ \t]+/)
    for (j = 1; j <= n; j++)
      if (s[j] == suite) { split(uris, u, /[ \t]+/); print u[1]; found = 1; exit }
  }
  uris = ""; suites = ""; types = ""; enabled = ""; key = ""
}
/^#/ { next }
/^[ \t]*$/ { stanza_end(); next }
/^[ \t]/ { val = $0; gsub(/^[ \t]+|[ \t]+$/, "", val); add(key, val); next }
{
  key = tolower(substr($0, 1, index($0, ":") - 1))
  val = substr($0, index($0, ":") + 1); gsub(/^[ \t]+|[ \t]+$/, "", val)
  add(key, val)
}
function add(k, v) {
  if (k == "uris") uris = uris " " v
  else if (k == "suites") suites = suites " " v
  else if (k == "types") types = types " " v
  else if (k == "enabled") enabled = tolower(v)
}
END { if (!found) stanza_end() }'
