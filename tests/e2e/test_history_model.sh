#!/usr/bin/env bash
# History is an undo stack (rule 11), checked against a model (history_model.py): random
# histories of every command that changes a tree, their dry runs, invalid ones and undos,
# on a sandbox with journals of its own, then tether undo --yes until nothing is left.
# After every step the sandbox and tether history --json must be what the model says: a
# refused or dry command changed nothing, every undo restores exactly the sandbox before
# the run it reversed, apply twice changes nothing, undo -n changes nothing.
# CI runs the histories from seed 1 for TETHER_MODEL_SECONDS (default 40). A failure
# prints its seed (TETHER_MODEL_SEED=N repeats that history) and the history cut down to
# shell commands. Longer, by hand, from a random seed, going on after failures:
#   TETHER=build/tether TETHER_MODEL_SECONDS=600 TETHER_MODEL_SEEDS=random TETHER_MODEL_ALL=1 \
#       python3 tests/e2e/history_model.py
# (TETHER_MODEL_ONLY / TETHER_MODEL_SKIP choose the kinds of commands: see history_model.py.)
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

export WORK
python3 "$here/history_model.py"
check "random histories of commands and undos: the sandbox and tether history as the model says" is "$?" 0

finish
