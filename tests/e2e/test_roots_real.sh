#!/usr/bin/env bash
# The machine's own "/" (issue 20: `tether audit /` corrupted the heap, `tether prune /`
# planned to remove working links). In the AddressSanitizer pass:
#   - audit / --xdev runs clean, and the links it calls broken, loop, denied or error are
#     exactly those `find / -xdev -xtype l` lists (it walks all of /tmp too, where the
#     comparison does not look: other tests' trees there make up most of its time);
#   - prune -n / (and prune -n / --xdev, where prune has that option) in a chroot of a
#     read-only bind mount of the root filesystem alone (what --xdev walks) plans to
#     remove exactly the links whose stat() gives ENOENT or ENOTDIR among those find
#     lists there, and audit / there agrees with find too.
# Other tests run meanwhile: tests/e2e/roots_find.py leaves out what changed (and /tmp).
here=$(cd "$(dirname "$0")" && pwd)
if [ "${TETHER_SANITIZE:-}" != ON ]; then
    echo "skipped: run in the AddressSanitizer pass only (TETHER_SANITIZE=ON)"
    exit 77 # ctest: skipped
fi
if [ -z "${TETHER_ROOTS_NS:-}" ] && [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
    TETHER_ROOTS_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
. "$here/lib.sh"

compare() { python3 "$here/roots_find.py" "$@"; }

# What find and tether see of "/" with --xdev (find skips what the comparison leaves out).
find_broken() {
    find / -xdev \( -path /tmp -o -path /var/tmp -o -path /run -o -path /dev/shm \) -prune -o \
        -xtype l -print 2>/dev/null | LC_ALL=C sort
}
find_broken >"$WORK/find1"
t audit / --xdev --format json
check "audit / --xdev: exit 0 or 1" is "$((rc <= 1))" 1
echo "$out" >"$WORK/audit.json"
find_broken >"$WORK/find2"
check "audit / --xdev: the links find -xtype l lists, no more" is \
    "$(compare "$WORK/find1" "$WORK/find2" "$WORK/audit.json")" ""

# "/" with nothing but the root filesystem in it: a bind mount (not recursive: no /proc,
# /sys, /dev or other mount), read-only, as the root of a chroot, with an empty tmpfs
# over /tmp and /var/tmp (where other tests make and remove links: a plan that finds a
# link gone before it is checked stops) and over /proc (holding what AddressSanitizer
# reads there; LeakSanitizer needs the real /proc, and the runs above had it).
if [ -z "${TETHER_ROOTS_NS:-}" ]; then
    skip_all "prune -n / on the root filesystem needs root (a bind mount)"
fi
# The mount point is outside $WORK, which is removed recursively at the end: nothing
# recursive ever reaches "/" through it, even if the script is killed between the bind
# and the remount read-only; it is only ever rmdir'ed.
M=$(mktemp -d "${TMPDIR:-/tmp}/tether-rootfs-XXXXXX") || exit 1
trap 'umount -R "$M" 2>/dev/null; rmdir "$M"; cleanup' EXIT
if ! mount --bind / "$M" || ! mount -o remount,bind,ro "$M"; then
    echo "FAIL: cannot bind-mount / read-only at $M"
    failed=$((failed + 1))
    finish
    exit
fi
for d in /tmp /var/tmp /proc; do
    [ -d "$M$d" ] && mount -t tmpfs -o size=128m tether-roots "$M$d"
done
mkdir -p "$M/proc/self" "$M/proc/state"
printf 'ASAN_OPTIONS=detect_leaks=0\0' >"$M/proc/self/environ"
cp "$TETHER" "$M/proc/tether" # it may be under /tmp; its libraries are on "/"
ln -s /proc/tether "$M/proc/self/exe"
# in_root ARGS...: run in the chroot, output to $out, $rc, and stderr checked for bugs.
in_root() {
    out=$(XDG_STATE_HOME=/proc/state unshare -R "$M" -w / "$@" 2>"$WORK/stderr")
    rc=$?
    err=$(grep -v 'reading executable name failed' "$WORK/stderr")
    no_bug_report "$* (in a chroot of the root filesystem)" "$err"
}
in_root find / -xtype l
echo "$out" >"$WORK/find1"
in_root /proc/tether audit / --format json
check "audit / (the root filesystem alone): exit 0 or 1" is "$((rc <= 1))" 1
echo "$out" >"$WORK/audit.json"
in_root /proc/tether --json prune -n /
check "prune -n / (the root filesystem alone): exit 0 or 1" is "$((rc <= 1))" 1
echo "$out" >"$WORK/prune.json"
in_root /proc/tether --json prune -n / --xdev
check "prune -n / --xdev: exit 0 or 1" is "$((rc <= 1))" 1
check "prune -n / --xdev: the same plan as prune -n / on the root filesystem alone" \
    is "$out" "$(cat "$WORK/prune.json")"
in_root find / -xtype l
echo "$out" >"$WORK/find2"
check "audit / and prune -n / (the root filesystem alone): exactly the links find lists" is \
    "$(compare --chroot "$M" "$WORK/find1" "$WORK/find2" "$WORK/audit.json" "$WORK/prune.json")" ""

finish
