#!/usr/bin/env bash
# The fault matrix of docs/migration.md (tests/e2e/faults.py): every step of a migration,
# of its undo and of its rollback meets every fault, then every recovery a user can reach;
# afterwards the data is whole and nothing is left behind. The sanitizer pass runs every
# third scenario (rotating), the plain build all of them.
here=$(cd "$(dirname "$0")" && pwd)
: "${TETHER:?set TETHER to the tether binary}"
if [ "${TETHER_SANITIZE:-OFF}" = ON ]; then
    exec python3 "$here/faults.py" --sample 3
fi
exec python3 "$here/faults.py"
