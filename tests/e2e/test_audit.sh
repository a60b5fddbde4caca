#!/usr/bin/env bash
# The audit recipe against find(1) on a generated tree, and on hand-built trees with every
# status, odd names (JSON and CSV must escape them), unreadable directories, a 50-level
# tree, filters, formats and exit codes.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# The target cache (core/classify) changes nothing: every format, byte for byte, with the
# cache off (every link resolved by the kernel's full lookup), on, and at two
# directories (evicting all the time). (The table is the csv's fields, so the large tree
# checks json, csv and tree; the small one every format.)
same_with_and_without_cache() {
    local fmt size
    for fmt in json csv tree "${@:2}"; do
        # shellcheck disable=SC2086 # the format may carry an option
        TETHER_TARGET_CACHE=0 "$TETHER" audit "$1" --format $fmt >"$WORK/off" 2>&1
        for size in 2 16384; do
            # shellcheck disable=SC2086
            TETHER_TARGET_CACHE=$size "$TETHER" audit "$1" --format $fmt >"$WORK/on" 2>&1
            check "cache of $size: audit $1 --format $fmt byte-identical" cmp -s "$WORK/off" "$WORK/on"
        done
    done
}

# The repository's own generator (bench/gen.py): nothing outside the clone is needed.
gen=$here/../../bench/gen.py
if command -v python3 >/dev/null; then
    python3 "$gen" links gen 20000 7 >/dev/null
    t audit gen --broken --format csv
    check "audit --broken exit 1" is "$rc" 1
    tail -n +2 <<<"$out" | awk -F, '$3 == "broken" {print $1}' | sort > ours-broken
    tail -n +2 <<<"$out" | awk -F, '$3 == "loop" {print $1}' | sort > ours-loops
    find gen -xtype l 2>find.err | sort > find-broken
    check "--broken lists exactly what find -xtype l lists" is "$(cat ours-broken)" "$(cat find-broken)"
    check "the generated tree has broken links" test "$(wc -l <find-broken)" -gt 100
    check "loops shown as loop" is "$(cat ours-loops)" "gen/loop-1
gen/loop-2"
    check "find complains about the same loops" is "$(grep -c 'Too many levels' find.err)" 2
    t audit gen --format json
    total=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["summary"]["links"])' <<<"$out")
    check "total matches find -type l" is "$total" "$(find gen -type l | wc -l)"
    same_with_and_without_cache gen
    t audit gen --stats
    check "--stats: the cache answered most links" test "$(sed -n 's/.*hit rate \([0-9]*\)\..*/\1/p' <<<"$err")" -gt 50
    rm -rf gen
else
    echo "skipped: generated-tree comparison (python3 missing)"
fi

# Every status and every flag, by hand.
mkdir -p tree/sub tree/deep && echo x > tree/file
ln -s ../file tree/sub/ok
ln -s gone tree/sub/broken
ln -s ../file/below tree/sub/notdir
ln -s loop2 tree/sub/loop1 && ln -s loop1 tree/sub/loop2
ln -s "$(printf 'n%.0s' $(seq 300))" tree/sub/toolong
ln -s /etc tree/sub/outside
ln -s "$WORK/run/tree/file" tree/sub/abs-inside
ln -s ..//file tree/sub/messy
ln -s /dev/shm tree/sub/other-fs
mkdir tree/locked && echo s > tree/locked/secret && chmod 755 "$WORK" "$WORK/run" tree tree/sub
ln -s ../locked/secret tree/sub/denied
chmod 700 tree/locked

t audit tree --format json
parsed=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
for l in d["links"]:
    flags = [f for f in ("cross_fs", "escapes", "messy") if l[f]]
    print(l["path"].split("/")[-1], l["status"], l["form"], ",".join(flags))
s = d["summary"]
print("total", s["links"], s["status"]["ok"], s["status"]["broken"], s["status"]["loop"], s["status"]["error"])
' <<<"$out" | sort)
check "statuses and flags" is "$parsed" "$(printf '%s\n' \
    "abs-inside ok absolute " "broken broken relative " "denied ok relative " \
    "loop1 loop relative " "loop2 loop relative " "messy ok relative messy" \
    "notdir broken relative " "ok ok relative " "other-fs ok absolute cross_fs,escapes" \
    "outside ok absolute escapes" "toolong error relative " "total 11 6 2 2 1" | sort)"
check "audit finds problems: exit 1" is "$rc" 1

