#!/usr/bin/env bash
# Creating 100000 symlinks on tmpfs from a loop: tether (Lua, with read-back
# verification) vs LuaFileSystem vs a plain C loop vs the C loop that does what tether
# promises (symlinkat, readlinkat, fstatat from a directory handle), all in one run. Each
# variant runs ROUNDS times in rotation (which goes first rotates too); the medians of
# the elapsed and of the CPU time (user + system) are reported with their ratios to the
# C loops.
# usage: bench/symlinks.sh [BUILD_DIR] [N] [ROUNDS]   (after ./build.sh demo or test)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
n=${2:-100000}
rounds=${3:-7}
. "$here/lib.sh"
base=$(mktemp -d /dev/shm/tether-bench-XXXXXX)
trap 'rm -rf "$base"' EXIT
[ "$(stat -f -c %T "$base")" = tmpfs ] || echo "warning: $base is not on tmpfs" >&2

variant c "C loop: symlink()" "$build/bench/symlink_loop" DIR "$n"
variant c_verify "C: symlinkat+readlinkat+fstatat" "$build/bench/symlink_loop" DIR "$n" verify
variant tether "tether.symlink (verified)" "$build/tether" run "$here/symlink_loop.lua" DIR "$n"
variant lfs "LuaFileSystem lfs.link" lua5.4 "$here/symlink_loop.lua" DIR "$n" lfs
declare -A times cpu

for r in $(seq "$rounds"); do
    for k in "${!order[@]}"; do
        v=${order[$(((k + r) % ${#order[@]}))]}
        dir="$base/$v-$r"
        mkdir "$dir"
        out=$(both_us ${cmd[$v]//DIR/$dir})
        read -r w c <<<"$out"
        times[$v]+="$w " cpu[$v]+="$c "
        [ "$(find "$dir" -type l | wc -l)" = "$n" ] || { echo "$v did not make $n links" >&2; exit 1; }
        rm -rf "$dir"
    done
done

c=$(median "${times[c]}") cv=$(median "${times[c_verify]}")
cc=$(median "${cpu[c]}") ccv=$(median "${cpu[c_verify]}")
echo "symlinks: $n per run, median of $rounds rounds, tmpfs ($(uname -r), $(nproc) cores, $(date -u +%Y-%m-%d))"
printf '| %-34s | %9s | %6s | %8s | %8s | %6s | %8s |\n' variant "median ms" "vs C" "vs C vrf" "CPU ms" "vs C" "vs C vrf"
printf '|%s|%s|%s|%s|%s|%s|%s|\n' "------------------------------------" "-----------" "--------" "----------" "----------" "--------" "----------"
for v in "${order[@]}"; do
    m=$(median "${times[$v]}") mc=$(median "${cpu[$v]}")
    printf '| %-34s | %9s | %5sx | %7sx | %8s | %5sx | %7sx |\n' "${label[$v]}" "$(ms "$m")" "$(ratio "$m" "$c")" \
        "$(ratio "$m" "$cv")" "$(ms "$mc")" "$(ratio "$mc" "$cc")" "$(ratio "$mc" "$ccv")"
done
