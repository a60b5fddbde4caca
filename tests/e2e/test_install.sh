#!/usr/bin/env bash
# What an installed tether consists of: the man pages and completions generated from the
# recipes' option tables (every option a recipe accepts is in its page and in each
# completion script; every page renders without a groff warning; bash completes recipes
# and their options), and `cmake --install` with DESTDIR and --prefix (binary, tether.so
# and the stdlib where a stock lua5.4 finds them, man pages, completions, docs).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${TETHER_BUILD_DIR:?set by ctest}"
gen=$TETHER_BUILD_DIR/gen

recipes=$("$TETHER" recipes | awk 'NR > 1 { print $1 }')
check "there are recipes" test -n "$recipes"
for r in $recipes; do
    page=$gen/man/tether-$r.1
    check "man page of $r" test -f "$page"
    # Every option --help shows (long and short), in the page and in each completion.
    # The option lines of --help: "  -n, --dry-run   text" or "      --json   text".
    opts=$("$TETHER" help "$r" | grep -E '^ +-' | sed -E 's/^ +//; s/  .*//; s/ [A-Z]+$//; s/\[=[A-Z]+\]$//' |
        tr ',' '\n' | tr -d ' ' | grep -E '^--?[a-zA-Z0-9]' | sort -u)
    for o in $opts; do
        roffed=${o//-/\\-}
        grep -qF -- "$roffed" "$page" || { failed=$((failed + 1)); echo "FAIL: $o of $r not in $page"; continue; }
        passed=$((passed + 1))
        long=${o#--}; short=${o#-}
        if [[ $o == --* ]]; then
            grep -q -- " $o\\b\\|'$o\\b\\| $o'" "$gen/completions/tether.bash" &&
                grep -q -- "'$o[=\\[]" "$gen/completions/_tether" &&
                grep -q -- "from $r' -l $long\\b" "$gen/completions/tether.fish" ||
                { failed=$((failed + 1)); echo "FAIL: $o of $r missing from a completion script"; continue; }
        else
            grep -q -- " $o\\b\\|'$o\\b" "$gen/completions/tether.bash" &&
                grep -q -- "'$o[+\\[]" "$gen/completions/_tether" &&
                grep -q -- "from $r' .* -s $short\\b" "$gen/completions/tether.fish" ||
                { failed=$((failed + 1)); echo "FAIL: $o of $r missing from a completion script"; continue; }
        fi
        passed=$((passed + 1))
    done
done
if command -v groff >/dev/null; then
    for page in "$gen"/man/*.1; do
        check "$(basename "$page") renders without warnings" is "$(groff -ww -z -man "$page" 2>&1)" ""
    done
    check "man -l renders tether(1)" has "$(MANWIDTH=80 man -l "$gen/man/tether.1" 2>&1)" "RECIPES"
else
    echo "skipped: groff is not installed (man page rendering)"
fi

# bash completion, as bash-completion would load it.
complete_words() { # complete_words WORDS...: what bash offers for the last word
    bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _tether; printf "%s\n" "${COMPREPLY[@]}"' \
        _ "$gen/completions/tether.bash" "$@"
}
check "complete -p tether" has "$(bash -c ". '$gen/completions/tether.bash'; complete -p tether")" "-F _tether tether"
check "recipes complete" has "$(complete_words tether pru)" "prune"
check "options complete" is "$(complete_words tether prune --lo)" "--loops"
check "farm's stow options complete" has "$(complete_words tether farm --no)" "--no-folding"
# Values: from the option tables' choices, directories where a directory is asked for,
# nothing for a number, and the ids of journaled runs where a run is named.
check "--format values complete" is "$(complete_words tether audit --format '' | sort | tr '\n' ' ')" "csv html json table tree "
check "--verify values complete" is "$(complete_words tether migrate --verify h)" "hash"
check "--sort values complete" is "$(complete_words tether audit --sort ta)" "target"
mkdir -p cdir/sub && touch cdir/file
check "a directory option offers directories" is "$(complete_words tether farm -d cdir/ | tr '\n' ' ')" "cdir/sub "
check "a number offers nothing" is "$(complete_words tether dedupe --min-size '')" ""
mkdir -p "$XDG_STATE_HOME/tether/journal" && touch "$XDG_STATE_HOME/tether/journal/20260101-000000-000001-ab.jsonl"
check "undo offers run ids" is "$(complete_words tether undo '' | tr '\n' ' ')" "20260101-000000-000001-ab last "
check "--resume offers run ids" is "$(complete_words tether migrate --resume 2026)" "20260101-000000-000001-ab"
check "--journal-dir is looked in" is "$(complete_words tether --journal-dir cdir undo '' | tr '\n' ' ')" "last "
check "zsh offers the choices" grep -qF "'--format=[table (default), json, csv, tree or html]:format:(csv html json table tree)'" "$gen/completions/_tether"
check "fish offers the choices" grep -qF -- "-l verify -x -a 'hash size'" "$gen/completions/tether.fish"

# The API reference and the editor stubs: generated from stdlib/tether/api.lua, the same as the
# committed copies, and describing exactly what the module exports.
src=${TETHER_SOURCE_DIR:?set by ctest}
check "docs/api.md is the generated one" is "$(diff "$gen/api.md" "$src/docs/api.md" && echo same)" same
check "types/tether.lua is the generated one" is "$(diff "$gen/types/tether.lua" "$src/types/tether.lua" && echo same)" same
out=$("$TETHER" -e '
local api = dofile(...)
local described, missing, extra = {}, {}, {}
local lua = {}
for _, f in ipairs(api.functions) do described[f[1]] = true; lua[f[1]] = f.lua end
for k, v in pairs(tether) do
  if type(v) == "function" and not described[k] then missing[#missing + 1] = k end
end
for name in pairs(described) do
  if type(tether[name]) ~= "function" then extra[#extra + 1] = name end
  if not lua[name] and type(tether.raw[name]) ~= "function" then extra[#extra + 1] = "raw." .. name end
end
table.sort(missing); table.sort(extra)
print("missing: " .. table.concat(missing, " ") .. "; not exported: " .. table.concat(extra, " "))' "$src/stdlib/tether/api.lua" 2>&1)
check "every exported function is described, and only those" is "$out" "missing: ; not exported: "

# cmake --install into a staging directory, with another prefix.
if [ "${TETHER_SANITIZE:-OFF}" = ON ]; then
    echo "skipped: install checks (a sanitized tether/core.so cannot be loaded by a stock lua5.4)"
else
    stage=$WORK/stage
    out=$(DESTDIR="$stage" cmake --install "$TETHER_BUILD_DIR" --prefix /opt/tether 2>&1); rc=$?
    check "cmake --install with DESTDIR and --prefix" is "$rc" 0
    for f in bin/tether share/man/man1/tether.1 share/man/man1/tether-migrate.1 \
        share/bash-completion/completions/tether share/zsh/vendor-completions/_tether \
        share/fish/vendor_completions.d/tether.fish share/doc/tether/README.md share/doc/tether/json.md; do
        check "installed $f" test -f "$stage/opt/tether/$f"
    done
    check "the installed binary runs" has "$("$stage/opt/tether/bin/tether" --version)" "tether "
    so=$(find "$stage" -path '*/tether/core.so' | head -n 1)
    plan=$(find "$stage" -path '*/tether/plan.lua' | head -n 1)
    check "tether/core.so installed" test -n "$so"
    check "the stdlib installed" test -n "$plan"
    if command -v lua5.4 >/dev/null; then
        lmod=$(dirname "$(dirname "$plan")")
        out=$(LUA_CPATH="$(dirname "$(dirname "$so")")/?.so" LUA_PATH="$lmod/?.lua;$lmod/?/init.lua" \
            lua5.4 -e 'local t = require "tether"; local p = require "tether.plan"; local f = require "tether.farm"
                       print(t.version, type(p.new), type(f.new))' 2>&1)
        check "a stock lua5.4 loads tether and its stdlib from there" is "$out" "$("$TETHER" -e 'io.write(tether.version)')	function	function"
    else
        echo "skipped: lua5.4 is not installed (stock interpreter check)"
    fi
fi

finish
