#!/usr/bin/env bash
# Root acting on a tree another user owns: a link tether removes and its undo puts back,
# or one it rewrites in place, stays that user's (a link of root's in a user's tree would
# be trusted as root's own). The removed link's owner is the journal's word, used only
# when root runs the undo; a user undoing their own run never asks for a chown.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip_all "giving a link back to its owner needs root"
command -v setpriv >/dev/null || skip_all "setpriv is not installed"
chmod 755 "$WORK" "$WORK/run"
U=65534
owners() { (cd "$1" && find . -type l -printf '%p %u:%g\n' | LC_ALL=C sort); }
all_users() { ! owners "$1" | grep -qv " $(id -un 65534):$(id -gn 65534 2>/dev/null || echo 65534)$" && [ -n "$(owners "$1")" ]; }

# user_tree DIR: a tree of user 65534's with links of every shape prune and unlink take.
user_tree() {
    rm -rf "$1" && mkdir -p "$1/sub/deeper" "$1/data"
    echo x >"$1/data/file"
    ln -s nowhere "$1/broken"
    ln -s ../gone "$1/sub/broken up"
    ln -s "$(printf 'a\tb')" "$1/sub/deeper/$(printf 'tab\tname')"
    ln -s /nonexistent/abs "$1/sub/-dash"
    ln -s data/file "$1/ok"
    chown -R "$U:$U" "$1"
}

# prune then undo, as root: every link put back is the user's again, as before.
user_tree tree
before=$(owners tree)
t prune tree
check "prune removed the user's broken links" is "$(owners tree)" "./ok $(id -un $U):$(id -gn $U)"
t undo
check "undo of prune succeeds" is "$rc" 0
check "undo of prune gives each link back to its owner" is "$(owners tree)" "$before"
check "and its group" all_users tree

# undo after an undo: prune again, undo again; still the user's.
t prune tree
t undo
check "a second prune and undo keeps the owner" is "$(owners tree)" "$before"

# --json and -n of the undo: the dry run makes nothing; the real one in JSON keeps owners.
t prune tree
t -n undo
check "undo -n puts nothing back" is "$(owners tree)" "./ok $(id -un $U):$(id -gn $U)"
t --json undo
check "undo --json succeeds" is "$rc" 0
check "undo --json gives the links back to their owner" is "$(owners tree)" "$before"

# unlink, then undo: the same.
t unlink tree/broken "tree/sub/broken up"
t undo
check "undo of unlink gives the links back to their owner" is "$(owners tree)" "$before"

# A link root rewrites in place stays the user's, and so does its undo.
user_tree tree
ln -s "$WORK/run/tree/data/file" tree/abs && chown -h "$U:$U" tree/abs
before=$(owners tree)
t relativize tree
check "relativize ran" is "$rc" 0
check "relativize keeps the owner of a link it rewrites" is "$(owners tree)" "$before"
check "(it did rewrite it)" is "$(readlink tree/abs)" "data/file"
t undo
check "and its undo too" is "$(owners tree)" "$before"
check "(it did put it back)" is "$(readlink tree/abs)" "$WORK/run/tree/data/file"
t retarget tree --from "$WORK/run/tree/data" --to "$WORK/run/tree/sub" --allow-broken
check "retarget keeps the owner of a link it rewrites" is "$(owners tree)" "$before"
check "(it did rewrite it)" is "$(readlink tree/abs)" "$WORK/run/tree/sub/file"
t undo
check "and its undo too" is "$(owners tree)" "$before"

# A link whose owner cannot be given back (made as the owner refused, so made by root,
# then the chown refused) is not left root's: the undo fails naming the path, nothing is
# put back, and the next undo finishes the job.
if command -v strace >/dev/null; then
    user_tree tree
    before=$(owners tree)
    t prune tree
    pruned=$(owners tree)
    out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o /dev/null -e trace=symlinkat,fchownat \
        -e inject=symlinkat:error=EACCES:when=1+2 -e inject=fchownat:error=EPERM \
        "$TETHER" undo 2>"$WORK/stderr")
    rc=$? err=$(cat "$WORK/stderr")
    no_bug_report "undo under a refused chown" "$err"
    check "undo whose chown is refused fails" is "$rc" 3
    check "naming the link and why" has "$err" "cannot be given its owner"
    check "and leaves no link of root's" is "$(owners tree)" "$pruned"
    t undo
    check "the next undo finishes" is "$rc" 0
    check "with the owners as they were" is "$(owners tree)" "$before"
else
    echo "skipped: the refused chown needs strace"
fi

