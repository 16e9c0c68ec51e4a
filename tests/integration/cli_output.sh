# Output that cannot be encoded or written is an error, never silence:
# exit status 1 and one line on stderr. A claim that cannot be printed is
# not lost: its attempt is failed at once and the job is back on the board.
. "$(dirname "$0")/lib.sh"
start_board

# one_line FILE: FILE holds exactly one line that starts with "wfp: ".
one_line() { [ "$(wc -l <"$1")" = 1 ] && grep -q "^wfp: " "$1"; }

# Writing to a full device fails the command.
good=$("$WFP" job post "$(job_file good)")
for cmd in "job list --json" "job list" "job show $good --json" "status" "lock list --json" "--help"; do
  rc=0; $WFP $cmd >/dev/full 2>"$TMP/err" || rc=$?
  eq "'wfp $cmd' > /dev/full exits 1" "$rc" 1
  ok "'wfp $cmd' > /dev/full says why in one line" one_line "$TMP/err"
  ok "'wfp $cmd' names the write error" grep -q "No space left on device" "$TMP/err"
done

# A claim printed to a full device is handed back, not lost.
rc=0; "$WFP" job claim --owner full >/dev/full 2>"$TMP/err" || rc=$?
eq "claim > /dev/full exits 1" "$rc" 1
ok "claim > /dev/full says so in one line" one_line "$TMP/err"
eq "the job is back on the board" "$(rcli HGET "$tag:job:$good" state)" posted
ok "its redelivery says why" grep -q "could not be printed" <<<"$("$WFP" job show "$good")"

# A job whose name is not valid UTF-8 (written behind the service's back).
bad=$("$WFP" job post "$(job_file bad)")
rcli HSET "$tag:job:$bad" name $'bad\xff\xfename' >/dev/null
for cmd in "job show $bad --json" "job show $bad"; do
  rc=0; $WFP $cmd >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "'wfp $cmd' exits 1" "$rc" 1
  ok "'wfp $cmd' says why in one line" one_line "$TMP/err"
  ok "'wfp $cmd' names the field" grep -q "field 'name' of '$bad' is not valid UTF-8" "$TMP/err"
  eq "'wfp $cmd' prints nothing half-done" "$(wc -c <"$TMP/out")" 0
done
# In a listing, one bad entry does not hide the others: every job is
# listed, the bad bytes shown as U+FFFD (and, in JSON, the entry has an
# "error"); the command exits 1 with one line naming the job and field.
for cmd in "job list --json" "job list"; do
  rc=0; $WFP $cmd >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "'wfp $cmd' exits 1" "$rc" 1
  ok "'wfp $cmd' says why in one line" one_line "$TMP/err"
  ok "'wfp $cmd' names the field" grep -q "field 'name' of '$bad' is not valid UTF-8" "$TMP/err"
  ok "'wfp $cmd' lists the good job" grep -q "$good" "$TMP/out"
  ok "'wfp $cmd' lists the bad job, U+FFFD for its bad bytes" grep -q "bad��name" "$TMP/out"
done
$WFP job list --json >"$TMP/out" 2>/dev/null || true
eq "job list --json: the bad entry says why" "$(jq -r ".[] | select(.id == \"$bad\") | .error" "$TMP/out")" \
  "field 'name' of '$bad' is not valid UTF-8 (shown with U+FFFD in place of the bad bytes)"
eq "job list --json: the good entry has no error" "$(jq -r ".[] | select(.id == \"$good\") | .error" "$TMP/out")" null

# Its claim cannot be printed as JSON: exit 1, and the job is posted again
# at once (not held until the lease ends), with the reason recorded.
"$WFP" job claim --owner first >/dev/null      # takes $good, queued first
rc=0; "$WFP" job claim --owner j --json >"$TMP/out" 2>"$TMP/err" || rc=$?
eq "claim --json of the bad job exits 1" "$rc" 1
ok "claim says why in one line" one_line "$TMP/err"
ok "claim says the job was handed back" grep -q "handed back (now posted)" "$TMP/err"
eq "claim printed nothing" "$(wc -c <"$TMP/out")" 0
eq "the bad job is back on the board" "$(rcli HGET "$tag:job:$bad" state)" posted
eq "no lease left" "$(rcli ZSCORE "$tag:jobs:leases" "$bad")" ""
eq "the reason is recorded" "$(rcli XREVRANGE "$tag:job:$bad:deliveries" + - COUNT 1 | grep -c 'could not be printed')" 1
got=$("$WFP" job claim --owner text)
eq "another claimer gets it now (text output prints the bytes)" "${got%% *}" "$bad"

