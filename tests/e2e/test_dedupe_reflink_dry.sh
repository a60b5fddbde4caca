#!/usr/bin/env bash
# dedupe --reflink -n promises no savings it has not checked: a dry run makes no clone, so
# on a filesystem not known to make them (tmpfs, ext4) it says the space saved is not
# checked (JSON: bytes_unchecked, not bytes_saved), and changes nothing; the real run
# still refuses where no clone can be made.
. "$(dirname "$0")/lib.sh"

[ -d /dev/shm ] && [ -w /dev/shm ] || skip_all "no writable /dev/shm (tmpfs)"
shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'rm -rf "$shm"; cleanup' EXIT
mkdir "$shm/dd" here
head -c 50000 /dev/urandom >"$shm/dd/a" && cp -p "$shm/dd/a" "$shm/dd/b" && cp -p "$shm/dd/a" "$shm/dd/c"
cp -p "$shm/dd/a" here/a && cp -p "$shm/dd/a" here/b
before=$(snapshot "$shm/dd")

t -n dedupe --reflink "$shm/dd"
check "-n --reflink on tmpfs succeeds" is "$rc" 0
check "it promises no savings" is "$(grep -c '^would save [0-9]' <<<"$out")" 0
check "it says they are not checked, and why" has "$out" "would save up to 97.7 KiB, not checked: a dry run makes no clone, and tmpfs is not known to make them (2 duplicate files of 3 scanned"
check "it changes nothing" is "$(snapshot "$shm/dd")" "$before"

t -n --json dedupe --reflink "$shm/dd"
check "--json: nothing promised, the bytes not checked told apart" is \
    "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["bytes_saved"], d["bytes_unchecked"], d["duplicates"], d["dry"])' <<<"$out" 2>&1)" \
    "0 100000 2 True"
check "--json: each action says it is a clone" is \
    "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted({(a["op"], a.get("clone")) for a in d["actions"]}))' <<<"$out" 2>&1)" \
    "[('hardlink', True)]"

# Two filesystems: each named once, the sum not promised.
case $(stat -f -c %T "$WORK") in
tmpfs | btrfs | bcachefs) echo "skipped: $WORK is not a second filesystem that makes no clones" ;;
*)
    t -n dedupe --reflink "$shm/dd" here
    check "both filesystems named" has "$out" "not checked: a dry run makes no clone, and tmpfs, "
    check "and the total not promised" has "$out" "up to 146.5 KiB"
    ;;
esac

# Hard links (no --reflink) are what a dry run can tell: promised as before.
t -n dedupe "$shm/dd"
check "without --reflink the savings are told" has "$out" "would save 97.7 KiB (2 duplicate files of 3 scanned"
t -n --json dedupe "$shm/dd"
check "--json without --reflink has no bytes_unchecked" is \
    "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["bytes_saved"], "bytes_unchecked" in d)' <<<"$out" 2>&1)" "100000 False"
check "--json without --reflink: hard links, no clone field" is \
    "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted({(a["op"], "clone" in a) for a in d["actions"]}))' <<<"$out" 2>&1)" \
    "[('hardlink', False)]"
t dedupe --help
check "--help: one statement of which filesystems clone" is "$(grep -c 'btrfs, XFS)' <<<"$out")|$(grep -c 'all but' <<<"$out")" "0|1"

# The real run refuses where no clone can be made, and changes nothing; nothing to undo.
t dedupe --reflink "$shm/dd"
check "the real run cannot clone on tmpfs" is "$rc" 3
check "naming the file and why" has "$err" "cannot make a copy-on-write clone here"
check "one error, naming the filesystem, with what to do instead; no other file tried" is "$err" \
    "tether: $shm/dd/b: cannot make a copy-on-write clone here: its filesystem (tmpfs) makes none (ENOTSUP); drop --reflink to hard-link the copies instead; nothing changed"
t --json dedupe --reflink "$shm/dd"
check "--json: the one error, its errno and hint, nothing changed" is \
    "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["changed"], d["exit"], d["error"]["errno"], d["error"]["hint"])' <<<"$out" 2>&1)" \
    "False 3 ENOTSUP drop --reflink to hard-link the copies instead"
check "and changes nothing" is "$(snapshot "$shm/dd")" "$before"
t -n undo
check "nothing to undo after it" is "$rc" 3

finish
