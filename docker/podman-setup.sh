#!/usr/bin/env bash
# Prepares a Debian machine that has the docker client but no Docker
# Engine and no registry access to run docker-compose.yml with podman:
# installs podman, runc, debootstrap and docker-compose, configures podman
# for runc + cgroupfs, builds a debian:bookworm-slim base image with
# debootstrap from the machine's own Debian mirror (read from its apt
# sources, one-line or deb822), and starts a podman API socket and a
# loop that runs the containers' health checks (podman leaves that to
# systemd, which these machines do not run). Prints
# the DOCKER_HOST to export (use: eval "$(docker/podman-setup.sh)"); every
# other message goes to stderr, and every failure says why. Run as root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../scripts/lib.sh"
sock_dir=${WFP_PODMAN_DIR:-/tmp/wfp-podman}
suite=bookworm
image=docker.io/library/debian:bookworm-slim

die() { echo "podman-setup: $*" >&2; exit 1; }
say() { echo "podman-setup: $*" >&2; }

[ "$(id -u)" -eq 0 ] || die "run as root (it installs packages, writes /etc/containers and runs debootstrap)"
command -v apt-get >/dev/null || die "apt-get not found: this script is for Debian machines"

if mirror=$(wfp_debian_mirror "$suite"); then
  say "Debian mirror for $suite: $mirror (from the apt sources)"
else
  mirror=http://deb.debian.org/debian
  say "no apt source serves '$suite' (read /etc/apt/sources.list, sources.list.d/*.list and *.sources); using $mirror"
fi

if command -v podman >/dev/null && command -v runc >/dev/null &&
  command -v debootstrap >/dev/null && command -v docker-compose >/dev/null; then
  say "podman, runc, debootstrap and docker-compose are installed"
else
  say "installing podman runc debootstrap docker-compose (apt-get update and install)..."
  apt-get update -qq >&2 || die "apt-get update failed (see above)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap docker-compose >/dev/null ||
    die "apt-get install podman runc debootstrap docker-compose failed (see above)"
fi
mkdir -p /etc/containers || die "cannot create /etc/containers"
cat >/etc/containers/containers.conf <<'CONF' || die "cannot write /etc/containers/containers.conf"
[containers]
default_ulimits = []
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
CONF
if ! podman image exists "$image"; then
  rootfs=$(mktemp -d) || die "mktemp failed"
  log=$(mktemp) || die "mktemp failed"
  say "building $image with debootstrap from $mirror (log: $log)..."
  debootstrap --variant=minbase "$suite" "$rootfs" "$mirror" >"$log" 2>&1 ||
    { tail -5 "$log" >&2; die "debootstrap $suite from $mirror failed (log: $log)"; }
  tar -C "$rootfs" -c . | podman import - "$image" >/dev/null ||
    die "podman import of the debootstrap tree failed (see above)"
  rm -rf "$rootfs" "$log"
fi
mkdir -p "$sock_dir" || die "cannot create $sock_dir"
# alive PIDFILE WHAT: the process the file names runs and is WHAT (its
# command line holds WHAT): a pid file left by a run before a reboot may
# name another process now (and docker/prove.sh kills what the files name).
alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) || return 1
  case $pid in '' | *[!0-9]*) return 1 ;; esac
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}
if ! alive "$sock_dir/service.pid" "podman system service"; then
  rm -f "$sock_dir/podman.sock"
  podman system service --time=0 "unix://$sock_dir/podman.sock" >"$sock_dir/service.log" 2>&1 &
  echo $! >"$sock_dir/service.pid"
  wfp_wait_for test -S "$sock_dir/podman.sock" ||
    die "the podman API socket did not appear at $sock_dir/podman.sock (log: $sock_dir/service.log)"
fi
# Podman runs health checks from systemd timers; without systemd nothing
# runs them and a container stays "starting" for ever (docker-compose's
# `depends_on: condition: service_healthy` then waits for ever). This
# loop stands in for the timers: every WFP_PODMAN_HEALTH_S seconds (3) it
# runs the health check of every running container.
# (a check that hangs is ended after 30 s, so it cannot stop the others)
if ! alive "$sock_dir/health.pid" "health-ticker"; then
  every=${WFP_PODMAN_HEALTH_S:-3}
  nohup sh -c 'while :; do
      for c in $(podman ps -q); do timeout 30 podman healthcheck run "$c" >/dev/null 2>&1; done
      sleep "$1"
    done' health-ticker "$every" >/dev/null 2>&1 &
  echo $! >"$sock_dir/health.pid"
fi
say "podman API: $sock_dir/podman.sock (pid $(cat "$sock_dir/service.pid")), health checks every ${WFP_PODMAN_HEALTH_S:-3} s (pid $(cat "$sock_dir/health.pid")); stop both with: kill \$(cat $sock_dir/service.pid $sock_dir/health.pid)"
echo "export DOCKER_HOST=unix://$sock_dir/podman.sock"
