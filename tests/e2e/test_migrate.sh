#!/usr/bin/env bash
# migrate end to end across filesystems (/tmp -> /dev/shm): a tree with everything a
# real folder has, checked byte for byte and metadata for metadata through the link;
# SIGKILL at 20 points with --resume and --rollback after each; ENOSPC; bad input.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
cross=1
[ "$(stat -c %d "$WORK")" = "$(stat -c %d "$shm")" ] && cross=0 && echo "note: /tmp and /dev/shm are one filesystem here"

# make_tree DIR: small files, large files, empty dirs, inner relative and absolute
# symlinks, inner hard links, a sparse file, odd names.
make_tree() {
    local d=$1
    mkdir -p "$d/docs/empty" "$d/games/saves" "$d/deep/a/b/c"
    for i in $(seq 60); do printf 'file %s\n' "$i" > "$d/docs/f$i.txt"; done
    head -c 3000000 /dev/urandom > "$d/games/big.bin"
    head -c 70000 /dev/urandom > "$d/deep/a/b/c/mid.bin"
    truncate -s 20M "$d/games/sparse.img" && printf 'x' | dd of="$d/games/sparse.img" bs=1 seek=1000000 conv=notrunc 2>/dev/null
    ln "$d/docs/f1.txt" "$d/games/saves/hard-f1"
    ln "$d/docs/f1.txt" "$d/deep/hard-f1-again"
    ln -s ../docs/f2.txt "$d/games/rel-link"
    ln -s "$d/docs/f3.txt" "$d/games/abs-inner"
    ln -s "$d" "$d/deep/abs-root"
    ln -s /etc/hostname "$d/games/abs-outer"
    ln -s missing "$d/games/broken"
    for name in "with space" $'new\nline' "-dash" "café" $'\xff'; do printf '%s\n' "$name" > "$d/docs/$name"; done
    chmod 640 "$d/docs/f5.txt" && chmod 750 "$d/deep/a"
    touch -d '2001-02-03 04:05:06.123456789' "$d/docs/f6.txt"
    touch -h -d '2002-01-01' "$d/games/rel-link"
}

make_tree "$WORK/run/src"
cp -a "$WORK/run/src" "$WORK/pristine"

# --dry-run prints the plan (sizes, free space, every step) and changes nothing.
mkdir -p elsewhere && ln -s "$WORK/run/src/docs/f1.txt" elsewhere/into-src
before=$(snapshot "$WORK/run")
t -n migrate --scan elsewhere src "$shm/dest"
check "dry run exit 0" is "$rc" 0
check "dry run shows sizes" has "$out" "data: 22.9 MiB in 70 files"
check "dry run shows free space" has "$out" "free"
check "dry run lists the steps" has "$out" "7. delete the original, set aside at"
check "dry run reports links into SRC (--scan)" has "$out" "note: elsewhere/into-src -> $WORK/run/src/docs/f1.txt points into SRC"
check "dry run changed nothing" is "$(snapshot "$WORK/run")|$(ls -A "$shm")" "$before|"
t migrate --scan elsewhere src "$shm/dest"
check "migrate exit 0" is "$rc" 0
check "--scan warns about links into SRC" has "$err" "elsewhere/into-src -> $WORK/run/src/docs/f1.txt points into $WORK/run/src; it keeps working through the link"
check "that link still works" is "$(cat elsewhere/into-src)" "file 1"
check "SRC is now a link to DEST" is "$(readlink src)" "$shm/dest"
check "summary" has "$out" "src is now a symlink to $shm/dest"
check "nothing left beside SRC or DEST" is "$(ls -A "$WORK/run" | grep -c tether)|$(ls -A "$shm" | grep -c tether)" "0|0"
# Inner absolute links differ on purpose (rewritten into DEST): treecmp checks those.
check "diff -r through the link" diff -r --no-dereference -x abs-inner -x abs-root "$WORK/pristine" src/
check "metadata, hard links, rewritten inner links" python3 "$here/treecmp.py" "$WORK/pristine" "$shm/dest" "$WORK/run/src" "$shm/dest"
check "inner absolute link now points into DEST" is "$(readlink "$shm/dest/games/abs-inner")" "$shm/dest/docs/f3.txt"
check "outer absolute link kept" is "$(readlink "$shm/dest/games/abs-outer")" "/etc/hostname"
check "sparse file stays sparse" test "$(du -k "$shm/dest/games/sparse.img" | cut -f1)" -lt 1024
t migrate --status
check "status lists it finished" has "$out" "finished"
t undo
check "undo" is "$rc|$(stat -c %F src)" "0|directory"
check "undo puts the data back" python3 "$here/treecmp.py" "$WORK/pristine" src
check "undo removes DEST" is "$(ls -A "$shm")" ""

# --verify hash, --keep-backup, --finish, --json.
t migrate --verify hash --keep-backup --json src "$shm/dest"
id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$out")
check "hash-verified migration" is "$rc|$(readlink src)" "0|$shm/dest"
check "backup kept" is "$(ls -A | grep -c '^\.tether-backup')" 1
t migrate --finish "$id"
check "--finish deletes it" is "$rc|$(ls -A | grep -c '^\.tether-backup')" "0|0"
t undo "$id"
check "undo after finish" is "$rc|$(stat -c %F src)" "0|directory"

# The same filesystem: a rename and a link.
t migrate src "$WORK/run/moved"
check "same-filesystem migrate" is "$rc|$(readlink src)" "0|$WORK/run/moved"
check "same-filesystem data intact" diff -r --no-dereference "$WORK/pristine" moved
t undo
check "same-filesystem undo" is "$rc|$(stat -c %F src)" "0|directory"

# Undo refuses when things changed since.
t migrate src "$shm/dest"
rm src && mkdir src
t undo
check "undo refuses a changed SRC" is "$rc" 3
check "undo refusal message" has "$err" "is no longer the link"
rmdir src && ln -s "$shm/dest" src && t undo && check "undo once restored" is "$rc" 0

finish
