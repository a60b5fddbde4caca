#!/usr/bin/env bash
# The module with the stock interpreter: lua5.4 -e 'require"tether"', its Lua part
# (stdlib/tether/init.lua) through LUA_PATH and its C part (tether/core.so) through
# LUA_CPATH; tether.path and tether.plan without a require; dry-run mode as in tether.
. "$(dirname "$0")/lib.sh"

if ! command -v lua5.4 >/dev/null; then
    skip_all "lua5.4 is not installed"
fi
export LUA_CPATH="$(dirname "$TETHER_MODULE_DIR")/?.so;;"
export LUA_PATH="$TETHER_SOURCE_DIR/stdlib/?.lua;$TETHER_SOURCE_DIR/stdlib/?/init.lua;;"
if [ "${TETHER_SANITIZE:-OFF}" = "ON" ]; then
    # An instrumented module needs the sanitizer runtime loaded first.
    export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
    export ASAN_OPTIONS=detect_leaks=0
fi
out=$(lua5.4 -e "local t=require'tether'; assert(t.symlink('x', '$WORK/run/l')); print(t.readlink('$WORK/run/l'), t.version)" 2>&1)
check "require tether in lua5.4" has "$out" "x	0."
check "link made by the module" is "$(readlink l)" "x"
out=$(lua5.4 -e "local t=require'tether'; print(t.symlink('y', '$WORK/run/l'))" 2>&1)
check "module failure convention" has "$out" "nil	$WORK/run/l: already exists (EEXIST)"
out=$(lua5.4 -e "local t=require'tether'
print(type(t.path.join), type(t.plan.new), t.raw == require'tether.core', t.dryrun())
t.dryrun(true); print(t.symlink('z', '$WORK/run/dry'), #t.drylog()); t.dryrun(false)
print(t.symlink == t.raw.symlink)" 2>&1)
check "tether.path, tether.plan, tether.raw and dry-run from lua5.4" is "$out" "function	function	true	false
true	1
true"
check "the dry run made nothing" test ! -e dry
finish
