#!/usr/bin/env bash
# farm link vs GNU stow: linking one package of 10000 files (in 100 directories under
# bin/, share/ and lib/) into a target that already has real bin/, share/ and lib/
# directories (so nothing folds and every file gets its own link, the slow case), then
# unlinking it. Both run in identical sandboxes, ROUNDS rounds in rotation, medians; the
# trees they make are compared after every round. The tools swap sandboxes every round:
# on ext4 the same work costs up to 3x more in one directory than in its twin (the
# inode allocator's state), for both tools alike, so a fixed pairing measures the
# directories, not the tools (see docs/benchmarks.md). Elapsed and CPU (user + system)
# times are both reported: on a shared machine the CPU time moves less.
# usage: bench/farm.sh [BUILD_DIR] [ROUNDS=3]   needs: stow, python3
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
rounds=${2:-3}
. "$here/lib.sh"
command -v stow >/dev/null || { echo "bench/farm.sh: needs stow (apt-get install stow)" >&2; exit 1; }
base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
export XDG_STATE_HOME=$base/state
trap 'rm -rf "$base"' EXIT
for s in a b; do
    python3 -c '
import os, sys
root, home = sys.argv[1], sys.argv[2]
for i in range(10000):
    rel = os.path.join(("bin", "share", "lib")[i % 3], "d%d" % (i % 100))
    os.makedirs(os.path.join(root, rel), exist_ok=True)
    os.makedirs(os.path.join(home, rel), exist_ok=True)  # real directories: no folding
    open(os.path.join(root, rel, "f%d" % i), "w").close()' "$base/$s/stow/pkg" "$base/$s/home"
done
tree_of() { (cd "$1" && find . -printf '%p|%y|%l\n' | LC_ALL=C sort); }
declare -A t c
# timed KEY CMD...: runs CMD (in the current directory) and adds its times under KEY.
timed() {
    local key=$1 out w u
    shift
    out=$(both_us "$@")
    read -r w u <<<"$out"
    t[$key]+="$w " c[$key]+="$u "
}
for r in $(seq "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then s=a m=b; else s=b m=a; fi # stow's and tether's sandbox
    cd "$base/$s/home" && timed stow_link stow -d ../stow -t . pkg
    cd "$base/$m/home" && timed tether_link "$build/tether" -q farm link pkg --dir ../stow --target .
    [ "$(tree_of "$base/a/home")" = "$(tree_of "$base/b/home")" ] ||
        { echo "trees differ after link" >&2; diff <(tree_of "$base/a/home") <(tree_of "$base/b/home") | head >&2; exit 1; }
    cd "$base/$s/home" && timed stow_unlink stow -d ../stow -t . -D pkg
    cd "$base/$m/home" && timed tether_unlink "$build/tether" -q farm unlink pkg --dir ../stow --target .
    [ "$(tree_of "$base/a/home")" = "$(tree_of "$base/b/home")" ] || { echo "trees differ after unlink" >&2; exit 1; }
done
echo "farm: one package of 10000 files into existing directories on $(df --output=fstype "$base" | tail -n 1), median of $rounds rounds ($(uname -r), $(nproc) cores)"
printf '| %-28s | %9s | %9s | %9s | %9s |\n' command "median ms" "vs stow" "CPU ms" "vs stow"
printf '|%s|%s|%s|%s|%s|\n' "------------------------------" "-----------" "-----------" "-----------" "-----------"
for op in link unlink; do
    s=$(median "${t[stow_$op]}") m=$(median "${t[tether_$op]}")
    sc=$(median "${c[stow_$op]}") mc=$(median "${c[tether_$op]}")
    printf '| %-28s | %9s | %8sx | %9s | %8sx |\n' "tether farm $op" "$(ms "$m")" "$(ratio "$m" "$s")" "$(ms "$mc")" "$(ratio "$mc" "$sc")"
    printf '| %-28s | %9s | %8sx | %9s | %8sx |\n' "stow $([ $op = link ] && echo "" || echo "-D")" "$(ms "$s")" "1.00" "$(ms "$sc")" "1.00"
done
