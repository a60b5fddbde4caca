#!/usr/bin/env bash
# What a migration must find before it copies anything, caught the same by -n and by the
# real run (exit 3, every offending path named, nothing changed): a file the user cannot
# read, a filesystem mounted inside SRC or SRC being one, an immutable file, SRC's parent
# immutable or append-only, the journal kept inside SRC, no room, files with hard links
# outside SRC (to another filesystem). What migrates fine must do so after -n said yes: a
# unix socket (copied as cp -a copies it), paths deeper than PATH_MAX. What is only worth
# knowing is reported: relative links leading out of SRC, processes working inside it.
# And the free-space margin scales with the destination.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'umount "$WORK/run/m1/sub" "$WORK/run/m2" "$WORK/run/tiny" 2>/dev/null; chattr -R -i "$WORK" 2>/dev/null; rm -rf "$shm"; cleanup' EXIT
unchanged() { [ "$(snapshot "$WORK/run")" = "$before" ] && [ -z "$(ls -A "$shm")" ]; }
cross=1
[ "$(stat -c %d "$WORK")" = "$(stat -c %d "$shm")" ] && cross=0 && echo "note: /tmp and /dev/shm are one filesystem here"

# both_refuse SRC TEXT NAME: -n and the real run both exit 3 naming TEXT, nothing changed.
both_refuse() {
    before=$(snapshot "$WORK/run")
    t -n migrate "$1" "$shm/dest"
    check "$3: -n refuses" is "$rc" 3
    check "$3: -n names it" has "$err" "$2"
    t migrate "$1" "$shm/dest"
    check "$3: the real run refuses" is "$rc" 3
    check "$3: and names it" has "$err" "$2"
    check "$3: nothing changed" unchanged
}

# A socket migrates (as cp -a copies it: a socket node), after -n said yes.
mkdir -p sock/sub && echo x > sock/sub/f
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" sock/live.sock
t -n migrate sock "$shm/dest"
check "socket: -n says yes" is "$rc" 0
t migrate sock "$shm/dest"
check "socket: migrated" is "$rc" 0
check "socket: copied as a socket" is "$(stat -c %F "$shm/dest/live.sock")" "socket"
t -q undo && rm -rf sock

# Paths deeper than PATH_MAX: everything is reached from handles, so depth is no issue.
mkdir deep
python3 - deep <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for i in range(30):
    name = "d" * 200
    os.mkdir(name, dir_fd=fd)
    fd2 = os.open(name, os.O_RDONLY, dir_fd=fd); os.close(fd); fd = fd2
f = os.open("leaf", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd); os.write(f, b"at the bottom\n"); os.close(f)
EOF
python3 "$here/treecmp.py" --save deep "$WORK/deep.json"
t -n migrate deep "$shm/dest"
check "deep: -n says yes" is "$rc" 0
t migrate deep "$shm/dest"
check "deep: migrated" is "$rc|$(readlink deep)" "0|$shm/dest"
check "deep: whole" python3 "$here/treecmp.py" "$WORK/deep.json" "$shm/dest"
t -q undo
check "deep: undone" python3 "$here/treecmp.py" "$WORK/deep.json" deep
rm -rf deep

# The journal kept inside SRC would move with it.
mkdir -p jsrc/journal && echo x > jsrc/f
before=$(snapshot "$WORK/run")
t --journal-dir "$WORK/run/jsrc/journal" -n migrate jsrc "$shm/dest"
check "journal inside SRC: -n refuses" is "$rc" 3
check "journal inside SRC: named" has "$err" "jsrc/journal: the journal directory is inside SRC"
t --journal-dir "$WORK/run/jsrc/journal" migrate jsrc "$shm/dest"
check "journal inside SRC: the real run refuses" is "$rc|$(stat -c %F jsrc)" "3|directory"
rm -rf jsrc

# Relative links out of SRC, a process working inside: reported by -n.
mkdir -p out/in && echo x > out/in/f && ln -s ../../elsewhere out/in/up
( cd out/in && exec sleep 30 ) &
sleeper=$!
sleep 0.2
t -n migrate out/in "$shm/dest"
kill $sleeper 2>/dev/null
check "reports: -n says yes" is "$rc" 0
check "reports: a relative link out" has "$out" "out/in/up: is a relative link that leads out of SRC"
check "reports: a process working inside" has "$out" "works in $WORK/run/out/in"
rm -rf out

