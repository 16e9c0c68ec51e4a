# Each daemon's --help lists the settings it reads, and only those; the
# executor stops at start on a WFP_PLUGIN_DIR that is not a directory,
# naming the variable.
. "$(dirname "$0")/lib.sh"
help_of() { "$WFP_BIN/$1" --help; }
for f in plugin-dir exec-allow task-output-max grace-ms executor-name concurrency visibility-ms; do
  ok "wfp-executor --help lists --$f" grep -q -- "--$f " <<<"$(help_of wfp-executor)"
done
ok "wfp-executor --help names WFP_PLUGIN_DIR" grep -q WFP_PLUGIN_DIR <<<"$(help_of wfp-executor)"
ok "wfp-jobboard --help does not list --concurrency" bash -c "! '$WFP_BIN/wfp-jobboard' --help | grep -q -- --concurrency"
ok "wfp-jobboard --help does not list --plugin-dir" bash -c "! '$WFP_BIN/wfp-jobboard' --help | grep -q -- --plugin-dir"
ok "wfp-jobboard --help lists --visibility-ms" grep -q -- "--visibility-ms " <<<"$(help_of wfp-jobboard)"
ok "wfp-lock --help lists --inflight-max" grep -q -- "--inflight-max " <<<"$(help_of wfp-lock)"
ok "wfp-lock --help does not list --grace-ms" bash -c "! '$WFP_BIN/wfp-lock' --help | grep -q -- --grace-ms"
eq "--help exits 0" "$(status_of "$WFP_BIN/wfp-executor" --help)" 0

# A plugin folder that does not exist, or is a file.
for dir in "$TMP/nowhere" "$TMP/afile"; do
  [ "$dir" = "$TMP/afile" ] && : >"$dir"
  rc=0
  WFP_PLUGIN_DIR="$dir" timeout 10 "$WFP_BIN/wfp-executor" >"$TMP/out.txt" 2>&1 || rc=$?
  ok "executor with WFP_PLUGIN_DIR=$dir stops at start (status $rc)" test "$rc" != 0 -a "$rc" != 124
  ok "it names the variable" grep -q "WFP_PLUGIN_DIR '$dir'" "$TMP/out.txt"
done
