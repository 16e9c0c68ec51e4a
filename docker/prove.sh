#!/usr/bin/env bash
# docker/prove.sh: the compose deployment proven end to end, as CI runs it
# after the tests (.ci/run). It builds the images (docker-compose.yml),
# checks the runtime image holds no compiler and that the builds
# downloaded from Debian's archive only, brings the deployment up with 3
# executors and 2 replicas of each other service (every service as its
# own Redis ACL user), posts a batch of
# reservations whose steps take about a second each, kills one executor
# container with SIGKILL in the middle of a job, checks every reservation
# ends active and the killed executor's jobs were resumed by others with
# no task applied twice, scales executors to 1 and back to 3 under load,
# restarts the Redis container (append-only file on) under load and
# checks nothing was lost, checks the ACL users are refused what is not
# theirs, and tears everything down. It prints each check with its
# figure, "FAIL: <why>" at the first that fails (then the containers'
# state and the last log lines), and exits non-zero.
#
# Needs the docker client with a Docker Engine, or, as root on a Debian
# machine without one, sets up podman itself (docker/podman-setup.sh) and
# stops what it started at the end. Drives the deployment from the host
# with build/wfp (built here when missing; scripts/deps installs the
# build packages). Environment: WFP_PROVE_BATCH (reservations per batch,
# default 24), WFP_PROVE_PAUSE_MS (each step's pause, default 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
. scripts/lib.sh

project=wfpprove
# Images of their own tag: the proof never re-tags an operator's images.
export WFP_IMAGE_TAG=prove
# Two replicas of each request service (they share its request stream).
replicas=(--scale jobboard=2 --scale lock=2 --scale reservation=2)
batch=${WFP_PROVE_BATCH:-24}
pause_ms=${WFP_PROVE_PAUSE_MS:-1000}
work=$(mktemp -d /tmp/wfp-prove.XXXXXX)
podman_ours="" # pids of the podman processes this run started
t_start=$(date +%s)

# --- Output ---------------------------------------------------------------

say() { echo "== $*"; }
pass() { printf 'ok   %s\n' "$*"; }
now_ms() { date +%s%3N; }
secs() { awk -v ms="$1" 'BEGIN { printf "%.1f s", ms / 1000 }'; }

# fail WHY: prints the reason, the containers and their last log lines.
fail() {
  echo "FAIL: $*" >&2
  if [ "${up:-0}" = 1 ]; then
    echo "--- containers" >&2
    docker ps -a --filter "label=com.docker.compose.project=$project" \
      --format '{{.Names}} {{.Status}}' >&2 || true
    health >&2 || true
    echo "--- last log lines" >&2
    dc logs --tail 15 --no-color >&2 2>&1 || true
  fi
  exit 1
}

# --- Setup and teardown -----------------------------------------------------

# The compose command: docker-compose (1.29) or the docker compose plugin.
compose=(docker-compose)
command -v docker-compose >/dev/null 2>&1 || compose=(docker compose)
dc() { "${compose[@]}" -p "$project" -f "$root/docker-compose.yml" "$@"; }

cleanup() {
  local rc=$?
  if [ "${up:-0}" = 1 ]; then
    dc down -v --remove-orphans >/dev/null 2>&1 || echo "prove: 'down' failed; containers of project $project may be left" >&2
  fi
  if [ -n "$podman_ours" ]; then
    local p
    for p in $(podman_pids); do
      case " $podman_ours " in *" $p "*) kill "$p" 2>/dev/null || true ;; esac
    done
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
# A command that fails outside a check stops the run with its line.
set -E
# (Not inside a command substitution: its failure is the caller's check.)
trap '[ "$BASHPID" != "$$" ] || fail "unexpected failure at line $LINENO: $BASH_COMMAND"' ERR

# podman_pids: the podman API service and the health-check loop named by
# the pid files of WFP_PODMAN_DIR, each only while its pid is still that
# program (a stale file may name another process now).
podman_pids() {
  local f what pid
  for f in service:"podman system service" health:health-ticker; do
    what=${f#*:}
    pid=$(cat "$WFP_PODMAN_DIR/${f%%:*}.pid" 2>/dev/null) || continue
    case $pid in '' | *[!0-9]*) continue ;; esac
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$what" && echo "$pid"
  done
  return 0
}

