#!/usr/bin/env bash
# history shows what the user ran: the command (a bundled recipe's name, never the kind of
# plan it made: relativize --absolute makes an "absolutize" plan) and its words; a
# script's run by its plan's name, with "run SCRIPT" as its words. Every recipe a run of a
# bundled recipe is listed under is one `tether recipes` lists, after undos too; a journal
# from before the words were kept still shows the command; one whose words are not words
# is refused.
. "$(dirname "$0")/lib.sh"

recipes=$("$TETHER" recipes | awk 'NR > 1 { print $1 }')
mkdir -p t/links t/old t/new t/stow/pkg t/home
echo x >t/old/f && echo x >t/new/f && echo a >t/stow/pkg/rc
ln -s "$WORK/run/t/old/f" t/links/abs && ln -s nowhere t/links/broken
cat >fix.lua <<'LUA'
local plan = require "tether.plan"
local p = plan.new("my-fix", { roots = { "t/links" } })
p:add("symlink", { path = tether.absolute("t/links/made"), target = "old" })
assert(p:apply())
LUA
cat >decl.lua <<LUA
return { links = { { path = "t/home/declared", target = "$WORK/run/t/old/f" } } }
LUA

t relativize t/links
t relativize --absolute t/links
t retarget t/links --from "$WORK/run/t/old" --to "$WORK/run/t/new"
t prune t/links
t link t/old/f "t/links/$(printf 'ta\tb')"
t unlink "t/links/$(printf 'ta\tb')"
t farm link pkg --dir t/stow --target t/home
t apply decl.lua
t run fix.lua
check "the script ran" is "$rc" 0

# history_rows: "recipe|words" for every run, from --json.
history_rows() {
    t --json history
    python3 -c 'import json,sys
for r in json.load(sys.stdin)["runs"]: print(r["recipe"] + "|" + " ".join(r.get("command", [])))' <<<"$out"
}
rows=$(history_rows)
check "relativize --absolute is listed as what was run" has "$rows" "relativize|relativize --absolute t/links"
check "no run is listed under a plan's kind" is "$(grep -c absolutize <<<"$rows")" 0
check "a script's run: its plan's name, and run SCRIPT" has "$rows" "my-fix|run fix.lua"
bundled_ok() {
    local r
    while IFS='|' read -r r _; do
        [ "$r" = my-fix ] && continue
        grep -qx "$r" <<<"$recipes" || { echo "not a recipe: $r"; return 1; }
    done <<<"$1"
}
check "every run is listed under a command a user can run" bundled_ok "$rows"
t history
check "the text form shows the command and its words" has "$out" "relativize  applied     2 changed, 0 skipped, 0 failed  $WORK/run/t/links  (tether relativize --absolute t/links)"
check "a word with a control character quoted" has "$out" "(tether link t/old/f \"t/links/ta\\009b\")"

# Undo after undo: the runs keep what they were.
t undo
t undo
t undo
rows=$(history_rows)
check "after undos: every run listed under a command a user can run" bundled_ok "$rows"
t -n undo
check "undo -n names the command" has "$out" "(unlink, "

# A journal from before the words were kept: the command from its kind.
j=$(grep -l '"plan_kind":"absolutize"' "$XDG_STATE_HOME"/tether/journal/*.jsonl)
python3 - "$j" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
h = json.loads(lines[0]); h.pop("command"); h.pop("recipe")
open(sys.argv[1], "w").write("\n".join([json.dumps(h)] + lines[1:]) + "\n")
PY
rows=$(history_rows)
check "an older journal: still the command, not the kind" has "$rows" "relativize|"$'\n'
check "and no absolutize" is "$(grep -c absolutize <<<"$rows")" 0

# Words that are not words: the journal is refused, named.
sed -i 's/"command":\["relativize","t\/links"\]/"command":[1,2]/' "$(grep -l '"command":\["relativize","t/links"\]' "$XDG_STATE_HOME"/tether/journal/*.jsonl)"
t history
check "a journal whose command is malformed is named" has "$err" "a malformed command"

finish
