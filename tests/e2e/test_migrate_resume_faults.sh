#!/usr/bin/env bash
# What stops a resume from pruning a partial copy: an entry it cannot remove (chattr +i)
# and a filesystem mounted inside it. Each is a clear error naming the path and the
# reason, the original stays complete, and once it is mended --rollback (or --resume)
# finishes with nothing of tether's left.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
mounted=""
trap '[ -n "$mounted" ] && umount "$mounted" 2>/dev/null; chattr -R -i "$shm" 2>/dev/null; rm -rf "$shm"; cleanup' EXIT
export TETHER_TEST_COPY_BATCH=5

mkdir -p pristine/a pristine/b
for i in $(seq 30); do head -c $((i * 100)) /dev/urandom > "pristine/$([ $((i % 2)) = 0 ] && echo a || echo b)/f$i"; done

killed_mid_copy() {
    rm -rf src "$shm"/* "$shm"/.tether-* "$XDG_STATE_HOME"
    cp -a pristine src
    sleep 0.05
    TETHER_CRASH_AT=copy:20 "$TETHER" -q migrate src "$shm/dest" >/dev/null 2>&1
    partial=$(ls -d "$shm"/.tether-tmp-*)
}

# An entry in the partial copy that cannot be removed.
killed_mid_copy
echo planted > "$partial/a/planted"
if chattr +i "$partial/a/planted" 2>/dev/null; then
    t migrate --resume
    check "immutable: the resume stops part-way" is "$rc" 4
    check "immutable: names the entry and why" has "$err" "$partial/a/planted: cannot remove this from the partial copy (EPERM)"
    check "immutable: the original is complete" diff -r pristine src
    chattr -i "$partial/a/planted" && rm "$partial/a/planted"
    t migrate --rollback
    check "immutable: --rollback once mended" is "$rc" 0
    check "immutable: nothing left" is "$(ls -A "$shm")" ""
    check "immutable: the original as it was" diff -r pristine src
else
    echo "skipped: chattr +i is not kept on $shm"
fi

# A filesystem mounted inside the partial copy.
if [ "$(id -u)" = 0 ]; then
    killed_mid_copy
    mount -t tmpfs none "$partial/b" && mounted=$partial/b
    t migrate --resume
    check "mount: the resume fails" is "$rc" 4
    check "mount: names the mount point and why" has "$err" "$partial/b: a filesystem is mounted in the partial copy (EBUSY)"
    check "mount: the original is complete" diff -r pristine src
    check "mount: the mount is left alone" is "$(findmnt -n -o FSTYPE "$partial/b")" tmpfs
    umount "$mounted" && mounted=""
    t migrate --rollback
    check "mount: --rollback once unmounted" is "$rc" 0
    check "mount: nothing left" is "$(ls -A "$shm")" ""
else
    echo "skipped: mounting inside the partial copy needs root"
fi

finish