# Targets the cache must leave to the kernel, next to ones it answers.
mkdir -p tree/cache/real/deep tree/cache/u && echo x > tree/cache/real/x && echo b > tree/cache/real/b
ln -s real/deep tree/cache/sl && ln -s sl/../x tree/cache/dotdot-after-link
ln -s b tree/cache/real/a && ln -s real tree/cache/lib
ln -s ../lib/a tree/cache/u/last-is-link && ln -s ../lib/b tree/cache/u/via-link
ln -s ../real/x/ tree/cache/u/slash && ln -s ../sl/ tree/cache/u/dir-slash
ln -s ../../sub/loop1/x tree/cache/u/loop-parent && ln -s ../../file/x tree/cache/u/file-parent
ln -s "$WORK/run/tree/cache/lib/b" tree/cache/u/abs-via-link
same_with_and_without_cache tree/cache table "csv --sort status"
t audit tree/cache --format csv
check "cache rules: kernel's answers" is "$(tail -n +2 <<<"$out" | cut -d, -f1,3 | LC_ALL=C sort | tr '\n' ' ')" \
    "tree/cache/dotdot-after-link,ok tree/cache/lib,ok tree/cache/real/a,ok tree/cache/sl,ok tree/cache/u/abs-via-link,ok tree/cache/u/dir-slash,ok tree/cache/u/file-parent,broken tree/cache/u/last-is-link,ok tree/cache/u/loop-parent,loop tree/cache/u/slash,broken tree/cache/u/via-link,ok "
rm -rf tree/cache

# As an unprivileged user the locked directory cannot be read or searched.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TETHER" audit tree --format json 2>"$WORK/stderr")
    no_bug_report "tether" "$(cat "$WORK/stderr")"
    denied=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
print([l["status"] for l in d["links"] if l["path"].endswith("/denied")][0], d["unreadable"][0]["path"], d["unreadable"][0]["errno"])' <<<"$out")
    check "denied is its own status, unreadable dir reported" is "$denied" "denied tree/locked EACCES"
    out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$TETHER" audit tree 2>&1)
    no_bug_report "tether" "$out"
    check "unreadable directory warned about" has "$out" "tether: tree/locked: cannot read this directory (EACCES)"
    check "the walk went on" has "$out" "11 links in"
    for size in 0 16384; do
        TETHER_TARGET_CACHE=$size setpriv --reuid=65534 --regid=65534 --clear-groups "$TETHER" audit tree --format json >"$WORK/cache.$size" 2>&1
    done
    check "denied: the same with and without the cache" cmp -s "$WORK/cache.0" "$WORK/cache.16384"
else
    echo "skipped: denied/unreadable checks need root to switch to an unprivileged user"
fi

t audit tree --broken --absolute
check "filters combine" is "$(grep -c ' -> ' <<<"$out")" 0
t audit tree --escapes
check "--escapes" is "$(grep -c ' -> ' <<<"$out")" 2
check "table line" has "$out" "ok      tree/sub/outside -> /etc  (absolute, escapes)"
check "summary counts" has "$out" "11 links in 17 entries under tree (2 shown): 6 ok, 2 broken, 2 loop, 0 denied, 1 error"
t audit tree/sub/ok
check "a single healthy link: exit 0" is "$rc" 0
t audit tree --format tree
check "tree format nests" has "$out" "tree/
  sub/
    "
check "tree format entry" has "$out" "
    ok -> ../file [ok]"
# The tree format under every spelling of a root (a trailing '/', '//', './', absolute,
# '.', a link to the tree, a link given as the root itself): the paths its lines add up
# to are exactly the csv's, and a link given as the root is its own line.
mkdir -p shapes/tree/sub && ln -s ../x shapes/tree/sub/l && ln -s gone shapes/tree/top
ln -s tree shapes/to-tree && ln -s gone shapes/alone
tree_paths() { # the tree format's lines, made whole paths again
    python3 -c '
import sys
lines = [l for l in sys.stdin.read().split("\n") if " -> " in l or l.endswith("/")]
stack, prefix, out = [], "", []
for l in lines:
    depth = (len(l) - len(l.lstrip(" "))) // 2
    body = l.strip()
    if depth == 0 and " -> " in body:
        out.append(body.split(" -> ")[0])
    elif depth == 0:
        prefix, stack = body, []
    elif " -> " in body:
        out.append(prefix + "".join(s + "/" for s in stack[:depth - 1]) + body.split(" -> ")[0])
    else:
        stack = stack[:depth - 1] + [body[:-1]]
print("\n".join(sorted(out)))'
}
for root in tree tree/ tree// ./tree ./tree/ "$WORK/run/shapes/tree/" . to-tree to-tree/ alone tree/top; do
    (cd shapes && "$TETHER" audit "$root" --format tree >"$WORK/tree.out" 2>"$WORK/stderr")
    rc=$?
    no_bug_report "audit $root --format tree" "$(cat "$WORK/stderr")"
    got=$(tree_paths <"$WORK/tree.out")
    want=$(cd shapes && "$TETHER" audit "$root" --format csv 2>/dev/null | tail -n +2 | cut -d, -f1 | LC_ALL=C sort)
    check "--format tree of '$root': rc 1, the csv's paths" is "$rc|$got" "1|$want"
