#!/usr/bin/env bash
# The command line: -e, run with arg, script errors, usage errors, help, recipes,
# stdin scripts, TETHER_LUA_PATH and the demo.
. "$(dirname "$0")/lib.sh"

t -e 'assert(tether.symlink("target", "l")); io.write(tether.readlink("l"), " "); assert(tether.unlink("l")); io.write(tostring(tether.exists("l")))'
check "-e symlink round trip" is "$out|$rc" "target false|0"
check "-e left nothing" is "$(ls -A)" ""

printf 'print(arg[0], arg[1], select("#", ...), ...)\n' > args.lua
t run args.lua "one two" -x
check "run: arg and ..." is "$out" "args.lua	one two	2	one two	-x"

printf 'local x = 1\nlocal function f() error("boom") end\nf()\n' > bad.lua
t run bad.lua
check "script error exit 1" is "$rc" 1
check "script error file:line" is "$err" "tether: bad.lua:2: boom"
t -v run bad.lua
check "script error traceback with -v" has "$err" "bad.lua:3: in main chunk"

printf 'local x = = 1\n' > syntax.lua
t run syntax.lua
check "syntax error names file:line" has "$err|$rc" "syntax.lua:1:"

t -v -e 'require("tether.path").join("a", 1)'
check "stdlib traceback names its file" has "$err" "stdlib/tether/path.lua:"

t -e 'return 7'
check "chunk return value is the exit code" is "$rc" 7

t run missing.lua
check "run missing script" is "$rc" 1
check "run missing script message" has "$err" "missing.lua"

t --bogus
check "unknown option exit 2" is "$rc|$err" "2|tether: unknown option '--bogus'; see tether --help"
t run
check "run without script" is "$rc" 2
t nosuchrecipe
check "unknown recipe" is "$rc" 2
check "unknown recipe message" has "$err" "unknown command or recipe 'nosuchrecipe'"
t ../etc/passwd
check "recipe names cannot be paths" is "$rc" 2
# "Did you mean" for commands, recipes and global options before the command, as after it.
for row in "migrte|did you mean migrate?" "reciples|did you mean recipes?" "auidt /|did you mean audit?" \
           "--jsn audit|did you mean --json?" "--dry-rn=1 prune|did you mean --dry-run?" \
           "--jurnal-dir x prune|did you mean --journal-dir?" "prune --lops|did you mean --loops?"; do
    # shellcheck disable=SC2086
    t ${row%|*}
    check "suggestion for '${row%|*}'" is "$rc|$(has "$err" "${row#*|}" && echo yes)" "2|yes"
done
t zqxwv
check "no suggestion when nothing is near" is "$rc|$err" "2|tether: unknown command or recipe 'zqxwv'; see tether recipes"
# --version (and -V) after a recipe's name too, as the README says of every global option.
for cmd in "migrate --version" "audit -V" "farm --version"; do
    # shellcheck disable=SC2086
    t $cmd
    check "$cmd" is "$rc|${out%% (*}" "0|tether $("$TETHER" -e 'print(tether.version)')"
done

t --version
check "--version" has "$out" "tether 0."
t --help
check "--help lists commands" has "$out" "RECIPE [ARGS...]"
check "--help exit 0" is "$rc" 0
t recipes
for r in link unlink inspect audit demo; do check "recipes lists $r" has "$out" "  $r "; done
t help link
check "help link" has "$out" "usage: tether link"
t link --help
check "link --help" has "$out|$rc" "--relative"

out=$(printf 'print(6*7)\n' | "$TETHER" 2>&1)
no_bug_report "tether" "$out"
check "script from stdin" is "$out" "42"
out=$(printf 'print(6*7)\n' | "$TETHER" repl 2>&1)
no_bug_report "tether" "$out"
check "repl with stdin not a terminal runs it as a script" is "$out" "42"
out=$(printf 'print(...)\n' | "$TETHER" run - a b 2>&1)
no_bug_report "tether" "$out"
check "run - reads stdin" is "$out" "a	b"

mkdir -p dev/scripts dev/stdlib/tether
printf -- '-- a test override\nprint("override", ...)\n' > dev/scripts/link.lua
printf 'return {hello = function() return "from tree" end}\n' > dev/stdlib/tether/path.lua
out=$(TETHER_LUA_PATH="$WORK/nothing:$WORK/run/dev" "$TETHER" link a b 2>&1)
no_bug_report "tether" "$out"
check "TETHER_LUA_PATH recipe override" is "$out" "override	a	b"
out=$(TETHER_LUA_PATH="$WORK/run/dev" "$TETHER" -e 'print(require("tether.path").hello())' 2>&1)
no_bug_report "tether" "$out"
check "TETHER_LUA_PATH stdlib override" is "$out" "from tree"
out=$(TETHER_LUA_PATH="$WORK/run/dev" "$TETHER" recipes 2>&1)
no_bug_report "tether" "$out"
check "TETHER_LUA_PATH summary" has "$out" "a test override"

mkdir demo-tmp
out=$(TMPDIR="$WORK/run/demo-tmp" "$TETHER" demo 2>&1)
rc=$?
no_bug_report "tether" "$out"
check "demo runs" is "$rc" 0
check "demo migrates" has "$out" "is now a symlink -> "
check "demo audits" has "$out" "broken  mods/broken-mod -> no-such-mod (relative)"
check "demo undoes" has "$out" "is a real folder again (dir)"
check "demo cleans up" is "$(ls -A demo-tmp)|$(ls -d /dev/shm/tether-demo-* 2>/dev/null)" "|"

# Paths from stdin: newline- or NUL-separated; every recipe that takes paths.
mkdir -p stdin-t && ln -s gone1 stdin-t/a && ln -s gone2 "stdin-t/b c" && ln -s gone3 stdin-t/d
out=$(printf 'stdin-t/a\nstdin-t/b c\n' | "$TETHER" -n unlink - 2>&1); rc=$?
check "unlink - reads lines" is "$rc|$out" "0|would remove stdin-t/a
would remove stdin-t/b c"
out=$(find stdin-t -type l -print0 | LC_ALL=C sort -z | "$TETHER" unlink -0 2>&1); rc=$?
check "unlink -0 reads NUL-separated paths" is "$rc|$(ls stdin-t | wc -l)" "0|0"
out=$(printf 'stdin-t\n' | "$TETHER" --json audit - 2>&1); rc=$?
check "audit - too" is "$rc|$(python3 -c 'import json,sys; print(json.load(sys.stdin)["roots"])' <<<"$out")" "0|['stdin-t']"
out=$(printf '' | "$TETHER" unlink - 2>&1); rc=$?
check "no paths on stdin is a usage error" is "$rc|$out" "2|tether: unlink: no paths on stdin; see tether help unlink"
# Help for the commands that are not recipes, and run --help.
t help run
check "help run" is "$rc|$(head -1 <<<"$out")" "0|usage: tether [OPTIONS] run SCRIPT [ARGS...]"
t run --help
check "run --help is help, not a file" is "$rc|$(head -1 <<<"$out")" "0|usage: tether [OPTIONS] run SCRIPT [ARGS...]"
for c in repl recipes -e help; do t help "$c"; check "help $c" is "$rc|$(head -c 6 <<<"$out")" "0|usage:"; done
t -nq prune --help
check "global short options bundle" is "$rc" 0
t demo -n
check "demo -n plans and changes nothing" is "$rc|$(grep -c 'would migrate' <<<"$out")" "0|1"

finish
