#!/usr/bin/env bash
# Two migrations of the same SRC started 0-100 ms apart, 20 times: one wins, the other
# refuses (exit 3) naming the run that holds the lock, and the data is whole (a test hook
# holds each run 300 ms at the start of its copy, so the first is still at work when the
# second comes, however fast this machine copies). Then a writer that appends a line
# every 10 ms during 20 migrations: every append that succeeded is in the final file, or
# the migration refused; half the rounds hold the run 50 ms right before SRC is set aside,
# the window where an append could reach the original after the copy was verified.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT

mkdir -p pristine/sub
head -c $((4 * 1024 * 1024)) /dev/urandom > pristine/big
for i in $(seq 40); do head -c $((i * 301)) /dev/urandom > "pristine/sub/f$i"; done

whole() { # whole: SRC links to a DEST that holds the pristine data, or is the original
    if [ -L src ]; then python3 "$here/treecmp.py" pristine "$(readlink src)" ; else python3 "$here/treecmp.py" pristine src; fi
}
leftovers() { echo "$(ls -A | grep -c '^\.tether')$(ls -A "$shm" | grep -c '^\.tether')"; }

winners=0
for round in $(seq 20); do
    rm -rf src "$shm/dest" && cp -a pristine src
    delay=$(python3 -c "import random; print(random.randint(0, 100) / 1000)")
    export TETHER_TEST_AT="copy:begin=sleep 0.3"
    ( "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>"$WORK/a.err"; echo $? >"$WORK/a.rc" ) &
    a=$!
    sleep "$delay"
    ( "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>"$WORK/b.err"; echo $? >"$WORK/b.rc" ) &
    b=$!
    wait $a $b
    rcs="$(cat "$WORK/a.rc") $(cat "$WORK/b.rc")"
    errs="$(cat "$WORK/a.err" "$WORK/b.err")"
    no_bug_report "two migrations" "$errs"
    check "round $round: one wins, one refuses" test "$rcs" = "0 3" -o "$rcs" = "3 0"
    check "round $round: the refusal names the holder" has "$errs" "another tether run is working on it (pid "
    check "round $round: the data is whole" whole
    check "round $round: nothing left behind" is "$(leftovers)" "00"
    [ "$rcs" = "0 3" ] && winners=$((winners + 1))
    unset TETHER_TEST_AT
    "$TETHER" -q undo >/dev/null 2>&1
done
echo "the first one won $winners of 20 times"

# The writer: appends "N" to src/log every 10 ms; records N once the append returned.
cat >"$WORK/writer.py" <<'EOF'
import os, sys, time
log, done, stop = sys.argv[1], sys.argv[2], sys.argv[3]
n = 0
with open(done, "w") as record:
    while not os.path.exists(stop):
        n += 1
        try:
            with open(log, "a") as f:
                f.write("%d\n" % n)
            record.write("%d\n" % n)
            record.flush()
        except OSError:
            pass  # the name is not there for a moment: that append did not happen
        time.sleep(0.01)
EOF
refused=0
for round in $(seq 20); do
    rm -rf src "$shm/dest" "$WORK/stop" && cp -a pristine src && : > src/log
    : > "$WORK/done"
    python3 "$WORK/writer.py" "$WORK/run/src/log" "$WORK/done" "$WORK/stop" &
    writer=$!
    until [ "$(wc -l < "$WORK/done")" -ge 3 ]; do sleep 0.01; done # it is writing
    if [ $((round % 2)) = 0 ]; then export TETHER_TEST_AT="aside:begin=sleep 0.05"; fi
    t -q migrate src "$shm/dest"
    unset TETHER_TEST_AT
    sleep 0.05
    touch "$WORK/stop"
    wait $writer
    check "round $round: migrated or refused" test "$rc" = 0 -o "$rc" = 3
    [ "$rc" = 3 ] && refused=$((refused + 1))
    missing=$(python3 - "$WORK/done" src/log <<'EOF'
import sys
done = set(open(sys.argv[1]).read().split())
have = set(open(sys.argv[2]).read().split())
print(len(done - have))
EOF
)
    check "round $round: every append that succeeded is in the file" is "$missing" 0
    check "round $round: nothing left behind" is "$(leftovers)" "00"
    [ "$rc" = 0 ] && "$TETHER" -q undo >/dev/null 2>&1
done
echo "refused $refused of 20 migrations under the writer"

finish
