#!/usr/bin/env bash
# Bulk link work, all in one run, ROUNDS rounds in rotation, medians:
#  - dedupe: tether dedupe --ignore-mtime vs hardlink -t, rdfind -makehardlinks true and
#    jdupes -L -r on a tree from bench/gen.py dupes (20000 files); the tree is
#    restored from a pristine copy before each run (not timed); bytes saved by du -sb.
#  - retarget: 10000 absolute links moved from OLD to NEW by tether retarget vs the
#    shell loop people write (find -type l, readlink, ln -sfn).
# usage: bench/bulk.sh [BUILD_DIR] [ROUNDS=3]   needs: python3, hardlink (rdfind and jdupes
# when installed); BULK=dedupe or BULK=retarget runs only that half
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
rounds=${2:-3}
. "$here/lib.sh"
for tool in python3 hardlink; do
    command -v "$tool" >/dev/null || { echo "bench/bulk.sh: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
bulk=${BULK:-dedupe retarget}
base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
export XDG_STATE_HOME=$base/state
trap 'rm -rf "$base"' EXIT
cd "$base"
if [[ $bulk == *dedupe* ]]; then
    python3 "$here/gen.py" dupes pristine 20000 >/dev/null

    variant tether "tether -q dedupe --ignore-mtime" "$build/tether" -q dedupe --ignore-mtime work
    variant hardlink "hardlink -t" hardlink -t work
    if command -v rdfind >/dev/null; then variant rdfind "rdfind -makehardlinks true -outputname /dev/null" rdfind -makehardlinks true -outputname /dev/null work; fi
    if command -v jdupes >/dev/null; then variant jdupes "jdupes -q -L -r" jdupes -q -L -r work; fi
    declare -A times saved
    for r in $(seq "$rounds"); do
        for v in "${order[@]}"; do
            rm -rf work && cp -a pristine work && sync
            before=$(du -sb work | cut -f1)
            times[$v]+="$(time_us ${cmd[$v]}) "
            saved[$v]=$((before - $(du -sb work | cut -f1)))
        done
    done
    hl=$(median "${times[hardlink]}")
    echo "dedupe: 20000 files from bench/gen.py dupes, median of $rounds rounds ($(uname -r), $(nproc) cores)"
    printf '| %-36s | %9s | %11s | %13s |\n' command "median ms" "vs hardlink" "bytes saved"
    printf '|%s|%s|%s|%s|\n' "--------------------------------------" "-----------" "-------------" "---------------"
    for v in "${order[@]}"; do
        m=$(median "${times[$v]}")
        printf '| %-36s | %9s | %10sx | %13s |\n' "${label[$v]}" "$(ms "$m")" "$(ratio "$m" "$hl")" "${saved[$v]}"
    done

fi

[[ $bulk == *retarget* ]] || exit 0
n=10000
mkdir -p old new links
for i in $(seq 100); do touch "old/f$i" "new/f$i"; done
python3 -c '
import os, sys
for i in range(int(sys.argv[2])):
    d = os.path.join("links", "d%d" % (i % 50)); os.makedirs(d, exist_ok=True)
    os.symlink("%s/old/f%d" % (sys.argv[1], i % 100 + 1), os.path.join(d, "l%d" % i))' "$base" "$n"
shell_loop() {
    find links -type l | while IFS= read -r l; do
        t=$(readlink "$l")
        case $t in "$base/old/"*) ln -sfn "$base/new/${t#"$base/old/"}" "$l" ;; esac
    done
}
declare -A rt
for r in $(seq "$rounds"); do
    rt[tether]+="$(time_us "$build/tether" -q retarget links --from "$base/old" --to "$base/new") "
    [ "$(find links -type l -lname "$base/new/*" | wc -l)" = "$n" ] || { echo "tether retarget missed links" >&2; exit 1; }
    "$build/tether" -q undo >/dev/null
    rt[shell]+="$(time_us shell_loop) "
    [ "$(find links -type l -lname "$base/new/*" | wc -l)" = "$n" ] || { echo "the shell loop missed links" >&2; exit 1; }
    find links -type l | while IFS= read -r l; do t=$(readlink "$l"); ln -sfn "$base/old/${t#"$base/new/"}" "$l"; done
done
sh=$(median "${rt[shell]}")
echo
echo "retarget: $n links, median of $rounds rounds"
printf '| %-36s | %9s | %11s |\n' command "median ms" "vs shell"
printf '|%s|%s|%s|\n' "--------------------------------------" "-----------" "-------------"
printf '| %-36s | %9s | %10sx |\n' "tether retarget" "$(ms "$(median "${rt[tether]}")")" "$(ratio "$(median "${rt[tether]}")" "$sh")"
printf '| %-36s | %9s | %10sx |\n' "find + readlink + ln -sfn loop" "$(ms "$sh")" "1.00"
