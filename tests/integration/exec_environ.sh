# A task cannot read its executor's environment (WFP_REDIS_URL holds the
# executor's Redis password) or memory through /proc: the executor makes
# itself not dumpable. Both run as an unprivileged user here (as root the
# check would pass whatever the executor did), so this test needs root
# and setpriv to drop to nobody.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || fail "this test drops to the user nobody: run it as root (CI does)"
command -v setpriv >/dev/null || fail "setpriv (util-linux) is missing"
drop=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
# (a folder nobody can reach: the test's own may be private to root)
out=$(mktemp -d /tmp/wfp-environ.XXXXXX)
at_exit rm -rf "$out"
chmod 777 "$out"
probe='set -e
for f in environ mem; do
  if head -c 1 "/proc/$PPID/$f" >/dev/null 2>&1; then echo "$f readable"; else echo "$f refused"; fi
done >"$WFP_IN_out/result"
# The same user can still read a plain process of its own (so a refusal
# above is the executor'"'"'s doing, not the machine'"'"'s).
sleep 5 & if head -c 1 "/proc/$!/environ" >/dev/null 2>&1; then echo own-readable; fi >>"$WFP_IN_out/result"
kill $!'
start_board
WFP_WRAP="${drop[*]} ${WFP_WRAP:-}" start_executor nobody1 WFP_EXECUTOR_SECRET=sekrit
id=$(wf_post environ "{\"linear\": [$(task probe "$probe")]}" "{\"out\": \"$out\"}")
ok "the probe ran" wait_state "$id" completed
eq "what the task could read of its executor" "$(tr '\n' ' ' <"$out/result")" "environ refused mem refused own-readable "
finish
