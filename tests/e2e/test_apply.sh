#!/usr/bin/env bash
# tether apply: a declaration of every item kind applied to a sandbox, then again (no
# change, no journal), --check after a manual change (exactly that change), conflicts
# (the whole apply refused, nothing changed), undo (everything back, the migration too),
# JSON declarations and bad declarations.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

journals() { find "$XDG_STATE_HOME/tether/journal" -name '*.jsonl' 2>/dev/null | wc -l; }

mkdir -p s/releases/1 s/data s/old s/move stow/vim home newt/a
echo data > s/data/f && echo movable > s/move/x && echo vim > stow/vim/.vimrc
ln -s /nowhere/a s/old/l && ln -s x s/gone
mover=$(mktemp -d /dev/shm/tether-e2e-apply-XXXXXX) && rmdir "$mover"
trap 'rm -rf "$mover"; cleanup' EXIT
cat > decl.lua <<EOF
-- computed on the machine: the host's name and an environment variable
local host = tether.hostname()
local rel = os.getenv("TETHER_TEST_RELEASE") or "1"
return {
  dirs = { "s/releases/2", "s/deep/er" },
  links = {
    { path = "s/current", target = "releases/" .. rel },
    { path = "s/abs", target = "$WORK/run/s/releases/1" },
    { path = "s/rel", target = "s/releases/1", relative = true },
    { path = "s/deep/er/l", target = "../../releases" },
    { path = "s/hard", target = "s/data/f", type = "hard" },
    { path = "s/host-" .. host, target = "releases/1" },
  },
  absent = { "s/gone" },
  farms = { { dir = "stow", target = "home", packages = { "vim" } } },
  retarget = { { under = "s/old", from = "/nowhere", to = "$WORK/run/newt" } },
  migrations = { { from = "s/move", to = "$mover" } },
}
EOF
before=$(snapshot .)

t apply decl.lua --check
check "--check: exit 0" is "$rc" 0
check "--check: lists a new link" has "$out" "+ symlink $WORK/run/s/current -> releases/1"
check "--check: lists the migration" has "$out" "> migrate $WORK/run/s/move to $mover"
check "--check: changed nothing" is "$(snapshot .)" "$before"
check "--check: no journal" is "$(journals)" 0

t --json apply decl.lua
check "first apply: exit 0" is "$rc" 0
first=$out
check "first apply: changed" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["changed"], sorted({i["status"] for i in d["items"]}), len(d["items"]), len(d["migrations"]))' <<<"$first")" \
    "True ['changed'] 12 1"
check "links made" is "$(readlink s/current)|$(readlink s/rel)|$(readlink s/deep/er/l)|$(readlink "s/host-$(hostname)")" \
    "releases/1|releases/1|../../releases|releases/1"
check "hard link made" is "$(stat -c %i s/hard)" "$(stat -c %i s/data/f)"
check "absent link removed" test ! -L s/gone
check "farm linked" is "$(readlink home/.vimrc)" "../stow/vim/.vimrc"
check "retargeted" is "$(readlink s/old/l)" "$WORK/run/newt/a"
check "migrated, with a link left" is "$(readlink s/move)|$(cat "$mover/x")" "$mover|movable"
check "directories made" test -d s/deep/er -a -d s/releases/2
n=$(journals)
first_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$first")

t --json apply decl.lua
check "second apply: exit 0" is "$rc" 0
check "second apply: changed false, every item ok" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["changed"], sorted({i["status"] for i in d["items"]}))' <<<"$out")" \
    "False ['ok']"
check "second apply: no new journal" is "$(journals)" "$n"
t apply decl.lua
check "second apply, text" has "$out" "already hold; nothing changed"

