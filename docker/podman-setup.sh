#!/usr/bin/env bash
# Prepares a Debian machine that has the docker client but no Docker
# Engine and no registry access to run docker-compose.yml with podman:
# installs podman, runc, debootstrap and docker-compose, configures podman
# for runc + cgroupfs, builds a debian:bookworm-slim base image with
# debootstrap from the machine's own Debian mirror, and starts a podman
# API socket. Prints the DOCKER_HOST to export. Run as root.
set -euo pipefail
sock_dir=${WFP_PODMAN_DIR:-/tmp/wfp-podman}
mirror=$(grep -hoE '^(URIs:|deb) *https?://[^ ]+' /etc/apt/sources.list.d/*.sources \
           /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $NF}')
mirror=${mirror:-http://deb.debian.org/debian}

DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap docker-compose >/dev/null
mkdir -p /etc/containers
cat >/etc/containers/containers.conf <<'CONF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
if ! podman image exists docker.io/library/debian:bookworm-slim; then
  rootfs=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >/dev/null
  tar -C "$rootfs" -c . | podman import - docker.io/library/debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
fi
mkdir -p "$sock_dir"
if [ ! -S "$sock_dir/podman.sock" ]; then
  podman system service --time=0 "unix://$sock_dir/podman.sock" >"$sock_dir/service.log" 2>&1 &
  sleep 1
fi
echo "export DOCKER_HOST=unix://$sock_dir/podman.sock"
