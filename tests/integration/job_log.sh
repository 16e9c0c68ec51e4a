# `wfp job log ID`: the task log (entries written here as log_append.lua
# writes them) as a table, RUN AT TASK STATE ATTEMPT FENCE DETAIL, AT from
# the first entry, DETAIL the error or the outputs cut to a width; with
# --json every entry with the log's field names and its full text. A job
# without entries prints the header only; an unknown job exits 1.
. "$(dirname "$0")/lib.sh"
start_board

id=$("$WFP" job post "$(job_file logged)")
eq "no entries: the header only" "$("$WFP" job log "$id")" \
  "RUN  AT         TASK STATE         ATTEMPT FENCE            DETAIL"
eq "no entries: --json" "$("$WFP" job log "$id" --json)" "[]"
eq "an unknown job" "$(status_of "$WFP" job log nosuchjob)" 1
eq "a bad id" "$(status_of "$WFP" job log 'a b')" 2
eq "an extra argument" "$(status_of "$WFP" job log "$id" more)" 2
eq "an unknown option" "$(status_of "$WFP" job log "$id" --run 1)" 2

L="$tag:job:$id:log"
long=$(printf 'x%.0s' $(seq 1 100))
add() { rcli XADD "$L" '*' "$@" >/dev/null; }
add run 1 task create-vm state running attempt 1 fence 1700000000000001 at 1700000000000 owner ex1
add run 1 task create-vm state applied attempt 1 fence 1700000000000001 at 1700000001250 owner ex1 outputs "{\"vm\":\"$long\"}"
add run 1 task attach-disk state apply-failed attempt 2 fence 1700000000000001 at 1700000125000 owner ex1 error "exit 3" final 1 stderr "no disk"
add run 2 task create-vm state reverted attempt 1 fence 1700000000000009 at 1700003725000 owner ex2

"$WFP" job log "$id" >"$TMP/log.txt"
eq "a header and four rows" "$(wc -l <"$TMP/log.txt")" 5
eq "the header" "$(head -1 "$TMP/log.txt")" \
  "RUN  AT         TASK        STATE         ATTEMPT FENCE            DETAIL"
eq "the first row" "$(sed -n 2p "$TMP/log.txt" | sed 's/ *$//')" \
  "1    +0.000s    create-vm   running       1       1700000000000001"
eq "outputs, cut at 60 characters" "$(sed -n 3p "$TMP/log.txt")" \
  "1    +1.250s    create-vm   applied       1       1700000000000001 {\"vm\":\"$(printf 'x%.0s' $(seq 1 50))..."
eq "an error, final" "$(sed -n 4p "$TMP/log.txt")" \
  "1    +2m05.000s attach-disk apply-failed  2       1700000000000001 exit 3 (final)"
eq "hours, another run" "$(sed -n 5p "$TMP/log.txt" | sed 's/ *$//')" \
  "2    +1h02m05s  create-vm   reverted      1       1700000000000009"

"$WFP" job log "$id" --json >"$TMP/log.json"
eq "four entries" "$(jq length "$TMP/log.json")" 4
eq "the log's field names, in order" "$(jq -c '.[2] | keys_unsorted' "$TMP/log.json")" \
  '["run","task","state","attempt","fence","at","owner","error","final","stderr","entry"]'
eq "numbers as numbers" "$(jq -c '.[0] | [.run, .attempt, .fence, .at]' "$TMP/log.json")" \
  "[1,1,1700000000000001,1700000000000]"
eq "the full outputs text" "$(jq -r '.[1].outputs' "$TMP/log.json")" "{\"vm\":\"$long\"}"
eq "the entry id" "$(jq -r '.[3].entry' "$TMP/log.json")" "$(rcli XREVRANGE "$L" + - COUNT 1 | head -1)"

# A tail that is not valid UTF-8 is shown with U+FFFD; the note goes to
# utf8_error, never to error (a task's own field); exit 1 after printing.
add run 2 task x state apply-failed attempt 1 fence 1 at 1700003726000 owner ex2 stdout $'bad\xff'
rc=0; "$WFP" job log "$id" --json >"$TMP/bad.json" 2>"$TMP/bad.err" || rc=$?
eq "a bad byte: exit 1" "$rc" 1
eq "shown with U+FFFD" "$(jq -r '.[4].stdout' "$TMP/bad.json")" "bad�"
eq "no error member" "$(jq -r '.[4] | has("error")' "$TMP/bad.json")" false
ok "the note" jq -e '.[4].utf8_error | test("stdout")' "$TMP/bad.json"
ok "one line on stderr" grep -q "^wfp: field 'stdout'" "$TMP/bad.err"

# More entries than one read returns (1000): all of them.
id=$("$WFP" job post "$(job_file many)")
rcli EVAL "for i = 1, 2500 do redis.call('XADD', KEYS[1], '*', 'run', 1, 'task', 't' .. i, 'state', 'applied', 'attempt', 1, 'fence', 1, 'at', 1700000000000 + i, 'owner', 'e') end" 1 "$tag:job:$id:log" >/dev/null
eq "2500 rows and the header" "$("$WFP" job log "$id" | wc -l)" 2501
eq "the last one" "$("$WFP" job log "$id" --json | jq -r '.[-1].task')" t2500

# Outputs may hold C1 controls (valid JSON and UTF-8: U+009B is CSI to a
# terminal): the table shows them as spaces, never as raw bytes.
L="$tag:job:$id:log"
add run 1 task esc state applied attempt 1 fence 1 at 1700000003000 owner e outputs $'{"a":"\xc2\x9b2J\xc2\x9b31mred"}'
"$WFP" job log "$id" | tail -1 >"$TMP/esc.txt"
ok "no C1 control reaches the terminal" test "$(grep -c $'\xc2\x9b' "$TMP/esc.txt")" = 0
ok "shown as spaces" grep -q '{"a":" 2J 31mred"}' "$TMP/esc.txt"

# A long log is read and printed page by page: 100,000 entries with
# 200-byte tails are printed in bounded memory (the whole log was held:
# 199 MB for the table, 284 MB with --json; now 8 MB).
id=$("$WFP" job post "$(job_file huge)")
rcli EVAL "local e = string.rep('e', 200) for i = 1, 100000 do redis.call('XADD', KEYS[1], '*', 'run', 1, 'task', 't' .. i, 'state', 'apply-failed', 'attempt', 1, 'fence', 1, 'at', 1700000000000 + i, 'owner', 'e', 'error', 'exit 3', 'stderr', e) end" 1 "$tag:job:$id:log" >/dev/null
if [ -x /usr/bin/time ]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
  /usr/bin/time -f %M -o "$TMP/rss.txt" "$WFP" job log "$id" >"$TMP/huge.txt"
  eq "100,000 rows and the header" "$(wc -l <"$TMP/huge.txt")" 100001
  eq "the last row" "$(tail -1 "$TMP/huge.txt" | awk '{print $2, $3, $7}')" \
    "+1m39.999s t100000 exit"
  ok "the table in under 64 MB ($(cat "$TMP/rss.txt") kB)" test "$(cat "$TMP/rss.txt")" -lt 65536
  /usr/bin/time -f %M -o "$TMP/rss.txt" "$WFP" job log "$id" --json >"$TMP/huge.json"
  eq "--json: 100,000 entries" "$(jq length "$TMP/huge.json")" 100000
  eq "--json: the last one" "$(jq -r '.[-1].task' "$TMP/huge.json")" t100000
  ok "--json in under 64 MB ($(cat "$TMP/rss.txt") kB)" test "$(cat "$TMP/rss.txt")" -lt 65536
fi
finish
