#!/usr/bin/env bash
# history shows what the user ran for migrations too, as for plans: the words after
# "tether" (global options, a name with a control character quoted), in text and in
# --json as command; a migration's journal from before the words were kept still reads
# (SRC -> DEST alone); one whose words are not words is refused, named.
. "$(dirname "$0")/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT

esc=$(printf 'm\033x')
mkdir "$esc" plain && echo a > "$esc/f" && echo b > plain/f
t -q migrate --verify hash "$esc" "$shm/one"
check "a migration ran" is "$rc" 0
t migrate plain "$shm/two"
check "another ran" is "$rc" 0
j1=$(grep -l '"--verify"' "$XDG_STATE_HOME"/tether/journal/*.jsonl)
j2=$(grep -L '"--verify"' "$XDG_STATE_HOME"/tether/journal/*.jsonl)

t history
check "history: exit 0" is "$rc" 0
check "history: the migration's words, each name quoted" has "$out" \
    "-> $shm/one  (tether -q migrate --verify hash \"m\\027x\" $shm/one)"
check "history: no raw control character" test "${out/$'\033'/}" = "$out"
check "history: the other migration's words" has "$out" "-> $shm/two  (tether migrate plain $shm/two)"
t --json history
check "history --json: command" python3 -c 'import json, sys
rows = json.loads(sys.argv[1])["runs"]
words = sorted([r.get("command") for r in rows if r["recipe"] == "migrate"])
sys.exit(words != [["-q", "migrate", "--verify", "hash", sys.argv[2], sys.argv[3]], ["migrate", "plain", sys.argv[4]]])' \
    "$out" "$esc" "$shm/one" "$shm/two"

# A journal from before the words were kept: read all the same, SRC -> DEST alone.
python3 - "$j2" <<'PY'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
h = json.loads(lines[0]); h.pop("command"); h.pop("recipe")
open(sys.argv[1], "w").write("\n".join([json.dumps(h)] + lines[1:]) + "\n")
PY
t history
check "an older journal: read" is "$rc" 0
check "an older journal: SRC -> DEST, no words" is "$(grep -c -- "-> $shm/two\$" <<<"$out")" 1
check "an older journal: the newer still has its words" has "$out" "(tether -q migrate --verify hash"
t undo
check "an older journal: undo takes it" is "$rc" 0

# Words that are not words: the journal is refused, named.
sed -i '1s/"command":\[[^]]*\]/"command":[1,2]/' "$j1"
t history
check "a migration journal whose command is malformed is named" has "$err" "a malformed command"
sed -i '1s/"command":\[1,2\]/"command":["x"]/; 1s/"recipe":"migrate"/"recipe":"a b"/' "$j1"
t history
check "a migration journal whose recipe is malformed is named" has "$err" "a malformed recipe"

finish
