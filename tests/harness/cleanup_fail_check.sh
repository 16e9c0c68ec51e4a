# Harness self-test (run by selftest.sh, expected to FAIL): a test with a
# cleanup of its own whose check fails on purpose.
. "$(dirname "$0")/../integration/lib.sh"
at_exit true
ok "a check that passes" true
eq "a check that fails on purpose" 1 2
