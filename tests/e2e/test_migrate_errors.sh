#!/usr/bin/env bash
# migrate on bad input and on a full disk: a clear message naming the path, the exit code
# of the brief, and nothing changed.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

mkdir -p src/sub dest-full/x && echo data > src/sub/file && echo f > afile
ln -s src already-link
before=$(snapshot .)
unchanged() { [ "$(snapshot .)" = "$before" ]; }

t migrate missing "$WORK/run/d1"
check "SRC missing" is "$rc|$err" "3|tether: missing: no such file or directory (ENOENT)"
t migrate afile "$WORK/run/d2"
check "SRC a file" is "$rc|$err" "3|tether: afile: is not a directory (ENOTDIR); migrate moves folders"
t migrate already-link "$WORK/run/d3"
check "SRC already a link" is "$rc" 3
check "SRC already a link message" has "$err" "already-link: is already a link (to src) (ENOTDIR); nothing to migrate"
t migrate src src/sub/inside
check "DEST inside SRC" is "$rc" 3
check "DEST inside SRC message" has "$err" "src/sub/inside: is inside src (EINVAL); a folder cannot move into itself"
t migrate src ./src
check "SRC equal to DEST" is "$rc|$err" "3|tether: ./src: is the same place as src (EINVAL)"
t migrate src dest-full
check "DEST not empty, and what to name instead" is "$rc|$err" "3|tether: dest-full: already exists and is not empty (ENOTEMPTY); name as DEST an empty directory or a path that does not exist yet"
t migrate src no/such/parent/dest
check "DEST parent missing" is "$rc" 3
t migrate src
check "one argument is a usage error" is "$rc" 2
t migrate --verify sha1 src d
check "bad --verify value" is "$rc" 2
t migrate --link junction src "$WORK/run/dj"
check "junction on POSIX" is "$rc" 3
check "junction message" has "$err" "junctions are an NTFS feature"
check "nothing changed by any of it" unchanged

# No permission: as an unprivileged user, a link cannot be made where SRC is.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$WORK" "$WORK/run"
    out=$(XDG_STATE_HOME="$WORK/nobody-state" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$TETHER" migrate src /tmp/tether-nobody-dest-$$ 2>&1)
    rc=$?
    no_bug_report "tether" "$out"
    check "no permission: exit 3" is "$rc" 3
    check "no permission: message" has "$out" "permission denied (EACCES); a link must be made here in place of src"
    check "no permission: nothing changed" unchanged

    # An unreadable directory inside SRC: refused before anything is copied or moved.
    mkdir -p nb/src/locked nb/src/ok && echo a >nb/src/ok/f && echo b >nb/src/locked/g
    chown -R 65534:65534 nb && chmod 000 nb/src/locked
    nb_before=$(chmod 755 nb/src/locked && snapshot nb && chmod 000 nb/src/locked)
    out=$(cd nb && XDG_STATE_HOME="$WORK/nobody-state" setpriv --reuid=65534 --regid=65534 \
        --clear-groups "$TETHER" migrate src "$WORK/run/nb/dest" 2>&1)
    rc=$?
    no_bug_report "tether" "$out"
    chmod 755 nb/src/locked
    check "unreadable dir in SRC: exit 3" is "$rc" 3
    check "unreadable dir in SRC: named" is "$out" "tether: src/locked: cannot be read by this user
tether: src: cannot be migrated: 1 problem (EACCES); nothing was changed"
    check "unreadable dir in SRC: nothing changed or left" is "$(snapshot nb)" "$nb_before"
    rm -rf nb
else
    echo "skipped: permission check needs root to switch to an unprivileged user"
fi

# A file open for writing under SRC stops the migration before anything happens.
exec 7>>src/sub/file
t migrate src "$WORK/run/d4"
check "open writer refused" is "$rc" 3
check "open writer named" has "$err" "writes $WORK/run/src/sub/file"
exec 7>&-
check "nothing changed by the open-file check" unchanged

# ENOSPC: 50 MiB into a 10 MiB tmpfs.
mkdir big small
head -c $((50 * 1024 * 1024)) /dev/urandom > big/blob
cp -a big big-pristine
if mount -t tmpfs -o size=10m tmpfs small 2>/dev/null; then
    t migrate big small/dest
    check "preflight refuses a full disk" is "$rc" 3
    check "preflight message" has "$err" "not enough free space"
    check "preflight changed nothing" is "$(ls -A small)|$(stat -c %F big)" "|directory"
    out=$(TETHER_TEST_SKIP_SPACE_CHECK=1 "$TETHER" migrate big small/dest 2>&1)
    rc=$?
    no_bug_report "tether" "$out"
    check "copy fails mid-way: exit 3" is "$rc" 3
    check "copy failure names ENOSPC and the rollback" has "$out" "(ENOSPC)"
    check "rolled back" has "$out" "everything was put back"
    check "SRC untouched" diff -r big-pristine big
    check "no partial copy left" is "$(ls -A small)" ""
    umount small
else
    echo "skipped: ENOSPC checks (mounting a tmpfs is not permitted here)"
fi

finish
