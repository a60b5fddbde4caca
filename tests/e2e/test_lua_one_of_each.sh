#!/usr/bin/env bash
# "One of each" on the Lua side (issues 21 and 22; shared/docs/style.md): what must stay
# single, checked by grep over the sources ($TETHER_SOURCE_DIR), so a second owner of
# dry-run or a hand-made errno message fails here, naming the file and line.
src=${TETHER_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib.sh"

# rule NAME REGEX FILE...: no line of code (comments skipped) in FILEs, under $src, matches REGEX.
rule() {
    local name=$1 re=$2
    shift 2
    out=$(cd "$src" && grep -nE "$re" "$@" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*--')
    check "$name" is "$out" ""
}

# The rules, over the recipes and the stdlib under $src.
rules() {
    local scripts stdlib f not_run=() not_docs=() not_path=() not_names=()
    scripts=$(cd "$src" && echo scripts/*.lua)
    stdlib=$(cd "$src" && echo stdlib/tether/*.lua)
    for f in $stdlib; do
        case "$f" in stdlib/tether/run.lua | stdlib/tether/init.lua) ;; *) not_run+=("$f") ;; esac
        [ "$f" = stdlib/tether/api.lua ] || not_docs+=("$f")
        [ "$f" = stdlib/tether/path.lua ] || not_path+=("$f")
        case "$f" in stdlib/tether/tempname.lua | stdlib/tether/api.lua) ;; *) not_names+=("$f") ;; esac
    done
    # A recipe never reads (or sets) dry-run mode: it gets it from what it calls, says it with run.would.
    rule "no recipe reads the dry-run mode" 'dryrun[[:space:]]*\(|run\.dry[[:space:]]*\(' $scripts
    # The stdlib reads it through run.dry(), tether.run's one accessor (cli.parse sets it, with an argument).
    rule "the stdlib reads dry-run through run.dry()" 'dryrun[[:space:]]*\([[:space:]]*\)' "${not_run[@]}"
    # No message with an errno name written into it: tether.fail builds "PATH: reason (ENAME)" (api.lua's docs quote one).
    rule "no hand-written (ENAME) in a message" '"[^"]*\(E[A-Z0-9]{2,}\)[^"]*"' $scripts "${not_docs[@]}"
    # Nor one pasted in: "PATH: reason (" .. e.error .. ")", or "...: ... (%s)" given an errno.
    rule "no errno pasted into a message" '"[^"]*: [^"]*\(" *\.\. *[A-Za-z_.]*(errno|error|code)\b|"[^"]*: [^"]*\(%s\)"[^)]*\b(errno|error|code)\b' $scripts $stdlib
    # One exit-code map (run.CODES): an exit code is run.code(outcome), never a number
    # a recipe or module writes itself, and nothing leaves by os.exit behind the host's back.
    rule "exit codes only from run.code" 'os\.exit[[:space:]]*\(|^[[:space:]]*return[[:space:]]+[0-9]+[[:space:]]*$|exit[[:space:]]*=[[:space:]]*[0-9]' $scripts "${not_run[@]}"
    # One path library (tether.path): no path joined by hand with "/", taken apart name by
    # name with a pattern of its own, cut at its last "/", or found below another by a
    # string prefix (path.join, parts, map_names, cut, split, below, inside).
    rule "paths joined only by tether.path" '\.\.[[:space:]]*"/"[[:space:]]*\.\.' $scripts "${not_path[@]}"
    rule "paths taken apart only by tether.path" '(gmatch|gsub)[[:space:]]*\([[:space:]]*"\[\^/|match[[:space:]]*\([[:space:]]*"\^\((\.\*|/\.\+)\)/' $scripts "${not_path[@]}"
    rule "below another path only by tether.path" 'find[[:space:]]*\([^()]*,[[:space:]]*1,[[:space:]]*true[[:space:]]*\)[[:space:]]*==[[:space:]]*1' $scripts "${not_path[@]}"
    # One module makes and recognises tether's temporary names (tether.tempname): no
    # ".tether-" written into a string, and its prefix not compared by hand.
    rule "tether's names only in tether.tempname" '"[^"]*\.tether-|'"'"'[^'"'"']*\.tether-|\.PREFIX\b' $scripts "${not_names[@]}"
}

check "the sources are there" test -f "$src/stdlib/tether/run.lua" -a -f "$src/scripts/migrate.lua"
rules

# Each rule catches what it is for (a regex that matches nothing would pass for one): a
# copy of the sources with one break of each rule fails every rule.
probe=$WORK/probe
mkdir -p "$probe/scripts" && cp -r "$src/stdlib" "$probe/"
printf 'local run = require "tether.run"\nif run.dry() then return end\n' >"$probe/scripts/a.lua"
printf 'return nil, p .. ": gone (ENOENT)", "ENOENT"\n' >"$probe/scripts/b.lua"
printf 'local m = string.format("%%s: cannot be read (%%s)", e.path, e.error)\n' >"$probe/scripts/c.lua"
printf 'local dry = tether.dryrun()\n' >>"$probe/stdlib/tether/plan.lua"
printf 'if bad then return 3 end\nreturn 4\n' >"$probe/scripts/d.lua"
printf 'local p = dir .. "/" .. name\n' >"$probe/scripts/e.lua"
printf 'for n in p:gmatch("[^/]+") do end\n' >>"$probe/stdlib/tether/report.lua"
printf 'if e.target:find(dest, 1, true) == 1 then end\n' >"$probe/scripts/f.lua"
printf 'local tmp = ".tether-" .. pid\n' >>"$probe/stdlib/tether/farm.lua"
caught=$(src=$probe passed=0 failed=0 && rules >/dev/null && echo "$passed passed, $failed failed")
check "each rule fails on a copy that breaks it" is "$caught" "0 passed, 9 failed"
# The second pattern of each two-pattern rule, and a rule's file left out, on their own.
probe2=$WORK/probe2
mkdir -p "$probe2/scripts" && cp -r "$src/stdlib" "$probe2/"
printf 'local d, n = p:match("^(.*)/([^/]*)$")\n' >"$probe2/scripts/a.lua"
printf 'if name:sub(1, #tempname.PREFIX) == tempname.PREFIX then end\n' >"$probe2/scripts/b.lua"
printf 'local p = dir .. "/" .. name\n' >>"$probe2/stdlib/tether/path.lua"
caught=$(src=$probe2 passed=0 failed=0 && rules >/dev/null && echo "$passed passed, $failed failed")
check "a cut by hand and a prefix compared by hand fail; path.lua may join" is "$caught" "7 passed, 2 failed"

finish
