#!/usr/bin/env bash
# tether apply where paths are spelled through links and where declarations are not what
# they seem: one path named two ways (through a symlinked directory) is declared twice;
# a directory reached through a root-owned link (/var/run -> ../run) is a directory; a
# link of another user on the way is not followed; NUL bytes and keys given twice (JSON
# and Lua) are errors naming the item; a run whose only change the system refuses
# changed nothing: exit 3, changed false, no journal (as every recipe).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

tree() { snapshot . | grep -v -E '^\./[^/]+\.(json|lua)\|'; } # the declarations left out
journals() { find "$XDG_STATE_HOME/tether/journal" -name '*.jsonl' 2>/dev/null | wc -l; }
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$out"; }

# One path, two spellings: srv/alias is a link to srv/real.
mkdir -p srv/real/sub && ln -s real srv/alias
for kinds in "links links" "dirs links" "absent links" "links absent" "dirs dirs"; do
    set -- $kinds
    item() { case $1 in links) echo "{\"path\": \"$2\", \"target\": \"x\"}" ;; *) echo "\"$2\"" ;; esac; }
    if [ "$1" = "$2" ]; then
        echo "{\"$1\": [$(item "$1" srv/alias/sub/l), $(item "$2" srv/real/sub/l)]}" > twice.json
    else
        echo "{\"$1\": [$(item "$1" srv/alias/sub/l)], \"$2\": [$(item "$2" srv/real/sub/l)]}" > twice.json
    fi
    before=$(tree)
    t --json apply twice.json --check
    check "$kinds, one path spelled two ways: --check refuses (exit 3)" is "$rc" 3
    reasons=$(field '[i["reason"] for i in d["items"] if i.get("reason")]' | sed "s#$WORK/run/##g")
    # (whichever is planned second names the first, as it is spelled)
    check "$kinds: the second spelling named, with the first" \
        eval '[[ $reasons =~ ^\[.srv/(alias|real)/sub/l\ is\ declared\ twice\ \(also\ [a-z]+\[[12]\],\ as\ srv/(alias|real)/sub/l\).\]$ && ${BASH_REMATCH[1]} != "${BASH_REMATCH[2]}" ]]'
    t --json apply twice.json
    check "$kinds: apply refuses alike, changing nothing, no journal" is "$rc|$(field 'd["changed"]')|$(tree)|$(journals)" "3|False|$before|0"
done
# The same path spelled twice as typed is a mistake in the declaration itself (exit 2).
echo '{"links": [{"path": "srv/real/l", "target": "x"}, {"path": "srv/./real/l", "target": "y"}]}' > typed.json
t apply typed.json
check "one path typed twice: a usage error naming both" is "$rc|$err" \
    "2|tether: apply: typed.json: links[2]: $WORK/run/srv/real/l is declared twice (also links[1])"

