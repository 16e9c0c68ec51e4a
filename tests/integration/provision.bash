# Helpers of the reservation tests (rsv_*.sh), sourced after lib.sh: the
# four services as processes, the provisioning example's fake cloud in a
# folder of the test's own, reservation files made from the example's.
EXAMPLE="$here/../../examples/provision"
CLOUD="$TMP/cloud"
CLASSES="$TMP/classes"
mkdir -p "$CLOUD" "$CLASSES"
cp "$EXAMPLE"/classes/*.json "$CLASSES/"

# start_rsv [VAR=value...]: starts wfp-reservation on the test's classes
# folder (lib.sh's start_reservation: RSV_PID); stopped when the test ends.
start_rsv() {
  at_exit stop_reservation
  start_reservation WFP_CLASSES_DIR="$CLASSES" "$@"
}

# start_cloud_executor NAME [VAR=value...]: an executor that finds
# fake-cloud on its PATH.
start_cloud_executor() {
  local name=$1; shift
  start_executor "$name" PATH="$EXAMPLE:$PATH" "$@"
}

# start_all: the board, the lock service, wfp-reservation and one
# executor (e1).
start_all() {
  start_board
  start_lock
  at_exit stop_lock
  start_rsv
  start_cloud_executor e1
}

# rsv_file NAME [JQ_FILTER]: the example's small server for this test's
# cloud (no pauses), named NAME, changed by JQ_FILTER; prints its path.
rsv_file() {
  local f="$TMP/$1.json"
  jq --arg cloud "$CLOUD" --arg name "$1" \
    ".name = \$name | .items[].args |= (del(.pause_ms) + {cloud: \$cloud}) | ${2:-.}" \
    "$EXAMPLE/small-server.json" >"$f"
  echo "$f"
}

# set_arg ITEM KEY VALUE: a jq filter setting one item's arg.
set_arg() { echo "(.items[] | select(.name == \"$1\") | .args.$2) = \"$3\""; }

# used POOL: the pool's used capacity.
used() { rcli HGET "$tag:pool:$1" used; }

# pools_used: "ips=N volumes=N vcpus=N".
pools_used() { echo "ips=$(used ips) volumes=$(used volumes) vcpus=$(used vcpus)"; }

# example_pools: the example's pools (examples/provision/setup-pools).
example_pools() { PATH="$WFP_BIN:$PATH" "$EXAMPLE/setup-pools" >/dev/null; }

# cloud_files: the resource files in the cloud, one a line, sorted.
cloud_files() { ls "$CLOUD" | sort; }

# calls: the fake cloud's calls log ("KEY STEP CLASS ITEM RESULT" lines).
calls() { cat "$CLOUD/.fake-cloud/calls" 2>/dev/null || true; }

# steps_of RSV ITEM: the steps the fake cloud did for the item of the
# reservation, in order ("reserve configure ..."), from its calls log.
steps_of() {
  calls | awk -v id="$1." -v item="$2" 'index($1, id) == 1 && $4 == item && $5 == "done" { printf "%s%s", sep, $2; sep = " " } END { print "" }'
}

# show_json ID: `wfp rsv show ID --json`.
show_json() { "$WFP" rsv show "$1" --json; }

# item_of JSON ITEM FIELD: a field of an item in show --json (arrays
# joined with spaces, null as "").
item_of() {
  jq -r --arg i "$2" --arg f "$3" '.items[] | select(.name == $i) | .[$f]
    | if type == "array" then join(" ") elif . == null then "" else tostring end' <<<"$1"
}

# contains TEXT PART: TEXT holds PART.
contains() { case $1 in *"$2"*) return 0 ;; esac; return 1; }

# kill_quiet PID: stops a helper process of the test, if still running.
kill_quiet() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# job_in ID STATE...: the job is in one of the states.
job_in() {
  local s w
  s=$(job_state "$1")
  shift
  for w in "$@"; do [ "$s" = "$w" ] && return 0; done
  return 1
}

# field_set ID FIELD: the reservation's hash has FIELD, not empty.
field_set() { [ -n "$(rsv_field "$1" "$2")" ]; }
