# Harness self-test (expected to FAIL): every check passes but a cleanup
# command fails.
. "$(dirname "$0")/../integration/lib.sh"
at_exit false
ok "a check that passes" true
