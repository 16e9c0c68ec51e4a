#!/usr/bin/env bash
# Builds and starts the compose deployment with two replicas of each
# service, then drives it from the host: posts and claims jobs, takes and
# contends a lock, and checks both replicas of each service consume their
# request stream. Stops everything at the end. Needs docker compose, or
# podman set up by docker/podman-setup.sh (DOCKER_HOST exported).
set -euo pipefail
cd "$(dirname "$0")/.."
compose=(docker-compose)
command -v docker-compose >/dev/null || compose=(docker compose)
export WFP_REDIS_HOST_PORT=${WFP_REDIS_HOST_PORT:-16379}
export WFP_REDIS_URL="redis://127.0.0.1:$WFP_REDIS_HOST_PORT"
cmake -S . -B build >/dev/null && cmake --build build -j "$(nproc)" >/dev/null
trap '"${compose[@]}" down >/dev/null 2>&1 || true' EXIT
"${compose[@]}" build
"${compose[@]}" up -d --scale jobboard=2 --scale lock=2
for _ in $(seq 1 100); do build/wfp status >/dev/null 2>&1 && break; sleep 0.2; done
sleep 2 # both replicas join their groups

for i in 1 2 3 4 5 6; do build/wfp job post examples/jobs/create-dns.json >/dev/null; done
claimed=$(build/wfp job claim --owner smoke --count 6 | wc -l)
[ "$claimed" = 6 ] || { echo "FAIL: claimed $claimed of 6"; exit 1; }
t=$(build/wfp lock acquire smoke-lock --owner a --json | jq -r .token)
rc=0; build/wfp lock acquire smoke-lock --owner b --wait 300 2>/dev/null || rc=$?
[ "$rc" = 3 ] || { echo "FAIL: contended acquire did not time out"; exit 1; }
build/wfp lock release smoke-lock "$t" >/dev/null
for svc in jobboard lock; do
  n=$(build/wfp status --json | jq ".services.$svc.live")
  [ "$n" = 2 ] || { echo "FAIL: $svc has $n live replicas"; exit 1; }
done
echo "compose smoke: 6 jobs posted and claimed, lock contended, 2 replicas per service: ok"
