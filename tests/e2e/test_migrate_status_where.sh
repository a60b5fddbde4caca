#!/usr/bin/env bash
# migrate --status says where a run's data is even when the paths it knew changed since:
# a rolled-back run whose SRC a later run made a link (the data is where SRC leads now),
# whose SRC link then leads nowhere, was replaced by a file or is gone (it says it cannot
# tell, and why); never "?". --json gives the same as data, names as they are.
. "$(dirname "$0")/lib.sh"

[ -d /dev/shm ] && [ -w /dev/shm ] || skip_all "no writable /dev/shm (a second filesystem)"
shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
src="$WORK/run/my src"
mkdir "$src" && echo hi >"$src/f"

# A run rolled back: a file appears in SRC while the copy is verified.
TETHER_TEST_AT="verify:begin=echo new > '$src/g'" t migrate "$src" "$shm/dst"
check "the first run is rolled back" is "$rc|$(ls "$src" | tr '\n' ' ')" "3|f g "
first=$(ls "$XDG_STATE_HOME/tether/journal" | sed -n 's/\.jsonl$//p' | head -n 1)
t migrate --status
check "rolled back: the data is in SRC" has "$out" "rolled back; the data is in $src"

# statuses: the first run's --status lines (its line and the one after).
status_of_first() { t migrate --status; grep -A1 "^$first " <<<"$out" | tail -n 1; }

# A later run makes SRC a link to its own DEST.
t migrate "$src" "$shm/dst2"
check "the second run moves SRC" is "$rc" 0
check "the first run: the data is where SRC leads now" is "$(status_of_first)" \
    "    rolled back; the data is in $shm/dst2 ($src links there now: it was made a link since, by a later run or by hand)"
t --json migrate --status
check "--json: the same, as data" is "$(python3 -c 'import json,sys; r=[x for x in json.load(sys.stdin)["runs"] if x["id"]==sys.argv[1]][0]; print(r["where"])' "$first" <<<"$out" 2>&1)" \
    "$shm/dst2 ($src links there now: it was made a link since, by a later run or by hand)"

# SRC's link leads nowhere: it cannot tell, and says why.
mv "$shm/dst2" "$shm/moved"
check "a link that leads nowhere: cannot tell, and why" is "$(status_of_first)" \
    "    rolled back; cannot tell where the data is: $src is a link to $shm/dst2 now, which leads nowhere, and $shm/dst is not there"
mv "$shm/moved" "$shm/dst2"

# Undo the second run: SRC is a directory again, and the first run's data is there.
t undo
check "after the undo: the data is in SRC again" is "$(status_of_first)" "    rolled back; the data is in $src"

# SRC replaced by a file, then gone.
mv "$src" "$WORK/run/aside" && echo x >"$src"
check "SRC a file now: cannot tell, and why" is "$(status_of_first)" \
    "    rolled back; cannot tell where the data is: $src is a file now, and $shm/dst is not there"
rm "$src"
check "SRC gone: cannot tell, and why" is "$(status_of_first)" \
    "    rolled back; cannot tell where the data is: neither $src nor $shm/dst is there (moved or deleted since)"
t migrate --status
check "never a question mark" is "$(grep -c '?' <<<"$out")" 0
mv "$WORK/run/aside" "$src"

finish