# A link in a directory reached through a root-owned link (as /var/run -> /run on Debian).
if [ "$(id -u)" = 0 ]; then
    mkdir -p sb/run sb/var && ln -s ../run sb/var/run
    echo '{"links": [{"path": "sb/var/run/x", "target": "y"}], "dirs": ["sb/var/run", "sb/var/run/d"],
           "absent": ["sb/var/run/old"]}' > run.json
    ln -s gone sb/run/old
    t apply run.json --check
    check "through a root-owned link: --check accepts it" is "$rc" 0
    check "--check names the real place" has "$out" "+ symlink $WORK/run/sb/run/x -> y"
    t --json apply run.json
    check "through a root-owned link: made" is "$rc|$(readlink sb/run/x)|$(test -d sb/run/d && echo d)|$(test -L sb/run/old || echo gone)" "0|y|d|gone"
    id=$(field 'd["id"]')
    t --json apply run.json
    check "a second apply: nothing to do" is "$rc|$(field 'd["changed"]')" "0|False"
    t undo "$id"
    check "undone" is "$rc|$(test -e sb/run/x || echo gone)|$(test -e sb/run/d || echo gone)|$(readlink sb/run/old)" "0|gone|gone|gone"
    # The system's own /var/run, where it is a link.
    if [ -L /var/run ]; then
        name="tether-e2e-$$"
        trap 'rm -f "/run/$name"; cleanup' EXIT
        echo "{\"links\": [{\"path\": \"/var/run/$name\", \"target\": \"$WORK/run\"}]}" > varrun.json
        t --json apply varrun.json
        check "/var/run/NAME: made in /run" is "$rc|$(readlink "/run/$name")" "0|$WORK/run"
        id=$(field 'd["id"]')
        t --json apply varrun.json
        check "/var/run/NAME: a second apply changes nothing" is "$rc|$(field 'd["changed"]')" "0|False"
        t undo "$id"
        check "/var/run/NAME: undone" is "$rc|$(test -L "/run/$name" || echo gone)" "0|gone"
    fi
    # Another user's link on the way could lead anywhere a moment later: not followed.
    mkdir -p theirs/dir && ln -s dir theirs/link && chown -h 65534:65534 theirs/link
    echo '{"links": [{"path": "theirs/link/x", "target": "y"}]}' > theirs.json
    before=$(tree)
    t apply theirs.json --check
    check "another user's link on the way: refused" is "$rc" 3
    check "another user's link: named, with why" has "$err" "$WORK/run/theirs/link: is a link that belongs to another user, who could point it anywhere; not followed (EPERM)"
    t apply theirs.json
    check "another user's link: apply refuses alike, nothing changed" is "$rc|$(tree)" "3|$before"
    # Root's own link in a directory another user can write: that user may have moved it
    # there (a link root's undo re-made in their tree, say) to lead root anywhere.
    mkdir -p rootonly/sub theirs2 && chmod 700 rootonly && ln -s /srv/x rootonly/sub/old
    chown 65534:65534 theirs2 && ln -s "$WORK/run/rootonly/sub" theirs2/cfg
    echo '{"absent": ["theirs2/cfg/old"]}' > theirs2.json
    before=$(tree)
    t apply theirs2.json
    check "root's link in another user's directory: refused, nothing changed" is "$rc|$(tree)" "3|$before"
    check "root's link in another user's directory: named, with why" has "$err" \
        "$WORK/run/theirs2/cfg: is a link in a directory another user can write, who could have put it there; not followed (EPERM)"
    rm -rf rootonly theirs2 theirs2.json
    # A user's own link in their own group-writable directory (umask 002) is theirs to follow.
    chmod 755 "$WORK" "$WORK/run" && mkdir -p -m 775 mine/real && ln -s real mine/via && chown -R 65534:65534 mine && chown -h 65534:65534 mine/via
    echo '{"links": [{"path": "mine/via/l", "target": "x"}]}' > mine.json && chmod 644 mine.json
    out=$(setpriv --reuid 65534 --regid 65534 --clear-groups env XDG_STATE_HOME="$WORK/run/mine/st" "$TETHER" apply mine.json 2>&1)
    check "a user's own link in their group-writable directory: followed" is "$?|$(readlink mine/real/l)" "0|x"
    rm -rf mine mine.json
else
    echo "skipped: a link owned by root and one of another user (needs root)"
fi

