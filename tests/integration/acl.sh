# Least privilege (docker/users.acl): on a Redis of its own loaded with
# that ACL file, each service runs as its own user and the CLI as the
# operator: a workflow job completes, a lock is taken and released, a
# pool is set, a reservation goes active and is released. Then each
# service user is refused FLUSHALL, CONFIG SET and a key outside its
# families (NOPERM), and the default user wants a password. Last, Redis
# restarts from its append-only file and every key comes back (the
# default user must have every right for that: Redis 7.0 replays the
# MULTI/EXEC of a script's effects as the default user, checking its
# rights, and silently drops what it may not do).
# The file is written for the default prefix, so this test uses "wfp" on
# its private server (set after lib.sh, whose start flushes the prefix
# ctest gave it on the shared Redis).
. "$(dirname "$0")/lib.sh"
export WFP_PREFIX=wfp
tag="{$WFP_PREFIX}"

acl="$TMP/users.acl"
cp "$here/../../docker/users.acl" "$acl"
# An admin of this test only, to read the ACL log.
admin_pass="admin-$RANDOM$RANDOM"
echo "user acl-test-admin on >$admin_pass ~* &* +@all" >>"$acl"
own_redis --aclfile "$acl" --appendonly yes --appendfsync always --enable-debug-command local
port=$REDIS_PORT
# url USER: the URL of USER with its demo password from the file.
url() {
  local pass
  pass=$(awk -v u="$1" '$1 == "user" && $2 == u {
    for (i = 3; i <= NF; i++) if ($i ~ /^>/) print substr($i, 2) }' "$acl")
  echo "redis://$1:$pass@127.0.0.1:$port"
}
export WFP_REDIS_URL
WFP_REDIS_URL=$(url wfp-operator)

# admin CMD...: redis-cli as the test's admin.
admin() { redis-cli -u "redis://acl-test-admin:$admin_pass@127.0.0.1:$port" --no-auth-warning "$@"; }
# as USER CMD...: redis-cli as USER; prints the reply (errors included).
as() { local u=$1; shift; redis-cli -u "$(url "$u")" --no-auth-warning "$@" 2>&1; }

eq "default user wants a password" "$(redis-cli -p "$port" GET x 2>&1 | cut -d' ' -f1)" "NOAUTH"

# --- The services, each as its own user.
start_board WFP_REDIS_URL="$(url wfp-jobboard)"
start_lock WFP_REDIS_URL="$(url wfp-lock)"
at_exit stop_lock
classes="$TMP/classes"
mkdir -p "$classes"
echo '{"reserve": {"plugin": "noop"}, "configure": {"plugin": "noop"},
       "acquire": {"plugin": "noop"}, "destroy": {"plugin": "noop"}}' >"$classes/ip.json"
start_reservation WFP_REDIS_URL="$(url wfp-reservation)" WFP_CLASSES_DIR="$classes"
at_exit stop_reservation
start_executor x1 WFP_REDIS_URL="$(url wfp-executor)"

