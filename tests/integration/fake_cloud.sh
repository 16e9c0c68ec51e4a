# examples/provision/fake-cloud run directly, as the executor runs it:
# two runs of one step with one WFP_TASK_KEY (a redelivery while the
# first still runs, or after it died mid-step) never report the step done
# before it is; hostile WFP_IN_* values (spaces, glob characters, a
# newline in the cloud folder, "*" in fail) are data, never code or
# patterns.
. "$(dirname "$0")/lib.sh"
FC="$here/../../examples/provision/fake-cloud"
cloud="$TMP/the cloud *[x]?
two"
mkdir -p "$cloud"

# fc KEY CLASS STEP [VAR=value...]: one run; its status is fc's.
fc() {
  local key=$1 class=$2 step=$3
  shift 3
  env -i PATH="$PATH" WFP_TASK_KEY="$key" WFP_IN_cloud="$cloud" \
    WFP_IN_rsv_id=r1 WFP_IN_rsv_item=disk "$@" "$FC" "$class" "$step"
}
# claim KEY CLASS STEP: the claim path a run of this step takes.
claim() {
  printf '%s/.fake-cloud/done/%s' "$cloud" \
    "$(printf '%s %s %s' "$1" "$2" "$3" | sha256sum | cut -c1-40)"
}
res="$cloud/volume-r1-disk"

# --- An ordinary run, then the same key again: done once.
out=$(fc k1 volume reserve)
eq "reserve: outputs" "$out" "$(printf '{"volume_id": "vol-%08x"}' "$(printf 'r1 disk' | cksum | cut -d' ' -f1)")"
ok "reserve: the resource" grep -qx "state=reserved" "$res"
eq "the same key again: the same outputs" "$(fc k1 volume reserve)" "$out"
eq "calls: done, then again" "$(cut -d' ' -f5 "$cloud/.fake-cloud/calls" | tr '\n' ' ')" "done again "

# --- A run of configure with key k2 that died after taking its claim,
# before doing anything: a later run with k2 does the step (it answered
# "done" and left the resource reserved).
sleep 0 & dead=$!
wait "$dead"
ln -s "pid-$dead" "$(claim k2 volume configure)"
ok "after a dead run: configure runs" fc k2 volume configure
ok "after a dead run: the resource is configured" grep -qx "state=configured" "$res"

# --- A run of acquire with key k3 that still runs (holds its claim):
# a second run waits for it, then, as it ended without doing the step,
# does it.
sleep 1.5 & live=$!
ln -s "pid-$live" "$(claim k3 volume acquire)"
start=$(date +%s%N)
ok "while another run holds the key: acquire runs" fc k3 volume acquire
ok "it waited for the holder" test $((($(date +%s%N) - start) / 1000000)) -ge 1000
ok "the resource is acquired" grep -qx "state=acquired" "$res"
wait "$live" || true

# --- A dead run that had done the effect of acquire (key k9) before it
# died: the run that takes over finds the resource acquired, and is done.
ln -s "pid-$dead" "$(claim k9 volume acquire)"
ok "after a dead run that did it: acquire ok" fc k9 volume acquire
ok "still acquired" grep -qx "state=acquired" "$res"
# The done mark of an older fake-cloud (a folder): done, nothing changes.
mkdir "$(claim k10 volume acquire)"
ok "an old done mark: ok" fc k10 volume acquire
eq "an old done mark: again" "$(tail -n 1 "$cloud/.fake-cloud/calls" | cut -d' ' -f5)" again

