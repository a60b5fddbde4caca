#!/usr/bin/env bash
# tether doctor: the probes of a filesystem, and the leftovers of real runs killed at the
# worst moment (a dedupe, an undo of a dedupe and a link --replace killed by strace at
# their rename; a migration killed by its crash hook), plus a journal that cannot be
# read. doctor lists them all (exit 1); --fix -n changes nothing; --fix removes or
# finishes each through journaled runs with every file's data whole; afterwards doctor
# finds nothing (exit 0).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT

# --- Probes, on two filesystems.
mkdir -p clean
t --json doctor clean "$shm"
check "a clean tree: exit 0" is "$rc" 0
probes=$(python3 -c '
import json, sys
d = json.load(sys.stdin)
for fs in d["filesystems"]:
    print(len(d["filesystems"]), " ".join("%s=%s" % (p["name"].replace(" ", "_"), "yes" if p["ok"] else "no") for p in fs["probes"]))
' <<<"$out" 2>&1)
check "two filesystems probed" has "$probes" "2 symlinks=yes relative_symlinks=yes hard_links=yes junctions=no"
check "case and names" has "$probes" "case-sensitive_names=yes longest_name=yes"
t doctor clean
check "the text report says what it tried" has "$out" "longest name           yes  (255 bytes)"
check "hard links: how many" has "$out" "hard links             yes  (at most "
check "the probe directory is gone" is "$(ls -A clean)" ""
check "nothing left behind" has "$out" "nothing left behind under clean"

# --- Names that are not tether's, in every shape a user could plant (in /tmp anyone can):
# each reported as not tether's, never an error, one JSON document, exit 0, and --fix
# touches none of them.
dead=$(sh -c 'echo $$') # a process that has ended
mkdir planted
for name in .tether-99999999999999999999-1.tmp .tether-1-99999999999999999999.tmp .tether-2147483648-1.tmp \
    .tether--1-1.tmp .tether-1--1.tmp .tether-0-1.tmp .tether-01-1.tmp .tether-1-.tmp .tether--.tmp .tether-.tmp \
    .tether- .tether-1e3-1.tmp ".tether- 1-1.tmp" .tether-é-1.tmp .tether-١-1.tmp $'.tether-\xff-1.tmp' \
    $'.tether-1-1.tmp\n' .tether-lock- .tether-lock-. .tether-LOCK-x .tether-probe-1-abcde .tether-probe--abcdef \
    .tether-probe-99999999999-abcdef .tether-tmp-abcde-x .tether-tmp-ABCDEF-x .tether-tmp-abcdef- .tether-copy-abcdef-x \
    .tether-report-abc123 .tether-report-1-abc12 .tether-report-1-ABC123 .tether-report--1-abc123 \
    .tether-doctor-XXXXXX .tether-doctor-99999999999999999999-abcdef; do
    touch "planted/$name" && mkdir -p "planted/d/$name"
done
before=$(snapshot planted)
planted=$(find planted -name '.tether-*' -printf x | wc -c)
t doctor --no-probe planted
check "planted names: exit 0, nothing of tether's" is "$rc|$(grep -ac '^left behind: ' <<<"$out")" "0|0"
check "each one reported as not tether's" is "$(grep -ac "^not tether's: " <<<"$out")" "$planted"
t --json doctor --no-probe planted
check "--json: one document, every name in not_ours" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["not_ours"]), len(d["leftovers"]))' <<<"$out" 2>&1)" "$planted 0"
t doctor --fix --no-probe planted
check "--fix: exit 0, nothing touched" is "$rc|$(snapshot planted)" "0|$before"