# A link put back for its owner is the owner's from its creation: made as root and
# chowned after, it is root's for an instant in which the owner (who can write the
# directory) may rename it away, and root's chown then fails: a link of root's with
# the target of the owner's choice, wherever the owner puts it (into a sticky directory,
# where root follows it). The trace shows each link made with the owner's filesystem id
# and no chown; a directory the owner cannot write gets the link made by root and then
# given its owner (the owner could not move it there).
if command -v strace >/dev/null; then
    # fsuid_of_links TRACE: the filesystem uid each successful symlinkat ran with, and
    # then the number of chowns.
    fsuid_of_links() {
        awk '/setfsuid\(/ { if (match($0, /setfsuid\([0-9]+\)/) && substr($0, RSTART + 9, RLENGTH - 10) != "4294967295") u = substr($0, RSTART + 9, RLENGTH - 10) }
             /symlinkat\(/ && / = 0$/ { printf "%s ", (u == "" ? 0 : u) }
             /chown/ { c++ } END { printf "chowns %d", c }' "$1"
    }
    user_tree tree
    before=$(owners tree)
    t prune tree
    out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$WORK/trace" \
        -e trace=setfsuid,symlinkat,chown,lchown,fchown,fchownat "$TETHER" undo 2>&1)
    rc=$?
    no_bug_report "undo traced" "$out"
    check "traced undo succeeds" is "$rc" 0
    check "each link is made with the owner's filesystem id, none chowned" \
        is "$(fsuid_of_links "$WORK/trace")" "$U $U $U $U chowns 0"
    check "and they are the owner's" is "$(owners tree)" "$before"

    # A directory of root's holding the user's link: made by root, then given its owner.
    mkdir -p rootdir && chown 0:0 rootdir && chmod 755 rootdir
    rm -f rootdir/l && ln -s nowhere rootdir/l && chown -h "$U:$U" rootdir/l
    t unlink rootdir/l
    out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$WORK/trace" \
        -e trace=setfsuid,symlinkat,chown,lchown,fchown,fchownat "$TETHER" undo 2>&1)
    rc=$?
    check "undo into a directory the owner cannot write succeeds" is "$rc" 0
    check "the owner's try is refused, root makes it and chowns it" \
        is "$(fsuid_of_links "$WORK/trace")" "0 chowns 1"
    check "and it is the owner's" is "$(owners rootdir)" "./l $(id -un $U):$(id -gn $U)"
    rm -rf rootdir
else
    echo "skipped: the owner's filesystem id needs strace"
fi

# The race itself: the owner spins renaming the link's name while root undoes; no link
# of root's may ever appear (a few seconds of tries: the trace above is the sure check).
if [ -x /usr/bin/python3 ]; then
    mkdir -p race && chown "$U:$U" race
    cat >"$WORK/spin.py" <<'P'
import os, sys
os.chdir(sys.argv[1])
while True:
    try:
        os.rename("dl", "got")
        break
    except OSError:
        pass
P
    end=$((SECONDS + 5)) tries=0 leaked=
    while [ $SECONDS -lt $end ] && [ -z "$leaked" ]; do
        rm -f race/got race/dl
        setpriv --reuid $U --regid $U --clear-groups ln -s "$WORK/secret" race/dl
        "$TETHER" -q unlink race/dl >/dev/null 2>&1
        setpriv --reuid $U --regid $U --clear-groups /usr/bin/python3 "$WORK/spin.py" "$WORK/run/race" &
        spin=$!
        sleep 0.05
        "$TETHER" -q undo >/dev/null 2>&1
        sleep 0.02
        kill $spin 2>/dev/null
        wait $spin 2>/dev/null
        leaked=$(find race -user 0 -type l)
        tries=$((tries + 1))
    done
    echo "raced $tries undos"
    check "no link of root's after $tries undos raced by the owner" is "$leaked" ""
    rm -rf race
fi

# The owner in a journal is evidence: one that is not a number makes the journal refused.
user_tree tree
t prune tree
j=$(ls "$XDG_STATE_HOME"/tether/journal/*.jsonl 2>/dev/null | LC_ALL=C sort | tail -1)
if [ -n "$j" ]; then
    sed -i 's/"uid":65534/"uid":"root"/' "$j"
    t undo
    check "a journal with an owner that is no number is refused" has "$err" "malformed identity"
    check "and nothing is put back" is "$(owners tree)" "./ok $(id -un $U):$(id -gn $U)"
    sed -i 's/"uid":"root"/"uid":65534/' "$j"
    t undo
    check "put right, it is undone" is "$rc" 0
else
    check "the prune's journal is where expected" false
fi

# Not root: a user's own prune and undo work, and never ask to change an owner.
user_tree tree
before=$(owners tree)
mkdir -p "$WORK/ujournal" && chown "$U:$U" "$WORK/ujournal"
as_user() { setpriv --reuid $U --regid $U --clear-groups "$@"; }
out=$(as_user "$TETHER" --journal-dir "$WORK/ujournal" prune tree 2>&1)
check "the user prunes their own tree" is "$(owners tree)" "./ok $(id -un $U):$(id -gn $U)"
if command -v strace >/dev/null; then
    out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$WORK/trace" -e trace=chown,lchown,fchown,fchownat \
        setpriv --reuid $U --regid $U --clear-groups "$TETHER" --journal-dir "$WORK/ujournal" undo 2>&1)
    rc=$?
    check "the user's undo succeeds" is "$rc" 0
    check "and asks for no chown" is "$(grep -c chown "$WORK/trace")" 0
    out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$WORK/trace" -e trace=setfsuid,setfsgid \
        setpriv --reuid $U --regid $U --clear-groups "$TETHER" --journal-dir "$WORK/ujournal" prune tree 2>&1)
    out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -qq -o "$WORK/trace" -e trace=setfsuid,setfsgid \
        setpriv --reuid $U --regid $U --clear-groups "$TETHER" --journal-dir "$WORK/ujournal" undo 2>&1)
    check "nor to change its filesystem ids" is "$(grep -c setfs "$WORK/trace")" 0
else
    out=$(as_user "$TETHER" --journal-dir "$WORK/ujournal" undo 2>&1)
    rc=$?
    check "the user's undo succeeds" is "$rc" 0
fi
no_bug_report "the user's undo" "$out"
check "the user's links are theirs" is "$(owners tree)" "$before"

finish