# --- The operator's paths.
out="$TMP/out"
id=$(wf_post acljob "{\"linear\": [$(task a 'echo applied >>"$WFP_IN_out"' "" '{"locks": ["acl-task"]}')]}" "{\"out\": \"$out\"}")
ok "workflow job completes" wait_state "$id" completed
eq "its task ran" "$(cat "$out")" "applied"
ok "under its lock (the executor ran the lock scripts)" test "$(rcli GET "$tag:lockfence:acl-task")" -ge 1
read -r lname ltoken lfence <<<"$("$WFP" lock acquire acl-lock --ttl 5000)"
eq "lock taken" "$lname" "acl-lock"
ok "lock has a fence ($lfence)" test "$lfence" -ge 1
# A second acquire waits (a waiter of wfp-lock, granted by its reply)
# until the first is released.
"$WFP" lock acquire acl-lock --owner b --wait 10000 >"$TMP/wait.out" 2>&1 &
waiter=$!
one_waiter() { [ "$(rcli ZCARD "$tag:locks:waiters")" = 1 ]; }
ok "the second acquire waits" wfp_wait_for one_waiter
ok "lock released" "$WFP" lock release acl-lock "$ltoken"
ok "the waiter is granted" wait "$waiter"
read -r _ wtoken wfence <"$TMP/wait.out"
ok "with a later fence ($wfence)" test "$wfence" -gt "$lfence"
ok "waiter releases" "$WFP" lock release acl-lock "$wtoken"
eq "lock gone" "$(rcli EXISTS "$tag:lock:acl-lock")" "0"
# A wait that ends unserved is answered by wfp-lock (lock_tick pushes the
# reply as the lock user); a lease that ends hands the lock to a waiter.
read -r _ ltoken _ <<<"$("$WFP" lock acquire acl-lock --ttl 600)"
"$WFP" lock acquire acl-lock --owner c --wait 200 >"$TMP/late.out" 2>&1 || true
ok "an unserved wait is answered: $(cat "$TMP/late.out")" grep -q "TIMEOUT lock acl-lock still held" "$TMP/late.out"
ok "granted when the lease ends" "$WFP" lock acquire acl-lock --owner d --wait 5000
ok "pool set" "$WFP" pool set ips --capacity 2
eq "pool capacity" "$(rcli HGET "$tag:pool:ips" capacity)" "2"
echo "{\"name\": \"web\", \"items\": [{\"name\": \"ip1\", \"pool\": \"ips\", \"amount\": 1, \"class\": \"ip\", \"args\": {}}]}" >"$TMP/web.json"
ok "reservation goes active" "$WFP" rsv create "$TMP/web.json" --id acl-rsv --wait --timeout 30000
eq "reservation state" "$(rcli HGET "$tag:rsv:acl-rsv" state)" "active"
eq "pool used" "$(rcli HGET "$tag:pool:ips" used)" "1"
ok "reservation released" "$WFP" rsv release acl-rsv --wait --timeout 30000
# repost.lua reads the reservation hash (as the jobboard user) to refuse
# a reservation's job: it needs read access to {wfp}:rsv:*.
rjob=$(rcli HGET "$tag:rsv:acl-rsv" job)
ok "the reservation names its job ($rjob)" test -n "$rjob"
code=0; "$WFP" job repost "$rjob" >/dev/null 2>"$TMP/repost.err" || code=$?
ok "repost of a reservation's job refused by the board, not by Redis" grep -q "belongs to reservation" "$TMP/repost.err"
eq "capacity back" "$(rcli HGET "$tag:pool:ips" used)" "0"
# Redis logs every refusal: none so far (a service that swallowed a
# NOPERM, e.g. a script fallback, would show here).
eq "no refusal in the ACL log" "$(admin ACL LOG 100 | grep -A1 -x username | grep -v -x -e username -e -- | sort -u | tr '\n' ' ')" ""
for log in "$TMP"/board.log "$TMP"/lock.log "$TMP"/reservation.log "$TMP"/exec-x1.log; do
  ok "no NOPERM in $(basename "$log")" bash -c "! grep -i noperm '$log'"
done

# The CLI without a user says what to give (not Redis's "unauthenticated
# multibulk length"), exit status 1; with a wrong password, Redis's word.
rc=0; out=$(WFP_REDIS_URL="redis://127.0.0.1:$port" "$WFP" rsv list 2>&1) || rc=$?
eq "CLI without a user: exit status" "$rc" 1
ok "CLI without a user: says what to give: $out" grep -q "wants a user and password: give them in WFP_REDIS_URL" <<<"$out"
rc=0; out=$(WFP_REDIS_URL="redis://wfp-operator:wrong@127.0.0.1:$port" "$WFP" job list 2>&1) || rc=$?
ok "CLI with a wrong password: $out" grep -q "WRONGPASS" <<<"$out"

