#!/usr/bin/env bash
# Runs that name other runs (tests/e2e/history_refs.py): history --prune with every
# --keep N never removes a journal that a kept tether apply names, every undo after it
# reverses a whole run or refuses, and an apply whose migration's journal is missing,
# corrupt or unreadable is refused by undo, naming that journal, with nothing changed.
here=$(cd "$(dirname "$0")" && pwd)
: "${TETHER:?set TETHER to the tether binary}"
exec python3 "$here/history_refs.py"