# Files with hard links outside SRC, to another filesystem: a copy there cannot share
# their data with the names left behind, and an undo could not find those names to join
# them again. Refused, naming each file and how many names it has outside, unless
# --force (which says the group is split for good); a group wholly inside SRC is kept,
# and on one filesystem a rename keeps every group. The same holds for undo and DEST.
lacks() { ! has "$1" "$2"; }
inode() { stat -c %i "$1"; }
hard_links() {
    rm -rf hl out-1 out-2a out-2b
    mkdir -p hl/sub && echo one > hl/one && echo two > hl/sub/two && echo in > hl/in
    ln hl/one out-1 && ln hl/sub/two out-2a && ln hl/sub/two out-2b && ln hl/in hl/sub/in-too
}
hard_links
if [ "$cross" = 1 ]; then
    both_refuse hl "hl/one: has 1 hard link outside SRC (2 names in all)" "hard links out"
    check "hard links out: each file named, with its count" has "$err" "hl/sub/two: has 2 hard links outside SRC (3 names in all)"
    check "hard links out: not a group wholly inside" lacks "$err" "hl/in"
    check "hard links out: says what to do" has "$err" "move those names inside first, or pass --force to split the group for good"
    check "hard links out: the refusal's code" has "$err" "hl: cannot be migrated: 2 problems (EXDEV); nothing was changed"
    t migrate --force hl "$shm/dest"
    check "--force: migrates" is "$rc|$(readlink hl)" "0|$shm/dest"
    check "--force: says the group is split" has "$err" "--force: hl/one: has 1 hard link outside SRC (2 names in all)"
    check "--force: a group inside SRC is one inode still" is "$(inode "$shm/dest/in")" "$(inode "$shm/dest/sub/in-too")"
    check "--force: the names outside keep their data" is "$(cat out-1)|$(cat out-2b)" "one|two"
    t undo
    check "--force: undone" is "$rc|$(cat hl/one)|$(stat -c %h hl/one)" "0|one|1"
fi
# One filesystem: a rename, every group kept, and kept by the undo.
hard_links
t migrate hl "$WORK/run/hl-moved"
check "one filesystem: hard links out migrate" is "$rc|$(readlink hl)" "0|$WORK/run/hl-moved"
check "one filesystem: the group kept" is "$(inode hl-moved/one)|$(inode hl-moved/sub/two)" "$(inode out-1)|$(inode out-2a)"
t undo
check "one filesystem: undone, the group kept" is "$rc|$(inode hl/one)|$(inode hl/sub/two)" "0|$(inode out-1)|$(inode out-2b)"
rm -rf hl out-1 out-2a out-2b
if [ "$cross" = 1 ]; then
    # Undo: a hard link made outside DEST since the migration.
    mkdir -p hl && echo one > hl/one
    t migrate hl "$shm/dest"
    ln "$shm/dest/one" "$shm/outside"
    before=$(snapshot "$WORK/run")
    t undo
    check "undo, a hard link outside DEST: refused" is "$rc" 3
    check "undo, a hard link outside DEST: named" has "$err" "$shm/dest/one: has 1 hard link outside DEST (2 names in all)"
    check "undo, a hard link outside DEST: nothing changed" is "$(snapshot "$WORK/run")|$(readlink hl)" "$before|$shm/dest"
    t undo --force
    check "undo --force: undone, the group split" is "$rc|$(cat hl/one)|$(stat -c %h hl/one)|$(cat "$shm/outside")" "0|one|1|one"
    rm -rf hl "$shm/outside"
fi

# The free-space margin scales with the destination: 1 MiB into an empty 20 MiB disk.
if [ "$(id -u)" -eq 0 ] && mkdir tiny && mount -t tmpfs -o size=20m tmpfs tiny 2>/dev/null; then
    mkdir small && head -c $((1024 * 1024)) /dev/urandom > small/blob
    t migrate small tiny/dest
    check "1 MiB into an empty 20 MiB disk" is "$rc|$(readlink small)" "0|$WORK/run/tiny/dest"
    t -q undo
    t migrate --min-free 30M small tiny/dest
    check "--min-free 30M refused on 20 MiB" is "$rc" 3
    check "--min-free named in the advice" has "$err" "not enough free space"
    t migrate --min-free lots small tiny/dest
    check "--min-free takes a size" is "$rc" 2
    umount tiny && rm -rf small tiny