done
(cd shapes && "$TETHER" audit alone --format tree >"$WORK/tree.out" 2>&1)
check "a link given as the root: its own line" is "$(head -n 1 "$WORK/tree.out")" "alone -> gone [broken]"
rm -rf shapes

t audit tree --format xml
check "bad format: usage error" is "$rc|$err" "2|tether: audit: --format cannot be 'xml' (one of: csv, html, json, table, tree); see tether help audit"
t audit missing-dir
check "missing path named, and a problem found (exit 1)" is "$rc|$err" "1|tether: missing-dir: no such file or directory (ENOENT)"

# Odd names survive JSON and CSV.
mkdir odd
for name in "with space" $'new\nline' "-dash" "café" $'\xff\xfe' 'quote"comma,'; do
    ln -s "target $name" "odd/$name"
done
t audit odd --format json
got=$(python3 -c '
import json, os, sys
d = json.load(sys.stdin)
print(sorted(os.fsencode(l["path"]) for l in d["links"]) == sorted(os.fsencode("odd/" + n) for n in os.listdir("odd")),
      all(os.fsencode(l["target"]) == b"target " + os.fsencode(l["path"])[4:] for l in d["links"]))' <<<"$out")
check "JSON round-trips odd names" is "$got" "True True"
t audit odd --format csv
got=$(printf '%s' "$out" | python3 -c '
import csv, io, os, sys
rows = list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape", newline="")))
print(rows[0][:3], len(rows) - 1, sorted(os.fsencode(r[0]) for r in rows[1:]) == sorted(os.fsencode("odd/" + n) for n in os.listdir("odd")))')
check "CSV header and odd names" is "$got" "['path', 'target', 'status'] 6 True"
t audit odd
check "table quotes a newline" has "$out" '"odd/new\nline" -> "target new\nline"'

# A 50-level-deep tree.
p=deep50
for i in $(seq 50); do p="$p/d$i"; done
mkdir -p "$p" && ln -s ../../../d48/d49/x "$p/bottom"
t audit deep50 --format csv
check "link 51 levels down found" has "$out" "/d50/bottom,../../../d48/d49/x,broken"

# --xdev stays on each path's filesystem (a tmpfs mounted inside the tree, as root).
mkdir -p xd/mnt && ln -s x xd/top
if mount -t tmpfs -o size=1m tmpfs xd/mnt 2>/dev/null; then
    ln -s y xd/mnt/inner
    t audit xd --xdev --format csv
    xdev_out=$out
    t audit xd --format csv
    umount xd/mnt
    check "--xdev skips the other filesystem" is "$(grep -c inner <<<"$xdev_out")|$(grep -c top <<<"$xdev_out")" "0|1"
    check "without --xdev it is walked" is "$(grep -c inner <<<"$out")" 1
else
    echo "skipped: --xdev check (mounting a tmpfs is not permitted here)"
fi

# A cycle through a followed directory link is reported, not looped in.
mkdir -p cyc/a/b && ln -s ../.. cyc/a/b/up
t -e 'for e in tether.walk("cyc", {follow = true}) do if e.error then print(e.path, e.error) end end'
check "cycle detected when following" is "$out" "cyc/a/b/up	ELOOP"

# --sort: the same order on every run, in every format that lists links.
t audit tree --sort path --format csv
check "--sort path: csv rows by path" is "$(tail -n +2 <<<"$out" | cut -d, -f1)" "$(tail -n +2 <<<"$out" | cut -d, -f1 | LC_ALL=C sort)"
first=$out
t audit tree --sort path --format csv
check "--sort path: the same twice" is "$out" "$first"
t audit tree --sort status --format csv
check "--sort status: broken first, ok last" is "$(tail -n +2 <<<"$out" | cut -d, -f3 | uniq | tr '\n' ' ')" "broken loop error ok "
t --json audit tree --sort target
check "--sort target: json by target" is "$(python3 -c 'import json,sys; t=[l["target"] for l in json.load(sys.stdin)["links"]]; print(t == sorted(t, key=lambda x: x.encode()))' <<<"$out")" True
t audit tree --sort path --format tree
check "--sort with the tree format is a usage error" is "$rc" 2

# Roots named twice, in another spelling, or inside another are walked once: each link
# counted and listed once.
mkdir -p ov/home/sub && ln -s x ov/home/a && ln -s y ov/home/sub/b && ln -s home ov/hl
t --json audit ov/hl/ ov/home ov/home/sub ov ./ov
check "overlapping roots: each link once" is "$rc|$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["summary"]["links"], len(d["links"]), len({l["path"] for l in d["links"]}))' <<<"$out")" "1|3 3 3"
rm -rf ov

finish
