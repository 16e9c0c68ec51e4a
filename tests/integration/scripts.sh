# The helper scripts fail loudly and read the machine right: the Debian
# mirror of podman-setup.sh from deb822 *.sources as well as one-line
# sources, scripts/deps' package list, and examples/worker.sh's exit status.
. "$(dirname "$0")/lib.sh"
root=$(cd "$here/../.." && pwd)

# A host whose apt sources are only deb822 (no /etc/apt/sources.list).
cat >"$TMP/debian.sources" <<'SRC'
Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
SRC
m=$(wfp_debian_mirror bookworm "$TMP/missing-sources.list" "$TMP/debian.sources")
eq "deb822 mirror" "$m" http://mirror.example/debian
eq "deb822 security suite" "$(wfp_debian_mirror bookworm-security "$TMP/debian.sources")" \
  http://mirror.example/debian-security
eq "no source for the suite: status 1" "$(status_of wfp_debian_mirror trixie "$TMP/debian.sources")" 1

cat >"$TMP/skip.sources" <<'SRC'
Types: deb-src
URIs: http://src.example/debian
Suites: bookworm

Enabled: no
Types: deb
URIs: http://off.example/debian
Suites: bookworm

Types: deb
URIs:
 http://cont.example/debian
Suites: bookworm
SRC
eq "deb-src and disabled stanzas skipped, continuation lines read" \
  "$(wfp_debian_mirror bookworm "$TMP/skip.sources")" http://cont.example/debian

printf '%s\n' '# old style' 'deb-src http://src.example/debian bookworm main' \
  'deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main' >"$TMP/one.list"
eq "one-line source with options" "$(wfp_debian_mirror bookworm "$TMP/one.list")" http://one.example/debian

# podman-setup.sh reads the mirror with that function, and says why it fails.
ok "podman-setup.sh parses" bash -n "$root/docker/podman-setup.sh"
ok "podman-setup.sh uses wfp_debian_mirror" grep -q 'wfp_debian_mirror' "$root/docker/podman-setup.sh"

# scripts/deps installs valgrind for the valgrind pass of scripts/test.
ok "valgrind listed for WFP_TEST_VALGRIND=1" \
  grep -qx valgrind <<<"$(WFP_TEST_VALGRIND=1 "$root/scripts/deps" --list)"
ok "not otherwise" bash -c "! WFP_TEST_VALGRIND=0 '$root/scripts/deps' --list | grep -qx valgrind"
eq "deps: a bad argument is an error" "$(status_of "$root/scripts/deps" --bogus)" 1
# scripts/deps --fuzz adds clang and its libFuzzer runtime (fuzz/run).
ok "deps --fuzz adds clang-14 and libclang-rt-14-dev" \
  bash -c "'$root/scripts/deps' --fuzz --list | grep -qx clang-14 &&
           '$root/scripts/deps' --list --fuzz | grep -qx libclang-rt-14-dev"
ok "not without --fuzz" bash -c "! '$root/scripts/deps' --list | grep -q clang"

# examples/worker.sh: nothing to claim ends it with 0; Redis unreachable is
# a failure, not a quiet end.
eq "worker with nothing to claim" \
  "$(WORKER_WAIT_MS=100 WFP_CLI="$WFP" status_of "$root/examples/worker.sh" w 1)" 0
eq "worker with Redis unreachable fails" \
  "$(WFP_REDIS_URL=redis://127.0.0.1:1 WFP_CLI="$WFP" status_of "$root/examples/worker.sh" w 1)" 1