# --- Refusals: NOPERM for admin commands and keys of other families.
# refused USER CMD...: USER's CMD answers NOPERM.
refused() { as "$@" | grep -q "^NOPERM"; }
for u in wfp-jobboard wfp-lock wfp-reservation wfp-executor wfp-operator; do
  ok "$u: FLUSHALL refused" refused "$u" FLUSHALL
  ok "$u: CONFIG SET refused" refused "$u" CONFIG SET maxmemory-policy allkeys-lru
  ok "$u: a key of another prefix refused" refused "$u" GET "{other}:job:1"
done
ok "lock user: a job hash refused" refused wfp-lock HGETALL "$tag:job:$id"
ok "lock user: a pool refused" refused wfp-lock HGETALL "$tag:pool:ips"
ok "jobboard user: a lock refused" refused wfp-jobboard GET "$tag:lock:acl-lock"
ok "jobboard user: writing a reservation refused" refused wfp-jobboard HSET "$tag:rsv:acl-rsv" state x
ok "jobboard user: a pool refused" refused wfp-jobboard HGETALL "$tag:pool:ips"
ok "executor user: a pool refused" refused wfp-executor SET "$tag:pool:x" 1
ok "executor user: a reservation refused" refused wfp-executor HGETALL "$tag:rsv:acl-rsv"
ok "reservation user: a lock refused" refused wfp-reservation GET "$tag:lock:acl-lock"
ok "reservation user: the lock requests refused" refused wfp-reservation XLEN "$tag:svc:lock:requests"
ok "executor user: KEYS refused" refused wfp-executor KEYS '*'
# The services logged their URLs without the passwords.
ok "the services logged their Redis URL" grep -q "redis://wfp-jobboard:\*\*\*@" "$TMP/board.log"
ok "no password in any log" bash -c '! grep -l -e "-change-me" "$1"/*.log' _ "$TMP"
# wfp-health (Redis's container health check) may PING, nothing else.
eq "health user: PING" "$(as wfp-health PING)" "PONG"
ok "health user: GET refused" refused wfp-health GET "$tag:job:$id"
ok "health user: INFO refused" refused wfp-health INFO
eq "the ACL log names the refused users" "$(admin ACL LOG 100 | grep -A1 -x username | grep -v -x -e username -e -- | sort -u | tr '\n' ' ')" \
  "wfp-executor wfp-health wfp-jobboard wfp-lock wfp-operator wfp-reservation "
eq "policy unchanged" "$(as wfp-operator CONFIG GET maxmemory-policy | tail -1)" "noeviction"
eq "operator reads a job" "$(as wfp-operator HGET "$tag:job:$id" state)" "completed"

# --- A restart from the append-only file loses nothing. Everything above
# (workflow, locks, pool, reservation) was written by the services' and
# the CLI's script calls, which the AOF holds as MULTI/EXEC blocks.
stop_executors
stop_reservation
stop_lock
stop_board
keys_before=$(admin DBSIZE)
digest_before=$(admin DEBUG DIGEST)
ok "there is something to lose ($keys_before keys)" test "$keys_before" -ge 10
admin SHUTDOWN >/dev/null 2>&1 || true
wait "$REDIS_PID" 2>/dev/null || true
REDIS_PID=""
wfp_redis_start "$TMP/redis" --aclfile "$acl" --appendonly yes --appendfsync always --enable-debug-command local
eq "keys after the restart" "$(admin DBSIZE)" "$keys_before"
eq "the same data after the restart (DEBUG DIGEST)" "$(admin DEBUG DIGEST)" "$digest_before"
ok "no refused command in the AOF replay" bash -c '! grep -q "AOF-loading-client" "$1"' _ "$TMP/redis/redis.log"
eq "the reservation is still there, released" "$(as wfp-operator HGET "$tag:rsv:acl-rsv" state)" "released"
eq "the workflow job is still there, completed" "$(as wfp-operator HGET "$tag:job:$id" state)" "completed"
finish
