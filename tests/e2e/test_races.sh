#!/usr/bin/env bash
# Symlink races (tests/e2e/races.py): root runs every mutating recipe on a tree that an
# attacker at uid 65534 can write, while the attacker swaps a directory of it for a link
# to a root-only victim directory (renameat2 exchanges in a tight loop, swaps on inotify
# events, and strace-injected delays on every syscall that changes something). The victim
# must come out byte-for-byte and inode-for-inode unchanged; without an attacker the same
# runs give their usual result. 16 rounds per recipe; the sanitizer pass runs 9.
here=$(cd "$(dirname "$0")" && pwd)
: "${TETHER:?set TETHER to the tether binary}"
if [ "${TETHER_SANITIZE:-OFF}" = ON ]; then
    exec python3 "$here/races.py" --rounds 9
fi
exec python3 "$here/races.py" --rounds 16
