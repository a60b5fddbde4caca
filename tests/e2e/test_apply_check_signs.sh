#!/usr/bin/env bash
# apply --check lists each difference with the sign of what it does: "+" what it makes,
# "-" what it removes, "~" what it changes in place, whichever item plans it (a farm's
# unfolding removes a link: "-"). Checked as a property over every line, in text and
# JSON, before the apply, after it and after its undo.
. "$(dirname "$0")/lib.sh"

mkdir -p stow/p1/.config/a stow/p2/.config/b home s/old
echo 1 >stow/p1/.config/a/f && echo 2 >stow/p2/.config/b/g && echo x >s/old/f
ln -s /nowhere/x s/l
cat >one.lua <<'LUA'
return { farms = { { dir = "stow", target = "home", packages = { "p1" } } } }
LUA
cat >two.lua <<LUA
return {
  farms = { { dir = "stow", target = "home", packages = { "p1", "p2" } } },
  links = { { path = "s/l", target = "old/f", force = true }, { path = "s/new", target = "old" } },
  absent = { "s/gone" },
  dirs = { "s/made" },
}
LUA
ln -s x s/gone

# signs_right LINES: each line's sign matches what its words say it does.
signs_right() {
    local line
    while IFS= read -r line; do
        case "$line" in
        "+ "*) [[ "$line" =~ ^\+\ (link|make\ directory|hard-link|junction|symlink|directory|hard\ link) ]] || { echo "wrong sign: $line"; return 1; } ;;
        "- "*) [[ "$line" =~ ^-\ (remove|link|symlink) ]] || { echo "wrong sign: $line"; return 1; } ;;
        "~ "*) [[ "$line" =~ ^~\ (relink|move|clone|hard-link|symlink) ]] || { echo "wrong sign: $line"; return 1; } ;;
        esac
        case "$line" in *"remove "*) [[ "$line" == "- "* ]] || { echo "a removal not shown as one: $line"; return 1; } ;; esac
    done <<<"$1"
}

t apply one.lua
check "the farm is folded first" is "$(readlink home/.config)" "../stow/p1/.config"
t apply two.lua --check
first=$out
check "--check lists the differences" is "$rc" 0
check "the farm's removal of its folded link is a removal" has "$out" "- remove link $WORK/run/home/.config -> ../stow/p1/.config"
check "what it makes is an addition" has "$out" "+ make directory $WORK/run/home/.config"
check "each line's sign is what it does" signs_right "$out"
t --json apply two.lua --check
check "--json: the same signs" signs_right "$(python3 -c 'import json,sys
for it in json.load(sys.stdin)["items"]:
    for c in it.get("changes", []): print(c)' <<<"$out")"
t -n apply two.lua
check "-n: the same signs" signs_right "$out"
t apply two.lua
check "the apply ran" is "$rc" 0
check "the folded link is a directory now" is "$(stat -c %F home/.config)" directory
t apply two.lua --check
check "after it nothing differs" is "$(grep -c '^[-+~] ' <<<"$out")" 0
t undo
t apply two.lua --check
check "after its undo: the same differences again" is "$out" "$first"

finish