# --- A claim of a run on another host (another container sharing the
# cloud folder): its process cannot be asked, so the claim holds while it
# is younger than 10 s, then is taken over. A claim of this host with
# this host's name is asked as before (a dead pid is taken over at once).
ln -s "pid-1@another-host" "$(claim k11 volume configure)"
fc k11 volume configure WFP_IN_rsv_item=net >/dev/null 2>&1 &
other=$!
sleep 1
ok "a fresh claim of another host is waited for" kill -0 "$other"
touch -h -d '-20 seconds' "$(claim k11 volume configure)"
rc=0; wait "$other" || rc=$?
# (net has no reserve: the run that took over is refused by the state
# check, after taking the claim; what counts is that it got that far)
eq "a stale claim of another host is taken over" "$rc" 4
ln -s "pid-$dead@$(uname -n)" "$(claim k12 volume reserve)"
ok "a dead run of this host (pid@host) is taken over" fc k12 volume reserve WFP_IN_rsv_item=net
ok "its resource" test -e "$cloud/volume-r1-net"
# A claim names its run's start time as well: a pid used again (a
# restarted container counts pids from 1 again; a run may even get the
# pid of the dead holder) is not taken for the run that claimed.
fc k13 volume reserve WFP_IN_rsv_item=pids >/dev/null
ok "a claim names pid, start time and host: $(readlink "$(claim k13 volume reserve)")" \
  grep -qE "^pid-[0-9]+\.[0-9]+@$(uname -n)\$" <<<"$(readlink "$(claim k13 volume reserve)")"
sleep 30 & other=$!
started=$(awk '{ print $22 }' "/proc/$other/stat")
ln -s "pid-$other.$((started - 1))@$(uname -n)" "$(claim k14 volume reserve)"
ok "a claim whose pid is now another process is taken over" \
  timeout 5 env -i PATH="$PATH" WFP_TASK_KEY=k14 WFP_IN_cloud="$cloud" \
  WFP_IN_rsv_id=r1 WFP_IN_rsv_item=pids2 "$FC" volume reserve
ln -s "pid-$other.$started@$(uname -n)" "$(claim k15 volume reserve)"
fc k15 volume reserve WFP_IN_rsv_item=pids3 >/dev/null 2>&1 &
waiter=$!
sleep 1
ok "a claim of a live run (its pid and start time) is waited for" kill -0 "$waiter"
kill "$other"
wait "$other" 2>/dev/null || true
ok "and taken over once the run is gone" wait "$waiter"

# --- Several runs at once find the claim of a dead run: one takes it
# over, the others wait for it; the step is done once. (Each removed the
# claim and claimed anew: one could remove the claim another had just
# made, and both did the step, in about 1 trial of 15.)
twice=0
for t in $(seq 1 30); do
  ln -s "pid-$dead" "$(claim race$t volume destroy)"
  for i in 1 2 3 4 5 6; do
    fc "race$t" volume destroy WFP_IN_rsv_item="race$t" >/dev/null 2>&1 &
  done
  wait
  n=$(grep -c "^race$t destroy volume race$t done\$" "$cloud/.fake-cloud/calls" || true)
  [ "$n" = 1 ] || twice=$((twice + 1))
done
eq "a dead run's claim taken over by 6 runs at once: trials not done exactly once" "$twice" 0
ok "no takeover folder left" bash -c '! ls -d "$1"/.fake-cloud/done/*.over-* 2>/dev/null' _ "$cloud"

# --- Two runs of destroy at once with one key: one does it, the other
# waits for it and reports it done (both succeed, the step ran once).
fc k4 volume destroy WFP_IN_pause_ms=800 >"$TMP/a" &
a=$!
sleep 0.2
ok "second run at once: ok" fc k4 volume destroy
ok "first run: ok" wait "$a"
ok "destroyed" test ! -e "$res"
eq "destroy: done once" "$(grep -c ' destroy volume disk done$' "$cloud/.fake-cloud/calls")" 1

# --- Hostile values.
eq "fail '*' is a word, not a pattern" "$(status_of fc k5 volume reserve WFP_IN_fail='*')" 0
eq "fail 'reserve' fails" "$(status_of fc k6 ip reserve WFP_IN_fail='x,reserve')" 3
eq "rsv_id with a slash: refused" "$(status_of fc k7 ip reserve WFP_IN_rsv_id='../x')" 2
eq "pause_ms 1e3: refused" "$(status_of fc k8 ip reserve WFP_IN_pause_ms=1e3)" 2
eq "pause_ms huge: refused" "$(status_of fc k8 ip reserve WFP_IN_pause_ms=99999999999999999999)" 2
eq "a relative cloud: refused" "$(status_of fc k8 ip reserve WFP_IN_cloud=rel)" 2
ok "nothing made outside the cloud" test ! -e "$TMP/x"
finish
