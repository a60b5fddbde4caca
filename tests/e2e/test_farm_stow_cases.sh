#!/usr/bin/env bash
# GNU Stow's own test cases (t/*.t of stow 2.3.1), ported as data in stow_cases.py: each
# is run by real stow in one sandbox and by tether farm in another, and the trees,
# verdicts and conflict reports must agree (or differ exactly as a case spells out).
# The driver prints how many of stow's cases each file gave, and which were left out.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! command -v stow >/dev/null || ! command -v python3 >/dev/null; then
    skip_all "GNU stow or python3 is not installed"
fi
case $(stow --version) in
*" 2.3.1"*) ;;
*) echo "note: the cases were written against stow 2.3.1; this is $(stow --version)" ;;
esac

python3 "$here/stow_cases.py" "$TETHER" "$WORK/cases" >"$WORK/cases.out" 2>&1
rc=$?
cat "$WORK/cases.out"
out=$(cat "$WORK/cases.out") err=""
check "every ported stow case agrees with stow (or differs as spelled out)" is "$rc" 0
check "the driver ran the cases" has "$out" " cases, "
finish
