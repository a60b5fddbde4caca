#!/usr/bin/env bash
# migrate --resume after a kill inside the copy keeps what the copy had finished and
# journaled, and nothing it cannot vouch for: a file is kept only when its copy is the one
# recorded and its source is unchanged since it was read (and was already unchanged when
# its batch began: git's racy-clean rule). Checked against the journal's records: the
# resumed copy keeps exactly the files they vouch for and creates exactly the others
# (strace counts the files it creates), the result is the source byte for byte, a source
# changed in its ctime alone, a copy tampered with, a file planted in the partial copy
# and a source deleted meanwhile are none of them kept; a kill during the resume is
# resumed again, keeping the work of both attempts; --rollback after a kill removes the
# partial copy, kept files and all.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
export TETHER_TEST_COPY_BATCH=10 # a batch journaled every 10 files
export ASAN_OPTIONS=detect_leaks=0 # LeakSanitizer cannot work under ptrace (strace)

mkdir -p pristine/a/deep pristine/b pristine/empty
for i in $(seq 160); do head -c $((i * 211)) /dev/urandom > "pristine/$([ $((i % 3)) = 0 ] && echo b || echo a)/f$i"; done
echo leaf > pristine/a/deep/leaf
ln pristine/a/f1 pristine/b/hard # a hard-link group: never kept, copied again as a group
ln -s ../a/f2 pristine/b/rel
nfiles=$(find pristine -type f | wc -l)

journal() { ls "$XDG_STATE_HOME"/tether/journal/*.jsonl; }
partial() { ls -d "$shm"/.tether-tmp-*; }
fresh() {
    rm -rf src "$shm/dest" "$shm"/.tether-* "$XDG_STATE_HOME"
    cp -a pristine src
    sleep 0.05 # the files' ctimes well before the copy begins
}
# recorded: the paths the journal says the copy finished; vouched: how many of them a
# resume may keep, and how many the racy-clean rule alone rules out (copy_records.py).
recorded() { python3 "$here/copy_records.py" --paths "$(journal)"; }
vouched() { python3 "$here/copy_records.py" "$(journal)" src "$(partial)"; }
json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)['copy']['$1'])" <<<"$out"; }
# created LOG: regular files the traced run created (O_CREAT|O_EXCL: only the copy does).
created() { grep -c 'O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW' "$1"; }
tracing=0
command -v strace >/dev/null && tracing=1 || echo "skipped: counting the files a resume creates needs strace"

# A kill part-way through the copy; every source file's ctime moved at the first file
# (once: the label comes again while the next file is copied), so the records of the
# files read after it in the same batch are not to be trusted; then the disturbances.
fresh
TETHER_TEST_AT="copy:1=[ -e once ] || { touch once; chmod -R u+rw src; sleep 0.05; }" TETHER_CRASH_AT=copy:100 "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
check "killed mid-copy" is "$?" 137
mapfile -t rec < <(recorded)
check "the killed copy journaled the files it finished" test "${#rec[@]}" -ge 80
read -r _ racy _ < <(vouched)
check "files read in the batch that saw their source change are not vouched for" test "$racy" -ge 1
changed=${rec[-1]} tampered=${rec[-2]} deleted=${rec[-3]}
# the source changed in its ctime alone: same size, same mtime
size=$(stat -c %s "src/$changed") mtime=$(stat -c %y "src/$changed")
head -c "$size" /dev/urandom > "src/$changed" && touch -d "$mtime" "src/$changed"
# the copy changed (its content: its ctime moves)
printf X | dd of="$(partial)/$tampered" bs=1 seek=0 conv=notrunc 2>/dev/null
rm "src/$deleted"
echo planted > "$(partial)/a/planted"
ln -s /etc/passwd "$(partial)/a/link-planted"
cp -a src expected
read -r want _ < <(vouched)
check "some records still vouch for their files" test "$want" -ge 50

if [ $tracing = 1 ]; then
    strace -f -qq -e trace=openat -o "$WORK/trace" "$TETHER" --json migrate --resume >"$WORK/out" 2>"$WORK/err"
    rc=$? out=$(cat "$WORK/out") err=$(cat "$WORK/err")
else
    t --json migrate --resume
fi
check "--resume finishes it" is "$rc" 0
check "the resumed run keeps exactly the files the records vouch for" is "$(json_field kept)" "$want"
check "and copies the rest" is "$(json_field copied)" "$((nfiles - 1 - 1 - want))" # (less the deleted file and the hard link)
[ $tracing = 1 ] && check "the files it created are the ones it says it copied" is "$(created "$WORK/trace")" "$(json_field copied)"
check "SRC is a link to DEST" is "$(readlink src)" "$shm/dest"
check "DEST is the source as it was when resumed, byte for byte" diff -r --no-dereference expected "$shm/dest"
check "the changed source was copied again" cmp "expected/$changed" "$shm/dest/$changed"
check "the tampered copy was not kept" cmp "expected/$tampered" "$shm/dest/$tampered"
check "the deleted source is not in the copy" test ! -e "$shm/dest/$deleted"
check "nothing planted is kept" test ! -e "$shm/dest/a/planted" -a ! -L "$shm/dest/a/link-planted"
check "the hard-link group is one again" is "$(stat -c %i "$shm/dest/a/f1")" "$(stat -c %i "$shm/dest/b/hard")"
check "nothing of tether's is left" is "$(ls -A "$shm" | grep -c '^\.tether')" 0

# A kill during the resume itself, then another resume: the work of both is kept.
rm -rf expected
fresh
TETHER_CRASH_AT=copy:60 "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
first=$(recorded | wc -l)
TETHER_CRASH_AT=copy:120 "$TETHER" -q migrate --resume >/dev/null 2>&1
check "the resume killed in its turn" is "$?" 137
both=$(recorded | wc -l)
check "the second attempt journaled more" test "$both" -gt "$first"
read -r want _ < <(vouched)
t --json migrate --resume
check "the third attempt finishes it" is "$rc" 0
check "keeping what both earlier attempts finished" is "$(json_field kept)" "$want"
check "more than the first alone" test "$want" -gt "$first"
check "DEST is the source" diff -r --no-dereference pristine "$shm/dest"

# --rollback after a kill in the copy, and after a kill in a resumed copy: everything goes.
for second in no yes; do
    fresh
    TETHER_CRASH_AT=copy:80 "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
    [ $second = yes ] && TETHER_CRASH_AT=copy:140 "$TETHER" -q migrate --resume >/dev/null 2>&1
    t migrate --rollback
    check "rollback after a kill (resumed: $second): exit 0" is "$rc" 0
    check "rollback (resumed: $second): the partial copy is gone" is "$(ls -A "$shm")" ""
    check "rollback (resumed: $second): SRC is the original" diff -r --no-dereference pristine src
done

finish
