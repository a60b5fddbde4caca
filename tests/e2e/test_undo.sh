#!/usr/bin/env bash
# Undo as a user meets it: from any directory (journals hold absolute paths and the
# roots' identities), -n changes nothing, a run that changed nothing is never "the last
# run", an undo that cannot finish is refused up front, one stopped part-way exits 4 and
# is finished by running it again, an older run needs --yes, and history --prune.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

# A tree for every plan recipe, built the same in two places: one undone from where it
# was run, one from elsewhere; both must end as they began, path for path.
make_tree() {
    local d=$1
    mkdir -p "$d/links/sub" "$d/old/data" "$d/new/data" "$d/dd" "$d/stow/pkg/.config/app" "$d/home/.config"
    echo x > "$d/old/data/f" && echo x > "$d/new/data/f"
    ln -s nowhere "$d/links/broken" && ln -s ../gone "$d/links/sub/broken2"
    ln -s "$d/old/data/f" "$d/links/abs" && ln -s "$d/old/data" "$d/links/sub/absdir"
    for i in 1 2 3; do echo same > "$d/dd/copy$i"; done
    echo a > "$d/stow/pkg/.config/app/rc" && echo mine > "$d/home/.config/own"
}
# run_all DIR: prune, retarget, relativize, dedupe and farm, from DIR's parent, as typed
# relative paths (what the journals used to store).
run_all() {
    (cd "$1/.." && name=$(basename "$1") &&
        "$TETHER" -q prune "$name/links" &&
        "$TETHER" -q retarget --from "$PWD/$name/old" --to "$PWD/$name/new" "$name/links" &&
        "$TETHER" -q relativize "$name/links" &&
        "$TETHER" -q dedupe "$name/dd" &&
        "$TETHER" -q farm link pkg --dir "$name/stow" --target "$name/home")
}
# undo_all FROM: five undos, the newest first, run in directory FROM.
undo_all() {
    local k
    for k in 1 2 3 4 5; do (cd "$1" && "$TETHER" -q undo --yes) || return 1; done
}

mkdir -p here/a elsewhere/deep/er
make_tree "$WORK/run/here/a"
make_tree "$WORK/run/elsewhere/deep/er/a"
before_here=$(snapshot here/a)
before_there=$(snapshot elsewhere/deep/er/a)
export XDG_STATE_HOME="$WORK/state-here"
run_all "$WORK/run/here/a"
check "the runs changed the tree" is "$([ "$(snapshot here/a)" != "$before_here" ] && echo changed)" changed
undo_all "$WORK/run/here"
check "undone from where they ran" is "$(snapshot here/a)" "$before_here"

export XDG_STATE_HOME="$WORK/state-there"
run_all "$WORK/run/elsewhere/deep/er/a"
after_runs=$(snapshot elsewhere/deep/er/a)
# -n from anywhere changes nothing and lists what it would take back.
(cd / && "$TETHER" undo -n) > "$WORK/dry.out" 2>&1
check "undo -n changes nothing" is "$(snapshot elsewhere/deep/er/a)" "$after_runs"
check "undo -n names the run and its actions" has "$(cat "$WORK/dry.out")" "would undo"
check "undo -n shows absolute paths" has "$(cat "$WORK/dry.out")" "$WORK/run/elsewhere/deep/er/a/home"
undo_all /
check "undone from another directory: the same result" is "$(snapshot elsewhere/deep/er/a)" "$before_there"

# --- A journal of an older tether (paths as typed, no identity of its roots) is refused
# by undo and named by history, not guessed at.
export XDG_STATE_HOME="$WORK/state-old"
mkdir -p "$XDG_STATE_HOME/tether/journal" && chmod 700 "$XDG_STATE_HOME/tether/journal"
oid=20200101-000000-000000-aa
printf '%s\n' '{"kind":"plan","plan_kind":"prune","actions":[{"op":"unlink","path":"tree/broken","target":"nowhere"}],"roots":["tree"],"id":"'$oid'","time":1577836800,"event":"start"}' \
    '{"i":1,"phase":"done"}' '{"done":1,"skipped":0,"time":1577836800,"event":"finish","failed":0}' > "$XDG_STATE_HOME/tether/journal/$oid.jsonl"
chmod 600 "$XDG_STATE_HOME/tether/journal/$oid.jsonl"
mkdir -p tree
t undo "$oid"
check "an old journal: undo refuses" is "$rc|$(ls tree | wc -l)" "3|0"
check "saying why" has "$err" "written by an older tether"
t history
check "history names it (exit 1)" is "$rc|$(grep -c "$oid" <<<"$err")" "1|1"

