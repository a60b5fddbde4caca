#!/usr/bin/env bash
# The link, unlink and inspect recipes, end to end: every link kind the platform has,
# --replace over a link (atomic) and over a real file (refused), dry runs, JSON output.
. "$(dirname "$0")/lib.sh"

mkdir dir && echo data > dir/file && echo solo > file

t link dir/file abs-by-name
check "symlink created" is "$rc|$(readlink abs-by-name)" "0|dir/file"
check "symlink reads through" is "$(cat abs-by-name)" "data"
t link --dir "$WORK/run/dir" dirlink
check "dir symlink" is "$rc|$(readlink dirlink)" "0|$WORK/run/dir"
mkdir -p deep/er && ln -s deep/er via
t link --relative dir/file via/rel
check "relative from the real parent" is "$rc|$(readlink deep/er/rel)" "0|../../dir/file"
check "relative resolves" is "$(cat via/rel)" "data"
t link --hard file hard
check "hard link" is "$rc|$(stat -c %i file)" "0|$(stat -c %i hard)"
t link --junction "$WORK/run/dir" junction
check "junction refused on POSIX" is "$rc" 3
check "junction message" has "$err" "junction: junctions are an NTFS feature"
check "junction left nothing" is "$(ls -d junction 2>/dev/null)" ""
t link --hard --junction file x
check "exclusive flags" is "$rc" 2

# --replace over a link is atomic: a reader never sees the name missing.
ln -s dir/file swap
( for _ in $(seq 2000); do [ -L swap ] || { echo MISSING; break; }; done ) > watcher.out &
watcher=$!
for i in $(seq 30); do "$TETHER" -q link --replace "target-$i" swap || break; done
wait $watcher
check "replace keeps the name present" is "$(cat watcher.out)" ""
check "replace retargets" is "$(readlink swap)" "target-30"
check "no temporary names left" is "$(ls -A | grep -c '^\.tether')" 0

t link new-target swap
check "existing link without --replace" is "$rc|$(readlink swap)" "3|target-30"
check "existing link hint" has "$err" "(EEXIST); replace it with --replace"

echo source >hsrc
before=$(snapshot .)
t link --replace elsewhere file
check "replace over a real file refused" is "$rc" 3
check "replace refusal message" has "$err" "tether: file: is a real file, not a link; tether never replaces or removes one (ENOTLINK)"
t link -T --replace elsewhere dir
check "replace over a real dir refused (-T)" is "$rc" 3
# Without --replace over what is not a link: said so, and --replace is not offered (it
# would refuse too), for each kind of link asked and each real thing there.
for how in "" --hard --dir; do
    t link $how hsrc file
    check "link $how over a real file: exit 3, named as a real file, no --replace hint" \
        is "$rc|$err" "3|tether: file: is a real file, not a link; tether never replaces one (EEXIST)"
    t link $how -T hsrc dir
    check "link $how -T over a real directory: named as a real directory, no --replace hint" \
        is "$rc|$err" "3|tether: dir: is a real directory, not a link; tether never replaces one (EEXIST)"
done
check "real file and dir untouched" is "$(snapshot .)|$(cat file)" "$before|solo"

t -n link dir/file dry-link
check "dry run prints the plan" is "$out|$rc" "would create symlink dry-link -> dir/file|0"
t link --dry-run --replace x file
check "dry run still checks" is "$rc" 3
check "dry run changed nothing" is "$(snapshot .)" "$before"

t link --json dir/file jlink
check "link --json" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); a=d["actions"][0]; print(d["recipe"], d["changed"], a["op"], a["target"], a["status"], "id" in d)' <<<"$out")" "link True symlink dir/file done True"

