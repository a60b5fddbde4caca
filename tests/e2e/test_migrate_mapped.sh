#!/usr/bin/env bash
# A file under SRC mapped shared and writable by another process (its descriptor closed)
# can change without its times changing again (a store through the mapping after the
# first): the migration refuses it before copying (preflight), naming the process, and a
# resume refuses the same, as long as the mapping stands; nothing is changed. Without the
# mapping the same migration goes through.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
[ -r /proc/self/maps ] || skip_all "no /proc/PID/maps here"
command -v python3 >/dev/null || skip_all "needs python3"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
mapper=
trap '[ -n "$mapper" ] && kill "$mapper" 2>/dev/null; rm -rf "$shm"; cleanup' EXIT

mkdir -p src/sub && for i in $(seq 6); do head -c 4096 /dev/urandom > "src/sub/f$i"; done
head -c 4096 /dev/zero > src/sub/mapped
# The mapper: opens the file, maps it shared and writable, closes the descriptor, writes
# once (the one store that changes the times), then waits.
python3 - "$WORK/run/src/sub/mapped" "$WORK/ready" <<'PY' &
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
fd = os.open(sys.argv[1], os.O_RDWR)
addr = libc.mmap(None, 4096, 3, 1, fd, 0)  # PROT_READ|PROT_WRITE, MAP_SHARED (Python's mmap keeps a dup)
assert addr not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
os.close(fd)
ctypes.memmove(addr, b"early", 5)
open(sys.argv[2], "w").close()
time.sleep(60)
PY
mapper=$!
for _ in $(seq 100); do [ -e "$WORK/ready" ] && break; sleep 0.05; done
check "the mapper is ready" test -e "$WORK/ready"

snapshot src >"$WORK/before"
t migrate src "$shm/dest"
check "refused: exit 3" is "$rc" 3
check "names the process and the mapped file" has "$err" "(pid $mapper) maps $WORK/run/src/sub/mapped shared and writable"
check "nothing changed: SRC" is "$(snapshot src)" "$(cat "$WORK/before")"
check "nothing changed: DEST" test ! -e "$shm/dest"
t --json migrate -n src "$shm/dest"
check "-n refuses the same" is "$rc" 3

kill "$mapper"; wait "$mapper" 2>/dev/null; mapper=
t -q migrate src "$shm/dest"
check "without the mapping it migrates" is "$rc" 0
check "the data is there" cmp "$shm/dest/sub/mapped" <(printf 'early'; head -c 4091 /dev/zero)
finish