fi

if [ "$(id -u)" -eq 0 ]; then
    # A file this user cannot read: as nobody, 0600 root... made nobody's tree unreadable.
    mkdir -p nr/src/sub && echo a > nr/src/sub/ok && echo b > nr/src/sub/secret
    chown -R 65534:65534 nr && chmod 000 nr/src/sub/secret && chmod 755 "$WORK" "$WORK/run"
    nshm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX) && chown 65534:65534 "$nshm"
    nb() { XDG_STATE_HOME="$WORK/nobody-state" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$TETHER" "$@"; }
    nb_before=$(snapshot nr)
    out=$(cd nr && nb -n migrate src "$nshm/dest" 2>&1)
    rc=$?
    no_bug_report "tether" "$out"
    check "unreadable file: -n refuses" is "$rc" 3
    check "unreadable file: -n names it" has "$out" "src/sub/secret: cannot be read by this user"
    out=$(cd nr && nb migrate src "$nshm/dest" 2>&1)
    rc=$?
    no_bug_report "tether" "$out"
    check "unreadable file: the real run refuses before any copy" is "$rc|$(ls -A "$nshm")" "3|"
    check "unreadable file: nothing changed" is "$(snapshot nr)" "$nb_before"
    rm -rf nr "$nshm"

    # An immutable file could never be deleted afterwards.
    mkdir -p im/sub && echo x > im/sub/f && chattr +i im/sub/f
    both_refuse im "im/sub/f: could not be removed afterwards" "immutable file"
    chattr -i im/sub/f && rm -rf im

    # SRC's parent immutable or append-only: SRC could not be set aside, nor a link made
    # in its place (told from the directory: nothing is tried there).
    for flag in i a; do
        mkdir -p "par$flag/src" && echo x > "par$flag/src/f" && chattr +$flag "par$flag"
        both_refuse "par$flag/src" "par$flag: is immutable or append-only: nothing can be renamed out of it" "SRC's parent chattr +$flag"
        chattr -$flag "par$flag" && rm -rf "par$flag"
    done

    # A filesystem mounted inside SRC, and SRC itself a mount point.
    mkdir -p m1/sub m2 && echo x > m1/f
    if mount -t tmpfs tmpfs m1/sub 2>/dev/null && mount -t tmpfs tmpfs m2; then
        echo precious > m1/sub/on-the-mount && echo y > m2/f
        both_refuse m1 "m1/sub: a filesystem is mounted here" "mount inside SRC"
        check "mount inside SRC: its contents untouched" is "$(cat m1/sub/on-the-mount)" precious
        both_refuse m2 "m2: a filesystem is mounted here" "SRC a mount point"
        umount m1/sub m2
    else
        echo "skipped: mount checks (mounting a tmpfs is not permitted here)"
    fi
    rm -rf m1 m2
else
    echo "skipped: unreadable, immutable and mount checks need root"
fi

# On one filesystem SRC is renamed: a directory another user may not write (its ".."
# changes when it moves to another parent) is refused by the checks, -n too, with no
# journal, rather than failing at the move.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    mkdir -p same/d same/dest same/st && echo x > same/d/f && chown -R 65534:65534 same && chmod 700 same/st && chmod 555 same/d
    for n in -n ""; do
        out=$(cd same && setpriv --reuid 65534 --regid 65534 --clear-groups env XDG_STATE_HOME="$WORK/run/same/st" "$TETHER" migrate $n d dest/d 2>&1)
        rc=$?
        check "same filesystem, SRC not writable ($n): refused by the checks" is "$rc|$(ls same/st/tether/journal 2>/dev/null | wc -l)" "3|0"
        check "same filesystem, SRC not writable ($n): says why" has "$out" "d: cannot be moved into another directory"
    done
    chmod 755 same/d && rm -rf same
fi

finish
