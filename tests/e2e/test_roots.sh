#!/usr/bin/env bash
# Every recipe given a root that is not there, or one it cannot read: a message naming
# the path, the exit code of the brief (3 for a recipe that changes things: nothing was
# changed; 1 for audit and inspect: a problem found), and never a traceback.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

mkdir -p stow/pkg/.config home && echo x > stow/pkg/.config/rc && mkdir -p src && echo d > src/f
missing=(
    "audit MISSING|1"
    "inspect MISSING|1"
    "prune MISSING|3"
    "retarget --from /a --to /b MISSING|3"
    "relativize MISSING|3"
    "dedupe MISSING|3"
    "unlink MISSING|3"
    "link /tmp MISSING/x|3"
    "farm link pkg --dir MISSING --target home|3"
    "farm link pkg --dir stow --target MISSING|3"
    "migrate MISSING $WORK/run/dest|3"
    "migrate src MISSING/dest|3"
)
for row in "${missing[@]}"; do
    cmd=${row%|*} want=${row##*|}
    # shellcheck disable=SC2086
    t $cmd
    check "missing root: $cmd: exit $want" is "$rc" "$want"
    check "missing root: $cmd: names it" has "$err" "MISSING"
    t --json $cmd
    check "missing root: $cmd --json: one document with the error" is \
        "$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["recipe"], "MISSING" in d.get("error", {}).get("message", "") or bool(d.get("unreadable") or [p for p in d.get("paths", []) if p.get("error")]))' <<<"$out" 2>&1)" \
        "${cmd%% *} True"
done

if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    skip_all "unreadable roots need root to switch to an unprivileged user"
fi
# A directory only root can read, and the unprivileged user 65534 running tether.
chmod 755 "$WORK" "$WORK/run"
mkdir -p locked/in && chmod 700 locked && ln -s nowhere locked/in/l && echo s > locked/in/f
mkdir -p open/stow/pkg/.config && echo x > open/stow/pkg/.config/rc && chmod -R a+rwX open
export XDG_STATE_HOME="$WORK/userstate" && mkdir -p "$XDG_STATE_HOME" && chown 65534 "$XDG_STATE_HOME"
as_user=(setpriv --reuid 65534 --regid 65534 --clear-groups)
before=$(snapshot locked)
unreadable=(
    "audit locked|1"
    "inspect locked/in/l|1"
    "prune locked|3"
    "retarget --from /a --to /b locked|3"
    "relativize locked|3"
    "dedupe locked|3"
    "unlink locked/in/l|3"
    "link /tmp locked/in/x|3"
    "farm link pkg --dir open/stow --target locked|3"
    "migrate locked/in $WORK/run/open/dest|3"
)
for row in "${unreadable[@]}"; do
    cmd=${row%|*} want=${row##*|}
    # shellcheck disable=SC2086
    out=$("${as_user[@]}" "$TETHER" $cmd 2>"$WORK/stderr"); rc=$?; err=$(cat "$WORK/stderr")
    no_bug_report "tether $cmd" "$err"
    check "unreadable root: $cmd: exit $want" is "$rc" "$want"
    check "unreadable root: $cmd: names it" has "$err" "locked"
    check "unreadable root: $cmd: says why" has "$err" "EACCES"
done
check "nothing changed under the unreadable root" is "$(snapshot locked)" "$before"

finish
