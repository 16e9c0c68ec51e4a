# `wfp executor list` and the executors count of `wfp status`, from the
# registry as wfp-executor writes it (written here): a zset of names by
# last beat (Redis's clock, ms) and an info hash per executor. Only those
# with a beat in the last 10 s are shown; RUNNING lists the task names of
# the detail, cut to a width; --json has every info field.
. "$(dirname "$0")/lib.sh"

Z="$tag:svc:executor:replicas"
I="$tag:svc:executor:info:"
# Redis's clock in ms.
now_ms() { rcli EVAL "local t = redis.call('TIME') return t[1] * 1000 + math.floor(t[2] / 1000)" 0; }

eq "none: the header only" "$("$WFP" executor list)" \
  "NAME JOBS  RUNNING                                          LAST BEAT"
eq "none: --json" "$("$WFP" executor list --json)" "[]"
eq "none: status" "$("$WFP" status --json | jq .executors)" 0

now=$(now_ms)
rcli ZADD "$Z" "$((now - 1500))" exec-a "$((now - 200))" exec-long-name-b "$((now - 12000))" stale-c >/dev/null
rcli HSET "${I}exec-a" name exec-a host h1 pid 41 started_at "$((now - 60000))" heartbeat_at "$((now - 1500))" \
  concurrency 4 jobs 2 running 3 \
  detail '[{"job":"j1","tasks":["create-vm","attach-disk"]},{"job":"j2","tasks":["dns"]}]' >/dev/null
tasks=$(seq -f 'task-%g' 1 20 | jq -R . | jq -sc .)
rcli HSET "${I}exec-long-name-b" name exec-long-name-b host h2 pid 42 started_at "$now" heartbeat_at "$((now - 200))" \
  concurrency 1 jobs 1 running 20 detail "[{\"job\":\"j3\",\"tasks\":$tasks}]" >/dev/null
rcli HSET "${I}stale-c" name stale-c host h3 pid 43 jobs 0 running 0 detail '[]' >/dev/null

"$WFP" executor list >"$TMP/list.txt"
eq "two live executors and the header" "$(wc -l <"$TMP/list.txt")" 3
eq "the header" "$(head -1 "$TMP/list.txt")" \
  "NAME             JOBS  RUNNING                                          LAST BEAT"
ok "the stale one is hidden" sh -c "! grep -q stale-c '$TMP/list.txt'"
ok "exec-a: jobs, its tasks, its beat" grep -Eq '^exec-a +2 +create-vm,attach-disk,dns +[0-9]+ ms ago$' "$TMP/list.txt"
row=$(grep '^exec-long-name-b' "$TMP/list.txt")
ok "a long task list is cut to 48 characters" grep -Fq "task-1,task-2,task-3,task-4,task-5,task-6,tas..." <<<"$row"
"$WFP" executor list --json >"$TMP/list.json"
eq "--json: two, by name" "$(jq -c '[.[].name]' "$TMP/list.json")" '["exec-a","exec-long-name-b"]'
eq "--json: numbers" "$(jq -c '.[0] | [.pid, .concurrency, .jobs, .running]' "$TMP/list.json")" "[41,4,2,3]"
eq "--json: the detail parsed" "$(jq -r '.[1].detail[0].tasks[19]' "$TMP/list.json")" task-20
ok "--json: ms since the last beat" jq -e '.[0].last_beat_ms_ago >= 1500 and .[0].last_beat_ms_ago < 5000' "$TMP/list.json"
eq "--json: the host" "$(jq -r '.[0].host' "$TMP/list.json")" h1
eq "status counts the live ones" "$("$WFP" status --json | jq .executors)" 2
ok "status in text" sh -c "'$WFP' status | grep -Eq '^executors +2$'"

# An executor whose info hash expired (it stopped beating 3 s ago) but
# whose beat is recent: listed with what is known.
rcli DEL "${I}exec-a" >/dev/null
eq "without its info: --json" "$("$WFP" executor list --json | jq -c '.[0] | [.name, .jobs]')" '["exec-a",null]'
ok "without its info: text" grep -Eq '^exec-a +- +- ' <<<"$("$WFP" executor list)"

# Names and task names are printed as text: a control character in them
# (an escape sequence to the terminal) is shown as a space.
now=$(now_ms)
rcli ZADD "$Z" "$now" $'evil\e[2J' >/dev/null
rcli HSET "${I}"$'evil\e[2J' jobs 1 detail $'[{"job":"j9","tasks":["a\\u001b[31mb"]}]' >/dev/null
"$WFP" executor list >"$TMP/esc.txt"
ok "no ESC byte in the table" test "$(grep -c $'\e' "$TMP/esc.txt")" = 0
ok "the name shown with a space" grep -Eq '^evil \[2J +1 +a \[31mb ' "$TMP/esc.txt"
rcli ZREM "$Z" $'evil\e[2J' >/dev/null

eq "an extra argument" "$(status_of "$WFP" executor list x)" 2
eq "an unknown option" "$(status_of "$WFP" executor list --all)" 2
eq "an unknown verb" "$(status_of "$WFP" executor show)" 2
eq "no verb" "$(status_of "$WFP" executor)" 2
eq "help" "$(status_of "$WFP" executor --help)" 0
ok "listed in wfp --help" sh -c "'$WFP' --help | grep -q 'wfp executor list'"
finish
