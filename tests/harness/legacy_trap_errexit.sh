# Harness self-test (expected to FAIL): a command (not a check) fails at
# the top level under set -e, with the old-style EXIT trap.
. "$(dirname "$0")/../integration/lib.sh"
trap 'true; finish' EXIT
false
