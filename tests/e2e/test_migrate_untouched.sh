#!/usr/bin/env bash
# What a migration that does not run writes: nothing. A refused migration (DEST inside
# SRC, and every other refusal, whether the cheap checks or the full preflight find it)
# leaves every mtime and ctime under SRC's parent and DEST's parent as it was; -n and
# apply --check with a migration change nothing anywhere, the journal's directory
# included (and where only a try would tell whether a link can be made, on FUSE, -n says
# it is not checked). Whatever is planted at a lock's or a journal's name (a FIFO, a
# link, a directory, a hard link, a file others may write or of another user) hangs
# nothing and is named for what it is by migrate, migrate -n, --status and doctor; a
# FIFO at the name lock files once had beside SRC is nothing of tether's.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
fuse=""
trap '[ -n "$fuse" ] && fusermount -u "$fuse" 2>/dev/null; kill $holder 2>/dev/null; rm -rf "$shm"; cleanup' EXIT
holder=""
jdir=$XDG_STATE_HOME/tether/journal

mkdir -p top/src/sub/x top/full && echo data > top/src/sub/f && echo x > top/full/f && echo f > top/file
ln -s src top/link
# times: every mtime and ctime (with nanoseconds) under the given directories.
times() { find "$@" -exec stat -c '%n %y %z' {} + 2>/dev/null | LC_ALL=C sort; }
everything() { times "$WORK/run" "$shm" "$XDG_STATE_HOME"; }