# inspect
ln -s gone broken
ln -s loop-b loop-a && ln -s loop-a loop-b
t inspect abs-by-name
check "inspect ok link" has "$out" "status:   ok"
check "inspect shows resolved target" has "$out" "resolves: $WORK/run/dir/file"
check "inspect ok exit 0" is "$rc" 0
t inspect broken loop-a file
check "inspect statuses" has "$out" "status:   broken (ENOENT)"
check "inspect loop" has "$out" "status:   loop (ELOOP)"
check "inspect problems exit 1" is "$rc" 1
t inspect --json abs-by-name broken hard dirlink/
parsed=$(python3 -c '
import json, sys
for d in json.load(sys.stdin)["paths"]:
    print(d["path"], d["type"], d.get("target"), d.get("status"), d["nlink"])' <<<"$out")
check "inspect --json parsed back" is "$parsed" "abs-by-name symlink dir/file ok 1
broken symlink gone broken 1
hard file None None 2
dirlink/ symlink $WORK/run/dir ok 1"
# mode as stat(1) prints it, for every kind of entry
chmod 0640 hard && mkdir -p modes && chmod 2751 modes
t inspect --json hard modes abs-by-name
modes=$(python3 -c 'import json, sys; print(" ".join(d["mode"] for d in json.load(sys.stdin)["paths"]))' <<<"$out")
check "inspect --json gives modes as stat(1) does" is "$modes" "$(stat -c %04a hard modes abs-by-name | tr '\n' ' ' | sed 's/ $//')"
t -v inspect hard
check "inspect -v shows the same mode" has "$out" "mode 0640,"

# unlink
before=$(snapshot dir)
t unlink dirlink/
check "unlink dir symlink (trailing slash)" is "$rc|$(ls -d dirlink 2>/dev/null)" "0|"
check "target dir intact" is "$(snapshot dir)" "$before"
t unlink abs-by-name broken nonexistent dir/file
check "one bad path: nothing removed" is "$rc|$(readlink abs-by-name)|$(readlink broken)" "3|dir/file|gone"
check "every problem reported" has "$err" "nonexistent: no such file or directory (ENOENT)"
check "real file reported" has "$err" "dir/file: is a real file, not a link; tether never removes real files (ENOTLINK)"
t unlink hard
check "hard link needs --hard" is "$rc|$(cat hard)" "3|solo"
t unlink --hard hard
check "unlink --hard" is "$rc|$(ls hard 2>/dev/null)|$(cat file)" "0||solo"
t -n unlink broken loop-a
check "dry unlink" is "$out|$(readlink broken)" "would remove broken
would remove loop-a|gone"
t unlink --json broken loop-a
check "unlink --json" is "$(python3 -c 'import json,sys; print([a["path"].split("/")[-1] for a in json.load(sys.stdin)["actions"]])' <<<"$out")" "['broken', 'loop-a']"

# link and unlink of symbolic links are journaled: undo takes them back.
t undo
check "undo of unlink puts the links back" is "$rc|$(readlink broken)|$(readlink loop-a)" "0|gone|loop-b"
t link --replace elsewhere broken
t undo
check "undo of link --replace restores the old target" is "$rc|$(readlink broken)" "0|gone"
t link dir/file fresh
t undo
check "undo of link removes it" is "$rc|$(ls fresh 2>/dev/null)" "0|"

# inspect --chain: every hop, as namei shows them: a relative link in a symlinked parent,
# a loop, and (as an unprivileged user) a hop into a directory that cannot be searched.
mkdir -p chain/real/b chain/t chain/locked/inner && echo x > chain/t/file
ln -s real chain/a && ln -s ../../t/file chain/real/b/link
ln -s l2 chain/l1 && ln -s l1 chain/l2
ln -s ../locked/inner chain/t/into-locked
t --json inspect --chain chain/a/b/link chain/l1
hops=$(python3 -c '
import json, sys
for p in json.load(sys.stdin)["paths"]:
    print(" | ".join("%s -> %s %s" % (h["path"].split("/chain/")[1], h.get("target"), h["status"]) for h in p["chain"]),
          "=>", p.get("ends", {}).get("type"))' <<<"$out")
check "chain through a symlinked parent, then a loop" is "$hops" "a -> real ok | real/b/link -> ../../t/file ok => file
l1 -> l2 loop | l2 -> l1 loop | l1 -> l2 loop => None"
t inspect --chain chain/a/b/link
check "the text form numbers the hops" has "$out" "2. $WORK/run/chain/real/b/link -> ../../t/file  (ok)"
check "and says where it ends" has "$out" "ends at: $WORK/run/chain/t/file (file)"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$WORK" "$WORK/run" && chmod 700 chain/locked
    out=$(setpriv --reuid 65534 --regid 65534 --clear-groups "$TETHER" --json inspect --chain chain/t/into-locked/x 2>/dev/null)
    check "a hop into a directory that cannot be searched is denied" is \
        "$(python3 -c 'import json,sys; c=json.load(sys.stdin)["paths"][0]["chain"]; print(c[0]["target"], c[-1]["status"], c[-1]["errno"])' <<<"$out" 2>&1)" \
        "../locked/inner denied EACCES"
    chmod 755 chain/locked
else
    echo "skipped: the denied hop needs root to switch to an unprivileged user"
fi

# ln's habits: a directory as PATH gets the link inside it, named as TARGET's last name;
# several TARGETs go into one directory; -t DIR names it first; -T refuses a directory;
# a link to a directory is the link itself (ln -n).
mkdir -p into multi
t link /etc/hosts into
check "link TARGET DIR makes DIR/NAME" is "$rc|$(readlink into/hosts)" "0|/etc/hosts"
t link /etc/hosts into
check "again: already there" is "$rc|$out" "0|already there: symlink into/hosts -> /etc/hosts"
t link /etc/hosts /etc/passwd dir/file/ multi
check "several TARGETs into one DIR" is "$rc|$(readlink multi/hosts)|$(readlink multi/passwd)|$(readlink multi/file)" "0|/etc/hosts|/etc/passwd|dir/file/"
t undo
check "one run: one undo takes all three back" is "$rc|$(ls multi | wc -l)" "0|0"
t link -t multi /etc/hosts ../x
check "-t DIR TARGET..." is "$rc|$(readlink multi/hosts)|$(readlink multi/x)" "0|/etc/hosts|../x"
t link /etc/hosts /etc/passwd file
check "several TARGETs need a directory" is "$rc|$(has "$err" "file: is not a directory, and several TARGETs need one" && echo named)" "2|named"
t link /etc/hosts /etc/motd.d/../hosts multi2
check "a missing DIR for several TARGETs" is "$rc|$(has "$err" "(ENOENT)" && echo named)" "2|named"
t link -T /etc/hosts into
check "-T refuses a directory" is "$rc|$(ls into)" "3|hosts"
t link a b -T c
check "-T takes two arguments" is "$rc" 2
t link / into
check "no last name to call a link by" is "$rc|$(has "$err" "has no last name" && echo named)" "2|named"
t link /etc/hosts x/hosts multi
check "two links of the same name refused" is "$rc|$(has "$err" "two TARGETs would make the same link" && echo named)" "2|named"
ln -s into dirlink2
t link --replace /etc/passwd dirlink2
check "a link to a directory is the link itself (ln -n)" is "$rc|$(readlink dirlink2)|$(ls into)" "0|/etc/passwd|hosts"
ln -s into dirlink3
t link /etc/passwd dirlink3/
check "DIR/: a link to a directory written with a slash is where it leads, as ln" is "$rc|$(readlink dirlink3)|$(readlink into/passwd)" "0|into|/etc/passwd"
rm into/passwd dirlink3
t --json link /etc/group /etc/hosts into
check "--json lists each link" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["changed"], [(a["path"].split("/")[-1], a["status"]) for a in d["actions"]])' <<<"$out")" \
    "True [('group', 'done'), ('hosts', 'unchanged')]"
t link --hard file dir
check "--hard into a directory" is "$rc|$(stat -c %i dir/file)" "3|$(stat -c %i dir/file)"
mkdir -p hdir && t link --hard file hdir
check "--hard into a directory makes DIR/NAME" is "$rc|$(stat -c %i hdir/file)" "0|$(stat -c %i file)"

finish
