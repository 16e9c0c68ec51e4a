#!/usr/bin/env bash
# The executor's benchmark: logged tasks per second through wfp-executor
# with its durable task log, beside OpenStack TaskFlow's engine in the same
# run (when python3-taskflow is installed: WFP_BENCH_PEERS=1 scripts/deps
# installs it). Prints figures; never fails on timing.
#
#   bench/exec_bench.sh            all scenarios
#   EXEC_BENCH_QUICK=1 bench/...   smaller sizes (a smoke run)
#
# Scenarios (each on its own prefix of a private redis-server, or of
# WFP_REDIS_URL, whose database is FLUSHED: point it only at a scratch one):
#  1. one job, a linear workflow of 1,000 `noop` plugin tasks: tasks/s
#     (claim to completion, from the job's claimed_at and finished_at);
#  2. the same with a `fail` task at the end: reverts/s (from the
#     apply-failed log entry to the job's end);
#  3. lengths 100, 1,000, 5,000 and 10,000: microseconds per task;
#  4. 500 jobs of 10 tasks over 1 and over 4 executors: jobs/s, tasks/s.
set -euo pipefail
[ "${EXEC_BENCH_TRACE:-0}" = 1 ] && set -x
cd "$(dirname "$0")/.."
root=$PWD
scripts/deps
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" >/dev/null
. scripts/lib.sh
export PATH="$root/build:$PATH"
work=$(mktemp -d /tmp/wfp-exec-bench.XXXXXX)
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
  wfp_redis_start "$root/.bench/redis-exec"
  export WFP_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
fi
quick=${EXEC_BENCH_QUICK:-0}
echo "machine: $(nproc) cores, $(redis-server --version | cut -d' ' -f3)"

# start_services PREFIX EXECUTORS: a board and N executors on PREFIX.
start_services() {
  export WFP_PREFIX=$1
  wfp-jobboard --log-level warn >>"$work/board.log" 2>&1 &
  pids+=($!)
  start_executors "$1" "$2"
}

# start_executors PREFIX N: N executors on PREFIX.
start_executors() {
  local i
  for ((i = 0; i < $2; i++)); do
    WFP_EXECUTOR_NAME="bench-$1-$i" wfp-executor --log-level warn \
      >>"$work/executor.log" 2>&1 &
    pids+=($!)
  done
  sleep 0.3
}

stop_services() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

# job_file N FAIL: a job file with a linear workflow of N noop tasks (the
# last one `fail` when FAIL is 1; every task reverts with noop).
job_file() {
  jq -n --argjson n "$1" --argjson fail "$2" '{name: "bench", max_attempts: 1,
    payload: {workflow: {linear: [range($n) | {task: "t\(.)",
      apply: (if $fail == 1 and . == $n - 1
              then {plugin: "fail", args: {reason: "bench"}}
              else {plugin: "noop"} end),
      revert: {plugin: "noop"}}]}}}' >"$work/job.json"
}

field() { redis-cli -u "$WFP_REDIS_URL" HGET "{$WFP_PREFIX}:job:$1" "$2"; }

# one_job N FAIL: posts one job, waits for its end; prints "ms_total
# ms_revert_phase".
one_job() {
  job_file "$1" "$2"
  local id t_fail
  if ! id=$(wfp job post "$work/job.json" 2>"$work/post.err"); then
    echo "0 0 not posted: $(cat "$work/post.err")"
    return
  fi
  wfp job wait "$id" --timeout 600000 >/dev/null 2>&1 || true
  local claimed finished
  claimed=$(field "$id" claimed_at)
  finished=$(field "$id" finished_at)
  t_fail=$(redis-cli -u "$WFP_REDIS_URL" XRANGE "{$WFP_PREFIX}:job:$id:log" - + |
    awk 'prev == "state" && $0 == "apply-failed" {f = 1} prev == "at" && f == 1 && !p {print; p = 1} {prev = $0}')
  echo "$((finished - claimed)) $(( t_fail ? finished - t_fail : 0 )) $(field "$id" state)"
}