# A Docker Engine, or podman set up here (root, Debian). Stops at the end
# only what it started: a podman service already running for
# WFP_PODMAN_DIR (say another user's) is used and left running.
engine() {
  if [ -n "${DOCKER_HOST:-}" ] || docker info >/dev/null 2>&1; then
    return 0
  fi
  [ "$(id -u)" = 0 ] ||
    fail "no Docker Engine answers and podman can only be set up as root (run as root, or set DOCKER_HOST)"
  export WFP_PODMAN_DIR=${WFP_PODMAN_DIR:-/tmp/wfp-podman-prove}
  local setup before p
  before=" $(podman_pids | tr '\n' ' ') "
  setup=$(docker/podman-setup.sh) || fail "docker/podman-setup.sh failed (see above)"
  eval "$setup"
  for p in $(podman_pids); do
    case $before in *" $p "*) ;; *) podman_ours="$podman_ours $p" ;; esac
  done
}

# The host's wfp CLI, as the operator.
cli_build() {
  if [ ! -x build/wfp ]; then
    say "building the wfp CLI on the host (build/)"
    { cmake -S . -B build -DWFP_BUILD_TESTS=OFF -DWFP_BUILD_BENCH=OFF &&
      cmake --build build -j "$(nproc)" --target wfp; } >"$work/cli-build.log" 2>&1 ||
      { tail -20 "$work/cli-build.log" >&2; fail "building build/wfp failed (scripts/deps installs the build packages)"; }
  fi
}
W() { "$root/build/wfp" "$@"; }

# --- Images -----------------------------------------------------------------

build_images() {
  say "building the images (docker/Dockerfile, docker/redis.Dockerfile)"
  local t0 n hosts allowed bad
  t0=$(now_ms)
  dc build >"$work/build.log" 2>&1 || { tail -30 "$work/build.log" >&2; fail "the image build failed"; }
  pass "images built in $(secs $(($(now_ms) - t0)))"
  # Every FROM is the Debian base (or a stage of the same file).
  bad=$(grep -hiE '^FROM ' docker/Dockerfile docker/redis.Dockerfile |
    awk '{ print $2 }' | grep -vx -e 'debian:bookworm-slim' || true)
  [ -z "$bad" ] || fail "a Dockerfile starts from another image: $bad"
  # No download other than apt's: no ADD of an address, no fetching tool.
  bad=$(grep -nE '^ADD +[a-z]+://|curl|wget|git +clone|pip +install|npm +install' \
    docker/Dockerfile docker/redis.Dockerfile || true)
  [ -z "$bad" ] || fail "a Dockerfile downloads outside apt: $bad"
  # Every download of the builds came from the base image's apt sources.
  allowed=$(docker run --rm --entrypoint /bin/sh debian:bookworm-slim -c \
    'cat /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null' |
    grep -oE '(https?)://[^/ ]+' | sort -u)
  [ -n "$allowed" ] || fail "the base image names no apt source"
  hosts=$(grep -oE 'Get:[0-9]+ https?://[^/ ]+' "$work/build.log" | awk '{ print $2 }' | sort -u || true)
  n=$(grep -cE 'Get:[0-9]+ https?://' "$work/build.log" || true)
  bad=$(comm -23 <(printf '%s\n' "$hosts" | sed '/^$/d') <(printf '%s\n' "$allowed"))
  [ -z "$bad" ] || fail "the build downloaded from outside Debian's archive: $bad"
  pass "builds downloaded only from Debian's archive: $n packages from $(echo $allowed) (0 when every layer was cached)"
}

