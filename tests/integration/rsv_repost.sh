# A reservation's jobs (ID.fulfil, ID.release.N) belong to wfp-reservation:
# `wfp job repost` of one is refused, since its effects run again would be
# tracked by no reservation (a second VM nobody releases). Jobs of other
# names, even ones that look alike, still repost.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rsv_lib.bash"
noop_class ip
start_board
at_exit stop_reservation
start_reservation WFP_CLASSES_DIR="$CLASSES"
"$REQ" pool_set name=cpus capacity:=10 >/dev/null

create p1 "$(rsv_file p1 "[$(item x cpus 3 ip)]")" >/dev/null
read -r cid tok _ < <("$WFP" job claim --owner me) || fail "claim"
eq "claimed p1's fulfilment" "$cid" p1.fulfil
"$WFP" job complete p1.fulfil "$tok" >/dev/null || fail "complete p1.fulfil"
ok "p1 active" wait_rsv p1 active 5
out=$("$WFP" job repost p1.fulfil 2>&1) && fail "repost of p1.fulfil taken: $out"
ok "the refusal names the reservation" grep -q "belongs to reservation p1" <<<"$out"
eq "p1.fulfil still completed" "$("$WFP" job show p1.fulfil --json | jq -r .state)" completed
eq "cpus used 3" "$(pool_field cpus used)" 3

# A job whose name only looks like a reservation's (no such reservation).
"$WFP" job post "$(job_file lookalike "\"id\": \"q9.fulfil\"")" >/dev/null || fail "post q9.fulfil"
read -r cid tok _ < <("$WFP" job claim --owner me) || fail "claim q9"
"$WFP" job complete q9.fulfil "$tok" >/dev/null || fail "complete q9.fulfil"
ok "a look-alike job reposts" "$WFP" job repost q9.fulfil
read -r cid tok _ < <("$WFP" job claim --owner me) || fail "claim q9 again"
eq "q9.fulfil claimed again" "$cid" q9.fulfil
"$WFP" job complete q9.fulfil "$tok" >/dev/null || fail "complete q9.fulfil again"
# One named like a teardown of p1 that p1 never posted (p1 has none).
"$WFP" job post "$(job_file lookalike2 "\"id\": \"p1.release.7\"")" >/dev/null || fail "post p1.release.7"
read -r cid tok _ < <("$WFP" job claim --owner me) || fail "claim p1.release.7"
"$WFP" job complete p1.release.7 "$tok" >/dev/null || fail "complete p1.release.7"
ok "a job p1 never posted reposts" "$WFP" job repost p1.release.7
finish
