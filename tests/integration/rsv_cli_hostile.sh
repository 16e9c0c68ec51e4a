# `wfp rsv release --wait --json` when the reservation's error is long
# and multibyte: a teardown cancelled with a 1012-byte reason of "é" makes
# the error "release failed: reverted: cancelled: REASON" (over 1024
# bytes). The follow's last JSON line gives the whole error, valid JSON
# (it was cut at 1023 bytes, mid-character), and `show --json` agrees.
# `wfp rsv create FOLDER` says it cannot read it.
. "$(dirname "$0")/lib.sh"

classes="$TMP/classes"
mkdir -p "$classes"
noop='{"plugin": "noop"}'
long=$(printf 'é%.0s' $(seq 2))
cat >"$classes/bad.json" <<EOF
{"reserve": $noop, "configure": $noop, "acquire": $noop,
 "destroy": {"plugin": "fail", "args": {"reason": "$long"}}}
EOF

start_board
start_executor x1
start_reservation WFP_CLASSES_DIR="$classes"
at_exit stop_reservation

"$WFP" pool set p --capacity 10 >/dev/null
cat >"$TMP/r.json" <<EOF
{"name": "hostile", "items": [
  {"name": "a", "pool": "p", "amount": 1, "class": "bad"},
  {"name": "b", "pool": "p", "amount": 1, "class": "bad"}]}
EOF
ok "create --wait: active" "$WFP" rsv create "$TMP/r.json" --id h1 --wait
stop_executors
"$WFP" rsv release h1 --wait --json >"$TMP/out.json" 2>"$TMP/err" &
follower=$!
for _ in $(seq 100); do
  [ "$(rcli HGET "$tag:rsv:h1" release_job)" = h1.release.1 ] && break
  sleep 0.05
done
sleep 0.3
"$WFP" job cancel h1.release.1 --reason "$long$long$long$long$(printf 'é%.0s' $(seq 498))" >/dev/null
code=0
wait "$follower" || code=$?
eq "release --wait of a cancelled teardown: 1" "$code" 1
err=$(rcli HGET "$tag:rsv:h1" error)
ok "the error is longer than 1024 bytes" test "$(printf '%s' "$err" | wc -c)" -gt 1024
last=$(tail -n 1 "$TMP/out.json")
ok "last line is JSON" jq -e . <<<"$last"
eq "its state" "$(jq -r .state <<<"$last")" active
eq "its error, whole" "$(jq -r .error <<<"$last")" "$err"
ok "stderr: no encoding failure" sh -c "! grep -q 'UTF-8' '$TMP/err'"
code=0
"$WFP" rsv show h1 --json >"$TMP/show.json" 2>"$TMP/err" || code=$?
eq "show --json: 0" "$code" 0
eq "show --json: the error" "$(jq -r .error "$TMP/show.json")" "$err"

# --- A folder given as the file: its read error, not a JSON error.
code=0
"$WFP" rsv create "$TMP" 2>"$TMP/err" >/dev/null || code=$?
eq "create of a folder: 2" "$code" 2
ok "create of a folder: the read error" grep -q "^wfp: cannot read '$TMP': Is a directory$" "$TMP/err"
finish
