#!/usr/bin/env bash
# Point 7 of the safety contract: bad input gets a clear message naming the path, a
# non-zero exit, and nothing changes: missing paths, permission denied, loops, odd
# names, over-long paths, a link onto itself.
. "$(dirname "$0")/lib.sh"

mkdir area && echo x > area/file
before=$(snapshot .)

t inspect area/missing
check "inspect missing" is "$rc|$err" "1|tether: area/missing: no such file or directory (ENOENT)"
t unlink area/missing
check "unlink missing" is "$rc" 3
check "unlink missing names path" has "$err" "area/missing: no such file or directory (ENOENT)"
t link area/file no/such/dir/l
check "link into a missing directory" is "$rc|$err" "3|tether: no/such/dir/l: the parent directory does not exist (ENOENT)"
t link area/file area/file/below
check "link below a file" is "$rc" 3
check "link below a file message" has "$err" "area/file/below: a parent of this path is not a directory (ENOTDIR)"

t link x area/x-self
t link same area/same
check "link onto itself" is "$rc|$err" "3|tether: area/same: the link would point to itself (EINVAL)"
t link --relative area/same2 area/same2
check "relative link onto itself" is "$rc" 3
t link --hard area/file area/file
check "hard link onto itself" is "$rc" 3
rm area/x-self
check "nothing changed by the refusals" is "$(snapshot .)" "$before"

ln -s loop2 area/loop1 && ln -s loop1 area/loop2
t inspect area/loop1
check "loop is its own status" is "$rc" 1
check "loop status shown" has "$out" "loop (ELOOP)"
t link --hard area/loop1 area/hl
check "hard link of a link names the link itself" is "$rc|$(readlink area/hl)" "0|loop2"
rm area/loop1 area/loop2 area/hl

# Odd names: spaces, a newline, a leading dash, non-ASCII bytes, invalid UTF-8.
for name in "with space" $'new\nline' "-dash" "café" $'\xff\xfe'; do
    t link -- area/file "area/$name"
    check "link named '$name'" is "$rc|$(readlink -- "area/$name")" "0|area/file"
    t inspect --json -- "area/$name"
    got=$(python3 -c 'import json,sys,os; print(os.fsencode(json.load(sys.stdin)["paths"][0]["path"]) == os.fsencode(sys.argv[1]))' "area/$name" <<<"$out" 2>&1)
    check "json names '$name' exactly" is "$got" "True"
    t unlink -- "area/$name"
    check "unlink '$name'" is "$rc" 0
done
t inspect $'area/new\nline'
check "missing odd name is quoted in errors" has "$err" "area/new"
t inspect -dash
check "leading dash without -- is a usage error" is "$rc" 2
check "leading dash hint" has "$err" "unknown option '-dash' (a path that starts with '-' can follow -- or be written ./-dash)"

# Paths longer than PATH_MAX: a link's directory is reached one name at a time, so the
# length itself is no obstacle; a missing directory on the way is named (shortened).
long=area$(printf '/%0200d' $(seq 25) | tr 0 d)
t link area/file "$long"
check "over-long path, its directories missing" is "$rc" 3
check "over-long path message" has "$err" "the parent directory does not exist (ENOENT)"
check "over-long path is named (shortened)" has "$err" "tether: ...d"
t inspect "$long"
check "inspect over-long path" is "$rc" 1
# deep DIRS... [--read NAME]: makes the directories DIRS (a/b/c) one at a time from
# handles, or prints the target of link NAME in the last one.
deep() {
    python3 - "$@" <<'EOF'
import os, sys
fd = os.open(".", os.O_RDONLY)
for name in sys.argv[1].split("/"):
    if name not in os.listdir(fd):
        os.mkdir(name, dir_fd=fd)
    fd = os.open(name, os.O_RDONLY, dir_fd=fd)
if len(sys.argv) > 3:
    print(os.readlink(sys.argv[3], dir_fd=fd))
EOF
}
deep "${long%/*}"
t link area/file "$long"
check "over-long path, its directories there: linked" is "$rc" 0
check "over-long path: the link made" is "$(deep "${long%/*}" --read "${long##*/}")" "area/file"
rm -rf "area/$(printf '%0200d' 1 | tr 0 d)"

# Permission denied: as an unprivileged user in a directory it cannot write.
mkdir locked && chmod 755 locked && chmod 755 "$WORK"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    mkdir "$WORK/nobody-state" && chown 65534 "$WORK/nobody-state"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_STATE_HOME="$WORK/nobody-state")
else
    as_user=()
    chmod 555 locked
fi
if "${as_user[@]}" test -w locked; then
    echo "skipped: permission checks (this user can write anywhere)"
else
    out=$("${as_user[@]}" "$TETHER" link area/file locked/l 2>&1)
    rc=$?
    no_bug_report "tether" "$out"
    check "permission denied" is "$rc|$out" "3|tether: locked/l: permission denied (EACCES)"
    check "nothing created when denied" is "$(ls -A locked)" ""
fi

finish
