# Harness self-test (expected to PASS): checks that pass, a command whose
# failure the test handles itself, and a cleanup that succeeds; the control
# for the tests above.
. "$(dirname "$0")/../integration/lib.sh"
cleaned="$TMP/cleaned"
at_exit touch "$cleaned"
ok "a check that passes" true
set +e
false
rc=$?
set -e
eq "a status looked at with set -e off" "$rc" 1
