#!/usr/bin/env bash
# audit -o FILE onto every kind of FILE (stdlib/tether/output.lua): a regular file is
# replaced whole; a character device (a copy of /dev/null, and /dev/null itself as root),
# a FIFO with a reader, a terminal and /dev/stdout on a pipe are written in place and stay
# what they are; a FIFO nobody reads, a block device, a socket, a directory and links (to
# a file, to a directory, to nowhere, another user's) are refused with nothing changed;
# a failure on the way (a write, the flush to disk, the rename) leaves FILE as it was and
# nothing beside it. Then a hostile user who owns FILE's directory races the private
# directory root writes the report in (strace holds each step open long enough): root
# writes, renames and removes nothing outside it.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

mkdir -p tree && ln -s gone tree/broken && ln -s ../tree tree/up
"$TETHER" audit tree >expected 2>/dev/null
report=$(cat expected)
left() { find . -maxdepth 1 -name '.tether-*' | wc -l; }
kind() { stat -c %F "$1"; }

# A regular file: replaced whole (a new file in its place), nothing left beside it.
echo old >r.txt
ino=$(stat -c %i r.txt)
t audit tree -o r.txt
check "a regular file: replaced by the whole report" is "$rc|$(cat r.txt)" "1|$report"
check "a regular file: a new file in its place" test "$(stat -c %i r.txt)" != "$ino"
check "a regular file: nothing left beside it" is "$(left)" 0
t audit tree -o new.txt
check "no file yet: made" is "$rc|$(cat new.txt)" "1|$report"

# /dev/stdout on a pipe: written in place.
got=$("$TETHER" audit tree -o /dev/stdout 2>"$WORK/stderr" | cat)
no_bug_report "audit -o /dev/stdout" "$(cat "$WORK/stderr")"
check "/dev/stdout on a pipe: written there" is "$got" "$report"
check "/dev/stdout: still a link" test -L /dev/stdout
# (A tether that replaced it, as root, must not leave the system so.)
if [ "$(id -u)" -eq 0 ] && [ ! -L /dev/stdout ]; then rm -f /dev/stdout && ln -s /proc/self/fd/1 /dev/stdout; fi
# ... and on a regular file: refused (the link is never replaced), the file as the shell left it.
"$TETHER" audit tree -o /dev/stdout >to-file 2>"$WORK/stderr"
rc=$?
err=$(cat "$WORK/stderr")
check "/dev/stdout on a file: refused, named" is "$rc|$err" "3|tether: audit: cannot write /dev/stdout: /dev/stdout: leads to a regular file, which is replaced whole, never written through a link; name that file itself (EINVAL)"
check "/dev/stdout on a file: nothing written" is "$(cat to-file)" ""
if [ "$(id -u)" -eq 0 ] && [ ! -L /dev/stdout ]; then rm -f /dev/stdout && ln -s /proc/self/fd/1 /dev/stdout; fi

# A FIFO with a reader: written in place, still a FIFO. The reader opens it before tether
# does (a FIFO nobody reads is refused, below) and reads until the writer is gone.
mkfifo fifo
cat >"$WORK/reader.py" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
open(sys.argv[2], "w").close()
out, started, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    try:
        chunk = os.read(fd, 65536)
    except BlockingIOError:  # a writer is there; nothing to read yet
        started, chunk = True, None
    if chunk:
        out, started = out + chunk, True
    elif chunk == b"" and started:
        break
    else:
        time.sleep(0.01)
sys.stdout.buffer.write(out)
EOF
python3 "$WORK/reader.py" fifo "$WORK/reading" >from-fifo &
reader=$!
for _ in $(seq 200); do [ -e "$WORK/reading" ] && break; sleep 0.05; done
t audit tree -o fifo
wait "$reader"
check "a FIFO with a reader: the report went through it" is "$rc|$(cat from-fifo)" "1|$report"
check "a FIFO: still a FIFO" is "$(kind fifo)" fifo
# Nobody reading: refused at once (no wait), still a FIFO.
out=$(timeout 20 "$TETHER" audit tree -o fifo 2>&1)
rc=$?
check "a FIFO nobody reads: refused at once, named" is "$rc|$out" "3|tether: audit: cannot write fifo: fifo: is a FIFO no process is reading (start its reader first), a socket, or a device that is not there (ENXIO)"
check "a FIFO nobody reads: still a FIFO" is "$(kind fifo)" fifo

