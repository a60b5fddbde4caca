#!/usr/bin/env bash
# tether undo -n says only what it would do: for every kind of run (each plan recipe, a
# migration, an apply) its first words are "would undo", never "undoing", and it changes
# nothing; --json -n prints the JSON alone; the real undo that follows names the run first.
. "$(dirname "$0")/lib.sh"

mkdir -p t/links/sub t/old t/new t/dd t/stow/pkg/.cfg t/home t/mig/src
echo x >t/old/f && echo x >t/new/f && echo a >t/stow/pkg/.cfg/rc && echo m >t/mig/src/f
ln -s nowhere t/links/broken && ln -s "$WORK/run/t/old/f" t/links/abs
for i in 1 2 3; do echo same >"t/dd/c$i"; done
echo y >t/links/real
cat >plan.lua <<LUA
return { links = { { path = "t/home/declared", target = "$WORK/run/t/old/f" } } }
LUA

# dry_undo KIND: the newest run (of kind KIND) undone with -n, then with --json -n, then
# for real: the dry runs change nothing and say only what they would do.
dry_undo() {
    local before
    before=$(snapshot t)
    t -n undo
    check "$1: undo -n succeeds" is "$rc" 0
    check "$1: undo -n begins with what it would do" is "$(head -n 1 <<<"$out" | cut -c1-10)" "would undo"
    check "$1: undo -n says nothing of undoing" is "$(grep -c '^undoing' <<<"$out$err")" 0
    check "$1: undo -n names the run's kind" has "$(head -n 1 <<<"$out")" "($1, "
    check "$1: undo -n changes nothing" is "$(snapshot t)" "$before"
    t -n --json undo
    check "$1: undo -n --json is JSON alone" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["dry"], d["changed"])' <<<"$out" 2>&1)" "True False"
    check "$1: undo -n --json says nothing else" is "$err" ""
    check "$1: undo -n --json changes nothing" is "$(snapshot t)" "$before"
    t undo
    check "$1: the undo names the run first" is "$(head -n 1 <<<"$out" | cut -c1-8)" "undoing "
    check "$1: then says it undid it" has "$out" "undid"
}

t prune t/links && dry_undo prune
t unlink t/links/broken && dry_undo unlink
t relativize t/links && dry_undo relativize
t retarget t/links --from "$WORK/run/t/old" --to "$WORK/run/t/new" && dry_undo retarget
t dedupe --ignore-mtime t/dd && dry_undo dedupe
t farm link pkg --dir t/stow --target t/home && dry_undo farm
t link t/old/f t/links/made && dry_undo link
t migrate t/mig/src t/mig/dst && dry_undo migrate
t apply plan.lua && dry_undo apply

# Undo after an undo, dry: the next older run is named, nothing changes.
t prune t/links
t unlink t/links/abs
t undo
before=$(snapshot t)
t -n undo
check "after an undo, undo -n names the next run" is "$(head -n 1 <<<"$out" | cut -c1-10)|$(grep -c '^undoing' <<<"$out")" "would undo|0"
check "and changes nothing" is "$(snapshot t)" "$before"

finish
