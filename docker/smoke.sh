#!/usr/bin/env bash
# Builds and starts the compose deployment with two replicas of each
# service, then drives it from the host: posts and claims jobs, takes and
# contends a lock, and checks both replicas of each service consume their
# request stream. Stops everything at the end. Needs docker compose, or
# podman set up by docker/podman-setup.sh (DOCKER_HOST exported), and
# builds the `wfp` CLI on the host (in build/, so the host needs the
# build packages: scripts/deps) to drive the deployment from outside.
set -euo pipefail
cd "$(dirname "$0")/.."
fail() { echo "FAIL: $*" >&2; exit 1; }
compose=(docker-compose)
command -v docker-compose >/dev/null || compose=(docker compose)
"${compose[@]}" version >/dev/null 2>&1 ||
  fail "neither docker-compose nor 'docker compose' works here (on a host without Docker Engine: eval \"\$(docker/podman-setup.sh)\")"
export WFP_REDIS_HOST_PORT=${WFP_REDIS_HOST_PORT:-16379}
export WFP_REDIS_URL="redis://127.0.0.1:$WFP_REDIS_HOST_PORT"
echo "== building the wfp CLI on the host (build/), to drive the deployment"
{ cmake -S . -B build && cmake --build build -j "$(nproc)"; } >/dev/null ||
  fail "building the CLI on the host failed (see above; scripts/deps installs what the build needs)"
trap '"${compose[@]}" down >/dev/null 2>&1 || true' EXIT
echo "== building and starting the deployment (2 replicas of each service)"
"${compose[@]}" build || fail "'${compose[*]} build' failed (see above)"
"${compose[@]}" up -d --scale jobboard=2 --scale lock=2 || fail "'${compose[*]} up' failed (see above)"
up=0
for _ in $(seq 1 100); do build/wfp status >/dev/null 2>&1 && { up=1; break; }; sleep 0.2; done
[ $up = 1 ] || fail "redis of the deployment does not answer on $WFP_REDIS_URL after 20 s"
sleep 2 # both replicas join their groups

for i in 1 2 3 4 5 6; do
  build/wfp job post examples/jobs/create-dns.json >/dev/null || fail "post $i of 6 failed"
done
out=$(build/wfp job claim --owner smoke --count 6) || fail "claim failed"
claimed=$(wc -l <<<"$out")
[ "$claimed" = 6 ] || fail "claimed $claimed of 6"
t=$(build/wfp lock acquire smoke-lock --owner a --json | jq -r .token) || fail "lock acquire failed"
rc=0; build/wfp lock acquire smoke-lock --owner b --wait 300 2>/dev/null || rc=$?
[ "$rc" = 3 ] || fail "contended acquire did not time out (exit $rc, want 3)"
build/wfp lock release smoke-lock "$t" >/dev/null || fail "lock release failed"
for svc in jobboard lock; do
  n=$(build/wfp status --json | jq ".services.$svc.live") || fail "wfp status failed"
  [ "$n" = 2 ] || fail "$svc has $n live replicas, want 2"
done
echo "compose smoke: 6 jobs posted and claimed, lock contended, 2 replicas per service: ok"
