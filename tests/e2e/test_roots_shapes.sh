#!/usr/bin/env bash
# Roots of every shape through the real binary: "/", "//", "../..", ".", "..", "./x/",
# relative ones, a root with ".." inside, a link, a link that dangles, a trailing '/',
# a one-letter top-level directory. A small tree is made "/" (a chroot holding the binary
# and its libraries) with links of every kind: ".." past "/", absolute, messy, loops,
# chains past the kernel's limit of 40 links, another filesystem (tmpfs), a directory
# only root may search. From each shape:
#   - audit --format json is byte for byte the same with the target cache on, off and
#     at 2, and every link in it is what the kernel says (tests/e2e/roots_ref.py: stat()
#     through each link from its directory, from inside the same chroot);
#   - prune -n plans exactly the broken links, relativize -n every absolute link that
#     resolves (each new target leading to the same place), retarget -n every link under
#     --from; shapes that name the same directory plan the same;
#   - prune and relativize run for real change only that, and undo puts the tree back.
# Then the same as uid 65534, for whom one directory is denied.
# The test runs in a mount namespace of its own: the tmpfs in the tree goes with it.
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${TETHER_ROOTS_NS:-}" ]; then
    ns=(unshare -m --propagation private) as=root
    [ "$(id -u)" -eq 0 ] || ns=(unshare -rm --propagation private) as=user
    if "${ns[@]}" true 2>/dev/null; then
        TETHER_ROOTS_NS=$as exec "${ns[@]}" bash "$0" "$@"
    fi
    echo "skipped: no mount namespace (unshare -m) to make a chroot in"
    exit 77 # ctest: skipped
fi
. "$here/lib.sh"

# The root: the binary, its libraries, and what AddressSanitizer reads of /proc (its
# options, from /proc/self/environ; LeakSanitizer needs a real /proc, so it is off in
# here: the relative shapes run outside the chroot at the end, with it).
R=$WORK/root
mkdir -p "$R/bin" "$R/proc/self" "$R/state"
cp "$TETHER" "$R/bin/tether"
for lib in $(ldd "$TETHER" | grep -o '/[^ ]*'); do
    mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"
done
printf 'ASAN_OPTIONS=detect_leaks=0\0' >"$R/proc/self/environ"
ln -s /bin/tether "$R/proc/self/exe"

# The tree.
(
    cd "$R" || exit 1
    mkdir -p a/b/c a/n x/y t d
    echo f >a/f
    ln -s ../../a a/b/up                   # up to "/" and down again
    ln -s ../../../../../a/f a/b/over      # more ".." than directories: stays at "/"
    ln -s ../../../../../nothere a/b/overb # the same, to nothing
    ln -s ../../../a/b/c a/b/c/deep
    ln -s /a/f a/abs
    ln -s /a/none a/absb
    ln -s //a///f a/absmessy
    ln -s './/b/./c/../c' a/messy
    ln -s . a/dot
    ln -s f/ a/slash # ENOTDIR
    ln -s loop2 a/loop1 && ln -s loop1 a/loop2 && ln -s self a/self
    ln -s / a/root
    ln -s .. x/up2
    ln -s ../a/b x/rel
    ln -s ../a/gone x/brk
    ln -s a l    # a root that is a link
    ln -s nowhere lb # one that dangles
    ln -s ../a/f d/s
    ln -s ../d/s a/todenied # denied to uid 65534
    ln -s ../t a/tot        # onto the tmpfs
    ln -s f a/n/c0 # to nothing (a/n/f): a chain of 41 links that ends nowhere
    for i in $(seq 1 40); do ln -s "c$((i - 1))" "a/n/c$i"; done
    ln -s n/c38 a/short # 40 links, then nothing: broken
    ln -s n/c39 a/long  # 41: past the limit, a loop (never pruned)
) || exit 1
mount -t tmpfs tether-roots "$R/t" || { echo "FAIL: cannot mount a tmpfs"; exit 1; }
trap 'umount "$R/t"; cleanup' EXIT
ln -s /a/f "$R/t/in"
ln -s ../a/b "$R/t/rel"
mkdir "$R/t/sub" && ln -s ../../a/b/c "$R/t/sub/deep"
chmod 700 "$R/d"
mkdir -p "$R/state65534" && chown 65534:65534 "$R/state65534" 2>/dev/null