# --- A run that changed nothing is not journaled and is never "last".
export XDG_STATE_HOME="$WORK/state-noop"
mkdir -p noop/t && ln -s nowhere noop/t/broken && mkdir -p noop/uniq && echo 1 > noop/uniq/a && echo 2 > noop/uniq/b
t prune noop/t
t prune noop/t
t dedupe noop/uniq
t history --json
check "runs that changed nothing leave no journal" is "$(python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))' <<<"$out")" 1
t undo
check "a plain undo takes back the run that changed something" is "$rc|$(readlink noop/t/broken)" "0|nowhere"
check "undo names the run first" has "$out" "undoing "

# --- An undo that would stop half-way is refused before it starts: a user's file in a
# directory farm made (an unfolded .config).
export XDG_STATE_HOME="$WORK/state-farm"
mkdir -p f/stow/p1/.config/a f/stow/p2/.config/b f/home
echo 1 > f/stow/p1/.config/a/x && echo 2 > f/stow/p2/.config/b/y
(cd f && "$TETHER" -q farm link p1 --dir stow --target home && "$TETHER" -q farm link p2 --dir stow --target home)
check "the second package unfolded .config" is "$(stat -c %F f/home/.config)" "directory"
before=$(snapshot f/home)
echo user > f/home/.config/notes
t undo
check "undo refused up front: exit 3" is "$rc" 3
check "it names the directory and the stranger" has "$err" ".config (notes was put in it since; move it out)"
check "nothing was undone" is "$(snapshot f/home | grep -v notes)" "$before"
rm f/home/.config/notes
t undo
check "once moved out, undo works" is "$rc|$(readlink f/home/.config)" "0|../stow/p1/.config"

# --- An undo stopped part-way (a directory made immutable under it) exits 4 and the
# same command finishes it once the obstacle is gone.
if [ "$(id -u)" -eq 0 ] && command -v chattr >/dev/null && mkdir -p imm/probe && chattr +i imm/probe 2>/dev/null; then
    chattr -i imm/probe
    export XDG_STATE_HOME="$WORK/state-imm"
    mkdir -p imm/t/a imm/t/b && ln -s gone1 imm/t/a/l1 && ln -s gone2 imm/t/b/l2
    before=$(snapshot imm/t)
    t prune imm/t
    id=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["runs"][-1]["id"])' <<<"$("$TETHER" --json history)")
    # Undo takes the newest action back first: the directory of the oldest is made
    # immutable, so one link comes back and the other cannot.
    last=$("$TETHER" --json undo -n "$id" | python3 -c 'import json,sys,os; print(os.path.dirname(json.load(sys.stdin)["actions"][-1]["path"]))')
    first=$([ "$last" = "$WORK/run/imm/t/a" ] && echo "$WORK/run/imm/t/b" || echo "$WORK/run/imm/t/a")
    chattr +i "$last"
    t undo "$id"
    check "partial undo: exit 4" is "$rc" 4
    check "it says how to finish" has "$err" "tether undo $id again to finish"
    check "one link is back, the other not" is "$(find "$first" -type l | wc -l)|$(find "$last" -type l | wc -l)" "1|0"
    t undo "$id"
    check "still blocked: exit 3, nothing more undone" is "$rc|$(find "$last" -type l | wc -l)" "3|0"
    t history
    check "history shows it partial" has "$out" "partial"
    chattr -i "$last"
    t undo "$id"
    check "the second undo finishes it" is "$rc|$(snapshot imm/t)" "0|$before"
    t undo "$id"
    check "a third says it is done" is "$rc" 3
    # Refused at its first step, an undo changed nothing: the run is as it was (not
    # partial), and is still the top of the stack once the obstacle is gone.
    mkdir -p imm/r && ln -s gone3 imm/r/l3
    t prune imm/r
    chattr +i imm/r
    t undo
    check "an undo refused at its first step: exit 3" is "$rc" 3
    t history
    check "history: the run as it was, not partial" is "$(grep -c partial <<<"$(tail -n 1 <<<"$out")")" 0
    chattr -i imm/r
    t undo
    check "then plain undo takes it" is "$rc|$(readlink imm/r/l3)" "0|gone3"
else
    echo "skipped: partial undo needs root and chattr +i here"
fi