# NUL bytes: no path holds one; keys given twice: the first would be dropped unseen.
before=$(tree)
n=$(journals)
bad() { # bad FILE WANT-IN-STDERR NAME
    t apply "$1"
    check "$3: a usage error (exit 2)" is "$rc" 2
    check "$3: named" has "$err" "$2"
    check "$3: nothing changed" is "$(tree)|$(journals)" "$before|$n"
}
printf '%s\n' '{"links": [{"path": "a\u0000b", "target": "x"}]}' > nul1.json
bad nul1.json "nul1.json: links[1]: path holds a NUL byte (\\0), which no path can" "a NUL in a JSON path"
printf '%s\n' '{"links": [{"path": "ok", "target": "x\u0000"}]}' > nul2.json
bad nul2.json "links[1]: target holds a NUL byte" "a NUL in a JSON target"
printf '%s\n' '{"farms": [{"dir": "s", "target": "t", "packages": ["vim", "g\u0000it"]}]}' > nul3.json
bad nul3.json "farms[1]: packages[2] holds a NUL byte" "a NUL in a package name"
printf '%s\n' 'return { dirs = { "ok", "a\0b" } }' > nul4.lua
bad nul4.lua "nul4.lua: dirs[2]: path holds a NUL byte" "a NUL in a Lua path"
printf '%s\n' 'return { migrations = { { from = "a", to = "b\0" } } }' > nul5.lua
bad nul5.lua "migrations[1]: to holds a NUL byte" "a NUL in a migration's to"
printf '%s\n' '{"links": [{"path": "a", "target": "x"}], "links": [{"path": "b", "target": "y"}]}' > dup1.json
bad dup1.json 'dup1.json: not valid JSON: duplicate key "links" at byte 43' "a kind given twice in JSON"
printf '%s\n' '{"links": [{"path": "a", "target": "x"}, {"path": "b", "target": "y", "path": "c"}]}' > dup2.json
bad dup2.json 'not valid JSON: duplicate key "path" in links[2] at byte' "a field given twice in JSON"
printf '%s\n' 'return {' '  links = { { path = "a", target = "x" } },' '  links = { { path = "b", target = "y" } },' '}' > dup3.lua
bad dup3.lua "dup3.lua:3: 'links' is given twice in one table (also on line 2); Lua would keep only the last" "a kind given twice in Lua"
printf '%s\n' 'return { dirs = { "d" }, links = {' '  { path = "a", target = "x", ["path"] = "b" } } }' > dup4.lua
bad dup4.lua "dup4.lua:2: 'path' is given twice in one table" "a field given twice in Lua"
# Not duplicates: the same key in two tables, a key in a string or a comment, a field
# set twice by code (which is the code's to decide), a function body inside a table.
cat > notdup.lua <<'EOF'
local t = { path = "x" }; t.path = "y"
-- links = {}, links = {}
local s = "links = {}, links = {}"
local f = { run = function() local a = {}; a.b = 1; a.b = 2 return a end, again = [[ path = 1, path = 2 ]] }
return { dirs = { "nd1" }, links = { { path = "nl", target = "x" }, { path = "nl2", target = "x" } } }
EOF
t apply notdup.lua --check
check "no key given twice: accepted" is "$rc" 0

# Migrations run first; the rest is planned again once they have. Real data put where a
# link is declared while the migration ran: that link fails (nothing over real data),
# the migration stays, kept in one run that tether undo takes back (exit 4: part-way).
mkdir -p mig/src && echo keep > mig/src/data
echo '{"migrations": [{"from": "mig/src", "to": "mig/dest"}], "links": [{"path": "mig/l", "target": "dest"}]}' > race.json
TETHER_TEST_AT="link:done=echo mine > $WORK/run/mig/l" t --json apply race.json
check "changed during the migration: part-way (exit 4), changed" is "$rc|$(field 'd["changed"], len(d["migrations"])')" "4|(True, 1)"
check "changed during the migration: each item's outcome" is \
    "$(field '[(i["item"], i["status"], i.get("reason")) for i in d["items"]]' | sed "s#$WORK/run/##g")" \
    "[('migrations[1]', 'changed', None), ('links[1]', 'failed', 'mig/l is a real file: a link is never put over real data')]"
check "changed during the migration: the real data untouched" is "$(cat mig/l)|$(readlink mig/src)" "mine|$WORK/run/mig/dest"
t undo "$(field 'd["id"]')"
check "changed during the migration: undo takes the migration back" is "$rc|$(cat mig/src/data)|$(test -e mig/dest || echo gone)" "0|keep|gone"

