# `wfp job cancel` through wfp-jobboard, and cancel.lua called directly:
# a posted job nothing ran of is reverted at once and can no longer be
# claimed; a claimed job (or a posted one whose current run logged tasks)
# keeps its state and gets cancel / cancel_at and a cancel-requested
# event; a final job is refused (exit 1); bad input exits 2 before
# anything is sent; the same request served twice answers the same; the
# script refuses arguments out of form with BADARG and writes nothing.
. "$(dirname "$0")/lib.sh"
start_board

# events_of ID: "STATE DETAIL" of each event of job ID, oldest first.
events_of() {
  rcli EVAL "local out = {} for _, e in ipairs(redis.call('XRANGE', KEYS[1], '-', '+')) do local f = {} for i = 1, #e[2], 2 do f[e[2][i]] = e[2][i + 1] end if f.id == ARGV[1] then out[#out + 1] = f.state .. ' ' .. f.detail end end return out" 1 "$tag:events" "$1"
}

# A posted job: reverted at once, with the reason in its error.
id=$("$WFP" job post "$(job_file posted)")
eq "a posted job is reverted" "$("$WFP" job cancel "$id" --reason "no longer needed")" "$id reverted"
eq "its state" "$("$WFP" job show "$id" --json | jq -r .state)" reverted
eq "its error" "$("$WFP" job show "$id" --json | jq -r .error)" "cancelled: no longer needed"
eq "it left the posted index" "$(rcli ZSCORE "$tag:jobs:posted" "$id")" ""
eq "and the job stream" "$(rcli XLEN "$tag:jobs:stream")" 0
eq "it cannot be claimed" "$(status_of "$WFP" job claim --owner w1)" 3
ok "it expires after the retention time" test "$(rcli PTTL "$tag:job:$id")" -gt 0
eq "a reverted event" "$(events_of "$id" | tail -1)" "reverted cancelled: no longer needed"
id=$("$WFP" job post "$(job_file noreason)")
eq "without a reason: --json" "$("$WFP" job cancel "$id" --json | jq -c .)" \
  "{\"id\":\"$id\",\"state\":\"reverted\",\"cancel_requested\":false}"
eq "its error is 'cancelled'" "$("$WFP" job show "$id" --json | jq -r .error)" cancelled

# A claimed job: a request to its executor; the state does not change.
id=$("$WFP" job post "$(job_file claimed)")
token=$("$WFP" job claim --owner w1 --json | jq -r .token)
eq "a claimed job: cancel requested" "$("$WFP" job cancel "$id" --reason "stop it")" "$id cancel requested"
eq "still claimed" "$(rcli HGET "$tag:job:$id" state)" claimed
eq "still its owner's" "$(rcli HGET "$tag:job:$id" owner)" w1
eq "the reason is in the field cancel" "$(rcli HGET "$tag:job:$id" cancel)" "stop it"
ok "cancel_at is a time" test "$(rcli HGET "$tag:job:$id" cancel_at)" -gt 1700000000000
eq "the event says cancel-requested" "$(events_of "$id" | tail -1)" "claimed cancel-requested: stop it"
at=$(rcli HGET "$tag:job:$id" cancel_at)
eq "a second cancel: --json" "$("$WFP" job cancel "$id" --reason other --json | jq -c .)" \
  "{\"id\":\"$id\",\"state\":\"claimed\",\"cancel_requested\":true}"
eq "the first reason stays" "$(rcli HGET "$tag:job:$id" cancel)" "stop it"
eq "and its time" "$(rcli HGET "$tag:job:$id" cancel_at)" "$at"
eq "one cancel-requested event" "$(events_of "$id" | grep -c 'cancel-requested')" 1

# A final job is refused with one line, exit 1; a repost forgets a cancel.
"$WFP" job complete "$id" "$token" >/dev/null
rc=0; "$WFP" job cancel "$id" 2>"$TMP/final.err" || rc=$?
eq "a completed job: exit 1" "$rc" 1
eq "one line" "$(wc -l <"$TMP/final.err")" 1
ok "naming the state" grep -q "^wfp: STATE job $id is completed: cannot cancel" "$TMP/final.err"
eq "still completed" "$(rcli HGET "$tag:job:$id" state)" completed
"$WFP" job repost "$id" >/dev/null
eq "a repost clears the cancel" "$(rcli HEXISTS "$tag:job:$id" cancel)" 0
out=$("$WFP" job claim --owner w1)
"$WFP" job complete "$id" "$(cut -d' ' -f2 <<<"$out")" >/dev/null

# A posted job whose current run logged a task (an earlier attempt applied
# it, then was handed back): not reverted at once, its next executor rolls
# it back. An entry of an older run does not count.
id=$("$WFP" job post "$(job_file ranbefore)")
rcli HSET "$tag:job:$id" run 2 >/dev/null
rcli XADD "$tag:job:$id:log" '*' run 1 task a state applied attempt 1 fence 1 at 1 owner x >/dev/null
eq "an older run's entry: reverted" "$("$WFP" job cancel "$id")" "$id reverted"
id=$("$WFP" job post "$(job_file ran)")
rcli XADD "$tag:job:$id:log" '*' run 1 task a state applied attempt 1 fence 1 at 1 owner x >/dev/null
eq "a task of this run applied: requested" "$("$WFP" job cancel "$id" --reason r)" "$id cancel requested"
eq "still posted" "$(rcli HGET "$tag:job:$id" state)" posted
eq "with the cancel" "$(rcli HGET "$tag:job:$id" cancel)" r
out=$("$WFP" job claim --owner w1)
eq "its next claim" "$(cut -d' ' -f1 <<<"$out")" "$id"
eq "still carries the cancel" "$(rcli HGET "$tag:job:$id" cancel)" r
"$WFP" job complete "$id" "$(cut -d' ' -f2 <<<"$out")" >/dev/null