# --- Names tether makes: a live maker's are in use (--fix says so and exits 1), a dead
# one's are removed; a second doctor finds nothing.
mkdir -p made && echo data >made/file
ln -s file "made/.tether-$dead-0.tmp"
ln -s file "made/.tether-$$-7.tmp"
mkdir -m 700 "made/.tether-report-$dead-abc123" "made/.tether-doctor-$dead-x1y2z3"
echo partial >"made/.tether-report-$dead-abc123/report"
mkdir -m 700 "made/.tether-doctor-$dead-x1y2z3/a" && echo probe >"made/.tether-doctor-$dead-x1y2z3/a/file"
ln -s a/file "made/.tether-doctor-$dead-x1y2z3/rel"
t doctor --no-probe made
check "made names: exit 1, each named" is "$rc|$(grep -c "^left behind: " <<<"$out")" "1|4"
check "the live process's name is in use" has "$out" "left behind: made/.tether-$$-7.tmp: a temporary link of running process $$"
check "the report box" has "$out" "the private directory of a killed tether audit -o"
check "the doctor box" has "$out" "the probe directory of a killed tether doctor"
t --json doctor --no-probe made
check "--json: the kinds of name" is "$(python3 -c '
import json, sys
print(sorted((l["tempname"], l.get("in_use", False)) for l in json.load(sys.stdin)["leftovers"]))' <<<"$out" 2>&1)" \
    "[('doctor', False), ('report', False), ('temp', False), ('temp', True)]"
t doctor --fix --no-probe made
check "--fix: exit 1, the name in use said" is "$rc|$(grep -c '^not fixed: ' <<<"$out")" "1|1"
check "--fix: why not" has "$out" "not fixed: made/.tether-$$-7.tmp  (made/.tether-$$-7.tmp: in use (a temporary link of running process $$); left alone (EBUSY))"
check "--fix: the rest removed" is "$(ls -A made | tr '\n' ' ')" "$(printf '%s ' .tether-$$-7.tmp file)"
rm "made/.tether-$$-7.tmp"
t doctor --no-probe made
check "a second doctor: exit 0" is "$rc" 0

# --- Private directories that may not be tether's own: not removed, said why, exit 1.
for why in foreign open; do mkdir -m 700 "odd-$why" "odd-$why/.tether-report-$dead-abc123"; done
echo mine >"odd-foreign/.tether-report-$dead-abc123/secret"
chmod 755 "odd-open/.tether-report-$dead-abc123"
t doctor --fix --no-probe odd-foreign odd-open
check "boxes that may not be tether's: exit 1" is "$rc" 1
check "one holding what audit never makes" has "$out" "secret: not something tether report makes there; left alone (EBUSY)"
check "one that is not private" has "$out" "is not private (mode 755), as tether makes it; left alone (EBUSY)"
check "both left" is "$(cat "odd-foreign/.tether-report-$dead-abc123/secret")|$(ls -d odd-open/.tether-* | wc -l)" "mine|1"
# Every other shape --fix cannot prove is its to remove: each said why, each left, exit 1.
mkdir -p shapes && echo data >shapes/file
touch "shapes/.tether-report-$dead-abc123"                    # a report "directory" that is a file
mkdir "shapes/.tether-$dead-3.tmp"                            # a temporary name as a directory
touch "shapes/.tether-probe-abcdef-file"                      # a probe no journal has
mkdir "shapes/.tether-tmp-abcdef-file"                        # a migration's name no journal has
echo "lone copy" >"shapes/.tether-$dead-4.tmp"                # a copy with no twin beside it
before=$(snapshot shapes)
t doctor --fix --no-probe shapes
check "shapes --fix cannot prove: exit 1, each one said" is "$rc|$(grep -c '^not fixed: ' <<<"$out")" "1|5"
for why in "is not a directory, which is all tether makes under this name" "tether makes this name only for links and files" \
    "no journal names it" \
    "a temporary copy with no file of the same bytes beside it"; do
    check "said: $why" has "$out" "$why"
done
check "all of them left as they were" is "$(snapshot shapes)" "$before"

if ! command -v strace >/dev/null || [ "$(id -u)" -ne 0 ]; then
    skip_all "leftovers of killed runs need root and strace"
fi
export ASAN_OPTIONS=detect_leaks=0 # LeakSanitizer cannot work under ptrace
# kill_at_rename ARGS...: tether ARGS, killed by SIGKILL when it first renames.
kill_at_rename() {
    strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
        -e inject=rename,renameat,renameat2:signal=KILL:when=1 "$TETHER" "$@" >/dev/null 2>&1
}