# A terminal (a pseudo-terminal's other end): written in place, still a terminal.
got=$(python3 - "$TETHER" <<'EOF'
import os, pty, stat, subprocess, sys
m, s = pty.openpty()
name = os.ttyname(s)
rc = subprocess.run([sys.argv[1], "audit", "tree", "-o", name], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL).returncode
os.close(s)
out = b""
while True:
    try:
        chunk = os.read(m, 65536)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
print(rc, stat.S_ISCHR(os.stat(name).st_mode) if os.path.exists(name) else "gone")
sys.stdout.write(out.replace(b"\r\n", b"\n").decode())
EOF
)
check "a terminal: written in place" is "$got" "1 True
$report"

# A socket, a directory, links to a directory and to nowhere: refused, unchanged.
python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("sock")'
t audit tree -o sock
check "a socket: refused, named" is "$rc|$err" "3|tether: audit: cannot write sock: sock: is a socket, which cannot be written as a file (EINVAL)"
check "a socket: still a socket" is "$(kind sock)" socket
mkdir dir && ln -s dir to-dir && ln -s nowhere dangling
t audit tree -o to-dir
check "a link to a directory: refused, named" is "$rc|$err" "3|tether: audit: cannot write to-dir: to-dir: leads to a directory (EISDIR)"
t audit tree -o dangling
check "a link to nowhere: refused, named" is "$rc|$err" "3|tether: audit: cannot write dangling: dangling: is a link that leads nowhere (ENOENT)"
check "links and directory unchanged, nothing made" is "$(readlink to-dir)|$(readlink dangling)|$(ls -A dir)|$(ls nowhere 2>&1 >/dev/null | wc -l)" "dir|nowhere||1"
check "nothing left beside them" is "$(left)" 0

# Failures on the way: FILE as it was, nothing left beside it.
if command -v strace >/dev/null; then
    export ASAN_OPTIONS=detect_leaks=0 # LeakSanitizer cannot work under ptrace
    echo old >r.txt
    for fault in write:error=ENOSPC:when=1 fdatasync:error=EIO rename,renameat,renameat2:error=EIO; do
        out=$(strace -f -o /dev/null -e trace="${fault%%:*}" -e inject="$fault" "$TETHER" audit tree -o r.txt 2>&1)
        rc=$?
        no_bug_report "audit -o under $fault" "$out"
        check "$fault: exit 3, said" is "$rc|$(grep -c '^tether: audit: cannot write r.txt: ' <<<"$out")" "3|1"
        check "$fault: r.txt as it was, nothing beside it" is "$(cat r.txt)|$(left)" "old|0"
    done
    # Interrupted (^C) on the way: exit 130, r.txt as it was, nothing beside it.
    for at in write fdatasync; do
        out=$(strace -f -o /dev/null -e trace=$at -e inject=$at:signal=INT:when=1 "$TETHER" audit tree -o r.txt 2>&1)
        rc=$?
        no_bug_report "audit -o interrupted at $at" "$out"
        check "interrupted at $at: exit 130" is "$rc|$out" "130|tether: interrupted (SIGINT)"
        check "interrupted at $at: r.txt as it was, nothing beside it" is "$(cat r.txt)|$(left)" "old|0"
    done
else
    echo "skipped: faults on the way (strace missing)"
fi

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    skip_all "devices, another user's link and the hostile user need root and setpriv"
fi

# A character device (a copy of /dev/null), then /dev/null itself: written in place, still
# the device. A block device: refused, still one.
mknod null c 1 3 && chmod 666 null
t audit tree -o null
check "a character device: written in place" is "$rc|$(kind null)|$(stat -c %t,%T null)" "1|character special file|1,3"
if [ "$(kind null)" = "character special file" ]; then # never tried on /dev/null when the copy broke
    t audit tree -o /dev/null
    check "/dev/null: written in place, still the device" is "$rc|$(kind /dev/null)|$(stat -c %t,%T /dev/null)" "1|character special file|1,3"
    if [ "$(kind /dev/null)" != "character special file" ]; then # put the system right again
        rm -f /dev/null && mknod -m 666 /dev/null c 1 3
    fi
