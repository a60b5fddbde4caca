#!/usr/bin/env bash
# SIGKILL at 20 points spread over a whole migration (during the copy, during the
# verification, and before and after each swap step). After each kill, --resume must
# finish it and, separately, --rollback must put everything back (once the link is in
# place nothing rolls back: --rollback refuses, and undo moves the data back instead);
# either way every byte of the original is there (checked against a pristine copy) and
# no temporary or set-aside name is left behind.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT

mkdir -p pristine/a pristine/b pristine/c
for i in $(seq 150); do head -c $((i * 97)) /dev/urandom > "pristine/a/f$i"; done
head -c 4000000 /dev/urandom > pristine/c/large.bin
ln pristine/a/f1 pristine/c/hard
ln -s ../a/f2 pristine/b/rel
ln -s "$WORK/run/src/a/f3" pristine/b/abs
expected_link_target="$shm/dest/a/f3"

points="copy:begin copy:1 copy:20 copy:60 copy:100 copy:140 copy:151 copy:done verify:begin
        verify:50 verify:done place:begin place:done aside:begin aside:done link:begin
        link:done cleanup:begin verify:1 verify:151"
n=0
for point in $points; do
    n=$((n + 1))
    for after in resume rollback; do
        rm -rf src "$shm/dest" "$shm"/.tether-* .tether-* "$XDG_STATE_HOME"
        cp -a pristine src
        # the absolute inner link must name the real SRC path
        rm src/b/abs && ln -s "$WORK/run/src/a/f3" src/b/abs
        { TETHER_CRASH_AT=$point "$TETHER" -q migrate src "$shm/dest"; } >/dev/null 2>&1
        killed=$?
        check "$point: killed by SIGKILL" is "$killed" 137
        case $point in link:done|cleanup:*) linked=1 ;; *) linked=0 ;; esac
        if [ "$after" = rollback ] && [ $linked = 1 ]; then
            t -q migrate --rollback
            check "$point: --rollback refused once the link is in place" is "$rc" 3
            check "$point: and says how to go back" has "$err" "tether undo"
            t -q migrate --resume && t -q undo
        else
            t -q migrate --$after
        fi
        check "$point: --$after exit 0" is "$rc" 0
        if [ "$after" = resume ]; then
            check "$point: resumed to a link" is "$(readlink src)" "$shm/dest"
            check "$point: resumed data complete" diff -r --no-dereference -x abs pristine "$shm/dest"
            check "$point: inner link rewritten" is "$(readlink "$shm/dest/b/abs")" "$expected_link_target"
        else
            check "$point: rolled back to a real directory" is "$(stat -c %F src)" "directory"
            check "$point: rolled back data complete" diff -r --no-dereference -x abs pristine src
            check "$point: DEST gone" is "$(ls -A "$shm")" ""
        fi
        check "$point: no temporary names left" is "$(ls -A | grep -c '^\.tether')|$(ls -A "$shm" | grep -c '^\.tether')" "0|0"
        t migrate --status
        check "$point: run recorded as ended" is "$(grep -c interrupted <<<"$out")" 0
    done
done
check "20 crash points" is "$n" 20

# A run that was never interrupted is not resumable, and says so.
t migrate --resume
check "nothing to resume" is "$rc" 3
check "nothing to resume message" has "$err" "$XDG_STATE_HOME/tether/journal: nothing to resume: no migration recorded here stopped part-way (ENOENT)"

finish