# A private directory of another user's killed audit: theirs to clear, not root's.
mkdir -p others && mkdir -m 700 "others/.tether-report-$dead-abc123" && chown 65534:65534 "others/.tether-report-$dead-abc123"
t doctor --fix --no-probe others
check "another user's private directory: left, said why, exit 1" is "$rc|$(ls -A others | wc -l)" "1|1"
check "said whose it is" has "$out" "belongs to another user (uid 65534), whose run made it: run tether doctor --fix as that user; left alone (EBUSY)"

# --- Leftovers of killed runs.
mkdir -p tree/dd tree/ll tree/uu
for i in 1 2 3; do echo "same bytes" > "tree/dd/copy$i"; done
kill_at_rename dedupe --ignore-mtime tree/dd
check "a killed dedupe left a temporary hard link" is "$(ls -A tree/dd | grep -c '^\.tether-.*\.tmp$')" 1
for i in 1 2; do echo "shared" > "tree/uu/u$i"; done
t dedupe --ignore-mtime tree/uu
kill_at_rename undo --yes
check "a killed undo of dedupe left a temporary copy" is "$(ls -A tree/uu | grep -c '^\.tether-.*\.tmp$')" 1
ln -s old tree/ll/link
kill_at_rename link --replace new tree/ll/link
check "a killed link --replace left a temporary link" is "$(find tree/ll -name '.tether-*' -type l | wc -l)" 1
mkdir -p tree/src/sub && head -c 100000 /dev/urandom > tree/src/sub/big && echo small > tree/src/small
cp -a tree/src pristine-src
TETHER_CRASH_AT=copy:1 "$TETHER" -q migrate tree/src "$shm/dest" >/dev/null 2>&1
check "a killed migration left no lock in the tree" is "$(ls -A tree | grep -c '^\.tether-lock')" 0
kill_at_rename audit tree/dd -o tree/r.txt
check "a killed audit -o left its private directory" is "$(ls -A tree | grep -c '^\.tether-report-')" 1
strace -f -o /dev/null -e trace=symlink,symlinkat -e inject=symlink,symlinkat:signal=KILL:when=1 \
    "$TETHER" doctor tree >/dev/null 2>&1
check "a killed doctor left its probe directory" is "$(ls -A tree | grep -c '^\.tether-doctor-')" 1
mid=$(python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin)["runs"] if not r["ended"]][0])' <<<"$("$TETHER" --json migrate --status 2>/dev/null)")
# A journal that cannot be read.
jdir=$XDG_STATE_HOME/tether/journal
cp "$(ls "$jdir"/*.jsonl | head -n 1)" "$jdir/20991231-000000-000000-ba.jsonl"
sed -i '1s/^/not json\n/' "$jdir/20991231-000000-000000-ba.jsonl"

contents() { find tree "$shm" -type f ! -name '.tether-*' -exec cat {} + 2>/dev/null | md5sum; }
before_fix=$(snapshot tree; ls -A "$shm")
t doctor tree "$shm"
check "doctor finds problems: exit 1" is "$rc" 1
check "it names the temporary hard link" has "$out" "a temporary hard link"
check "the temporary copy" has "$out" "a temporary copy"
check "the temporary link" has "$out" "a temporary link"
check "the unfinished migration and its next command" has "$out" "(migrate, "
check "the undo stopped part-way" has "$out" "undo stopped part-way); next: tether undo "
check "the journal that cannot be read" has "$out" "20991231-000000-000000-ba.jsonl"
check "the killed audit's report" has "$out" "the private directory of a killed tether audit -o"
check "the killed doctor's probes" has "$out" "the probe directory of a killed tether doctor"
t --json doctor tree "$shm"
check "--json: the same leftovers" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["leftovers"]) >= 4, len(d["runs"]), len(d["unreadable"]))' <<<"$out")" "True 2 1"