fi
mknod blk b 7 200
t audit tree -o blk
check "a block device: refused, named" is "$rc|$err" "3|tether: audit: cannot write blk: blk: is a block device (a disk), never written in place (EINVAL)"
check "a block device: still one" is "$(kind blk)" "block special file"
ln -s /dev/null mine
t audit tree -o mine
check "root's link to /dev/null: written in place, both unchanged" is "$rc|$(readlink mine)|$(kind /dev/null)" "1|/dev/null|character special file"

# The hostile user's directory (a home, not sticky).
chmod 755 "$WORK" "$WORK/run"
home=$WORK/home ctl=$WORK/ctl victim=$WORK/victim
mkdir -p "$home" "$ctl" "$victim"
chown 65534:65534 "$home" "$ctl"
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
as_nobody ln -s /dev/null "$home/theirs"
t audit tree -o "$home/theirs"
check "another user's link: refused, named" is "$rc|$err" "3|tether: audit: cannot write $home/theirs: $home/theirs: is a link that belongs to another user, who could point it anywhere; not followed (EPERM)"
rm -f "$home/theirs"

# The attacker swaps the private directory for a link to the victim (link), or for a
# directory of theirs whose report is a link to the victim's (own): right after it is
# made (early: strace holds mkdir's return), or a second later, when the report is
# written in it (late: strace holds the flush to disk and the rename that would put it
# in place, two seconds each).
cat >"$WORK/attack.py" <<'EOF'
import os, sys, time
mode, home, victim, ctl = sys.argv[1:5]
open(os.path.join(ctl, "ready"), "w").close()
deadline = time.time() + 60
while time.time() < deadline and not os.path.exists(os.path.join(ctl, "stop")):
    boxes = [n for n in os.listdir(home) if n.startswith(".tether-report-")]
    if not boxes:
        time.sleep(0.001)
        continue
    box = os.path.join(home, boxes[0])
    if mode.startswith("late"):  # by then the report is written in it, and tether held
        time.sleep(1)
    os.rename(box, os.path.join(home, "stolen"))
    if mode.endswith("own"):
        os.mkdir(box)
        os.symlink(os.path.join(victim, "report"), os.path.join(box, "report"))
    else:
        os.symlink(victim, box)
    open(os.path.join(ctl, "swapped"), "w").close()
    break
EOF
# A Python the attacker can run (root's own may live where uid 65534 cannot reach).
attacker_py=
for py in /usr/bin/python3 /usr/local/bin/python3 "$(python3 -c 'import sys; print(sys.executable)')"; do
    if as_nobody "$py" -c '' 2>/dev/null; then attacker_py=$py; break; fi
done
victim_state() { (cd "$victim" && find . -printf '%p|%y|%i|%n|%s|%u|%m\n' | sort && cat report); }
if command -v strace >/dev/null && [ -n "$attacker_py" ]; then
    for mode in early-link early-own late-link late-own; do
        rm -rf "${home:?}"/* "${home:?}"/.tether-* "${ctl:?}"/*
        rm -rf "${victim:?}"/* && echo precious >"$victim/report" && echo kept >"$victim/keep"
        before=$(victim_state)
        as_nobody "$attacker_py" "$WORK/attack.py" "$mode" "$home" "$victim" "$ctl" &
        attacker=$!
        for _ in $(seq 200); do [ -e "$ctl/ready" ] && break; sleep 0.05; done
        case $mode in
        early*) hold=(-e "trace=mkdir,mkdirat" -e "inject=mkdir,mkdirat:delay_exit=400000") ;;
        late*) hold=(-e "trace=fdatasync,rename,renameat,renameat2"
            -e "inject=fdatasync,rename,renameat,renameat2:delay_enter=2000000") ;;
        esac
        out=$(strace -f -o /dev/null "${hold[@]}" "$TETHER" audit tree -o "$home/r.txt" 2>&1)
        rc=$?
        touch "$ctl/stop"
        wait "$attacker"
        no_bug_report "audit -o raced ($mode)" "$out"
        check "$mode: the attacker swapped it" test -e "$ctl/swapped"
        check "$mode: refused (exit 3)" is "$rc" 3
        check "$mode: the victim's directory untouched" is "$(victim_state)" "$before"
        check "$mode: no report in place" test ! -e "$home/r.txt"
    done
else
    echo "skipped: the hostile user (strace, or a Python uid 65534 can run, missing)"
fi

finish
