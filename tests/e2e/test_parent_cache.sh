#!/usr/bin/env bash
# The parents kept open between calls without a confinement (core/at.c, at_typed): a
# second call reuses the parent only while its path still leads to the directory held.
# A parent renamed away and replaced by a directory, or by another user's link, between
# two calls of one script: the second change goes where the path leads now (a new
# directory) or is refused (the other user's link), never into the directory the link
# points at, and never into the old directory under its new name.
. "$(dirname "$0")/lib.sh"

# One script, two calls, something done in between (by $2, a shell command).
two_calls() {
    out=$("$TETHER" -e '
local dir, between = ...
print(tether.symlink("t1", dir .. "/a/x1"))
os.execute(between)
print(tether.symlink("t2", dir .. "/a/x2"))' "$WORK/run/$1" "$2" 2>"$WORK/stderr")
    rc=$? err=$(cat "$WORK/stderr")
    no_bug_report "two calls ($1)" "$err"
}

mkdir -p plain/a
two_calls plain "mv '$WORK/run/plain/a' '$WORK/run/plain/b' && mkdir '$WORK/run/plain/a'"
check "the second link goes into the new directory" is "$(readlink plain/a/x2)|$(ls plain/b)" "t2|x1"

mkdir -p same/a
two_calls same "true"
check "an unchanged parent is used again" is "$(readlink same/a/x1) $(readlink same/a/x2)" "t1 t2"
opens() { # opens N: the directories opened to make N links in one directory
    strace -f -e trace=openat "$TETHER" -e 'local d, n = ...
for i = 1, tonumber(n) do assert(tether.symlink("t", d .. "/l" .. n .. "-" .. i)) end' "$WORK/run/same/a" "$1" 2>&1 >/dev/null |
        grep -c "openat(.*O_PATH"
}
one=$(opens 1) five=$(opens 5)
check "five links in one directory resolve it once, as one link does ($one, $five opens)" is "$five" "$one"

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    skip_all "another user's link needs root to switch to an unprivileged user"
fi
# A directory another user (65534) can write: between the calls that user moves the
# parent away and puts a link of theirs in its place, to the victim directory or to the
# old parent itself. The link is not followed: to the victim, the second call is refused;
# to the old parent, the path leads to the directory held, the one the script named at
# its first call, and the link goes there (into a directory that user could move only
# among places they can write), as if the path had not changed.
chmod 755 "$WORK" "$WORK/run"
for case in victim self; do
    mkdir -p "hostile-$case/a" victim-$case && chown -R 65534 "hostile-$case" && chmod 755 "hostile-$case"
    d=$WORK/run/hostile-$case
    to=$([ $case = victim ] && echo "$WORK/run/victim-$case" || echo "$d/b")
    two_calls "hostile-$case" "setpriv --reuid 65534 --regid 65534 --clear-groups sh -c 'mv $d/a $d/b && ln -s $to $d/a'"
    check "$case: the first link was made" is "$(readlink "$d/b/x1")" "t1"
    if [ $case = victim ]; then
        check "victim: the second call is refused: another user's link" has "$out" "belongs to another user"
        check "victim: nothing in the link's target" is "$(ls "victim-$case")|$(ls "$d/b" | tr '\n' ' ')" "|x1 "
    else
        check "self: the second link is in the directory named first" is "$(ls "$d/b" | tr '\n' ' ')" "x1 x2 "
    fi
done

finish
