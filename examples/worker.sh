#!/usr/bin/env bash
# A job worker written against the `wfp` CLI alone, to show that any
# language can work the board: claim, heartbeat while working, then
# complete, or fail (the board retries while attempts remain).
#
# usage: examples/worker.sh OWNER [MAX_JOBS]   (WORKER_WAIT_MS: idle wait, 1000)
# Env: WFP_REDIS_URL, WFP_PREFIX, WFP_VISIBILITY_MS as for every command.
# A payload with "fail_first_attempt": true fails its first attempt.
set -euo pipefail
owner=$1
max=${2:-1000}
wfp=${WFP_CLI:-wfp}

for _ in $(seq 1 "$max"); do
  # Exit status 3: nothing to claim in time, the worker is done. Any other
  # failure (Redis unreachable, a claim that could not be printed) is the
  # worker's failure too, never a quiet "done".
  rc=0
  job=$("$wfp" job claim --owner "$owner" --wait "${WORKER_WAIT_MS:-1000}" --json) || rc=$?
  [ "$rc" -eq 3 ] && exit 0
  [ "$rc" -eq 0 ] || { echo "$owner: claim failed (exit $rc)" >&2; exit "$rc"; }
  id=$(jq -r .id <<<"$job")
  token=$(jq -r .token <<<"$job")
  attempt=$(jq -r .attempts <<<"$job")
  echo "$owner: claimed $id ($(jq -r .name <<<"$job"), attempt $attempt, fence $(jq -r .fence <<<"$job"))"
  "$wfp" job heartbeat "$id" "$token" >/dev/null   # still working
  if [ "$(jq -r '.payload.fail_first_attempt // false' <<<"$job")" = true ] &&
     [ "$attempt" = 1 ]; then
    "$wfp" job fail "$id" "$token" --reason "volume busy (simulated)" >/dev/null
    echo "$owner: $id failed attempt $attempt; the board will retry it"
  else
    "$wfp" job complete "$id" "$token" >/dev/null
    echo "$owner: $id completed"
  fi
done
