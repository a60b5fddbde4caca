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

if ! command -v strace >/dev/null || [ "$(id -u)" -ne 0 ]; then
    echo "skipped: leftovers of killed runs need root and strace"
    finish; exit
fi
export ASAN_OPTIONS=detect_leaks=0 # LeakSanitizer cannot work under ptrace
# kill_at_rename ARGS...: tether ARGS, killed by SIGKILL when it first renames.
kill_at_rename() {
    strace -f -o /dev/null -e trace=rename,renameat,renameat2 \
        -e inject=rename,renameat,renameat2:signal=KILL:when=1 "$TETHER" "$@" >/dev/null 2>&1
}

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
t --json doctor tree "$shm"
check "--json: the same leftovers" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["leftovers"]) >= 4, len(d["runs"]), len(d["unreadable"]))' <<<"$out")" "True 2 1"

t doctor --fix -n tree "$shm"
check "--fix -n changes nothing" is "$(snapshot tree; ls -A "$shm")" "$before_fix"
check "--fix -n says what it would do" has "$out" "would fix: "

t doctor --fix tree "$shm"
no_bug_report "doctor --fix" "$err"
check "--fix: exit 1 while a journal cannot be read" is "$rc" 1
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

finish