# Bad input: exit 2 before anything is sent, an unknown job exit 1.
eq "a bad id" "$(status_of "$WFP" job cancel 'a b')" 2
eq "a reason with a control byte" "$(status_of "$WFP" job cancel "$id" --reason $'a\x01')" 2
eq "a reason not UTF-8" "$(status_of "$WFP" job cancel "$id" --reason $'a\xff')" 2
eq "a reason too long" "$(status_of "$WFP" job cancel "$id" --reason "$(head -c 1013 /dev/zero | tr '\0' x)")" 2
long=$("$WFP" job post "$(job_file long)")
eq "the longest reason" "$(status_of "$WFP" job cancel "$long" --reason "$(head -c 1012 /dev/zero | tr '\0' x)")" 0
eq "makes the longest error" "$(rcli HSTRLEN "$tag:job:$long" error)" 1023
eq "an unknown option" "$(status_of "$WFP" job cancel "$id" --to x)" 2
eq "no id" "$(status_of "$WFP" job cancel)" 2
eq "an unknown job" "$(status_of "$WFP" job cancel nosuchjob)" 1

# cancel.lua called directly. ARGV: tag id reason request deadline retention.
sha=$(rcli SCRIPT LOAD "$("$WFP_BIN/tests/script_text" cancel)")
# snap: a digest of every key of the prefix but the board's own (svc)
# records, which it rewrites every second.
snap() {
  rcli EVAL "local ks = redis.call('KEYS', ARGV[1]) table.sort(ks) local out = {} for _, k in ipairs(ks) do if not string.find(k, ':svc:', 1, true) then out[#out + 1] = k .. '=' .. redis.call('DUMP', k) end end return table.concat(out, '|')" 0 "$tag*" | sha1sum
}
# refused DESCRIPTION WORD ARGS...: the call fails naming WORD, nothing changes.
refused() {
  local d=$1 word=$2 out before; shift 2
  before=$(snap)
  out=$(rcli EVALSHA "$sha" "$@" 2>&1) || true
  case "$out" in
    *"$word"*) ;;
    *) fail "$d: not refused with $word: $out" ;;
  esac
  eq "$d: nothing written" "$(snap)" "$before"
}
id=$("$WFP" job post "$(job_file direct)")
J="$tag:job:$id"
refused "no arguments" BADARG 1 "$J" "$tag"
refused "5 arguments" BADARG 1 "$J" "$tag" "$id" r '' ''
refused "a bad tag" BADARG 1 "$J" wfp "$id" r '' '' 60000
refused "another job's key" BADARG 1 "$tag:job:other" "$tag" "$id" r '' '' 60000
refused "a bad id" BADARG 1 "$J" "$tag" 'a b' r '' '' 60000
refused "a reason with a newline" BADARG 1 "$J" "$tag" "$id" $'a\nb' '' '' 60000
refused "a reason too long" BADARG 1 "$J" "$tag" "$id" "$(head -c 1013 /dev/zero | tr '\0' x)" '' '' 60000
refused "a bad request id" BADARG 1 "$J" "$tag" "$id" r 'x-1' '' 60000
refused "a bad deadline" BADARG 1 "$J" "$tag" "$id" r '' 1e3 60000
refused "a retention of 0" BADARG 1 "$J" "$tag" "$id" r '' '' 0
refused "a retention not a number" BADARG 1 "$J" "$tag" "$id" r '' '' abc
refused "a deadline passed" TIMEOUT 1 "$J" "$tag" "$id" r '' 1000 60000
refused "an unknown job" NOJOB 1 "$tag:job:nope" "$tag" nope r '' '' 60000
eq "still posted after the refusals" "$(rcli HGET "$J" state)" posted

# The same request served twice (a replica died before acknowledging it)
# answers as the first time, even after the job moved on: no refusal, no
# second event.
token=$("$WFP" job claim --owner w2 --json | jq -r .token)
eq "first serving" "$(rcli EVALSHA "$sha" 1 "$J" "$tag" "$id" r 1700000000000-5 '' 60000)" claimed
"$WFP" job complete "$id" "$token" >/dev/null
eq "second serving, job completed since" "$(rcli EVALSHA "$sha" 1 "$J" "$tag" "$id" r 1700000000000-5 '' 60000)" claimed
eq "one event for it" "$(events_of "$id" | grep -c 'cancel-requested')" 1
id=$("$WFP" job post "$(job_file twice)")
J="$tag:job:$id"
eq "a posted job, first serving" "$(rcli EVALSHA "$sha" 1 "$J" "$tag" "$id" '' 1700000000000-6 '' 60000)" reverted
eq "second serving" "$(rcli EVALSHA "$sha" 1 "$J" "$tag" "$id" '' 1700000000000-6 '' 60000)" reverted
eq "one reverted event" "$(events_of "$id" | grep -c '^reverted')" 1
id2=$("$WFP" job post "$(job_file other)")
refused "the request id of another job" BADARG 1 "$tag:job:$id2" "$tag" "$id2" '' 1700000000000-6 '' 60000
finish
