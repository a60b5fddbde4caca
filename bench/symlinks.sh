#!/usr/bin/env bash
# Creating 100000 symlinks on tmpfs from a loop: tether (Lua, with read-back
# verification) vs LuaFileSystem vs a plain C loop, all in one run. Each variant runs
# ROUNDS times in rotation; the median is reported with its ratio to the C loop.
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

declare -A cmd=(
    [c]="$build/bench/symlink_loop DIR $n"
    [c_verify]="$build/bench/symlink_loop DIR $n verify"
    [tether]="$build/tether run $here/symlink_loop.lua DIR $n"
    [lfs]="lua5.4 $here/symlink_loop.lua DIR $n lfs"
)
order=(c c_verify tether lfs)
declare -A times

for r in $(seq "$rounds"); do
    for v in "${order[@]}"; do
        dir="$base/$v-$r"
        mkdir "$dir"
        times[$v]+="$(time_us ${cmd[$v]//DIR/$dir}) "
        [ "$(find "$dir" -type l | wc -l)" = "$n" ] || { echo "$v did not make $n links" >&2; exit 1; }
        rm -rf "$dir"
    done
done

c=$(median "${times[c]}")
echo "symlinks: $n per run, median of $rounds rounds, tmpfs ($(uname -r), $(nproc) cores)"
printf '| %-34s | %10s | %8s | %10s |\n' variant "median ms" "vs C" "links/s"
printf '|%s|%s|%s|%s|\n' "------------------------------------" "------------" "----------" "------------"
for v in "${order[@]}"; do
    m=$(median "${times[$v]}")
    case $v in
        c) label="C loop: symlink()" ;;
        c_verify) label="C: symlinkat+readlinkat+fstatat" ;;
        tether) label="tether.symlink (verified)" ;;
        lfs) label="LuaFileSystem lfs.link" ;;
    esac
    printf '| %-34s | %10s | %7sx | %10.0f |\n' "$label" "$(ms "$m")" "$(ratio "$m" "$c")" \
        "$(bc -l <<<"$n/($m/1000000)")"
done
