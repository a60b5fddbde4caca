#!/usr/bin/env bash
# tether -n run SCRIPT: each plan the script applies is printed where it applies it, among
# the script's own output in the order it happens (it was printed after the script's end,
# below words the script printed later), named by the plan; --json keeps its one object
# at the end; a real run reports each plan the same way, named, with its undo line; a
# bundled recipe prints its own.
. "$(dirname "$0")/lib.sh"

mkdir d
cat >fix.lua <<'LUA'
local plan = require "tether.plan"
print("before")
local p = plan.new("first-fix", { roots = { "d" } })
p:add("symlink", { path = tether.absolute("d/a"), target = "x" })
p:add("symlink", { path = tether.absolute("d/b"), target = "y" })
assert(p:apply())
print("between")
local q = plan.new("second-fix", { roots = { "d" } })
q:add("symlink", { path = tether.absolute("d/c"), target = "z" })
assert(q:apply())
local none = plan.new("empty-fix", { roots = { "d" } })
assert(none:apply())
print("after")
LUA

t -n run fix.lua
check "-n run succeeds" is "$rc" 0
check "each plan printed where it is applied, in order" is "$out" "before
would link $WORK/run/d/a -> x
would link $WORK/run/d/b -> y
first-fix: 2 actions planned; nothing changed (dry run)
between
would link $WORK/run/d/c -> z
second-fix: 1 action planned; nothing changed (dry run)
empty-fix: 0 actions planned; nothing changed (dry run)
after"
check "nothing changed" is "$(ls -A d)" ""

t -n --json run fix.lua
check "--json -n: the script's words, then one JSON object" is \
    "$(python3 -c 'import json,sys; t=sys.stdin.read(); i=t.index("{"); print(t[:i].split(), [r["dry"] for r in json.loads(t[i:])["runs"]])' <<<"$out" 2>&1)" \
    "['before', 'between', 'after'] [True, True, True]"

t run fix.lua
check "the real run reports each plan where it is applied, named, with its undo line" is \
    "$(sed -E 's/tether undo [0-9a-f-]+$/tether undo ID/' <<<"$out")" "before
first-fix: 2 changes; undo with: tether undo ID
between
second-fix: 1 change; undo with: tether undo ID
after"
ids=$(grep -oE 'tether undo [0-9a-f-]+$' <<<"$out" | cut -d' ' -f3)
check "each line names its own run" is "$(sort -u <<<"$ids" | wc -l)|$(grep -c . <<<"$ids")" "2|2"
check "the newer run is the one undo takes first" is "$(sed -n 2p <<<"$ids")" \
    "$("$TETHER" --json history | python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][-1]["id"])' 2>&1)"
t -n undo
check "undo -n after it" has "$out" "would undo"
t undo
t undo
check "undone" is "$(ls -A d)" ""

# A bundled recipe prints its own plan once.
ln -s nowhere d/broken
t -n prune d
check "a recipe's -n prints each action once" is "$(grep -c 'would remove link' <<<"$out")" 1

finish