# A lock grant that cannot be printed is released at once, not held for
# its TTL under a token nobody saw.
rc=0; "$WFP" lock acquire L9 --owner me --ttl 60000 >/dev/full 2>"$TMP/err" || rc=$?
eq "lock acquire > /dev/full exits 1" "$rc" 1
ok "lock acquire > /dev/full says so in one line" one_line "$TMP/err"
ok "it says the lock was released" grep -q "No space left on device; lock L9 was released" "$TMP/err"
eq "lock L9 is free" "$(rcli EXISTS "$tag:lock:L9")" 0
rc=0; "$WFP" lock acquire L9 L10 --owner me --json >/dev/full 2>"$TMP/err" || rc=$?
eq "two locks > /dev/full exit 1" "$rc" 1
ok "it says both were released" grep -q "all 2 locks (L9, ...) were released" "$TMP/err"
eq "L9 and L10 are free" "$(rcli EXISTS "$tag:lock:L9" "$tag:lock:L10")" 0
ok "the locks can be taken again at once" "$WFP" lock acquire L9 L10 --owner other

# A lock whose owner was written raw (not by the lock scripts): lock list
# shows every held lock, that owner with U+FFFD, and exits 1 naming it.
"$WFP" lock acquire R1 --owner fine >/dev/null
"$WFP" lock acquire R2 --owner fine >/dev/null
rcli HSET "$tag:lockinfo:R2" owner $'raw\xffowner' >/dev/null
for cmd in "lock list --json" "lock list"; do
  rc=0; $WFP $cmd >"$TMP/out" 2>"$TMP/err" || rc=$?
  eq "'wfp $cmd' exits 1" "$rc" 1
  ok "'wfp $cmd' says why in one line" one_line "$TMP/err"
  ok "'wfp $cmd' names the lock" grep -q "owner of 'R2' is not valid UTF-8" "$TMP/err"
  ok "'wfp $cmd' lists the good lock" grep -q "R1" "$TMP/out"
  ok "'wfp $cmd' lists the bad one, U+FFFD for its bad byte" grep -q "raw�owner" "$TMP/out"
done
$WFP lock list --json >"$TMP/out" 2>/dev/null || true
eq "lock list --json: the bad entry says why" "$(jq -r '.[] | select(.name == "R2") | .error' "$TMP/out")" \
  "owner of 'R2' is not valid UTF-8 (shown with U+FFFD in place of the bad bytes)"

# A bad lock name or owner given to the CLI is quoted as clean text.
rc=0; "$WFP" lock acquire $'x\xffy' --owner me 2>"$TMP/err" || rc=$?
eq "bad lock name: usage error" "$rc" 2
ok "bad lock name: its bytes as \\xNN" grep -qF "lock name 'x\xFFy' is not" "$TMP/err"
rc=0; "$WFP" lock acquire ok1 --owner $'m\xc3' 2>"$TMP/err" || rc=$?
eq "bad owner: usage error" "$rc" 2
ok "bad owner: its bytes as \\xNN" grep -qF "owner 'm\xC3' is not" "$TMP/err"

# A claim handed back because stdout could not be written does not cost
# the job an attempt: a job with max_attempts 1 is posted again, not dead.
one=$("$WFP" job post "$(job_file one '"max_attempts": 1')")
rc=0; "$WFP" job claim --owner full >/dev/full 2>"$TMP/err" || rc=$?
eq "claim of the last attempt > /dev/full exits 1" "$rc" 1
ok "claim says it was released" grep -q "was released and handed back (now posted)" "$TMP/err"
eq "the job is posted again" "$(rcli HGET "$tag:job:$one" state)" posted
eq "the attempt is not counted" "$(rcli HGET "$tag:job:$one" attempts)" 0
eq "its redelivery says released" "$(rcli XREVRANGE "$tag:job:$one:deliveries" + - COUNT 1 | grep -cx released)" 1
got=$("$WFP" job claim --owner next)
eq "the next claimer gets it" "${got%% *}" "$one"