# A manual change: --check shows exactly it (on a link of its own declaration, so that
# the first apply stays as it left things, for its undo below).
echo 'return { links = { { path = "s/extra", target = "releases/1" } } }' > extra.lua
t apply extra.lua
check "another declaration applied" is "$rc|$(readlink s/extra)" "0|releases/1"
n=$(journals)
rm s/extra
t --json apply extra.lua --check
check "--check after a manual change: exactly that item" is "$(python3 -c '
import json,sys
d = json.load(sys.stdin)
print(d["changed"], d["dry"], [(i["item"], i["changes"]) for i in d["items"] if i["status"] != "ok"])' <<<"$out")" \
    "True True [('links[1]', ['+ symlink $WORK/run/s/extra -> releases/1'])]"
check "--check changed nothing" test ! -e s/extra
check "--check wrote no journal" is "$(journals)" "$n"
t --json apply decl.lua --check
check "--check of the first declaration: nothing differs" is "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["changed"])' <<<"$out")" False
t apply extra.lua
check "the change made again" is "$rc|$(readlink s/extra)" "0|releases/1"
again_id=$(ls "$XDG_STATE_HOME/tether/journal" | sort | tail -n 1 | sed 's/\.jsonl$//')

# A link elsewhere without force is a conflict; with force it is replaced.
ln -sfn releases/2 s/extra
t apply extra.lua --check
check "--check of a link elsewhere: the conflict, exit 3" is "$rc" 3
t apply extra.lua
check "link elsewhere, no force: refused" is "$rc" 3
check "named, with the way out" has "$err" "links[1]: $WORK/run/s/extra is a link to releases/2, not releases/1 (force = true replaces a link)"
echo 'return { links = { { path = "s/extra", target = "releases/1", force = true } } }' > extra.lua
t apply extra.lua
check "with force: replaced" is "$rc|$(readlink s/extra)" "0|releases/1"
n=$(journals)

# Conflicts refuse the whole apply, every one named, nothing changed.
echo precious > s/real
cat > conflict.json <<EOF
{"links": [{"path": "s/real", "target": "x"}, {"path": "s/new-ok", "target": "x"},
           {"path": "s/nodir/l", "target": "x"}],
 "absent": ["s/data"], "dirs": ["s/data/f"]}
EOF
before=$(snapshot .)
t --json apply conflict.json
check "conflicts: exit 3" is "$rc" 3
check "conflicts: each item's reason" is "$(python3 -c '
import json,sys
d = json.load(sys.stdin)
print(d["changed"], [(i["item"], i["status"]) for i in d["items"]])' <<<"$out")" \
    "False [('dirs[1]', 'failed'), ('absent[1]', 'failed'), ('links[1]', 'failed'), ('links[2]', 'not run'), ('links[3]', 'failed')]"
check "real data never replaced" has "$out" "is a real file: a link is never put over real data"
check "conflicts: nothing changed" is "$(snapshot .)" "$before"
check "conflicts: no journal" is "$(journals)" "$n"
# Every other kind's conflicts: a farm clash, a retarget without its new target, a hard
# link to a directory, a migration its own checks refuse.
mkdir -p stow2/pkg home2 notempty && echo mine > home2/clash && echo pkg > stow2/pkg/clash && echo x > notempty/x
mkdir -p rt && ln -s /nowhere/gone rt/l
cat > conflict2.lua <<DECL
return {
  farms = { { dir = "stow2", target = "home2", packages = { "pkg" } } },
  retarget = { { under = "rt", from = "/nowhere", to = "$WORK/run/newt-missing" } },
  links = { { path = "hard-dir", target = "s", type = "hard" } },
  migrations = { { from = "s/data", to = "notempty" } },
}
DECL
before=$(snapshot .)
t --json apply conflict2.lua
check "each kind's conflict: exit 3, all four items failed" is "$rc|$(python3 -c '
import json,sys
print(sorted((i["item"], i["status"]) for i in json.load(sys.stdin)["items"]))' <<<"$out")" \
    "3|[('farms[1]', 'failed'), ('links[1]', 'failed'), ('migrations[1]', 'failed'), ('retarget[1]', 'failed')]"
