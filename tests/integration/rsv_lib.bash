# Helpers of the reservation tests (rsv_*.sh), sourced after lib.sh: a
# classes folder of exec classes writing files in $OUT, and noop ones.
REQ="$WFP_BIN/tests/rsv_request"
CLASSES="$TMP/classes"
OUT="$TMP/out"
mkdir -p "$CLASSES" "$OUT"

# sh_act CODE: an exec action running `sh -c CODE` (the test's own code;
# the item's data come in as WFP_IN_* variables, never in the code).
sh_act() { jq -cn --arg c "$1" '["sh", "-c", $c]'; }

# file_class NAME [ACQUIRE_PREFIX] [POWEROFF_PREFIX]: a class whose steps
# make and remove the files $WFP_IN_dir/ITEM.{reserved,configured,acquired};
# the prefixes (shell code ending in "; ") run before acquire / poweroff.
file_class() {
  local f='"$WFP_IN_dir/$WFP_IN_rsv_item'
  jq -n --argjson r "$(sh_act "touch $f.reserved\"")" \
    --argjson c "$(sh_act "touch $f.configured\"")" \
    --argjson a "$(sh_act "${2:-}touch $f.acquired\"")" \
    --argjson p "$(sh_act "${3:-}rm $f.acquired\"")" \
    --argjson u "$(sh_act "rm $f.configured\"")" \
    --argjson x "$(sh_act "rm $f.reserved\"")" \
    '{reserve: $r, configure: $c, acquire: $a, poweroff: $p,
      unconfigure: $u, unreserve: $x}' >"$CLASSES/$1.json"
}

# noop_class NAME: every step the noop plugin.
noop_class() {
  echo '{"reserve": {"plugin": "noop"}, "configure": {"plugin": "noop"},
         "acquire": {"plugin": "noop"}, "destroy": {"plugin": "noop"}}' >"$CLASSES/$1.json"
}

# rsv_file NAME ITEMS_JSON [EXTRA_FIELDS]: a reservation file, its path.
rsv_file() {
  local f="$TMP/rsv-$1.json"
  echo "{\"name\": \"$1\", \"items\": $2${3:+, $3}}" >"$f"
  echo "$f"
}

# item NAME POOL AMOUNT CLASS [ARGS_JSON]: one item (args default: dir).
item() {
  jq -cn --arg n "$1" --arg p "$2" --argjson a "$3" --arg c "$4" \
    --argjson x "${5:-{\"dir\": \"$OUT\"\}}" \
    '{name: $n, pool: $p, amount: $a, class: $c, args: $x}'
}

# create ID FILE: sends create; prints the reply lines.
create() { "$REQ" create "id=$1" "file@=$2"; }

rsv_state() { rsv_field "$1" state; }
pool_field() { rcli HGET "$tag:pool:$1" "$2"; }

# files ITEM: the ITEM.* files left in $OUT, sorted, on one line.
files() { (cd "$OUT" && ls "$1".* 2>/dev/null | sort | tr '\n' ' ' | sed 's/ $//') || true; }

# events_of ID STATE: how many events say reservation ID went to STATE.
events_of() {
  rcli --raw XRANGE "$tag:events" - + | awk -v id="$1" -v st="$2" '
    $0 == "type" { getline; t = $0 }
    $0 == "id" { getline; i = $0 }
    $0 == "state" { getline; if (t == "rsv" && i == id && $0 == st) n++ }
    END { print n + 0 }'
}
