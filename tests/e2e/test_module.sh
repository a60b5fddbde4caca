#!/usr/bin/env bash
# tether.so with the stock interpreter: lua5.4 -e 'require"tether"' through LUA_CPATH.
. "$(dirname "$0")/lib.sh"

if ! command -v lua5.4 >/dev/null; then
    echo "skipped: lua5.4 is not installed"
    finish
    exit
fi
export LUA_CPATH="$TETHER_MODULE_DIR/?.so;;"
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
finish
