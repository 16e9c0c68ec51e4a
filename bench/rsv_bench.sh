#!/usr/bin/env bash
# The reservation service's benchmark: reservations a second from create
# to active, 1-item reservations whose class is the `noop` plugin at every
# step (so the figure is wfp's own cost: the create request, the pool
# update and the job post in one script, the executor's three logged
# tasks, the reconcile to active), over 1 and over 4 executors.
# Prints figures; never fails on timing.
#
#   bench/rsv_bench.sh             N = 500 reservations per run
#   RSV_BENCH_N=100 bench/...      another N
#
# Each run on its own prefix of a private redis-server (or of
# WFP_REDIS_URL, whose database is FLUSHED: point it only at a scratch
# one), beside wfp-jobboard, wfp-lock, wfp-reservation and the executors:
# N `wfp rsv create` at once (16 in flight), then the time until all N are
# active: wall clock from before the first create, and on Redis's clock
# from the first created_at to the last reservation's active updated_at.
# Then the fulfilment alone: the N created while no executor runs, then
# the executors started: from the first claim to the last active.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
. scripts/lib.sh
export PATH="$root/build:$PATH"
work=$(mktemp -d /tmp/wfp-rsv-bench.XXXXXX)
pids=()
cleanup() {
  set +e
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  wfp_redis_stop
  rm -rf "$work"
}
trap cleanup EXIT
if [ -z "${WFP_REDIS_URL:-}" ]; then
  wfp_redis_start "$root/.bench/redis-rsv"
  export WFP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
fi
redis-cli -u "$WFP_REDIS_URL" FLUSHALL >/dev/null
n=${RSV_BENCH_N:-500}
echo "machine: $(nproc) cores, $(redis-server --version | cut -d' ' -f3); $n reservations per run"

mkdir -p "$work/classes"
echo '{"reserve": {"plugin": "noop"}, "configure": {"plugin": "noop"},
  "acquire": {"plugin": "noop"}, "destroy": {"plugin": "noop"}}' >"$work/classes/noop.json"
echo '{"name": "bench", "items": [{"name": "slot", "pool": "bench", "amount": 1, "class": "noop"}]}' \
  >"$work/rsv.json"

# start_services PREFIX EXECUTORS: the four services on PREFIX.
start_services() {
  export WFP_PREFIX=$1
  wfp-jobboard --log-level warn >>"$work/board.log" 2>&1 &
  pids+=($!)
  wfp-lock --log-level warn >>"$work/lock.log" 2>&1 &
  pids+=($!)
  WFP_CLASSES_DIR="$work/classes" wfp-reservation --log-level warn >>"$work/reservation.log" 2>&1 &
  pids+=($!)
  start_executors "$1" "$2"
  wfp_wait_for wfp pool set bench --capacity 1000000000 ||
    { echo "rsv_bench: wfp-reservation did not answer (log: $work/reservation.log)" >&2; exit 1; }
  sleep 0.3
}

# start_executors PREFIX N: N executors on PREFIX.
start_executors() {
  local i
  for ((i = 0; i < $2; i++)); do
    WFP_EXECUTOR_NAME="bench-$1-$i" wfp-executor --log-level warn >>"$work/executor.log" 2>&1 &
    pids+=($!)
  done
}

stop_services() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
rcli() { redis-cli -u "$WFP_REDIS_URL" "$@"; }

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.0f", n * 1000 / (ms > 0 ? ms : 1) }'; }

# wait_active: waits until all n are active (or ended otherwise); prints
# how many are active.
wait_active() {
  local done_n=0
  for _ in $(seq 1 12000); do # 10 min at most
    done_n=$(rcli ZCARD "$tag:rsvs:active")
    [ "$done_n" -ge "$n" ] && break
    [ "$(($(rcli ZCARD "$tag:rsvs:failed") + done_n))" -ge "$n" ] && break
    sleep 0.05
  done
  echo "$done_n"
}

# times: "FIRST_CREATED FIRST_CLAIMED LAST_ACTIVE MEAN_CREATE_TO_ACTIVE"
# on Redis's clock (ms).
times() {
  local i
  for i in $(seq 1 "$n"); do
    echo "$(rcli HMGET "$tag:rsv:b$i" created_at updated_at | paste - -) $(rcli HGET "$tag:job:b$i.fulfil" claimed_at)"
  done | awk 'NF == 3 { if (!f || $1 < f) f = $1; if (!c1 || $3 < c1) c1 = $3; if ($2 > l) l = $2; s += $2 - $1; c++ }
              END { printf "%.0f %.0f %.0f %.1f\n", f, c1, l, c ? s / c : 0 }'
}

creates() {
  seq 1 "$n" | xargs -P 16 -I{} wfp rsv create "$work/rsv.json" --id "b{}" >/dev/null 2>>"$work/create.err" || true
}

echo
echo "== create -> active: N creates at once (16 in flight) with the executors running"
for ex in 1 4; do
  start_services "bench-rsv-$ex" "$ex"
  tag="{$WFP_PREFIX}"
  t0=$(now_ms)
  creates
  t1=$(now_ms)
  done_n=$(wait_active)
  t2=$(now_ms)
  read -r first _ last mean < <(times)
  echo "$ex executor(s): $done_n/$n active; creates alone $((t1 - t0)) ms ($(rate "$n" $((t1 - t0)))/s);" \
    "all active after $((t2 - t0)) ms -> $(rate "$n" $((t2 - t0))) reservations/s" \
    "(Redis clock, first created -> last active: $((last - first)) ms -> $(rate "$n" $((last - first)))/s);" \
    "mean create -> active $mean ms"
  stop_services
done

echo
echo "== fulfilment alone: N reservations created first (pending), then the executors start"
for ex in 1 4; do
  start_services "bench-rsv-pre-$ex" 0
  tag="{$WFP_PREFIX}"
  creates
  start_executors "$WFP_PREFIX" "$ex"
  done_n=$(wait_active)
  read -r _ claimed last _ < <(times)
  echo "$ex executor(s): $done_n/$n active; first claim -> last active $((last - claimed)) ms -> $(rate "$n" $((last - claimed))) reservations/s"
  stop_services
done
if [ -s "$work/create.err" ]; then
  echo "some creates failed: $(sort "$work/create.err" | uniq -c | head -3)"
fi
