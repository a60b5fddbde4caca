#!/usr/bin/env bash
# What migrate says of a run that stopped part-way, with and without its ID: --resume
# with no ID finds a stopped rollback and points at the rollback (as it does when named);
# the dry runs of --resume and --rollback say what they keep or remove (a resume goes on
# from the partial copy, a rollback removes it: neither reads as a fresh copy), in text
# and in --json; and -n of migrate, --resume, --rollback and undo quote each name with a
# control character, never a step's line whole. A new migrate of a SRC whose run stopped
# after placing its link names that run and the command that takes it further.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
export TETHER_TEST_COPY_BATCH=5 # a batch journaled every 5 files

esc=$(printf 'r\033[1mB') # a name with a control character (ESC)
mkdir "$esc"
for i in $(seq 30); do head -c $((i * 97)) /dev/urandom > "$esc/f$i"; done
qsrc="$WORK/run/r\\027[1mB" # tether.quote's form of it

# no_line_quoted OUT: no numbered step line is quoted whole, and no raw ESC is printed.
no_line_quoted() { ! grep -qE '^ +[0-9]+\. "' <<<"$1" && [[ "$1" != *$'\033'* ]]; }

t -n migrate "$esc" "$shm/dest"
check "migrate -n: exit 0" is "$rc" 0
check "migrate -n: the name quoted inside the step" has "$out" "1. copy \"$qsrc\" to "
check "migrate -n: no step line quoted whole" no_line_quoted "$out"

# A kill in the copy: 15 files recorded finished.
TETHER_CRASH_AT=copy:17 "$TETHER" -q migrate "$esc" "$shm/dest" >/dev/null 2>&1
check "killed mid-copy" is "$?" 137
id=$(ls "$XDG_STATE_HOME"/tether/journal/ | sed -n 's/\.jsonl$//p')

t migrate --resume -n
check "resume -n: exit 0" is "$rc" 0
check "resume -n: goes on from the partial copy, with the records counted" has "$out" \
    "1. go on with the copy of \"$qsrc\" into the partial copy "
check "resume -n: finished files kept when unchanged" has "$out" "of the 15 files recorded finished, each is kept when it and its source are unchanged"
check "resume -n: no fresh copy announced" test "${out/. copy /}" = "$out"
check "resume -n: no step line quoted whole" no_line_quoted "$out"
t --json migrate --resume -n
check "resume -n --json: the step says the copy goes on" has "$out" '"go on with the copy of '

t migrate --rollback -n
check "rollback -n: exit 0" is "$rc" 0
check "rollback -n: removes the partial copy" has "$out" "1. remove the partial copy $shm/.tether-tmp-"
check "rollback -n: nothing reads as a copy" test "${out/take back: copy/}" = "$out"
check "rollback -n: no step line quoted whole" no_line_quoted "$out"
t --json migrate --rollback -n
check "rollback -n --json: the step removes the partial copy" has "$out" '"remove the partial copy '
t undo -n
check "undo -n of the stopped run: removes the partial copy, no line quoted whole" \
    bash -c '[[ "$1" == *"remove the partial copy "* ]] && ! grep -qE "^ +[0-9]+\. \"" <<<"$1"' _ "$out"

# A rollback killed before it removed the partial copy: --resume, named or not, points at it.
TETHER_CRASH_AT=rollback-copy:begin "$TETHER" -q migrate --rollback >/dev/null 2>&1
check "rollback killed" is "$?" 137
t migrate --resume "$id"
named_rc=$rc named_err=$err
check "resume ID: refused, pointing at the rollback" has "$err" "$id: is being rolled back (EINVAL); finish the rollback with: tether migrate --rollback $id"
t migrate --resume
check "resume (no ID): the same refusal as with the ID" is "$err" "$named_err"
check "resume (no ID): the same exit as with the ID" is "$rc" "$named_rc"
check "resume (no ID): not 'nothing to resume'" test "${err/nothing to resume/}" = "$err"
t migrate --resume -n
check "resume -n (no ID): the same refusal" is "$err" "$named_err"
t --json migrate --resume
check "resume --json (no ID): names the rollback" has "$out$err" "finish the rollback with: tether migrate --rollback $id"
t migrate --rollback
check "the rollback finishes" is "$rc" 0
check "the partial copy is gone" test -z "$(ls -A "$shm")"
check "SRC is whole" is "$(ls "$esc" | wc -l)" 30
t migrate --resume
check "then nothing to resume" has "$err" "nothing to resume"

# Killed after its link was placed (the original still at the backup): a new migrate of
# SRC, real, -n or --json, names that run and the command that takes it further.
mkdir linked && echo data > linked/f
TETHER_CRASH_AT=cleanup:begin "$TETHER" -q migrate linked "$shm/linked" >/dev/null 2>&1
check "killed before the cleanup" is "$?" 137
lid=$(ls -t "$XDG_STATE_HOME"/tether/journal/ | sed -n '1s/\.jsonl$//p')
before=$(snapshot "$WORK/run")
for how in "" "-n" "--json"; do
    # shellcheck disable=SC2086
    t $how migrate ./linked/ "$shm/other"
    check "migrate $how of the link it left: exit 3" is "$rc" 3
    check "migrate $how of the link it left: names the run and what takes it further" has "$out$err" \
        "$WORK/run/linked: run $lid stopped part-way here (link in place, the original not yet deleted (at cleanup))"
    check "migrate $how of the link it left: the command" has "$out$err" "take it further first: tether migrate --resume $lid"
done
check "nothing changed" is "$(snapshot "$WORK/run")" "$before"
check "no DEST made" test ! -e "$shm/other"
t migrate --resume "$lid"
check "the resume finishes it" is "$rc" 0
t migrate linked "$shm/other"
check "then: only 'already a link'" has "$err" "linked: is already a link (to $shm/linked) (ENOTDIR); nothing to migrate"

finish
