#!/usr/bin/env bash
# Migrations on the undo stack: a newer migration whose tree holds an older one's paths
# (its SRC's parent, its DEST, DEST's parent, an ancestor) re-creates them when it copies
# across filesystems, with new devices and inodes. Every such pair, each migration on one
# filesystem or across, is undone newest first: both undos succeed, the tree is what it
# was before the older one, and history says both are undone. Then what stays refused: an
# undo whose DEST was replaced by hand (no run re-created it), or whose temporary name is
# taken, is refused before any step, changing nothing; and tether undo ID of a migration
# that stopped before its link rolls it back.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
if [ "$(stat -c %d "$WORK")" = "$(stat -c %d "$shm")" ]; then
    skip_all "/tmp and /dev/shm are one filesystem here"
fi
R=$WORK/run

# tree: every entry under $R and $shm with its type, mode, link target and content, and
# which names share an inode (not the inode numbers, which a copy changes).
tree() {
    local top
    for top in "$R" "$shm"; do
        (cd "$top" && find . -printf "$top:%p|%y|%m|%l\n" && find . -type f -exec md5sum {} + &&
            find . -type f -links +1 -printf '%i %p\n' | sort |
            awk '{g[$1] = g[$1] " " $2} END {for (i in g) print "shares an inode:" g[i]}') | LC_ALL=C sort
    done
}
undone() {
    "$TETHER" --json history | python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
print(" ".join(r["state"] for r in runs))'
}

# place KIND: where a migration's DEST goes: beside the tree (one filesystem) or on
# /dev/shm; box KIND: a directory there that a newer migration moves.
place() { if [ "$1" = same ]; then echo "$R/elsewhere"; else echo "$shm"; fi; }
box() { if [ "$1" = same ]; then echo "$R/box"; else echo "$shm/box"; fi; }

# pair NAME FIRST_SRC FIRST_DEST SECOND_SRC SECOND_DEST: the two migrations, then two undos.
pair() {
    local name=$1
    before=$(tree)
    t migrate "$2" "$3"
    check "$name: the older migration" is "$rc" 0
    t migrate "$4" "$5"
    check "$name: the newer migration" is "$rc" 0
    t undo --yes
    check "$name: the newer undone" is "$rc" 0
    t undo --yes
    check "$name: the older undone" is "$rc|$err" "0|"
    check "$name: the tree as it was" is "$(tree)" "$before"
    check "$name: both undone in history" is "$(undone)" "undone undone"
    t undo --yes
    check "$name: then nothing to undo" is "$rc" 3
    rm -rf "$XDG_STATE_HOME"
}

setup() {
    rm -rf "$R"/* "$shm"/*
    mkdir -p "$R/top/mid/m/inner" "$R/elsewhere" "$R/box" "$shm/box"
    echo data > "$R/top/mid/m/data"
    echo deep > "$R/top/mid/m/inner/deep"
    ln "$R/top/mid/m/inner/deep" "$R/top/mid/m/inner/deep-too"
    ln -s ../data "$R/top/mid/m/inner/up"
    chmod 750 "$R/top/mid/m/inner"
}

for first in same cross; do
    for second in same cross; do
        a=$(place "$first") b=$(place "$second") abox=$(box "$first")
        k="$first then $second"
        # The older one inside the newer one's SRC (issue 21, 6).
        setup
        pair "nested, $k" "$R/top/mid/m/inner" "$a/inner" "$R/top/mid/m" "$b/m"
        # The newer one moves the older one's DEST on (issue 21, 7).
        setup
        pair "chained, $k" "$R/top/mid/m" "$a/m" "$a/m" "$b/m2"
        # The newer one moves the directory that holds the older one's DEST.
        setup
        pair "DEST's parent, $k" "$R/top/mid/m" "$abox/m" "$abox" "$b/box2"
        # The newer one moves an ancestor of the older one's SRC.
        setup
        pair "SRC's ancestor, $k" "$R/top/mid/m" "$a/m" "$R/top" "$b/top"
        # The newer one holds both the older one's SRC and DEST.
        setup
        pair "both, $k" "$R/top/mid/m" "$R/top/m-moved" "$R/top" "$b/top"
    done
done

# DEST replaced by a copy made by hand (no run made it): refused before any step.
for kind in same cross; do
    setup
    d=$(place "$kind")
    t migrate "$R/top/mid/m" "$d/m"
    cp -a "$d/m" "$d/m.copy" && rm -rf "$d/m" && mv "$d/m.copy" "$d/m"
    before=$(tree)
    t undo --yes
    check "DEST replaced by hand ($kind): refused" is "$rc" 3
    check "DEST replaced by hand ($kind): says so" has "$err" \
        "$d/m: is not the folder this migration put here (it was replaced since) (ECHANGED); nothing was changed"
    check "DEST replaced by hand ($kind): nothing changed" is "$(tree)" "$before"
    check "DEST replaced by hand ($kind): SRC still the link" is "$(readlink "$R/top/mid/m")" "$d/m"
    check "DEST replaced by hand ($kind): still to undo" is "$(undone)" "finished"
    rm -rf "$XDG_STATE_HOME"
done

# A name the undo works under taken by something else: refused before any step.
setup
t migrate "$R/top/mid/m" "$shm/m"
id=$("$TETHER" --json migrate --status | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][-1]["id"])')
in_the_way=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["plan"]["back_tmp"])' \
    "$XDG_STATE_HOME/tether/journal/$id.jsonl")
mkdir "$in_the_way" && echo theirs > "$in_the_way/f"
before=$(tree)
t undo --yes
check "a name in the undo's way: refused" is "$rc" 3
check "a name in the undo's way: says so" has "$err" "$in_the_way: is in the way of the undo (EEXIST)"
check "a name in the undo's way: nothing changed" is "$(tree)" "$before"
rm -rf "$in_the_way"
t undo --yes
check "a name in the undo's way: once moved, undone" is "$rc|$(undone)" "0|undone"
rm -rf "$XDG_STATE_HOME"

# tether undo ID of a migration killed before its link: rolled back.
setup
before=$(tree)
{ TETHER_CRASH_AT=check:begin "$TETHER" migrate "$R/top/mid/m" "$shm/m"; } >/dev/null 2>&1
id=$("$TETHER" --json migrate --status | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][-1]["id"])')
t undo "$id"
check "undo of a migration stopped before its link: done" is "$rc" 0
check "undo of a migration stopped before its link: the tree as it was" is "$(tree)" "$before"
check "undo of a migration stopped before its link: rolled back" is "$(undone)" "rolled back"
rm -rf "$XDG_STATE_HOME"

# Plain tether undo with a migration killed part-way on top of an older run: the killed
# migration is the top of the stack (rolled back); the older run is next, not before it.
setup
before=$(tree)
"$TETHER" -q link /somewhere "$R/older-link"
{ TETHER_CRASH_AT=copy:1 "$TETHER" migrate "$R/top/mid/m" "$shm/m"; } >/dev/null 2>&1
t undo
check "plain undo after a killed migration: rolls the migration back" is "$rc|$(test -L "$R/older-link" && echo kept)" "0|kept"
check "plain undo after a killed migration: says it rolled back" has "$out" "rolled back"
t undo
check "then the older run" is "$rc|$(tree)" "0|$before"

finish
