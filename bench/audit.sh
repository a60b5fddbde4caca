#!/usr/bin/env bash
# tether audit (every link classified) vs find -xtype l vs symlinks -r vs find -type l
# (the walk alone), on a tree made by bench/gen.py links, warm cache, all in one
# run: each tool once to warm up, then ROUNDS rounds in rotation, medians reported.
# Then peak memory of tether audit on a tree of MEM_N entries.
# usage: bench/audit.sh [BUILD_DIR] [N=200000] [ROUNDS=5] [MEM_N=1000000]
# needs: python3, symlinks, time (Debian packages of those names)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
n=${2:-200000}
rounds=${3:-5}
mem_n=${4:-1000000}
gen=$here/gen.py
for tool in python3 symlinks /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench/audit.sh: needs $tool (apt-get install python3 symlinks time)" >&2; exit 1; }
done
. "$here/lib.sh"
base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
trap 'rm -rf "$base"' EXIT
python3 "$gen" links "$base/tree" "$n" >/dev/null

declare -A cmd=(
    [tether]="$build/tether audit $base/tree"
    [tether_inline]="env TETHER_THREADS=0 $build/tether audit $base/tree"
    [find_xtype]="find $base/tree -xtype l"
    [symlinks]="symlinks -r $base/tree"
    [find_type]="find $base/tree -type l"
)
order=(tether tether_inline find_xtype symlinks find_type)
declare -A times
for v in "${order[@]}"; do ${cmd[$v]} >/dev/null 2>&1 || true; done # warm the cache
export BENCH_MAX_RC=1 # tether audit exits 1 when it finds broken links, as it should here
for r in $(seq "$rounds"); do
    for v in "${order[@]}"; do
        times[$v]+="$(time_us ${cmd[$v]}) "
    done
done
xt=$(median "${times[find_xtype]}")
ty=$(median "${times[find_type]}")
echo "audit: $n-entry tree ($(find "$base/tree" -type l | wc -l) links), warm cache, median of $rounds rounds ($(uname -r), $(nproc) cores)"
printf '| %-36s | %9s | %13s | %12s |\n' command "median ms" "vs -xtype l" "vs -type l"
printf '|%s|%s|%s|%s|\n' "--------------------------------------" "-----------" "---------------" "--------------"
for v in "${order[@]}"; do
    m=$(median "${times[$v]}")
    case $v in
        tether) label="tether audit (classify every link)" ;;
        tether_inline) label="the same, TETHER_THREADS=0" ;;
        find_xtype) label="find -xtype l" ;;
        symlinks) label="symlinks -r" ;;
        find_type) label="find -type l (walk only)" ;;
    esac
    printf '| %-36s | %9s | %12sx | %11sx |\n' "$label" "$(ms "$m")" "$(ratio "$m" "$xt")" \
        "$(ratio "$m" "$ty")"
done
rm -rf "$base/tree"

if [ "$mem_n" -gt 0 ]; then
    python3 "$gen" links "$base/big" "$mem_n" >/dev/null
    for fmt in table json; do
        # audit exits 1 on this tree (it has broken links): that is its answer, not a failure
        kb=$( { /usr/bin/time -f %M "$build/tether" audit "$base/big" --format "$fmt" >/dev/null || true; } 2>&1 | tail -n 1)
        echo "peak memory, tether audit --format $fmt on $mem_n entries: $((kb / 1024)) MiB ($kb KB)"
    done
fi