# refused NAME ARGS...: tether migrate ARGS refuses (exit 3) and writes nothing into the
# user's directories; the cheap refusals write nothing at all (not even a journal
# directory). Each runs twice: with no journal directory yet, and with one.
refused() {
    local name=$1
    shift
    for state in none made; do
        [ $state = none ] && rm -rf "$XDG_STATE_HOME"
        [ $state = made ] && mkdir -p -m 700 "$jdir"
        before=$(everything)
        t migrate "$@"
        check "$name ($state): refused" is "$rc" 3
        check "$name ($state): every time as it was" is "$(times "$WORK/run" "$shm")" "$(echo "$before" | grep -v "^$XDG_STATE_HOME")"
        [ "${cheap:-}" = 1 ] && check "$name ($state): nothing written anywhere" is "$(everything)" "$before"
        before=$(everything)
        t -n migrate "$@"
        check "$name ($state): -n refuses" is "$rc" 3
        check "$name ($state): -n writes nothing anywhere" is "$(everything)" "$before"
    done
}
cheap=1
refused "DEST inside SRC" top/src top/src/sub/x
refused "DEST deeper inside SRC" top/src top/src/sub/new/x
refused "DEST the same as SRC" top/src top/src
refused "DEST containing SRC" top/src top
refused "DEST not empty" top/src top/full
refused "DEST's parent missing" top/src top/nowhere/x
refused "SRC a file" top/file "$shm/dest"
refused "SRC a link" top/link "$shm/dest"
refused "SRC missing" top/missing "$shm/dest"
cheap=0
# Refusals of the full preflight, which holds the locks (in the journal directory).
sleep 30 >> top/src/sub/f &
writer=$!
sleep 0.2
refused "a file open for writing" top/src "$shm/dest"
kill $writer
wait $writer 2>/dev/null
rm -rf "$XDG_STATE_HOME"
refused "the journal kept inside SRC" --journal-dir "$WORK/run/top/src/journal" top/src "$shm/dest"
check "the journal kept inside SRC: not made there" test ! -e top/src/journal
# Another run at work on SRC (held at the start of its copy): the second is refused.
rm -f "$WORK/held"
TETHER_TEST_AT="copy:begin=pause 20 $WORK/held" "$TETHER" -q migrate top/src "$shm/dest" >/dev/null 2>&1 &
holder=$!
for _ in $(seq 400); do [ -e "$WORK/held" ] && break; sleep 0.05; done
before=$(times "$WORK/run" "$shm")
t migrate top/src "$shm/elsewhere"
check "another run at work: refused, naming it" is "$rc|$(has "$err" "another tether run is working on it (pid $holder, run " && echo named)" "3|named"
t -n migrate top/src "$shm/elsewhere"
check "another run at work: -n says so" is "$rc|$(has "$err" "another tether run is working on it (pid $holder, run " && echo named)" "3|named"
check "another run at work: nothing written" is "$(times "$WORK/run" "$shm")" "$before"
# A run of another journal directory (as another user's would be) sees the lock on the
# directory itself.
t --journal-dir "$WORK/other-journal" migrate top/src "$shm/elsewhere"
check "another journal directory: refused, SRC locked" is "$rc|$(has "$err" "top/src: another process holds a lock on it" && echo named)" "3|named"
check "another journal directory: nothing written" is "$(times "$WORK/run" "$shm")" "$before"
kill -TERM $holder
wait $holder
holder=""
check "the run at work put everything back" is "$(find "$shm" top -name '.tether-*' | wc -l)" 0

# apply --check with a migration, and -n: nothing anywhere, no journal directory made.
rm -rf "$XDG_STATE_HOME"
echo "return { migrations = { { from = 'top/src', to = '$shm/applied' } } }" > decl.lua
before=$(everything)
t apply decl.lua --check
check "apply --check: lists the migration" is "$rc|$(has "$out" "> migrate $WORK/run/top/src to $shm/applied" && echo listed)" "0|listed"
t -n migrate top/src "$shm/dest"
check "-n: says yes" is "$rc" 0
check "apply --check and -n: every time as it was, nothing made" is "$(everything)" "$before"
check "no journal directory made" test ! -e "$XDG_STATE_HOME"

# Where only making a link would tell (FUSE): -n says it did not check, and makes none.
if command -v bindfs >/dev/null && mkdir -p "$WORK/fuse-real/src" fusemnt && bindfs "$WORK/fuse-real" fusemnt 2>/dev/null; then
    fuse=$WORK/run/fusemnt
    echo data > fusemnt/src/f
    before=$(times "$WORK/fuse-real" "$shm")
    t -n migrate fusemnt/src "$shm/dest"
    check "FUSE: -n says yes" is "$rc" 0
    check "FUSE: -n says the link is not checked" has "$out" "$fuse: whether a link can be made here is not checked (fuse: only making one would tell"
    check "FUSE: -n made nothing" is "$(times "$WORK/fuse-real" "$shm")" "$before"
    t migrate fusemnt/src "$shm/dest"
    check "FUSE: the run tries a link, then migrates" is "$rc|$(readlink fusemnt/src)" "0|$shm/dest"
    check "FUSE: no probe left" is "$(ls -A fusemnt)" "src"
    t -q undo
    # A link refused there (as a filesystem without links would): refused, nothing
    # changed, no journal kept.
    if command -v strace >/dev/null; then
        before=$(times "$WORK/fuse-real" "$shm")
        out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e trace=symlinkat -e inject=symlinkat:error=EPERM \
            "$TETHER" migrate fusemnt/src "$shm/dest" 2>&1)
        rc=$?
        no_bug_report "tether migrate (no link on FUSE)" "$out"
        check "FUSE, no link: refused" is "$rc" 3
        check "FUSE, no link: says why" has "$out" "a link must be made here in place of $fuse/src; nothing was changed"
        check "FUSE, no link: everything as it was" is "$(times "$WORK/fuse-real" "$shm")" "$before"
        check "FUSE, no link: no run recorded" is "$(ls "$jdir" | grep -c jsonl)" 1
        # The link tried there cannot be removed again: it is journaled, so the command
        # named removes it.
        out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e trace=unlinkat -e inject=unlinkat:error=EPERM:when=1 \
            "$TETHER" migrate fusemnt/src "$shm/dest" 2>&1)
        rc=$?
        no_bug_report "tether migrate (a probe that stays)" "$out"
        check "FUSE, probe stays: exit 4, naming the command" is "$rc|$(has "$out" "is still there: remove it with tether migrate --rollback" && echo named)" "4|named"
        check "FUSE, probe stays: it is there" is "$(ls -A fusemnt | grep -c '^\.tether-probe-')" 1
        t migrate --status
        check "FUSE, probe stays: --status says SRC is untouched" has "$out" "stopped before its first step ($fuse/src is untouched)"
        t migrate --rollback
        check "FUSE, probe stays: --rollback removes it" is "$rc|$(ls -A fusemnt)" "0|src"
        check "FUSE, probe stays: everything as it was" is "$(times "$WORK/fuse-real/src" "$shm")" "$(grep "^$WORK/fuse-real/src\|^$shm" <<<"$before")"
    fi
    fusermount -u "$fuse" && fuse=""
else
    echo "skipped: a SRC on FUSE (bindfs cannot mount here)"