check "farm clash named as stow names it" has "$out" "pkg: existing target is neither a link nor a directory: clash"
check "retarget: the missing target named" has "$out" "newt-missing/gone does not exist (allow_broken = true retargets it anyway)"
check "hard link to a directory named" has "$out" "a hard link needs a file"
check "each kind's conflict: nothing changed" is "$(snapshot .)" "$before"
rm -rf stow2 home2 notempty rt

# Undo reverses an apply: the newest (the forced link), then the first one: the links,
# the directories, the farm, the retarget, and the migration (its data back in place).
rm s/real
t undo
check "undo the newest apply" is "$rc|$(readlink s/extra)" "0|releases/2"
t undo "$again_id"
check "undo refuses what changed since (the link is elsewhere now)" is "$rc" 3
check "undo refusal names it" has "$err" "$WORK/run/s/extra"
t undo "$first_id" </dev/null
check "the first apply, older than runs not undone that changed other paths: no --yes asked" is "$rc" 0
check "undo: the migration's data is back" is "$(cat s/move/x)|$(test -e "$mover" && echo there || echo gone)" "movable|gone"
check "undo: links gone" test ! -e s/rel -a ! -e s/abs -a ! -e home/.vimrc -a ! -e s/hard
check "undo: the absent link is back" is "$(readlink s/gone)" x
check "undo: retarget reversed" is "$(readlink s/old/l)" /nowhere/a
check "undo: the link the first apply made is gone too" test ! -L s/current
check "undo: made directories gone" test ! -e s/deep -a ! -e s/releases/2

# An apply that only migrates is still one run to undo, and only once.
mkdir -p only/src && echo only > only/src/f
odest=$(mktemp -d /dev/shm/tether-e2e-apply-XXXXXX) && rmdir "$odest"
echo "return { migrations = { { from = 'only/src', to = '$odest' } } }" > only.lua
t --json apply only.lua
only_id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' <<<"$out")
check "a migration alone: applied" is "$rc|$(readlink only/src)" "0|$odest"
t undo
check "a migration alone: undone by one tether undo" is "$rc|$(cat only/src/f)|$(test -e "$odest" && echo dest)" "0|only|"
check "a migration alone: said so" has "$out" "and 1 migration"
t undo "$only_id"
check "and not twice: already undone" is "$rc" 3
check "already undone: said so" has "$err" "already undone"
t undo -n
check "a plain undo does not pick it again" is "$(grep -c "$only_id" <<<"$out$err")" 0
rm -rf "$odest"

# Declarations: JSON from stdin, mistakes named.
echo 'return { dirs = { "~/from-home" } }' > home.lua
HOME="$WORK/run" t apply home.lua
check "~ is \$HOME" is "$rc|$(test -d from-home && echo yes)" "0|yes"
echo '{"dirs": ["made-from-stdin"]}' | { t apply -; }
check "JSON from stdin" is "$rc|$(test -d made-from-stdin && echo yes)" "0|yes"
echo 'return { linsk = {} }' > typo.lua
t apply typo.lua
check "unknown kind: usage error with a suggestion" is "$rc|$err" "2|tether: apply: typo.lua: unknown item kind 'linsk' (did you mean links?)"
echo 'return { links = { { path = "a", targte = "b" } } }' > field.lua
t apply field.lua
check "unknown field named" has "$err" "links[1]: unknown field 'targte' (did you mean target?)"
check "missing field named" has "$err" "links[1]: target is missing"
echo '{"links": [{"path": "a", "target": null, "force": "yes"}]}' > types.json
t apply types.json
check "a field of the wrong type named" has "$err" "links[1]: force must be a boolean, not string"
check "null named" has "$err" "links[1]: target must be a string, not null"
echo 'return { links = { { path = "a", target = "b" }, }, absent = { "a" } }' > twice.lua
t apply twice.lua
check "a path declared twice" has "$err" "is declared twice (also absent[1])"
echo 'return { links = { { path = "a", target = "b", type = "junction" } } }' > junction.lua
t apply junction.lua
check "junction here: refused" is "$rc" 3
check "junction here: named" has "$err" "junctions are an NTFS feature"
echo 'os.execute("touch pwned") return {}' > evil.lua
t apply evil.lua
check "a declaration cannot run commands" is "$rc|$(test -e pwned && echo pwned)" "2|"
echo 'string.format = nil; table.concat = nil; error("stopped here")' > meddle.lua
t apply meddle.lua
check "a declaration's own error: named, exit 2, tether's own string library intact" is "$rc|$err" \
    "2|tether: apply: meddle.lua:1: stopped here"