as_user=()
# rt CWD ARGS...: tether inside the root, from CWD there ($as_user: as whom), into $out,
# $err and $rc; ASan's note that it cannot name the executable is no bug.
rt() {
    local cwd=$1 state=/state
    shift
    [ ${#as_user[@]} -gt 0 ] && state=/state65534
    out=$(XDG_STATE_HOME=$state unshare -R "$R" -w "$cwd" "${as_user[@]}" /bin/tether "$@" \
        2>"$WORK/stderr")
    rc=$?
    err=$(grep -v 'reading executable name failed' "$WORK/stderr")
    no_bug_report "tether $* (chroot, from $cwd)" "$err"
}

# ref CWD WHAT: roots_ref.py (stdin: its input), as the same user, from the same place.
ref() {
    local uid=-
    [ ${#as_user[@]} -gt 0 ] && uid=65534
    ref_out=$(python3 "$here/roots_ref.py" "$R" "$1" "$uid" "$2" 2>&1)
}

# Each shape: the root as typed, the working directory, the directory it names.
shapes=(
    "/|/|/" "//|/|/" "../..|/a/b|/" "/x/..|/|/"
    ".|/a|/a" "..|/a/b|/a" "/a|/|/a" "/a/|/|/a" "/a//|/x|/a" "/x/../a|/|/a" "/l|/|/a" "/l/|/|/a" "../l|/x|/a"
    "b|/a|/a/b" "a/b|/|/a/b" "./a/b/|/|/a/b"
    "./x/|/|/x" "x|/|/x" "./|/x|/x"
    "/lb|/|-" "/t|/|/t"
)
declare -A plans # the directory a shape names -> its plans, which must not differ
check_shape() {
    local root=$1 cwd=$2 names=$3 who=${4:-}
    local what="$who'$root' from $cwd" audit xdev=null prune relativize retarget
    rt "$cwd" audit "$root" --format json
    check "$what: audit runs (exit 0 or 1)" is "$((rc <= 1))" 1
    audit=$out
    for cache in 0 2; do
        out=$(XDG_STATE_HOME=/state TETHER_TARGET_CACHE=$cache unshare -R "$R" -w "$cwd" \
            "${as_user[@]}" /bin/tether audit "$root" --format json 2>/dev/null)
        check "$what: audit with the target cache at $cache: the same bytes" is "$out" "$audit"
    done
    if [ "$names" = / ]; then
        rt "$cwd" audit "$root" --format json --xdev
        xdev=$out
    fi
    rt "$cwd" --json prune -n "$root"
    check "$what: prune -n runs" is "$((rc <= 1))" 1
    prune=$out
    out=$(XDG_STATE_HOME=/state TETHER_TARGET_CACHE=0 unshare -R "$R" -w "$cwd" "${as_user[@]}" \
        /bin/tether --json prune -n "$root" 2>/dev/null)
    check "$what: prune -n with the target cache off: the same bytes" is "$out" "$prune"
    rt "$cwd" --json relativize -n "$root"
    check "$what: relativize -n runs" is "$((rc <= 1))" 1
    relativize=$out
    rt "$cwd" --json retarget -n --allow-broken --from /a --to /x "$root"
    check "$what: retarget -n runs" is "$((rc <= 1))" 1
    retarget=$out

    # Every link as the kernel says; every plan exactly what it should be.
    ref "$cwd" check <<<"{\"root\": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$root"),
        \"audit\": $audit, \"audit_xdev\": $xdev, \"prune\": $prune,
        \"relativize\": $relativize, \"retarget\": $retarget, \"from\": \"/a\", \"to\": \"/x\"}"
    check "$what: audit, prune -n, relativize -n, retarget -n as the kernel says" is \
        "$(grep -v '^plan: ' <<<"$ref_out")" ""
    # The same directory, however spelled: the same plans.
    [ "$names" = - ] && return
    local key="$who$names" mine
    mine=$(grep '^plan: ' <<<"$ref_out")
    if [ -z "${plans[$key]:-}" ]; then
        plans[$key]=$mine
    else
        check "$what: the same plans as every other spelling of $names" is "$mine" "${plans[$key]}"
    fi
}

for row in "${shapes[@]}"; do
    IFS='|' read -r root cwd names <<<"$row"
    check_shape "$root" "$cwd" "$names"
done

# For real, from a few shapes: prune removes the broken links and nothing else,
# relativize leaves every link leading where it did; undo puts everything back.
state() { python3 "$here/roots_ref.py" "$R" / - state </dev/null; }
before=$(state)
broken_gone() { # BEFORE AFTER: the links of AFTER are those of BEFORE that resolve or loop
    python3 -c '
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
kept = {p: v for p, v in b.items() if v[1] is not None or p in a}
print("ok" if a == kept and all(v[1] is None for p, v in b.items() if p not in a) else
      "removed: %s" % sorted(set(b) - set(a)))' "$1" "$2"
}
for row in "/|/" ".|/a" "..|/a/b" "/l|/" "../..|/a/b" "a/b|/"; do
    IFS='|' read -r root cwd <<<"$row"
    rt "$cwd" prune "$root"
    check "prune '$root' from $cwd: exit 0" is "$rc" 0
    after=$(state)
    check "prune '$root' from $cwd: only dangling links removed" is "$(broken_gone "$before" "$after")" ok
    check "prune '$root' from $cwd: working links kept" has "$after" '"/a/b/over": ['
    rt / undo
    check "prune '$root': undo puts the links back" is "$(state)" "$before"

    rt "$cwd" relativize "$root"
    check "relativize '$root' from $cwd: exit 0" is "$rc" 0
    check "relativize '$root' from $cwd: every link leads where it did" is \
        "$(state | python3 -c 'import json,sys; print(sorted((p, v[1]) for p, v in json.load(sys.stdin).items()))')" \
        "$(python3 -c 'import json,sys; print(sorted((p, v[1]) for p, v in json.loads(sys.argv[1]).items()))' "$before")"
    rt / undo
    check "relativize '$root': undo puts the links back" is "$(state)" "$before"
done

# As uid 65534: /d is not searchable, so a/todenied is denied (never pruned) and /d is
# reported as unreadable.
if [ "$TETHER_ROOTS_NS" = root ]; then
    as_user=(-S 65534 -G 65534)
    for row in "/|/|/" ".|/a|/a" "..|/a/b|/a" "/l|/|/a" "../..|/a/b|/"; do
        IFS='|' read -r root cwd names <<<"$row"
        check_shape "$root" "$cwd" "$names" "uid 65534: "
    done
    rt /a audit . --format json
    check "uid 65534: a link into /d is denied" has "$out" '"path":"./todenied","status":"denied"'
    rt / --json prune -n /
    check "uid 65534: prune -n / says /d could not be read" has "$out" '"/d"'
    check "uid 65534: prune -n /: exit 1 (a directory left unread)" is "$rc" 1
    as_user=()
else
    echo "skipped: the denied directory needs root (to switch to uid 65534)"
fi

# The relative shapes once more outside the chroot, where LeakSanitizer runs too (the
# absolute targets lead elsewhere from here: only the cache's three answers are compared).
for row in ".|a" "..|a/b" "./x/|." "a/b|." "l|." "l/|." "lb|."; do
    IFS='|' read -r root cwd <<<"$row"
    cd "$R/$cwd" || exit 1
    t audit "$root" --format json # t: a sanitizer report fails the test
    on=$out
    for cache in 0 2; do
        out=$(TETHER_TARGET_CACHE=$cache "$TETHER" audit "$root" --format json 2>"$WORK/stderr")
        no_bug_report "TETHER_TARGET_CACHE=$cache tether audit $root" "$(cat "$WORK/stderr")"
        check "'$root' from /$cwd outside the chroot: audit with the cache at $cache, the same bytes" \
            is "$out" "$on"
    done
    t --json prune -n "$root"
    check "'$root' from /$cwd outside the chroot: prune -n runs" is "$((rc <= 1))" 1
done

finish