# --- History is an undo stack: plain undo takes the newest run not undone, then the next
# older one, without asking. Naming an older run while a newer one on the same paths is
# not undone asks for --yes (or a yes at a terminal); one on other paths does not.
export XDG_STATE_HOME="$WORK/state-older"
mkdir -p older other && ln -s g1 older/l1
t prune older
ln -s g2 older/l2
t prune older
t undo
check "the newest is undone" is "$rc|$(readlink older/l2)" "0|g2"
t undo </dev/null
check "again: the next older one, without asking" is "$rc|$(readlink older/l1)" "0|g1"
t undo </dev/null
check "nothing left: said, exit 3" is "$rc|$(has "$err" "nothing to undo" && echo said)" "3|said"
t prune older
first=$(ls "$XDG_STATE_HOME/tether/journal" | tail -n 1 | sed 's/\.jsonl$//')
ln -s g3 other/l3 && t prune other
t undo "$first" </dev/null
check "an older run named, with a newer one on other paths: no question" is "$rc|$(readlink older/l1)|$(readlink other/l3)" "0|g1|"
t prune older
first=$(ls "$XDG_STATE_HOME/tether/journal" | tail -n 1 | sed 's/\.jsonl$//')
ln -s g4 older/l1 && t prune older # (a newer run that changed the same link)
t undo "$first" </dev/null
check "an older run named, a newer one on the same paths not undone: refused without --yes" is "$rc|$(readlink older/l1)" "3|"
check "saying why and how" has "$err" "pass --yes to undo it all the same"
t undo --yes "$first"
check "with --yes it goes" is "$rc|$(readlink older/l1)" "0|g1"
# At a terminal (script(1) gives it one) it asks instead: n changes nothing, y goes.
if command -v script >/dev/null; then
    export XDG_STATE_HOME="$WORK/state-ask"
    mkdir -p ask && ln -s g1 ask/l1
    t prune ask
    first=$(ls "$XDG_STATE_HOME/tether/journal" | tail -n 1 | sed 's/\.jsonl$//')
    ln -s g2 ask/l1
    t prune ask
    out=$(printf 'n\n' | script -qec "'$TETHER' undo $first" /dev/null 2>&1)
    check "at a terminal it asks" has "$out" "on the same paths"
    check "at a terminal it asks: [y/N]" has "$out" "? [y/N]"
    check "n: not confirmed, nothing changed" is "$(grep -c 'not confirmed; nothing changed' <<<"$out")|$(readlink ask/l1)" "1|"
    out=$(printf 'y\n' | script -qec "'$TETHER' undo $first" /dev/null 2>&1)
    check "y: undone" is "$(readlink ask/l1)" g1
    no_bug_report "tether undo at a terminal" "$out"
else
    echo "skipped: the question at a terminal (script(1) missing)"
fi

# --- history --prune: -n lists, --keep and --older-than choose; an unfinished migration
# is never pruned.
export XDG_STATE_HOME="$WORK/state-prune"
mkdir -p hp && for i in 1 2 3 4; do ln -s "gone$i" "hp/l$i"; t prune hp; done
t history --prune --keep 1 -n
check "prune -n lists what would go" is "$rc|$(grep -c 'would remove' <<<"$out")|$(ls "$XDG_STATE_HOME/tether/journal" | grep -c jsonl)" "0|4|4"
t history --prune --older-than 1
check "nothing is a day old" has "$out" "removed 0 journals"
for age in 1d 2w 12h 1.5h "3 days"; do
    t history --prune -n --older-than "$age"
    check "--older-than $age is a duration" is "$rc|$(has "$out" "would remove 0 journals" && echo none)" "0|none"
done
t history --prune -n --older-than 0s
check "--older-than 0s: every run is older" is "$rc|$(grep -cE '^would remove [0-9]{8}' <<<"$out")" "0|4"
t history --prune --older-than 1y
check "a unit that is not one is a usage error" is "$rc|$(has "$err" "--older-than takes a duration such as 30s, 15m, 12h, 7d or 2w, not '1y'" && echo said)" "2|said"
t history --prune --keep -1
check "--keep takes a whole number" is "$rc" 2
t --json history --prune --keep 2
check "keep 2" is "$rc|$(ls "$XDG_STATE_HOME/tether/journal" | grep -c jsonl)" "0|2"
check "the report lists the removed runs" is "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["changed"], len(d["removed"]))' <<<"$out")" "True 2"
t history --keep 2
check "--keep without --prune is a usage error" is "$rc" 2
t history --prune
check "--prune alone is a usage error" is "$rc" 2
t history --prune --keep two
check "a count that is not a number" is "$rc|$err" "2|tether: history: --keep takes a whole number, not 'two'; see tether help history"
mkdir -p mig/src && echo data > mig/src/f
TETHER_CRASH_AT=first "$TETHER" -q migrate mig/src "$WORK/run/mig/dest" >/dev/null 2>&1
t history --prune --keep 0
check "an unfinished migration is kept" is "$(ls "$XDG_STATE_HOME/tether/journal" | grep -c jsonl)|$(grep -c 'kept 1' <<<"$out")" "1|1"
t migrate --rollback
check "and can still be rolled back" is "$rc|$(cat mig/src/f)" "0|data"