# The shapes of docs/json.md: leftovers, runs, and (with --fix -n) one fix per leftover.
json_shapes='
import json, sys
d = json.load(sys.stdin)
bad = [k for l in d["leftovers"] for k in l if k not in ("path", "type", "tempname", "role", "pid", "run", "in_use", "description")]
bad += [k for f in d["fixed"] for k in f if k not in ("path", "run", "command", "why", "ok", "error")]
bad += ["error is not an object" for f in d["fixed"] if "error" in f and "message" not in f["error"]]
bad += ["in_use is not a boolean" for l in d["leftovers"] if not isinstance(l["in_use"], bool)]
print(bad, isinstance(d["not_ours"], list), len(d["fixed"]) >= len(d["leftovers"]) if d["fixed"] else "-")'
check "--json: the documented shapes" is "$(python3 -c "$json_shapes" <<<"$out" 2>&1)" "[] True -"
t --json doctor --fix -n tree "$shm"
check "--json --fix -n: the documented shapes, a fix for each" is "$(python3 -c "$json_shapes" <<<"$out" 2>&1)" "[] True True"

t doctor --fix -n tree "$shm"
check "--fix -n changes nothing" is "$(snapshot tree; ls -A "$shm")" "$before_fix"
check "--fix -n says what it would do" has "$out" "would fix: "

t doctor --fix tree "$shm"
no_bug_report "doctor --fix" "$err"
check "--fix: exit 1 while a journal cannot be read" is "$rc" 1
check "--fix says which command took the migration further, and why" has "$out" \
    "fixed: tether migrate --resume $mid  (it stopped while migrating (at copy): resumed, to complete the move it was started for (tether undo $mid takes it back))"
check "--fix says it finished the undo, and why" has "$out" "(its undo stopped part-way: the undo is finished)"
check "--fix removed the killed runs' private directories" is "$(grep -c '(process [0-9]* that made it is gone)' <<<"$out")" 2
check "no .tether- name is left" is "$(find tree "$shm" -name '.tether-*' | wc -l)" 0
check "the deduplicated files are whole" is "$(cat tree/dd/copy1 tree/dd/copy2 tree/dd/copy3)" "same bytes
same bytes
same bytes"
check "the unshared files are whole" is "$(cat tree/uu/u1 tree/uu/u2)" "shared
shared"
check "the link is as before or as asked" has "old new" "$(readlink tree/ll/link)"
# The migration went one way or the other, and its data is whole.
check "the migrated folder is whole" is "$(cd tree/src && find . -type f -exec md5sum {} + | sort)" "$(cd pristine-src && find . -type f -exec md5sum {} + | sort)"
t --json migrate --status
check "no migration is left unfinished" is "$(python3 -c 'import json,sys; print([r["ended"] for r in json.load(sys.stdin)["runs"]])' <<<"$out")" "[True]"
# The fix is a journaled run: undo brings the temporary names back (as names of their
# twins), and doctor --fix takes them away again.
id=$(python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin)["runs"] if r["recipe"] == "doctor"][-1])' <<<"$("$TETHER" --json history 2>/dev/null)")
t undo --yes "$id"
check "undo of doctor's run: the names are back" is "$rc|$(find tree -name '.tether-*.tmp' -type f | wc -l)" "0|2"
t doctor --fix tree
check "and doctor --fix takes them again" is "$(find tree -name '.tether-*' | wc -l)" 0
rm "$jdir/20991231-000000-000000-ba.jsonl"
t doctor tree "$shm"
check "afterwards nothing is left: exit 0" is "$rc|$(grep -c 'left behind:' <<<"$out")" "0|0"

# tmpfs keeps no limit of hard links of its own (pathconf answers a default of 127).
lm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
t --json doctor "$lm"
check "tmpfs: hard links without the pathconf default's limit" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print([p["detail"] for p in d["filesystems"][0]["probes"] if p["name"] == "hard links"][0])' <<<"$out" | grep -c 127)" 0
rm -rf "$lm"

finish
