#!/usr/bin/env bash
# migrate --resume after a SIGKILL part-way through the copy, against a whole migration:
# the ~480 MB, 20000-file tree of bench/gen.py data (SMALL LARGE LARGE_MB to make it
# smaller) moved from $TMPDIR (/tmp) to /dev/shm. Each round, in rotation: a whole
# migration timed; then for each FRACTION, a migration killed (SIGKILL) once the copy
# holds that share of the source's bytes (the free space of /dev/shm, polled every 5 ms),
# and `tether migrate --resume` timed. Reports medians, the resume as a share of the
# whole run, the goal of issue 23 ((1 - done) + 0.1), the floor no resume of the copy can
# go under (1 - done x the copy's share of a whole run: the verification of the whole
# trees, the check and the deletion of the original are not work a kill in the copy
# leaves done; the copy's share is the time of `tether.copytree` alone, synced, each
# round) and what the resume kept.
# With BASE=OTHER_BUILD_DIR, the same runs of that build too, alternating with BUILD_DIR's
# in every round (ratios to each build's own whole run).
# usage: [BASE=DIR] bench/migrate_resume.sh [BUILD_DIR] [ROUNDS=3] [FRACTIONS="0.25 0.40"] [SMALL LARGE LARGE_MB]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
rounds=${2:-3}
fractions=${3:-0.25 0.40}
shift $(($# < 3 ? $# : 3))
. "$here/lib.sh"
base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
shm=$(mktemp -d /dev/shm/tether-bench-XXXXXX)
export XDG_STATE_HOME=$base/state
trap 'rm -rf "$base" "$shm"' EXIT
python3 "$here/gen.py" data "$base/pristine" "$@" >/dev/null
bytes=$(du -sb "$base/pristine" | cut -f1)
files=$(find "$base/pristine" -type f | wc -l)
builds=("$build")
[ -n "${BASE:-}" ] && builds+=("$(cd "$BASE" && pwd)")

fresh() {
    rm -rf "$base/src" "$shm/dest" "$shm"/.tether-* "$XDG_STATE_HOME"
    cp -a "$base/pristine" "$base/src"
    sync
}
# kill_at FRACTION: starts a migration ($tether) and kills it once /dev/shm has taken FRACTION of
# the source's bytes more than it held at the start; prints the share it had copied.
kill_at() {
    python3 - "$1" "$bytes" "$tether" "$base/src" "$shm/dest" <<'EOF'
import os, signal, subprocess, sys, time
frac, total, tether, src, dest = float(sys.argv[1]), int(sys.argv[2]), *sys.argv[3:]
def used():
    s = os.statvfs("/dev/shm")
    return (s.f_blocks - s.f_bfree) * s.f_frsize
start = used()
p = subprocess.Popen([tether, "-q", "migrate", src, dest], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
while p.poll() is None and used() - start < frac * total:
    time.sleep(0.005)
done = (used() - start) / total
if p.poll() is not None:
    sys.exit("the migration ended before %.0f%% was copied" % (frac * 100))
p.send_signal(signal.SIGKILL)
p.wait()
print("%.3f" % done)
EOF
}

declare -A times done_at kept
for r in $(seq "$rounds"); do
    for b in "${!builds[@]}"; do
        tether=${builds[$b]}/tether
        fresh
        times[$b.whole]+="$(time_us "$tether" -q migrate "$base/src" "$shm/dest") "
        rm -f "$base/src" && rm -rf "$shm/dest" && sync
        times[$b.copy]+="$(time_us "$tether" -e "assert(tether.copytree('$base/pristine', '$shm/dest'))") "
        for f in $fractions; do
            fresh
            done_at[$b.$f]+="$(kill_at "$f") "
            start=$(date +%s%N)
            out=$("$tether" --json migrate --resume)
            times[$b.$f]+="$((($(date +%s%N) - start) / 1000)) "
            kept[$b.$f]+="$(python3 -c 'import json, sys; print((json.load(sys.stdin).get("copy") or {}).get("kept", 0))' <<<"$out") "
            [ "$(readlink "$base/src")" = "$shm/dest" ] || { echo "the resume did not leave the link" >&2; exit 1; }
        done
    done
done
srcfs=$(findmnt -n -o FSTYPE -T "$base" 2>/dev/null || echo "?")
echo "migrate --resume: $((bytes / 1000000)) MB in $files files, $(dirname "$base") ($srcfs) -> /dev/shm (tmpfs), median of $rounds rounds ($(uname -r), $(nproc) cores)"
printf '| %-44s | %9s | %9s | %9s | %9s | %14s |\n' run "median ms" "vs whole" goal floor "files kept"
printf '|%s|%s|%s|%s|%s|%s|\n' "----------------------------------------------" "-----------" "-----------" "-----------" "-----------" "----------------"
for b in "${!builds[@]}"; do
    who=""
    [ "$b" = 1 ] && who="BASE: "
    whole=$(median "${times[$b.whole]}")
    copy=$(median "${times[$b.copy]}")
    printf '| %-44s | %9s | %8sx | %9s | %9s | %14s |\n' "${who}tether migrate (whole run)" "$(ms "$whole")" "1.00" "" "" ""
    printf '| %-44s | %9s | %8sx | %9s | %9s | %14s |\n' "${who}its copy alone (tether.copytree)" "$(ms "$copy")" "$(ratio "$copy" "$whole")" "" "" ""
    for f in $fractions; do
        m=$(median "${times[$b.$f]}")
        d=$(median "${done_at[$b.$f]}")
        printf '| %-44s | %9s | %8sx | %8.2fx | %8.2fx | %14s |\n' "${who}--resume after a kill at $(bc -l <<<"$d*100" | xargs printf '%.0f')%" \
            "$(ms "$m")" "$(ratio "$m" "$whole")" "$(bc -l <<<"1 - $d + 0.1")" "$(bc -l <<<"1 - $d * $copy / $whole")" \
            "$(median "${kept[$b.$f]}") of $files"
    done
done
