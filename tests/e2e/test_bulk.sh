#!/usr/bin/env bash
# The plan-based recipes (retarget, relativize, prune, dedupe) with undo and history: a
# dry run leaves every path, type and target as it was; apply then undo returns the exact
# original listing; conflicts and changes made under a running plan are handled.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

listing() { (cd "$1" && find . -printf '%p|%y|%l|%s|%m\n' | LC_ALL=C sort); }

# --- retarget: 4000 links, 2000 of them under --from; /mnt/old2 is not under /mnt/old
mkdir -p new/data old2 links
for i in $(seq 100); do echo "$i" > "new/data/f$i"; done
python3 - "$WORK/run" <<'PY'
import os, sys
root = sys.argv[1]
for i in range(4000):
    d = os.path.join(root, "links", f"d{i % 50}")
    os.makedirs(d, exist_ok=True)
    if i % 2 == 0:
        t = f"{root}/old/data/f{i % 100 + 1}"
    elif i % 4 == 1:
        t = f"{root}/old2/x{i}"
    else:
        t = f"{root}/elsewhere/y{i}"
    os.symlink(t, os.path.join(d, f"l{i}"))
PY
before=$(listing links)
t retarget -n links --from "$WORK/run/old" --to "$WORK/run/new"
check "retarget dry run plans 2000" has "$out" "2000 actions planned"
check "retarget dry run changed nothing" is "$(listing links)" "$before"
t retarget links --from "$WORK/run/old" --to "$WORK/run/new"
check "retarget exit 0" is "$rc" 0
check "2000 retargeted" is "$(find links -type l -lname "$WORK/run/new/*" | wc -l)" 2000
check "none left under old" is "$(find links -type l -lname "$WORK/run/old/*" | wc -l)" 0
check "old2 untouched" is "$(find links -type l -lname "$WORK/run/old2/*" | wc -l)" 1000
check "others untouched" is "$(find links -type l -lname "$WORK/run/elsewhere/*" | wc -l)" 1000
t undo
check "retarget undo" is "$rc|$(listing links)" "0|$before"
ln -s "$WORK/run/old/data/missing" links/to-missing
t retarget links --from "$WORK/run/old" --to "$WORK/run/new"
check "a new target that would not exist is left alone" is "$rc|$(readlink links/to-missing)" "1|$WORK/run/old/data/missing"
check "and reported" has "$err" "links/to-missing: new target $WORK/run/new/data/missing does not exist"
t undo
t retarget links --from "$WORK/run/old" --to "$WORK/run/new" --allow-broken
check "--allow-broken" is "$(readlink links/to-missing)" "$WORK/run/new/data/missing"
t undo
rm links/to-missing
t retarget links --from old --to new
check "relative --from is a usage error" is "$rc" 2
rm -rf links old2

# --- relativize and back: same resolved targets, through a linked parent too
mkdir -p tree/a/b real/deep && echo x > tree/a/file && ln -s "$WORK/run/real/deep" tree/via
ln -s "$WORK/run/tree/a/file" tree/a/b/abs
ln -s "$WORK/run/tree/a/file" real/deep/through-via
ln -s "$WORK/run/tree/gone" tree/a/dangling
before=$(listing tree)
t relativize -n tree
check "relativize dry run changed nothing" is "$(listing tree)" "$before"
check "relativize dry run prints the plan" has "$out" "would relink tree/a/b/abs -> ../file"
t relativize tree
check "relativize" is "$rc|$(readlink tree/a/b/abs)|$(readlink tree/a/dangling)" "0|../file|../gone"
check "resolved the same" is "$(realpath tree/a/b/abs)" "$WORK/run/tree/a/file"
t relativize --absolute tree
check "and back to absolute" is "$(readlink tree/a/b/abs)" "$WORK/run/tree/a/file"
t undo
check "undo: back to relative" is "$rc|$(readlink tree/a/b/abs)" "0|../file"
t undo
check "again: the next older run, named first" is "$rc|$(has "$out" "undoing " && echo named)" "0|named"
check "two undos restore it" is "$(listing tree)" "$before"
t relativize real
check "from a real directory reached by a link" is "$(readlink real/deep/through-via)|$(cat real/deep/through-via)" "../../tree/a/file|x"
t undo
# The form changes, never what a link follows: a link to current/app.conf stays one
# through current (a deploy that repoints current moves it along), both ways.
mkdir -p rel/releases/41 rel/releases/42 rel/etc && echo v41 > rel/releases/41/app.conf && echo v42 > rel/releases/42/app.conf
ln -s releases/41 rel/current && ln -s "$WORK/run/rel/current/app.conf" rel/etc/app.conf
t relativize rel/etc
check "relativize keeps the links on the way" is "$rc|$(readlink rel/etc/app.conf)" "0|../current/app.conf"
t relativize --absolute rel/etc
check "and back" is "$rc|$(readlink rel/etc/app.conf)" "0|$WORK/run/rel/current/app.conf"
ln -sfn releases/42 rel/current
check "the link follows the deploy" is "$(cat rel/etc/app.conf)" "v42"
rm -rf rel
# A root that is a link to a directory stands for that directory (as find -H takes it):
# what is in it is planned, the link itself is not (its parent is the root that changes
# it), with or without a trailing slash, either way round.
mkdir -p al/real && touch al/real/f && ln -s "$WORK/run/al/real/f" al/real/abs && ln -s "$WORK/run/al/real" al/alias
for root in al/alias al/alias/; do
    t relativize "$root"
    check "relativize $root: what is in it, not the link" is "$rc|$(readlink al/real/abs)|$(readlink al/alias)" "0|f|$WORK/run/al/real"
    t relativize --absolute "$root"
    check "relativize --absolute $root: back" is "$rc|$(readlink al/real/abs)" "0|$WORK/run/al/real/f"
done
rm -rf al

# A root that is another user's link to a directory: refused before anything is planned,
# dry run or not (the run could not follow it: it would plan, then fail every change).
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p ol/real && ln -s /nonexistent ol/real/dang && ln -s real ol/theirs && chown -h 65534:65534 ol/theirs
    for cmd in "prune -n" prune "relativize -n" "retarget -n --from /a --to /b"; do
        t $cmd ol/theirs
        check "$cmd on another user's link: refused up front" is "$rc|$(test -L ol/real/dang && echo kept)" "3|kept"
        check "$cmd on another user's link: says why" has "$err" "ol/theirs: is a link another user could point anywhere"
    done
    rm -rf ol
fi

# --- prune: broken links go; denied and loops stay (loops go with --loops)
mkdir -p pr/locked && echo s > pr/locked/secret && chmod 755 "$WORK" "$WORK/run" pr
ln -s gone pr/broken1 && ln -s ../nowhere/x pr/broken2 && ln -s locked/secret pr/denied
ln -s loop2 pr/loop1 && ln -s loop1 pr/loop2 && ln -s locked pr/ok
chmod 700 pr/locked
before=$(listing pr)
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    mkdir "$WORK/nobody" && chown 65534 "$WORK/nobody"
    as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_STATE_HOME="$WORK/nobody")
    chmod 777 pr
else
    as_user=(env); chmod 000 pr/locked
fi
before_dry=$(listing pr)
out=$("${as_user[@]}" "$TETHER" prune -n pr 2>&1)
no_bug_report "tether" "$out"
check "prune dry run" has "$out" "2 actions planned"
check "prune dry run changed nothing" is "$(listing pr)" "$before_dry"
out=$("${as_user[@]}" "$TETHER" prune pr 2>&1)
no_bug_report "tether" "$out"
check "prune removes only the broken" is "$(ls pr | tr '\n' ' ')" "denied locked loop1 loop2 ok "
out=$("${as_user[@]}" "$TETHER" prune --loops pr 2>&1)
no_bug_report "tether" "$out"
check "--loops removes the loop" is "$(ls pr | tr '\n' ' ')" "denied locked ok "
"${as_user[@]}" "$TETHER" -q undo && "${as_user[@]}" "$TETHER" -q undo -y
chmod 700 pr/locked; chmod 755 pr
check "prune undo restores every link" is "$(listing pr)" "$before"
rm -rf pr

# --- dedupe: sizes, then hashes, then bytes; one filesystem, same owner and mode only
mkdir -p dd/a dd/b
head -c 100000 /dev/urandom > dd/a/one
cp -p dd/a/one dd/b/copy1 && cp -p dd/a/one dd/b/copy2
cp -p dd/a/one dd/b/other-mode && chmod 600 dd/b/other-mode
cp -p dd/a/one dd/b/other-owner && chown 65534 dd/b/other-owner 2>/dev/null
cp -p dd/a/one dd/b/near && printf 'Z' | dd of=dd/b/near bs=1 seek=50000 conv=notrunc 2>/dev/null && touch -r dd/a/one dd/b/near
cp dd/a/one dd/b/other-time && touch -d 2001-01-01 dd/b/other-time
shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
cp -p dd/a/one "$shm/other-fs"
before=$(listing dd)
t dedupe -n dd "$shm"
check "dedupe dry run finds the two copies" has "$out" "2 actions planned"
check "dedupe dry run changed nothing" is "$(listing dd)" "$before"
t dedupe dd "$shm"
ino() { stat -c %i "$1"; }
check "copies linked" is "$(ino dd/b/copy1)|$(ino dd/b/copy2)" "$(ino dd/a/one)|$(ino dd/a/one)"
check "other mode not linked" test "$(ino dd/b/other-mode)" != "$(ino dd/a/one)"
check "near-duplicate not linked" test "$(ino dd/b/near)" != "$(ino dd/a/one)"
check "different mtime not linked" test "$(ino dd/b/other-time)" != "$(ino dd/a/one)"
if [ "$(stat -c %u dd/b/other-owner)" != 0 ]; then
    check "other owner not linked" test "$(ino dd/b/other-owner)" != "$(ino dd/a/one)"
fi
check "other filesystem not linked" is "$(stat -c %h "$shm/other-fs")" 1
check "bytes saved reported" has "$out" "saved 195.3 KiB"
t undo
check "dedupe undo gives back separate copies" is "$(listing dd)|$(stat -c %h dd/a/one)" "$before|1"
# --min-size reads sizes as every option does (tether.units): 97K and 1KiB pass the
# 100000-byte copies, 98K does not (100352 bytes).
for size in 97K 1KiB 100000 0.09M; do
    t dedupe -n --min-size "$size" dd
    check "--min-size $size keeps the copies" has "$out" "2 actions planned"
done
t dedupe -n --min-size 98K dd
check "--min-size 98K leaves them out" has "$out" "0 actions planned"
t dedupe -n --min-size 0 dd
check "--min-size 0 is refused (at least 1 byte)" is "$rc|$(has "$err" "--min-size takes a size such as" && echo said)" "2|said"
t dedupe --ignore-mtime dd
check "--ignore-mtime links the other time" is "$(ino dd/b/other-time)" "$(ino dd/a/one)"
t undo
# A file changed between hashing and linking is left alone.
hook="printf 'changed' >> '$WORK/run/dd/b/copy2'"
out=$(TETHER_TEST_BEFORE_APPLY="$hook" "$TETHER" dedupe dd 2>&1)
no_bug_report "tether" "$out"
check "changed file left alone" is "$(stat -c %h dd/b/copy2)|$(tail -c 7 dd/b/copy2)" "1|changed"
check "changed file reported" has "$out" "dd/b/copy2: changed since it was planned"
check "the unchanged copy still linked" is "$(ino dd/b/copy1)" "$(ino dd/a/one)"
t undo
rm -rf "$shm"

# A group of more than 64 files of one size: split by hashes, compared in slices of 64
# (130 copies of one content, 70 of another, 3 of a third, 2 unique, all 8 KiB).
mkdir -p big
head -c 8192 /dev/urandom >big/a0 && head -c 8192 /dev/urandom >big/b0 && head -c 8192 /dev/urandom >big/c0
for i in $(seq 1 129); do cp -p big/a0 "big/a$i"; done
for i in $(seq 1 69); do cp -p big/b0 "big/b$i"; done
cp -p big/c0 big/c1 && cp -p big/c0 big/c2
head -c 8192 /dev/urandom >big/u1 && head -c 8192 /dev/urandom >big/u2 && touch -r big/a0 big/u1 big/u2
t dedupe --ignore-mtime big
check "large group: 200 copies linked" has "$out" "200 duplicate files of 205 scanned"
check "large group: three files in all" is "$(stat -c %h big/a0)|$(stat -c %h big/b0)|$(stat -c %h big/c0)|$(stat -c %h big/u1)" "130|70|3|1"
check "large group: each content kept" is "$(ls -i big | awk '{print $1}' | sort -u | wc -l)" 5
t undo
check "large group: undo" is "$(stat -c %h big/a5)|$(ls -i big | awk '{print $1}' | sort -u | wc -l)" "1|205"
rm -rf big

# Files that cannot be read are named, left alone, and the run exits 1 (as nobody).
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    mkdir -p nr && head -c 5000 /dev/urandom >nr/a && cp -p nr/a nr/b && cp -p nr/a nr/c
    cp -p nr/a nr/locked1 && cp -p nr/a nr/locked2
    chown -R 65534:65534 nr && chmod 755 "$WORK" "$WORK/run" nr && chmod 644 nr/a nr/b nr/c
    chmod 000 nr/locked1 nr/locked2 && touch -r nr/a nr/locked1 nr/locked2
    nr_before=$(listing nr)
    out=$(XDG_STATE_HOME="$WORK/nobody-state" setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$TETHER" dedupe --ignore-mtime -n nr 2>&1)
    rc=$?
    no_bug_report "tether" "$out"
    check "unreadable files: exit 1" is "$rc" 1
    check "unreadable files: named" has "$out" "nr/locked1: permission denied (EACCES); left alone"
    check "unreadable files: the readable ones still planned" has "$out" "2 actions planned"
    check "unreadable files: nothing changed" is "$(listing nr)" "$nr_before"
    chmod 644 nr/locked1 nr/locked2
    rm -rf nr
else
    echo "skipped: unreadable-file check needs root to switch to an unprivileged user"
fi

# --- Roots named twice or nested are walked once (tests/e2e/roots_fold.py has every
# recipe and every shape); -v says which.
mkdir -p twice/sub && echo same > twice/a && cp -p twice/a twice/b && ln -s gone twice/sub/l
t dedupe twice twice
check "dedupe d d: one duplicate, not each file with itself" has "$out" "saved 5 B (1 duplicate file of 2 scanned"
t undo
t -v prune -n twice/sub ./twice twice/
check "-v: a nested root is named" has "$out" "twice/sub is inside ./twice: walked once"
check "-v: a repeated root is named" has "$out" "twice/ is the same as ./twice: walked once"
check "and its links planned once" has "$out" "1 action planned"
rm -rf twice

# --- undo refuses when something changed since, and history lists every run
mkdir -p u && ln -s gone u/b1 && ln -s gone u/b2
t prune u
ln -s other u/b1
t undo
check "undo refuses a changed tree" is "$rc" 3
check "undo says what changed" has "$err" "u/b1"
check "nothing undone" is "$(readlink u/b1)|$(ls u | wc -l)" "other|1"
# A journal that cannot be written stops a plan before it changes anything.
mkdir -p ro && ln -s gone ro/b && touch "$WORK/not-a-dir"
t --journal-dir "$WORK/not-a-dir/journal" prune ro
check "unwritable journal: exit 3" is "$rc|$(readlink ro/b)" "3|gone"
check "unwritable journal: clear message" has "$err" "journal: the journal cannot be kept there (ENOTDIR); use --journal-dir; nothing changed"
t history
check "history lists the runs" has "$out" "prune"
check "history shows undone runs" has "$out" "undone"
t --json history
check "history --json" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["recipe"], type(d["runs"]).__name__, sorted(d["runs"][0]))' <<<"$out")" "history list ['command', 'done', 'failed', 'id', 'recipe', 'roots', 'skipped', 'state', 'time']"

# --- What was left alone is said (issue 24, item 6), and counts read as English.
mkdir -p said/old said/new said/a/b && touch said/old/f said/new/f
ln -s x said/a/loop1 && ln -s loop1 said/a/x
t prune said/a
check "prune of two links in a loop: nothing to remove, and why" is "$rc|$out" \
    "0|0 dangling links changed
left alone: 2 links that go round in a loop (--loops removes them too)"
ln -s gone said/a/broken
t prune said/a
check "one link: singular, and the verb of what was done" has "$out" "1 dangling link removed;"
t --json prune -n said/a
check "--json lists what was left alone, with why" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print([(l["path"], l["status"], l["why"]) for l in d["left_alone"]])' <<<"$out")" \
    "[('said/a/loop1', 'loop', 'a loop (--loops removes it)'), ('said/a/x', 'loop', 'a loop (--loops removes it)')]"
ln -s ../../old/f said/a/b/rel && ln -s "$WORK/run/said/old/f" said/a/abs
t retarget said/a --from "$WORK/run/said/old" --to "$WORK/run/said/new"
check "retarget says a relative link into OLD was left, and how to include it" is "$rc|$(readlink said/a/b/rel)|$(tail -n 1 <<<"$out")" \
    "0|../../old/f|left alone: 1 relative link that leads into $WORK/run/said/old (--relative-too retargets it, keeping it relative)"
t retarget said/a --from "$WORK/run/said/old" --to "$WORK/run/said/new" --relative-too
check "--relative-too retargets it, still relative" is "$rc|$(readlink said/a/b/rel)|$(cat said/a/b/rel; echo)" "0|../../new/f|"
t undo
check "and undo puts it back" is "$rc|$(readlink said/a/b/rel)" "0|../../old/f"

# --- --xdev: what is mounted below a root is not looked at (prune, relativize, retarget, dedupe).
if [ "$(id -u)" -eq 0 ] && mkdir -p xd/in xd/mnt && mount -t tmpfs tether-xdev xd/mnt 2>/dev/null; then
    ln -s gone xd/in/b && ln -s gone2 xd/mnt/b2
    t prune -n --xdev xd
    check "prune --xdev stays on the root's filesystem" is "$rc|$(grep -c 'would remove' <<<"$out")|$(has "$out" b2 || echo not-below)" "0|1|not-below"
    t prune -n xd
    check "without --xdev the mount is walked" is "$(grep -c 'would remove' <<<"$out")" 2
    for r in "relativize -n --xdev" "retarget -n --xdev --from /a --to /b" "dedupe -n --xdev"; do
        # shellcheck disable=SC2086
        t $r xd
        check "$r takes --xdev" is "$rc" 0
    done
    umount xd/mnt
else
    echo "skipped: --xdev checks (mounting a tmpfs is not permitted here)"
fi

finish
