#!/usr/bin/env bash
# tether apply against what it must do with any declaration (apply_model.py): every pair
# of item kinds with one at or in the other's path, in both orders, then random small
# declarations over random trees for TETHER_APPLY_SECONDS (default 40; each failure
# prints the seed that repeats it: TETHER_APPLY_SEED=N). For each: --check's verdict is
# apply's, a refusal changes nothing, a second apply changes nothing, and tether undo
# puts the tree back exactly.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

export WORK
python3 "$here/apply_model.py" pairs
check "every pair of kinds: --check predicts apply, apply converges, undo restores" is "$?" 0
python3 "$here/apply_model.py" random "${TETHER_APPLY_SECONDS:-40}"
check "random declarations: --check predicts apply, apply converges, undo restores" is "$?" 0

finish
