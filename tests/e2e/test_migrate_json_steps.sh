#!/usr/bin/env bash
# --json of a migration that did steps lists them in `steps` (docs/json.md: what it did):
# a whole run, --resume, --rollback and --finish of a stopped or kept run, and undo; each
# list the steps the command took, in order, and an empty list only when nothing was done.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
export TETHER_TEST_COPY_BATCH=5

mkdir src && for i in $(seq 20); do head -c $((i * 97)) /dev/urandom > "src/f$i"; done
# steps_are WANT...: the --json object in $out has exactly these steps, each the start of one.
steps_are() {
    python3 -c 'import json, sys
steps = json.loads(sys.argv[1])["steps"]
want = sys.argv[2:]
sys.exit(not (len(steps) == len(want) and all(s.startswith(w) for s, w in zip(steps, want))))' "$out" "$@"
}

t --json migrate src "$shm/dest"
check "migrate --json: exit 0" is "$rc" 0
check "migrate --json: the steps it did" steps_are "copy $WORK/run/src to " "verify the copy" "rename " \
    "rename $WORK/run/src aside" "check that nothing wrote" "make $WORK/run/src a symlink" "delete the original"
t --json undo
check "undo --json: exit 0" is "$rc" 0
check "undo --json: the steps it did" steps_are "copy $shm/dest to " "verify the copy" "rename $shm/dest aside" \
    "check that nothing wrote" "remove the link" "rename " "delete the original" "nothing to restore"

TETHER_CRASH_AT=copy:12 "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
check "killed mid-copy" is "$?" 137
t --json migrate --rollback
check "rollback --json: exit 0" is "$rc" 0
check "rollback --json: it removed the partial copy" steps_are "remove the partial copy $shm/.tether-tmp-"

TETHER_CRASH_AT=copy:12 "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
check "killed mid-copy again" is "$?" 137
t --json migrate --resume
check "resume --json: exit 0" is "$rc" 0
check "resume --json: went on from the partial copy, then the rest" steps_are "go on with the copy of $WORK/run/src" \
    "verify the copy" "rename " "rename $WORK/run/src aside" "check that nothing wrote" "make $WORK/run/src a symlink" \
    "delete the original"
t undo
check "undone" is "$rc" 0

t --json migrate --keep-backup src "$shm/dest"
check "migrate --keep-backup --json: no deletion among its steps" steps_are "copy " "verify the copy" "rename " \
    "rename $WORK/run/src aside" "check that nothing wrote" "make $WORK/run/src a symlink"
t --json migrate --finish
check "finish --json: exit 0" is "$rc" 0
check "finish --json: it deleted the original" steps_are "delete the original, set aside at $WORK/run/.tether-backup-"

finish