# The top of the stack refused (its link removed by hand): the message says how to go
# past it, and an older run on other paths (in the same directory) is undone by its ID
# without --yes: runs touch the same paths only where their changes do.
mkdir -p st && "$TETHER" -q history --prune --keep 0 >/dev/null 2>&1
"$TETHER" -q link x st/a && "$TETHER" -q link y st/b && rm st/b
t undo
check "a refused top of the stack says how to go past it" has "$rc:$err" "3:tether: "
check "... with the way past it" has "$err" "tether undo ID takes an older run now"
older=$("$TETHER" --json history | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin)["runs"] if r["state"] != "undone"][0])')
t undo "$older"
check "an older run on other paths: undone without --yes" is "$rc|$(test -L st/a || echo gone)" "0|gone"
rm -rf st; "$TETHER" -q history --prune --keep 0 >/dev/null 2>&1

# A link that named itself, replaced or removed, is put back as it was by undo (making
# one is refused, but an undo gives back what was there).
mkdir -p selfl && ln -s me selfl/me && ln -s it selfl/it
t link --replace /etc/hosts selfl/me
t unlink selfl/it
t undo && t undo
check "undo puts back links that named themselves" is "$rc|$(readlink selfl/me)|$(readlink selfl/it)" "0|me|it"
rm -rf selfl

# undo -n runs the checks the undo runs: what the undo would refuse, -n refuses too (a
# migration whose link was replaced; a deduplicated file edited since), naming the path
# absolutely (an undo runs from anywhere).
mkdir -p nc/src nc/dd/a nc/dd/b && echo x > nc/src/f && echo s > nc/dd/a/f && cp -p nc/dd/a/f nc/dd/b/f
(cd nc && "$TETHER" -q dedupe dd) && echo edit >> nc/dd/b/f
t undo -n
check "undo -n of a dedupe edited since: refused as the undo is" is "$rc" 3
check "undo -n names the file absolutely" has "$err" "$WORK/run/nc/dd/b/f"
t undo
check "and the undo refuses alike" is "$rc" 3
"$TETHER" -q history --prune --keep 0 >/dev/null 2>&1
"$TETHER" -q migrate nc/src nc/moved && ln -sfn /tmp nc/src
t undo -n
check "undo -n of a migration whose link was replaced: refused as the undo is" is "$rc" 3
check "undo -n says why" has "$err" "is no longer the link"
rm -rf nc; "$TETHER" -q history --prune --keep 0 >/dev/null 2>&1

# Journals kept under a directory another user owns (or can write) are refused before
# anything is made or read: that user could put journals of their own there between a
# check and a read, and `tether undo` would act on them.
if [ "$(id -u)" -eq 0 ]; then
    mkdir -p theirs && chown 65534:65534 theirs
    for state in theirs/state theirs; do
        before=$(snapshot .)
        XDG_STATE_HOME=$WORK/run/$state t link target "$WORK/run/new-link"
        check "journals under another user's directory ($state): refused" is "$rc" 3
        check "journals under another user's directory ($state): says why" has "$err" \
            "$WORK/run/theirs: on the way to the journal directory, belongs to another user"
        check "journals under another user's directory ($state): nothing changed" is "$(snapshot .)" "$before"
        XDG_STATE_HOME=$WORK/run/$state t undo
        check "undo with journals there: refused" is "$rc" 3
    done
    chown root:root theirs && mkdir -p -m 700 theirs/tether/journal && chmod 777 theirs
    XDG_STATE_HOME=$WORK/run/theirs t history
    check "journals under a directory others can write: not read, said so" has "$rc|$err" "1|tether: $WORK/run/theirs: on the way to the journal directory, can be written by other users"
    rm -rf theirs
fi

finish
