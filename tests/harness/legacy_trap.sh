# Harness self-test (expected to FAIL): the old mistake, an EXIT trap of the
# test's own that runs a command before finish, so finish sees that
# command's status. The failed check must still fail the test.
. "$(dirname "$0")/../integration/lib.sh"
trap 'true; finish' EXIT
eq "a check that fails on purpose" 1 2
