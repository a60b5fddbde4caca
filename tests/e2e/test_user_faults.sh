#!/usr/bin/env bash
# Faults a new user met: each says what is wrong, and what to do, with the right exit code.
. "$(dirname "$0")/lib.sh"

# undo of something that is not the shape of a run id: a usage error (exit 2) that says
# where the ids are; one of the right shape that is not there stays a refusal (exit 3).
for bad in nonsense 42 ../../etc/passwd $'a\033b' ""; do
    quoted=$("$TETHER" -e 'io.write(tether.quote(arg[1]))' "$bad")
    t undo "$bad"
    check "undo $quoted: exit 2, named, with the hint" is "$rc|$out|$err" \
        "2||tether: $quoted: not a run id (EINVAL); list the runs with: tether history"
done
t undo 20261130-191123-007101-e2
check "undo of an id of no run: refused (exit 3)" is "$rc|$err" \
    "3|tether: 20261130-191123-007101-e2: no run with this id (ENOENT)"

# The summary's verb is what the plan's actions did, not "changed" for everything.
mkdir -p v/p v/r v/d
for i in 1 2 3; do ln -s "gone$i" "v/p/l$i"; done
ln -s "$PWD/v/d" v/r/abs
head -c 3000 /dev/urandom >v/d/a && cp -p v/d/a v/d/b
t prune v/p
check "prune: the links removed" is "$rc|${out%%;*}" "0|3 dangling links removed"
t relativize v/r
check "relativize: the link retargeted" is "$rc|${out%%;*}" "0|1 link retargeted"
t dedupe v/d
check "dedupe: the file linked" is "$rc|${out%%;*}" "0|1 file linked"

# tether run of a script that cannot be opened: "PATH: reason (ENAME)", as every refusal.
mkdir -p sc/adir && echo 'print(1)' >sc/secret.lua && chmod 000 sc/secret.lua
t run sc/nonexist.lua
check "run of a missing script: the path, the reason, the errno" is "$rc|$err" \
    "1|tether: sc/nonexist.lua: no such file or directory (ENOENT)"
t run sc/adir
check "run of a directory: said so" is "$rc|$err" "1|tether: sc/adir: is a directory (EISDIR)"
if [ "$(id -u)" != 0 ]; then
    t run sc/secret.lua
    check "run of an unreadable script: said so" is "$rc|$err" "1|tether: sc/secret.lua: permission denied (EACCES)"
elif command -v setpriv >/dev/null; then
    chmod 755 "$WORK" "$WORK/run" sc
    err=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$TETHER" run sc/secret.lua 2>&1 >/dev/null)
    check "run of an unreadable script: said so" is "$?|$err" "1|tether: sc/secret.lua: permission denied (EACCES)"
fi
raw=$'sc/new\nline.lua'
t run "$raw"
check "run of a missing script with a control character: the name quoted" is "$err" \
    'tether: "sc/new\nline.lua": no such file or directory (ENOENT)'

finish
