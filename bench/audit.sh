#!/usr/bin/env bash
# tether audit (every link classified) vs find -xtype l vs bfs -xtype l (when bfs is
# installed) vs symlinks -r vs fdfind -t l vs find -type l (the walk alone), on a tree made by bench/gen.py links, warm cache, all
# in one run: each tool once to warm up, then ROUNDS rounds in rotation, medians
# reported. tether also with its target cache off (TETHER_TARGET_CACHE=0) and on one
# core (taskset), fdfind on one thread, to see how each scales; the cache's hit rate on
# the tree and on /usr. Then peak memory of tether audit on a tree of MEM_N entries and
# its time there against the N-entry tree's (the growth; find -type l's beside it), and
# how long the HTML report of a tree of HTML_N entries (about 200,000 links) takes to be
# ready in headless Chromium (0 skips either).
# usage: bench/audit.sh [BUILD_DIR] [N=200000] [ROUNDS=5] [MEM_N=1000000] [HTML_N=1200000]
# needs: python3, symlinks, fd-find, time, taskset (apt-get install python3 symlinks
# fd-find time util-linux); bfs when installed (apt-get install bfs)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
n=${2:-200000}
rounds=${3:-5}
mem_n=${4:-1000000}
html_n=${5:-1200000}
gen=$here/gen.py
for tool in python3 symlinks fdfind taskset /usr/bin/time; do
    command -v "$tool" >/dev/null || { echo "bench/audit.sh: needs $tool (apt-get install python3 symlinks fd-find time util-linux)" >&2; exit 1; }
done
. "$here/lib.sh"
base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
trap 'rm -rf "$base"' EXIT
python3 "$gen" links "$base/tree" "$n" >/dev/null

variant tether "tether audit (classify every link)" "$build/tether" audit "$base/tree"
variant tether_json "the same, --format json" "$build/tether" audit --format json "$base/tree"
variant tether_nocache "the same, TETHER_TARGET_CACHE=0" env TETHER_TARGET_CACHE=0 "$build/tether" audit "$base/tree"
variant tether_1core "the same, on one core (taskset)" taskset -c 0 "$build/tether" audit "$base/tree"
variant tether_inline "the same, TETHER_THREADS=0" env TETHER_THREADS=0 "$build/tether" audit "$base/tree"
variant find_xtype "find -xtype l" find "$base/tree" -xtype l
variant symlinks "symlinks -r" symlinks -r "$base/tree"
variant fdfind "fdfind -u -t l (walk only)" fdfind -u -t l . "$base/tree"
variant fdfind_1 "fdfind -u -j 1 -t l (one thread)" fdfind -u -j 1 -t l . "$base/tree"
variant find_type "find -type l (walk only)" find "$base/tree" -type l
if command -v bfs >/dev/null; then variant bfs_xtype "bfs -xtype l" bfs "$base/tree" -xtype l; fi
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
bx=$(median "${times[bfs_xtype]:-$xt}")
printf '| %-36s | %9s | %13s | %12s | %12s |\n' command "median ms" "vs -xtype l" "vs -type l" "vs bfs -xtype"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------------" "-----------" "---------------" "--------------" "--------------"
for v in "${order[@]}"; do
    m=$(median "${times[$v]}")
    printf '| %-36s | %9s | %12sx | %11sx | %11sx |\n' "${label[$v]}" "$(ms "$m")" "$(ratio "$m" "$xt")" \
        "$(ratio "$m" "$ty")" "$(ratio "$m" "$bx")"
done
[ -n "${times[bfs_xtype]:-}" ] || echo "(bfs is not installed: the last column is against find -xtype l)"
# The HTML report: its cost against the JSON report of the same tree, and how long the
# page takes to be ready in headless Chromium (below), when chromium is installed.
declare -A gen_times
for r in $(seq "$rounds"); do
    gen_times[json]+="$(time_us "$build/tether" audit "$base/tree" --format json -o "$base/r.json") "
    gen_times[html]+="$(time_us "$build/tether" -q audit "$base/tree" --format html -o "$base/r.html") "
done
js=$(median "${gen_times[json]}")
hs=$(median "${gen_times[html]}")
echo "report: --format json $(ms "$js") ms, --format html $(ms "$hs") ms: html $(ratio "$hs" "$js")x json ($(du -h "$base/r.html" | cut -f1) page)"
# page_ready PAGE: milliseconds from navigation start to the page's picture, table and
# tree drawn, as the page itself measures (data-ready-ms), in each of ROUNDS renders.
page_ready() {
    local r ready=""
    for r in $(seq "$rounds"); do
        ready+="$(chromium --headless --no-sandbox --disable-gpu --user-data-dir="$base/chrome" \
            --dump-dom "file://$1" 2>/dev/null | sed -n 's/.*data-ready-ms="\([0-9]*\)".*/\1/p') "
    done
    echo "median $(median "$ready") ms (rounds: $ready)"
}
if command -v chromium >/dev/null; then
    echo "page ready in headless Chromium: $(page_ready "$base/r.html")"
fi
hit_rate() { "$build/tether" audit "$1" --stats 2>&1 >/dev/null | sed -n 's/.*target cache: //p'; }
echo "target cache on this tree: $(hit_rate "$base/tree")"
echo "target cache on /usr: $(hit_rate /usr)"
rm -rf "$base/tree"

if [ "$mem_n" -gt 0 ]; then
    python3 "$gen" links "$base/big" "$mem_n" >/dev/null
    for fmt in table json; do
        # audit exits 1 on this tree (it has broken links): that is its answer, not a failure
        kb=$( { /usr/bin/time -f %M "$build/tether" audit "$base/big" --format "$fmt" >/dev/null || true; } 2>&1 | tail -n 1)
        echo "peak memory, tether audit --format $fmt on $mem_n entries: $((kb / 1024)) MiB ($kb KB)"
    done
    # The growth from N to MEM_N entries, each in rotation with find -type l on the same tree.
    declare -A big
    for r in $(seq "$rounds"); do
        big[tether]+="$(time_us "$build/tether" audit --format json "$base/big") "
        big[find]+="$(time_us find "$base/big" -type l) "
    done
    bt=$(median "${big[tether]}") bf=$(median "${big[find]}")
    echo "audit --format json on $mem_n entries: $(ms "$bt") ms, $(ratio "$bt" "$(median "${times[tether_json]}")")x its time on $n;" \
        "find -type l $(ms "$bf") ms, $(ratio "$bf" "$ty")x"
    rm -rf "$base/big"
fi
if [ "$html_n" -gt 0 ] && command -v chromium >/dev/null; then
    python3 "$gen" links "$base/big" "$html_n" >/dev/null
    "$build/tether" -q audit "$base/big" --format html -o "$base/big.html" || [ $? -eq 1 ] # 1: broken links found
    echo "HTML report of $html_n entries ($(find "$base/big" -type l | wc -l) links, $(du -h "$base/big.html" | cut -f1) page)," \
        "ready in headless Chromium: $(page_ready "$base/big.html")"
fi
