# Harness self-test (expected to FAIL): a check fails in a subshell whose
# status the test ignores.
. "$(dirname "$0")/../integration/lib.sh"
(eq "a check that fails on purpose in a subshell" 1 2) || true
ok "a check that passes" true