echo 'return { links = {' > syntax.lua
t apply syntax.lua
check "a syntax error is named, no traceback" is "$rc" 2
check "syntax error: where" has "$err" "syntax.lua:"
echo 'return 5' > number.lua
t apply number.lua
check "a declaration that is no table" is "$rc|$err" "2|tether: apply: number.lua: must give a table of items (links, absent, dirs, migrations, farms, retarget)"

# Failures after the checks: the journal cannot be written (nothing changes), one change
# refused by the system (the run says which, exit 4, and is undone), a migration that
# fails (rolled back: nothing changes, the data where it was).
mkdir -p f && echo 'return { links = { { path = "f/a", target = "x" }, { path = "f/b", target = "y" } } }' > two.lua
: >"$WORK/run/f/a-file"
t --journal-dir "$WORK/run/f/a-file/sub" apply two.lua
check "journal cannot be written: exit 3" is "$rc" 3
check "journal cannot be written: nothing changed" test ! -L f/a -a ! -L f/b
rm -f f/a-file
if command -v strace >/dev/null; then
    export ASAN_OPTIONS=detect_leaks=0 # LeakSanitizer cannot work under ptrace
    out=$(strace -f -o /dev/null -e trace=symlinkat -e inject=symlinkat:error=EIO:when=2 "$TETHER" apply two.lua 2>&1)
    rc=$?
    no_bug_report "tether apply (one symlinkat refused)" "$out"
    check "one change refused: exit 4" is "$rc" 4
    check "one change refused: named" has "$out" "input/output error (EIO)"
    check "one change refused: the other made" is "$(find f -type l | wc -l)" 1
    t undo
    check "the partial apply is undone" is "$rc|$(find f -type l | wc -l)" "0|0"
    out=$(strace -f -o /dev/null -e trace=symlinkat -e inject=symlinkat:error=EIO:when=2 "$TETHER" --json apply two.lua 2>/dev/null)
    check "one change refused, JSON: the item failed with the reason, exit 4" is "$(python3 -c '
import json,sys
d = json.load(sys.stdin)
print(d["changed"], d["exit"], d["error"]["errno"], [(i["item"], i["status"]) for i in d["items"]])' <<<"$out")" \
        "True 4 EIO [('links[1]', 'changed'), ('links[2]', 'failed')]"
    t undo
    mkdir -p mig/src && echo keep > mig/src/data
    mdest=$(mktemp -d /dev/shm/tether-e2e-apply-XXXXXX) && rmdir "$mdest"
    echo "return { migrations = { { from = 'mig/src', to = '$mdest' } }, links = { { path = 'mig/l', target = 'src' } } }" > mig.lua
    out=$(strace -f -o /dev/null -e trace=fsync,fdatasync,syncfs -e inject=fsync,fdatasync,syncfs:error=EIO "$TETHER" apply mig.lua 2>&1)
    rc=$?
    no_bug_report "tether apply (a migration's sync refused)" "$out"
    check "a migration that fails: exit 3, nothing changed" is "$rc" 3
    check "a migration that fails: named" has "$out" "migrations[1]"
    check "a migration that fails: the data where it was, no link made" is "$(cat mig/src/data)|$(test -e mig/l && echo l)|$(test -e "$mdest" && echo dest)" "keep||"
    rm -rf "$mdest"
else
    echo "skipped: failures injected with strace (strace missing)"
fi
t apply missing.lua
check "missing file" is "$rc|$err" "3|tether: apply: missing.lua: No such file or directory"

finish
