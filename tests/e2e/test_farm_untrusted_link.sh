#!/usr/bin/env bash
# farm run as root on a package another user owns: a link of theirs inside the package is
# never gone through (the trust rule of core/chase.c, tether.link_trusted). Where the farm
# would have to list what it leads to (the target's directory is there already, a folded
# directory to unfold, unstowing) the run is refused naming the link, and
# nothing is written; where the target is free (--no-folding too), the link is linked as it is (as stow
# links a package's link), its contents never read. The caller's own link in its own
# package is followed as before.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

[ "$(id -u)" = 0 ] || skip_all "needs root (links owned by another user)"

# A directory only root can read, with names that must never reach a target.
mkdir -p "$WORK/rootonly/secret-sub" && echo s > "$WORK/rootonly/secret-data" && chmod 700 "$WORK/rootonly"
mkdir -p "$WORK/shared/lib" && echo x > "$WORK/shared/lib/shared-x"
before_rootonly=$(snapshot "$WORK/rootonly")

# fresh: the stow directory (root's), a root package with bin/a, nobody's package whose
# bin is nobody's link to the root-only directory, an empty target.
fresh() {
    rm -rf stow tgt && mkdir -p stow/rootpkg/bin stow/nobpkg tgt
    echo a > stow/rootpkg/bin/a
    ln -s ../../../rootonly stow/nobpkg/bin && chown -h 65534:65534 stow/nobpkg/bin
    chown 65534:65534 stow/nobpkg
}

# refused NAME WHY [LINK]: the last run was refused naming nobody's link (stow/nobpkg/bin) for WHY, the target is
# as it was ($before), no name of the root-only directory was shown or linked, nothing
# was written there.
refused() {
    check "$1: refused" is "$rc" 3
    check "$1: names the link" has "$err" "${3:-stow/nobpkg/bin}"
    check "$1: says why" has "$err" "$2"
    check "$1: nothing changed" has "$err" "nothing changed"
    check "$1: target untouched" is "$(snapshot tgt)" "$before"
    check "$1: no secret name shown" eval '! has "$out$err" secret'
    check "$1: no secret name in the target" is "$(find tgt -name 'secret*')" ""
    check "$1: nothing written through the link" is "$(snapshot "$WORK/rootonly")" "$before_rootonly"
}

# The target's bin is a real directory already: stow would list the link's directory.
fresh && mkdir tgt/bin && before=$(snapshot tgt)
t farm -d stow -t tgt nobpkg rootpkg
refused "existing directory" "belongs to another user"

# rootpkg's bin folded first, then nobpkg's would unfold it.
fresh && before=$(snapshot tgt)
t farm -d stow -t tgt rootpkg nobpkg
refused "unfold" "belongs to another user"

# --no-folding makes a directory of a package's directory, never of a link in it (as
# stow): the link is linked as it is, what it leads to never listed.
fresh
t farm --no-folding -d stow -t tgt nobpkg
check "no-folding: linked" is "$rc" 0
check "no-folding: the package's link linked as one entry" is "$(readlink tgt/bin)" "../stow/nobpkg/bin"
check "no-folding: nothing else" is "$(cd tgt && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./bin "

# Unstowing lists the package's directories too.
fresh && mkdir tgt/bin && before=$(snapshot tgt)
t farm -D -d stow -t tgt nobpkg
refused "unstow" "belongs to another user"

# Root's own link, in the package directory nobody can write: not followed either
# (nobody could have moved one of root's links in).
fresh && chown -h 0:0 stow/nobpkg/bin && mkdir tgt/bin && before=$(snapshot tgt)
t farm -d stow -t tgt nobpkg
refused "root's link in nobody's directory" "a directory another user can write"

# tether apply's farms plan with the same farm: refused the same way.
fresh && mkdir tgt/bin && before=$(snapshot tgt)
echo 'return { farms = { { dir = "stow", target = "tgt", packages = { "nobpkg" } } } }' > decl.lua
t apply decl.lua
check "apply: refused" is "$rc" 3
check "apply: names the link and why" has "$err" "stow/nobpkg/bin: is a link that belongs to another user"
check "apply: target untouched" is "$(snapshot tgt)" "$before"
check "apply: nothing written through the link" is "$(snapshot "$WORK/rootonly")" "$before_rootonly"
rm decl.lua

# The target is free: nobody's link is linked as it is (as stow does), nothing listed.
fresh
t farm -d stow -t tgt nobpkg
check "free target: linked" is "$rc" 0
check "free target: the package's link linked as one entry" is "$(readlink tgt/bin)" "../stow/nobpkg/bin"
check "free target: nothing else" is "$(cd tgt && find . | LC_ALL=C sort | tr '\n' ' ')" ". ./bin "
check "free target: no secret name shown" eval '! has "$out$err" secret'

# nobody's .stow-local-ignore, a link to a file only root can read whose line is no
# regex: never read (an error quoting the bad pattern would show it).
echo '(secret-pattern' > "$WORK/rootonly/ignore" && before_rootonly=$(snapshot "$WORK/rootonly")
fresh && rm stow/nobpkg/bin && mkdir stow/nobpkg/etc && echo c > stow/nobpkg/etc/c
ln -s ../../../rootonly/ignore stow/nobpkg/.stow-local-ignore && chown -h 65534:65534 stow/nobpkg/.stow-local-ignore
before=$(snapshot tgt)
t farm -d stow -t tgt nobpkg
refused "ignore list" "belongs to another user" stow/nobpkg/.stow-local-ignore

# The caller's own link in its own package is followed as before: into the target's
# existing directory, a link for each of its entries.
fresh && ln -s ../../../shared/lib stow/rootpkg/lib && mkdir tgt/lib
t farm -d stow -t tgt rootpkg
check "own link: linked" is "$rc" 0
check "own link: followed into" is "$(readlink tgt/lib/shared-x)" "../../stow/rootpkg/lib/shared-x"
check "own link: the entry reads through" is "$(cat tgt/lib/shared-x)" "x"
t farm -D -d stow -t tgt rootpkg
check "own link: unstowed" is "$rc" 0
check "own link: unstowed its entries" is "$(find tgt -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" "tgt/lib "

finish
