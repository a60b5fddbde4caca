#!/usr/bin/env bash
# A migration stopped before its link whose original was moved or replaced since (SRC
# while it was copied, the backup once it was set aside): --resume, --rollback and undo,
# with -n and --json too, refuse before they compare or move anything, saying the
# original is not the directory the run copied and to put it back; nothing changes, and
# the exit is 3. --status (and its --json "where") does not claim the data is at a path
# that no longer holds the original. Once it is put back, the rollback finishes.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
export TETHER_TEST_COPY_BATCH=5

mkdir -p pristine/d11
for i in $(seq 30); do head -c $((i * 97)) /dev/urandom > "pristine/d11/f$i"; done
state() { snapshot "$WORK/run"; snapshot "$shm"; }

# refuses_all WHERE NAME HOW: every command that would take the run further refuses,
# naming WHERE (the path the original should be at), NAME and HOW it went ("moved" or
# "replaced"), and changes nothing.
refuses_all() {
    local where=$1 name=$2 how=$3 before cmd
    before=$(state)
    for cmd in "migrate --resume" "migrate --rollback" "undo" "migrate --resume -n" "migrate --rollback -n" \
        "undo -n" "--json migrate --rollback" "migrate --resume $id" "migrate --rollback $id"; do
        # shellcheck disable=SC2086
        t $cmd
        check "$name: $cmd exits 3" is "$rc" 3
        check "$name: $cmd says the original is not the directory copied" \
            has "$err" "$where: $name is not the directory this run copied ($how since it stopped)"
        check "$name: $cmd says to put it back" has "$err" "put the original back at $where, then run "
        check "$name: $cmd does not blame the partial copy" test "${err/another process wrote/}" = "$err"
    done
    check "$name: nothing changed" is "$(state)" "$before"
    t migrate --status
    check "$name: --status does not place the data at $where" \
        has "$out" "cannot tell where the data is: the original was at $where, and is not there now"
    t --json migrate --status
    check "$name: --status --json says it moved" has "$out" "\"where\": \"the original was at $where, and is not there now"
}

# The copy stage: SRC moved away, then replaced by another directory.
cp -a pristine src
TETHER_CRASH_AT=copy:17 "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
check "killed mid-copy" is "$?" 137
id=$(ls "$XDG_STATE_HOME"/tether/journal/ | sed -n 's/\.jsonl$//p')
mv src src.old
refuses_all "$WORK/run/src" SRC moved
mkdir src && echo x > src/only
refuses_all "$WORK/run/src" SRC replaced
rm -r src && mv src.old src
t migrate --status
check "put back: --status places the data in SRC again" has "$out" "the data is in $WORK/run/src"
t migrate --rollback
check "put back: the rollback finishes" is "$rc" 0
check "SRC is the original" is "$(snapshot src)" "$(snapshot pristine)"
check "nothing left on DEST's side" test -z "$(ls -A "$shm")"

# Set aside: killed before the check, the original at the backup, which is then moved.
TETHER_CRASH_AT=check:begin "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
check "killed before the check" is "$?" 137
id=$(ls -t "$XDG_STATE_HOME"/tether/journal/ | sed -n '1s/\.jsonl$//p')
bak=$(ls -d "$WORK"/run/.tether-backup-*)
check "the original was set aside" test -d "$bak"
mv "$bak" src.old
refuses_all "$bak" "the original set aside at $bak" moved
mv src.old "$bak"
t migrate --rollback
check "backup put back: the rollback finishes" is "$rc" 0
check "SRC is the original again" is "$(snapshot src)" "$(snapshot pristine)"

finish