# A run whose only change the system refuses changed nothing: exit 3, changed false, no
# journal, as tether link does for the same; and one that made something besides is
# part-way (exit 4), journaled.
refused_as() { setpriv --reuid 65534 --regid 65534 --clear-groups env XDG_STATE_HOME="$WORK/nobody-state" "$TETHER" "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
    chmod 755 "$WORK" "$WORK/run"
    mkdir -p ro rw "$WORK/nobody-state" && chmod 555 ro && chmod 777 rw && chown 65534:65534 "$WORK/nobody-state"
    echo '{"links": [{"path": "ro/l", "target": "x"}]}' > only.json && chmod 644 only.json
    out=$(refused_as --json apply only.json 2>"$WORK/stderr"); rc=$?; err=$(cat "$WORK/stderr")
    no_bug_report "apply (its only change refused)" "$err"
    check "only change refused (EACCES): exit 3, changed false, nothing done" is "$rc|$(field 'd["changed"], d["done"], d["exit"], d["error"]["errno"]')" \
        "3|(False, 0, 3, 'EACCES')"
    check "only change refused: the item failed with the reason" has "$(field 'd["items"][0]["reason"]')" "permission denied (EACCES)"
    check "only change refused: no journal written" is "$(find "$WORK/nobody-state" -name '*.jsonl' | wc -l)" 0
    out=$(refused_as apply only.json 2>&1); rc=$?
    check "only change refused, text: nothing changed, said so" is "$rc" 3
    check "only change refused, text: the summary" has "$out" "apply: nothing changed: 1 change refused"
    out=$(refused_as --json link x ro/l2 2>/dev/null); rc=$?
    check "tether link, the same refusal: exit 3 too" is "$rc" 3
    echo '{"links": [{"path": "ro/l", "target": "x"}, {"path": "rw/l", "target": "x"}]}' > half.json && chmod 644 half.json
    out=$(refused_as --json apply half.json 2>/dev/null); rc=$?
    check "one refused, one made: part-way (exit 4), changed" is "$rc|$(field 'd["changed"], d["done"]')" "4|(True, 1)"
    check "one refused, one made: journaled" is "$(find "$WORK/nobody-state" -name '*.jsonl' | wc -l)" 1
    # Every recipe: a retarget whose only change is refused changed nothing either.
    mkdir -p rt && ln -s /nowhere/old/x rt/l
    out=$(refused_as --json retarget rt --from /nowhere/old --to "$WORK/run/rw" --allow-broken 2>/dev/null); rc=$?
    check "retarget, its only change refused: exit 3, changed false" is "$rc|$(field 'd["changed"]')" "3|False"
    check "retarget refused: no journal" is "$(find "$WORK/nobody-state" -name '*.jsonl' | wc -l)" 1
    chmod 755 ro
else
    echo "skipped: a change the system refuses (needs root and setpriv to drop to an unprivileged user)"
fi
# tether unlink whose one removal the system refuses as it acts (its checks passed).
if command -v strace >/dev/null; then
    ln -s x gone-not
    n=$(journals)
    out=$(ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e trace=unlinkat -e inject=unlinkat:error=EIO:when=1 \
        "$TETHER" --json unlink gone-not 2>"$WORK/stderr"); rc=$?
    no_bug_report "unlink (its one removal refused)" "$(cat "$WORK/stderr")"
    check "tether unlink, its only removal refused: exit 3, changed false, no journal" \
        is "$rc|$(field 'd["changed"], d["done"]')|$(journals)|$(readlink gone-not)" "3|(False, 0)|$n|x"
fi
# The same as root: an immutable directory (where the filesystem has chattr +i).
mkdir -p imm
if [ "$(id -u)" = 0 ] && chattr +i imm 2>/dev/null; then
    echo '{"links": [{"path": "imm/l", "target": "x"}]}' > imm.json
    n=$(journals)
    t --json apply imm.json
    check "immutable directory, only change refused (EPERM): exit 3, changed false" is "$rc|$(field 'd["changed"], d["error"]["errno"]')" "3|(False, 'EPERM')"
    check "immutable directory: no journal" is "$(journals)" "$n"
    chattr -i imm
else
    echo "skipped: chattr +i (not root, or the filesystem has no immutable flag)"
fi

finish