rate() { awk -v n="$1" -v ms="$2" 'BEGIN { if (ms <= 0) ms = 1; printf "%.0f", n * 1000 / ms }'; }
per() { awk -v n="$1" -v ms="$2" 'BEGIN { printf "%.1f", ms * 1000 / n }'; }

echo
echo "== 1-2. one executor, linear workflow of noop tasks, durable log"
n1=1000
start_services bench-exec-1 1
read -r ms _ state < <(one_job $n1 0)
ours_apply=$(rate $n1 "$ms")
echo "apply:  $n1 tasks in $ms ms -> $ours_apply tasks/s ($state)"
read -r ms rms state < <(one_job $n1 1)
ours_revert=$(rate $((n1 - 1)) "$rms")
echo "revert: $((n1 - 1)) reverts in $rms ms -> $ours_revert reverts/s ($state; whole job $ms ms)"

echo
echo "== 3. cost per task by length"
# (a job over WFP_PAYLOAD_MAX, 256 KiB, is refused: ~3,700 noop tasks
# fit; longer ones are reported as not posted)
lens="100 1000 3000 5000 10000"
[ "$quick" = 1 ] && lens="100 1000"
for n in $lens; do
  read -r ms _ state < <(one_job "$n" 0)
  case $state in
  not\ posted*) echo "length $n: $state" ;;
  *) echo "length $n: $ms ms, $(per "$n" "$ms") us per task ($state)" ;;
  esac
done
stop_services

echo
echo "== 4. 500 jobs of 10 tasks"
jobs=500
[ "$quick" = 1 ] && jobs=100
for ex in 1 4; do
  export WFP_PREFIX="bench-exec-many-$ex"
  job_file 10 0
  # The jobs wait on the board before the executors start, so the time
  # from the first claim to the last end is the executors' alone.
  start_services "$WFP_PREFIX" 0
  ids=()
  for ((i = 0; i < jobs; i++)); do ids+=("$(wfp job post "$work/job.json")"); done
  start_executors "$WFP_PREFIX" "$ex"
  for id in "${ids[@]}"; do wfp job wait "$id" --timeout 600000 >/dev/null 2>&1 || true; done
  first=$(for id in "${ids[@]}"; do field "$id" claimed_at; done | sort -n | sed -n 1p) # (head would end sort early: SIGPIPE)
  last=$(for id in "${ids[@]}"; do field "$id" finished_at; done | sort -n | tail -1)
  done_n=$(for id in "${ids[@]}"; do field "$id" state; done | grep -c '^completed$' || true)
  ms=$((last - first))
  echo "$ex executor(s): $done_n/$jobs completed in $ms ms -> $(rate "$jobs" "$ms") jobs/s, $(rate $((jobs * 10)) "$ms") tasks/s"
  stop_services
done

echo
echo "== TaskFlow's engine, same machine, same run (../shared/peers/taskflow)"
peer=${WFP_TASKFLOW_BENCH:-$root/../shared/peers/taskflow/bench_engine.py}
if [ -f "$peer" ] && /usr/bin/python3 -c 'import taskflow' 2>/dev/null; then
  tf() { WORKDIR=$work /usr/bin/python3 "$peer" "$1" $n1 3 | awk -F'= ' '/tasks\/s \(run phase\)/ {split($2, a, " "); print a[1]}'; }
  tf_mem=$(tf mem)
  tf_dir=$(tf dir)
  tf_rev=$(tf revert-mem)
  echo "TaskFlow $n1 tasks: memory $tf_mem tasks/s, directory log $tf_dir tasks/s, reverts (memory) $tf_rev/s"
  awk -v a="$ours_apply" -v r="$ours_revert" -v m="$tf_mem" -v d="$tf_dir" -v v="$tf_rev" 'BEGIN {
    printf "ratio wfp/TaskFlow: apply %.0fx memory, %.0fx directory log; reverts %.0fx memory\n",
      a / m, a / d, r / v }'
else
  echo "TaskFlow not installed (WFP_BENCH_PEERS=1 scripts/deps installs python3-taskflow): no ratio"
fi
