#!/usr/bin/env bash
# Repeated and nested roots (tests/e2e/roots_fold.py): every bulk recipe, dry and real and
# undone, over every way of naming a root twice or a root inside another gives what it
# gives on the roots folded by hand; undo restores the tree exactly; dedupe never pairs
# a file with itself.
here=$(cd "$(dirname "$0")" && pwd)
: "${TETHER:?set TETHER to the tether binary}"
exec python3 "$here/roots_fold.py"