fi

# The names of the two locks of top/src -> $shm/dest (files in the journal directory).
rm -rf "$XDG_STATE_HOME"
TETHER_TEST_AT="copy:begin=ls $jdir > $WORK/names" "$TETHER" -q migrate top/src "$shm/dest" >/dev/null 2>&1
locks=$(grep '\.lock$' "$WORK/names")
check "two lock files, in the journal directory" is "$(wc -l <<<"$locks")" 2
t -q undo
check "released: gone" is "$(ls "$jdir" | grep -c '\.lock$')" 0
echo precious > "$WORK/precious"
plant() { # plant KIND PATH
    case $1 in
    fifo) mkfifo "$2" ;;
    link) ln -s "$WORK/precious" "$2" ;;
    dir) mkdir "$2" ;;
    hardlink) ln "$WORK/precious" "$2" ;;
    writable) echo "pid 1, run x" > "$2" && chmod 666 "$2" ;;
    foreign) echo "pid 1, run x" > "$2" && chmod 600 "$2" && chown 65534:65534 "$2" ;;
    esac
}
kinds="fifo link dir hardlink writable"
[ "$(id -u)" -eq 0 ] && kinds="$kinds foreign"
for kind in $kinds; do
    for name in $locks; do
        plant $kind "$jdir/$name"
        before=$(times "$WORK/run" "$shm")
        for cmd in "-n migrate" "migrate"; do
            out=$(timeout 20 "$TETHER" $cmd top/src "$shm/dest" 2>&1)
            rc=$?
            no_bug_report "tether $cmd" "$out"
            check "$kind at a lock's name: $cmd does not hang, refuses" is "$rc" 3
            check "$kind at a lock's name: $cmd names it" has "$out" "$jdir/$name: "
        done
        for cmd in "migrate --status" "doctor --no-probe top"; do
            timeout 20 "$TETHER" $cmd >/dev/null 2>&1
            check "$kind at a lock's name: $cmd does not hang" test $? -ne 124
        done
        check "$kind at a lock's name: nothing changed" is "$(times "$WORK/run" "$shm")" "$before"
        check "$kind at a lock's name: left as it was" test -e "$jdir/$name" -o -L "$jdir/$name"
        check "$kind at a lock's name: what a link leads to untouched" is "$(cat "$WORK/precious")" precious
        rm -rf "$jdir/$name"
    done
done

# A FIFO where a journal would be: listed as what it is; nothing waits on it.
mkfifo "$jdir/20991231-000000-000000-ab.jsonl"
out=$(timeout 20 "$TETHER" migrate --status 2>&1)
check "a FIFO at a journal's name: --status does not hang, names it" is "$?|$(has "$out" "20991231-000000-000000-ab.jsonl" && echo named)" "1|named"
out=$(timeout 20 "$TETHER" migrate --resume 20991231-000000-000000-ab 2>&1)
check "a FIFO at a journal's name: --resume of it refuses" is "$?|$(has "$out" "not a regular file" && echo named)" "3|named"
timeout 20 "$TETHER" -q migrate top/src "$shm/dest" >/dev/null 2>&1
check "a FIFO at a journal's name: a migration still runs" is "$?|$(readlink top/src)" "0|$shm/dest"
t -q undo "$(ls "$jdir" | grep -v 2099 | grep jsonl | tail -n 1 | sed 's/.jsonl//')"
rm "$jdir/20991231-000000-000000-ab.jsonl"

# The name lock files once had beside SRC is no lock of tether's now: a FIFO there
# hangs nothing, is not called a lock, and stays.
mkfifo top/.tether-lock-src
for cmd in "-n migrate top/src $shm/dest" "migrate top/src $shm/dest"; do
    out=$(timeout 20 "$TETHER" $cmd 2>&1)
    check "a FIFO at .tether-lock-src: $cmd runs" is "$?" 0
done
out=$(timeout 20 "$TETHER" doctor --no-probe top 2>&1)
check "a FIFO at .tether-lock-src: doctor does not hang" test $? -ne 124
check "a FIFO at .tether-lock-src: doctor does not call it a lock" is "$(grep '\.tether-lock-src' <<<"$out")" \
    "not tether's: top/.tether-lock-src (its name is not one tether makes; left alone)"
check "a FIFO at .tether-lock-src: left there" test -p top/.tether-lock-src
t -q undo

finish