no_compiler() {
  local found user
  found=$(docker run --rm --entrypoint /bin/sh "wfp/wfp:$WFP_IMAGE_TAG" -c '
    for c in cc gcc g++ c++ c99 clang tcc cpp ld as make cmake; do command -v "$c"; done
    ls /usr/bin /usr/local/bin | grep -E "^(gcc|g\+\+|cpp|clang|ld|as)(-[0-9.]+)?$"
    dpkg-query -W -f "\${Package} \${Status}\n" 2>/dev/null |
      awk "\$1 ~ /^(gcc|gcc-[0-9]+|g\+\+|cpp|cpp-[0-9]+|clang|binutils|build-essential|libc6-dev)$/ && \$NF == \"installed\" { print \$1 }"
    true')
  [ -z "$found" ] || fail "the runtime image holds a compiler or toolchain: $(echo $found)"
  user=$(docker run --rm --entrypoint /usr/bin/id "wfp/wfp:$WFP_IMAGE_TAG" -u)
  [ "$user" != 0 ] || fail "the runtime image runs as root"
  pass "runtime image wfp/wfp:$WFP_IMAGE_TAG: no compiler, linker or -dev toolchain; runs as uid $user; $(docker image inspect "wfp/wfp:$WFP_IMAGE_TAG" --format '{{.Size}}' | awk '{ printf "%d MB", $1 / 1000000 }')"
}

# --- The deployment -----------------------------------------------------------

# containers SERVICE: ids (full) of SERVICE's running containers.
containers() {
  docker ps -q --no-trunc --filter "label=com.docker.compose.project=$project" \
    --filter "label=com.docker.compose.service=$1"
}
# health: "NAME STATUS" of each running container of the project
# (STATUS: healthy, unhealthy, starting, or none without a check).
health() {
  local ids
  ids=$(docker ps -q --filter "label=com.docker.compose.project=$project")
  [ -n "$ids" ] || return 0
  # shellcheck disable=SC2086
  docker inspect --format '{{.Name}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' $ids
}
# all_healthy N: at least N containers report healthy, none anything else
# but "none".
all_healthy() {
  local st
  st=$(health) || return 1
  [ "$(grep -c ' healthy$' <<<"$st")" -ge "$1" ] && ! grep -qE ' (unhealthy|starting)$' <<<"$st"
}
wait_healthy() { # wait_healthy N SECONDS
  local i
  for i in $(seq 1 $(($2 * 5))); do all_healthy "$1" && return 0; sleep 0.2; done
  return 1
}

bring_up() {
  say "starting Redis and the services (3 executors, 2 replicas of each other service)"
  local t0
  export WFP_REDIS_HOST_PORT
  WFP_REDIS_HOST_PORT=$(wfp_free_port)
  # A shorter lease than the default 15 s: a killed executor's jobs come
  # back sooner. The rest is docker-compose.yml as shipped.
  export WFP_VISIBILITY_MS=5000
  export WFP_REDIS_URL="redis://wfp-operator:demo-operator-change-me@127.0.0.1:$WFP_REDIS_HOST_PORT"
  export WFP_PREFIX=wfp
  t0=$(now_ms)
  up=1
  dc up -d "${replicas[@]}" --scale executor=3 >"$work/up.log" 2>&1 || { cat "$work/up.log" >&2; fail "'up' failed"; }
  # redis + 2 jobboard + 2 lock + 2 reservation + 3 executors
  wait_healthy 10 120 || fail "the services were not all healthy within 120 s"
  pass "up: 10 containers healthy (redis, 2 jobboard, 2 lock, 2 reservation, 3 executors) in $(secs $(($(now_ms) - t0)))"
  local live
  live=$(W status --json | jq -c '[.services.jobboard.live, .services.lock.live, .services.reservation.live, .executors]') ||
    fail "wfp status from the host failed"
  [ "$live" = "[2,2,2,3]" ] || fail "wfp status counts [jobboard, lock, reservation, executors] $live, want [2,2,2,3]"
  pass "wfp status from the host (as wfp-operator): 2 jobboard, 2 lock, 2 reservation replicas and 3 executors live"
}

# --- Reservations -------------------------------------------------------------

# proof.json: an ip and a vm, each step pausing pause_ms; slow.json: the
# same with steps three times as long (the scaling batch: executors are
# stopped while its jobs still have steps to do).
write_files() {
  local f p
  for f in proof slow; do
    p=$pause_ms
    [ "$f" = slow ] && p=$((pause_ms * 3))
    cat >"$work/$f.json" <<EOF
{"name": "proof", "ttl_ms": 3600000,
 "items": [
  {"name": "ip", "pool": "ips", "amount": 1, "class": "ip",
   "args": {"cloud": "/tmp/wfp-fake-cloud", "pause_ms": $p}},
  {"name": "vm", "pool": "vcpus", "amount": 2, "class": "vm",
   "args": {"cloud": "/tmp/wfp-fake-cloud", "pause_ms": $p}}]}
EOF
  done
}

# post_batch NAME N [FILE]: creates N reservations NAME-1..N from the
# host (FILE: proof, or slow), 8 at a time; every create must be accepted.
post_batch() {
  local name=$1 n=$2 file=${3:-proof} i
  for i in $(seq 1 "$n"); do
    W rsv create "$work/$file.json" --id "$name-$i" >"$work/create-$name-$i.out" 2>&1 &
    [ $((i % 8)) = 0 ] && wait
  done
  wait
  for i in $(seq 1 "$n"); do
    grep -q "^$name-$i" "$work/create-$name-$i.out" ||
      fail "creating $name-$i was refused: $(cat "$work/create-$name-$i.out")"
  done
}

# states NAME: "STATE COUNT ..." of the reservations NAME-*.
states() {
  W rsv list --json | jq -r --arg p "$1-" \
    '[.[] | select(.id | startswith($p)) | .state] | group_by(.) | map("\(.[0]) \(length)") | join(" ")'
}
# wait_active NAME N SECONDS: every NAME-* reservation ended (active,
# failed or expired), within SECONDS; fails unless all N are active.
wait_active() {
  local name=$1 n=$2 s=$3 st i
  for i in $(seq 1 $((s * 4))); do
    st=$(states "$name")
    [ "$st" = "active $n" ] && return 0
    grep -qE 'pending' <<<"$st" || [ -z "$st" ] || fail "$name: reservations ended other than active: $st"
    sleep 0.25
  done
  fail "$name: not all $n active within $s s: $st"
}

# job_log JOB: the job's task log as JSON.
job_log() { W job log "$1" --json; }

# applied_twice JOB: tasks of JOB's log applied more than once.
applied_twice() {
  job_log "$1" | jq -r '[.[] | select(.state == "applied") | .task] | group_by(.) | map(select(length > 1) | .[0]) | join(" ")'
}

# calls_twice: steps fake-cloud did twice for one task key (its calls log
# in the shared cloud folder: "KEY STEP CLASS ITEM RESULT").
calls_twice() {
  dc exec -T cli cat /tmp/wfp-fake-cloud/.fake-cloud/calls 2>/dev/null |
    awk '$5 == "done" { n[$1 " " $2]++ } END { for (k in n) if (n[k] > 1) print k }'
}
calls_done() {
  dc exec -T cli cat /tmp/wfp-fake-cloud/.fake-cloud/calls 2>/dev/null | awk '$5 == "done"' | wc -l
}

setup_pools() {
  W pool set ips --capacity 1000 >/dev/null || fail "pool set ips failed"
  W pool set vcpus --capacity 2000 >/dev/null || fail "pool set vcpus failed"
  pass "pools set from the host: ips 1000, vcpus 2000"
  # The same from inside the deployment, with the image's own example.
  dc exec -T cli sh examples/provision/setup-pools >/dev/null ||
    fail "examples/provision/setup-pools in the cli container failed"
  dc exec -T cli wfp rsv create examples/provision/small-server.json --id example-1 --wait --timeout 60000 >"$work/example.out" 2>&1 ||
    { cat "$work/example.out" >&2; fail "'docker compose exec cli wfp rsv create examples/provision/small-server.json --wait' failed"; }
  W pool set ips --capacity 1000 >/dev/null && W pool set volumes --capacity 1000 >/dev/null &&
    W pool set vcpus --capacity 2000 >/dev/null || fail "pool set failed"
  pass "the example small server reserved with docker compose exec cli wfp rsv create ... --wait: active"
}

# --- Kill an executor mid-job ---------------------------------------------------

# running_owner NAME: "JOB OWNER" of a NAME-* fulfilment job that has
# applied at least one of its 6 tasks and at most 3 (mid-job, with
# seconds of work left), if any.
running_owner() {
  local j
  for j in $(W job list --state claimed --limit 1000 --json | jq -r --arg p "$1-" \
    '.[] | select(.id | startswith($p)) | .id + "," + .owner'); do
    local id=${j%,*} owner=${j#*,} n
    n=$(job_log "$id" | jq '[.[] | select(.state == "applied")] | length')
    if [ "$n" -ge 1 ] && [ "$n" -le 3 ]; then
      echo "$id $owner"
      return 0
    fi
  done
  return 1
}

kill_executor() {
  say "batch a: $batch reservations (ip + vm, 6 steps of $pause_ms ms each), one executor killed mid-job"
  local t0 pick job owner host id held i t_kill
  t0=$(now_ms)
  post_batch a "$batch"
  pass "batch a: $batch reservations created from the host in $(secs $(($(now_ms) - t0)))"
  pick=""
  for i in $(seq 1 100); do
    pick=$(running_owner a) && break
    sleep 0.1
  done
  [ -n "$pick" ] || fail "no fulfilment job was seen mid-job"
  read -r job owner <<<"$pick"
  host=${owner%-*}
  id=$(containers executor | grep "^$host" | head -1)
  [ -n "$id" ] || fail "no executor container matches owner $owner"
  t_kill=$(now_ms)
  docker kill --signal KILL "$id" >/dev/null || fail "docker kill -s KILL $id failed"
  # What it held unfinished: claimed by it after the kill (it can finish
  # nothing more).
  held=$(W job list --state claimed --limit 1000 --json | jq -r --arg o "$owner" '[.[] | select(.owner == $o) | .id] | join(" ")')
  grep -qw -- "$job" <<<"$held" || fail "$job was finished before the kill landed (held then: ${held:-nothing})"
  pass "killed executor $owner (container ${id:0:12}) with SIGKILL while it held $(wc -w <<<"$held") jobs, $job mid-job ($(job_log "$job" | jq '[.[] | select(.state == "applied")] | length')/6 applied)"
  wait_active a "$batch" 120
  pass "batch a: all $batch active, $(secs $(($(now_ms) - t_kill))) after the kill (lease 5 s)"
  local j others twice resumed=0
  for j in $held; do
    [ "$(W job show "$j" --json | jq -r .state)" = completed ] || fail "$j (held by the killed executor) is not completed"
    others=$(job_log "$j" | jq -r --arg o "$owner" '[.[] | select(.owner != $o) | .owner] | unique | join(" ")')
    [ -n "$others" ] || fail "$j: no other executor wrote its log after the kill"
    twice=$(applied_twice "$j")
    [ -z "$twice" ] || fail "$j: tasks applied twice in its log: $twice"
    resumed=$((resumed + 1))
  done
  pass "the killed executor's $resumed jobs were resumed by other executors and completed; no task applied twice in their logs"
  twice=$(calls_twice)
  [ -z "$twice" ] || fail "fake-cloud did a step twice for one task key: $twice"
  pass "fake-cloud: $(calls_done) steps done, none twice for one task key"
  local restarted
  restarted=$(docker inspect "$id" --format '{{.State.Status}}' 2>/dev/null || echo gone)
  pass "the killed container is now: $restarted (a docker kill counts as a manual stop: no restart policy brings it back; scaling does)"
}

# --- Scale down and up under load -------------------------------------------------

scale() {
  say "batch b: $batch reservations (steps of $((pause_ms * 3)) ms) while executors scale 3 -> 1 -> 3"
  local t0 t1 n j i owners=0 handed=0
  post_batch b "$batch" slow
  # Under load: jobs of the batch held by at least two executors.
  for i in $(seq 1 100); do
    owners=$(W job list --state claimed --limit 1000 --json |
      jq '[.[] | select(.id | startswith("b-")) | .owner] | unique | length')
    [ "$owners" -ge 2 ] && break
    sleep 0.2
  done
  [ "$owners" -ge 2 ] || fail "batch b's jobs were never held by two executors at once (held by $owners)"
  local before
  before=$(W job list --state claimed --limit 1000 --json |
    jq -r '[.[] | select(.id | startswith("b-")) | .owner] | group_by(.) | map("\(.[0]):\(length)") | join(" ")')
  t0=$(now_ms)
  dc up -d --no-recreate "${replicas[@]}" --scale executor=1 >"$work/scale1.log" 2>&1 || { cat "$work/scale1.log" >&2; fail "scale to 1 failed"; }
  n=$(containers executor | wc -l)
  [ "$n" = 1 ] || fail "$n executors running after scaling to 1"
  pass "scaled to 1 executor in $(secs $(($(now_ms) - t0))) (SIGTERM, grace 30 s): $(states b)"
  sleep 2
  t1=$(now_ms)
  dc up -d --no-recreate "${replicas[@]}" --scale executor=3 >"$work/scale3.log" 2>&1 || { cat "$work/scale3.log" >&2; fail "scale to 3 failed"; }
  wait_healthy 10 120 || fail "not all healthy after scaling back to 3"
  pass "scaled back to 3 executors, healthy in $(secs $(($(now_ms) - t1)))"
  wait_active b "$batch" 180
  for j in $(seq 1 "$batch"); do
    [ -z "$(applied_twice "b-$j.fulfil")" ] || fail "b-$j.fulfil: a task applied twice"
    # Handed back: a redelivery recorded (a job claimed but not started
    # yet leaves no log entry of the executor that gave it back).
    [ "$(W job show "b-$j.fulfil" --json | jq .redeliveries)" -ge 1 ] && handed=$((handed + 1))
  done
  [ "$handed" -ge 1 ] || fail "no job of batch b moved between executors: the scale-down was not under load (claims before it, owner:jobs: $before; running after it: $(containers executor | cut -c1-12 | tr '\n' ' '); owners in the logs: $(for j in $(seq 1 "$batch"); do job_log "b-$j.fulfil" | jq -r '[.[].owner] | unique | join("+")'; done | sort | uniq -c | tr '\n' ' '))"
  pass "batch b: all $batch active, $(secs $(($(now_ms) - t0))) after the scale-down; $handed jobs handed back by the stopped executors (a redelivery recorded) and completed by others, no task applied twice"
  [ -z "$(calls_twice)" ] || fail "fake-cloud did a step twice for one task key: $(calls_twice)"
}

# --- Redis restart ------------------------------------------------------------------

# snapshot: every reservation's id and state, every pool, every job's id
# and state (sorted JSON).
snapshot() {
  W rsv list --json | jq -c 'map({id, state}) | sort_by(.id)'
  W pool list --json | jq -c 'sort_by(.name)'
  W job list --limit 10000 --json | jq -c 'map({id, state}) | sort_by(.id)'
}

redis_restart() {
  say "batch c: $((batch / 2)) reservations while the Redis container restarts"
  local before after t0 n
  snapshot >"$work/before.json" || fail "snapshot before the restart failed"
  post_batch c $((batch / 2))
  n=$(jq -s '.[0] | length' "$work/before.json")
  t0=$(now_ms)
  dc restart redis >"$work/restart.log" 2>&1 || { cat "$work/restart.log" >&2; fail "restart redis failed"; }
  wait_healthy 10 120 || fail "not all healthy after the Redis restart"
  pass "Redis restarted (SIGTERM, AOF reloaded); all healthy again in $(secs $(($(now_ms) - t0)))"
  wait_active c $((batch / 2)) 180
  pass "batch c: all $((batch / 2)) active after the restart"
  # Everything that had settled before is still there, unchanged.
  snapshot >"$work/after.json" || fail "snapshot after the restart failed"
  jq -n --slurpfile b "$work/before.json" --slurpfile a "$work/after.json" '
    ($b[0] - $a[0]) + ($b[2] - $a[2])' >"$work/lost.json"
  [ "$(jq length "$work/lost.json")" = 0 ] || fail "lost or changed by the restart: $(head -c 500 "$work/lost.json")"
  pass "nothing lost: the $n reservations and $(jq -s '.[2] | length' "$work/before.json") jobs from before the restart are there with the same states"
}

# --- Final state ------------------------------------------------------------------

final_checks() {
  say "final state"
  local want got st
  # used of each pool = the sum over its active reservations' items.
  want=$(W rsv list --state active --json | jq -r '.[].id' | while read -r r; do
    W rsv show "$r" --json | jq -c '.items[] | {pool, amount}'
  done | jq -s -c 'group_by(.pool) | map({(.[0].pool): (map(.amount) | add)}) | add')
  got=$(W pool list --json | jq -c 'map(select(.used > 0) | {(.name): .used}) | add')
  [ "$(jq -S -c . <<<"$want")" = "$(jq -S -c . <<<"$got")" ] || fail "pool used $got, but the active reservations hold $want"
  pass "each pool's used equals the sum over its active reservations: $got"
  st=$(W status --json)
  [ "$(jq '[.services[] | .pending + .queued] | add' <<<"$st")" = 0 ] || fail "requests left pending: $(jq -c .services <<<"$st")"
  pass "no request left pending on any service stream"
  got=$(W job list --limit 10000 --json | jq -r '[.[] | select(.state != "completed") | .id + " " + .state] | join(", ")')
  [ -z "$got" ] || fail "jobs not completed: $got"
  pass "every job completed ($(W job list --limit 10000 --json | jq length) jobs)"
  local files active list
  # Resource files only: CLASS-RSV-ITEM (a run killed while rewriting
  # one leaves a CLASS-RSV-ITEM.tmp.PID beside it, which is no resource).
  list=$(dc exec -T cli ls /tmp/wfp-fake-cloud | tr -d '\r')
  files=$(grep -cE '^(ip|volume|vm)-[A-Za-z0-9_-]+$' <<<"$list" || true)
  active=$(W rsv list --state active --json | jq '[.[] | select(.id | test("^[abc]-"))] | length')
  [ "$files" = $((active * 2 + 3)) ] ||
    fail "$files resources in the fake cloud, want $((active * 2 + 3)) (2 per proof reservation + the example's 3); the folder: $(echo $list)"
  pass "the fake cloud holds exactly the active reservations' resources ($files files; $(grep -c '\.tmp\.' <<<"$list" || true) leftovers of killed runs)"
}

acl_checks() {
  say "least privilege in the deployment"
  local r
  r=$(dc exec -T redis redis-cli --no-auth-warning --user wfp-executor --pass demo-executor-change-me FLUSHALL | tr -d '\r')
  grep -q '^NOPERM' <<<"$r" || fail "wfp-executor was not refused FLUSHALL: $r"
  r=$(dc exec -T redis redis-cli --no-auth-warning --user wfp-executor --pass demo-executor-change-me HGETALL '{wfp}:pool:ips' | tr -d '\r')
  grep -q '^NOPERM' <<<"$r" || fail "wfp-executor was not refused a pool key: $r"
  r=$(dc exec -T redis redis-cli --no-auth-warning --user wfp-lock --pass demo-lock-change-me HGETALL '{wfp}:job:a-1.fulfil' | tr -d '\r')
  grep -q '^NOPERM' <<<"$r" || fail "wfp-lock was not refused a job key: $r"
  r=$(dc exec -T redis redis-cli GET x | tr -d '\r')
  grep -q '^NOAUTH' <<<"$r" || fail "the default user was not refused: $r"
  pass "wfp-executor refused FLUSHALL and {wfp}:pool:ips, wfp-lock refused a job, the default user refused (NOAUTH)"
  if dc logs --no-color 2>&1 | grep -q -e 'NOPERM' -e '-change-me'; then
    fail "a service log holds a NOPERM or a password: $(dc logs --no-color 2>&1 | grep -m3 -e NOPERM -e '-change-me')"
  fi
  pass "no NOPERM and no password in any service's log"
}

# --- Main ---------------------------------------------------------------------------

for c in docker jq; do
  command -v "$c" >/dev/null || fail "'$c' is not installed (docker: the client; jq: scripts/deps)"
done
engine
"${compose[@]}" version >/dev/null 2>&1 || fail "${compose[*]} does not work here"
cli_build
write_files
dc down -v --remove-orphans >/dev/null 2>&1 || true
build_images
no_compiler
bring_up
setup_pools
kill_executor
scale
redis_restart
final_checks
acl_checks
say "teardown"
t0=$(now_ms)
dc down -v --remove-orphans >/dev/null 2>&1 || fail "'down -v' failed"
up=0
pass "down -v: every container, network and volume of project $project removed in $(secs $(($(now_ms) - t0)))"
echo "prove: every check passed in $(($(date +%s) - t_start)) s"
