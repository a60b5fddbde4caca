#!/usr/bin/env bash
# A user's own `tether run` script that makes a plan is a run like a bundled recipe's:
# -n makes its p:apply() a dry run (each action printed, nothing changed), --json reports
# it in docs/json.md's shape, a real run is journaled (tether history lists it) and
# `tether undo` takes it back, then takes the next older run; a plan with a conflict is
# refused with exit 3 and changes nothing; the README's example without roots works.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)" <<<"$out"; }

mkdir -p srv/www srv/releases/41 srv/releases/42 srv/releases/7
ln -s "$WORK/run/srv/releases/41" srv/www/current
ln -s "$WORK/run/srv/releases/7" srv/www/stale
echo keep > srv/www/index.html
before=$(snapshot srv)

# The README's example as written, with this sandbox's paths (no roots given).
cat > fix.lua <<EOF
local plan = require "tether.plan"
local p = plan.new("my-fix")
p:add("replace", {path = "$WORK/run/srv/www/current", target = "$WORK/run/srv/releases/42", old = "$WORK/run/srv/releases/41"})
p:add("unlink", {path = "$WORK/run/srv/www/stale", target = "$WORK/run/srv/releases/7"})
local conflicts = p:check()
assert(#conflicts == 0, "conflicts")
local result = p:apply()
EOF

t -n run fix.lua
check "-n: exit 0" is "$rc" 0
check "-n: each action printed" has "$out" "srv/www/current"
check "-n: says nothing changed" has "$out" "nothing changed (dry run)"
check "-n: nothing changed" is "$(snapshot srv)" "$before"
check "-n: no journal" is "$(ls "$XDG_STATE_HOME/tether/journal" 2>/dev/null | grep -c '\.jsonl$')" 0

t --json -n run fix.lua
check "--json -n: dry and unchanged" is "$rc|$(json 'd["dry"], d["changed"], len(d["actions"])')" "0|True False 2"

t --json run fix.lua
check "run: exit 0" is "$rc" 0
check "run: JSON names the run and says changed" is "$(json 'd["changed"], d["recipe"], bool(d["id"])')" "True run True"
id=$(json 'd["id"]')
check "run: done" is "$(readlink srv/www/current)|$(test -e srv/www/stale -o -L srv/www/stale && echo there || echo gone)" \
    "$WORK/run/srv/releases/42|gone"

t history
check "history lists the script's run" has "$out" "$id"

# A second, later run of a bundled recipe on the same tree: undo takes it first.
ln -s ../releases/42 srv/www/rel
t relativize srv
check "relativize after the script: exit 0" is "$rc" 0
t undo
check "undo takes the newest run first (relativize)" has "$out" "relativize"
t undo
check "then the script's run" is "$rc|$(echo "$out" | head -n 1 | grep -c "^undoing $id (my-fix")" "0|1"
rm srv/www/rel
check "undo gave the tree back" is "$(snapshot srv)" "$before"
t undo
check "then nothing is left to undo" is "$rc" 3
check "and it says so" has "$err" "nothing to undo"

# A plan that conflicts (replace of a link whose target is not the one it names) is
# refused at apply: exit 3 and nothing changed, as a recipe's.
cat > bad.lua <<EOF
local p = require("tether.plan").new("bad-fix")
p:add("replace", {path = "$WORK/run/srv/www/current", target = "$WORK/run/srv/releases/7", old = "$WORK/run/srv/releases/99"})
p:apply()
EOF
t --json run bad.lua
check "conflict: exit 3" is "$rc" 3
check "conflict: JSON says nothing changed" is "$(json 'd["changed"]')" "False"
check "conflict: nothing changed" is "$(snapshot srv)" "$before"

finish
