#!/usr/bin/env bash
# One tether build against another, in the same run: audit, prune, retarget, dedupe, farm
# link/unlink and migrate on the same trees, the two builds in rotation (which goes first
# alternates every round), ROUNDS rounds, medians, and NEW/OLD. Each mutating run starts
# from a fresh copy of its tree (not timed); each build keeps its own journals.
# usage: bench/versus.sh OLD_BUILD_DIR NEW_BUILD_DIR [ROUNDS=5]   needs: python3
# e.g.   git worktree add /tmp/tether-old 382d28d &&
#        cmake -S /tmp/tether-old -B /tmp/tether-old/build -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
#        cmake --build /tmp/tether-old/build -j && bash bench/versus.sh /tmp/tether-old/build build
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n '2,9p' "$0" >&2; exit 2; }
old=$(cd "$1" && pwd)/tether
new=$(cd "$2" && pwd)/tether
rounds=${3:-5}
. "$here/lib.sh"
base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
shm=$(mktemp -d /dev/shm/tether-bench-XXXXXX)
trap 'rm -rf "$base" "$shm"' EXIT
cd "$base"
mkdir -p state/old state/new
python3 "$here/gen.py" links links-tree 100000 >/dev/null
python3 "$here/gen.py" dupes dupes-tree 20000 >/dev/null
python3 "$here/gen.py" data data-tree 20000 10 30 >/dev/null
mkdir -p old new rt
for i in $(seq 100); do touch "old/f$i" "new/f$i"; done
python3 -c '
import os, sys
for i in range(10000):
    d = os.path.join("rt", "d%d" % (i % 50)); os.makedirs(d, exist_ok=True)
    os.symlink("%s/old/f%d" % (sys.argv[1], i % 100 + 1), os.path.join(d, "l%d" % i))' "$base"
for s in farm-a farm-b; do
    python3 -c '
import os, sys
for i in range(10000):
    rel = os.path.join(("bin", "share", "lib")[i % 3], "d%d" % (i % 100))
    os.makedirs(os.path.join(sys.argv[1], "stow/pkg", rel), exist_ok=True)
    os.makedirs(os.path.join(sys.argv[1], "home", rel), exist_ok=True)
    open(os.path.join(sys.argv[1], "stow/pkg", rel, "f%d" % i), "w").close()' "$s"
done
sync

# One timed run of OP with build B (old|new); prints microseconds. Set-up is not timed.
run_op() {
    local op=$1 who=$2 bin
    bin=$([ "$who" = old ] && echo "$old" || echo "$new")
    export XDG_STATE_HOME=$base/state/$who
    case $op in
    audit) BENCH_MAX_RC=1 time_us "$bin" audit links-tree ;;
    prune)
        rm -rf work && cp -a links-tree work
        time_us "$bin" -q prune work ;;
    retarget)
        time_us "$bin" -q retarget rt --from "$base/old" --to "$base/new"
        "$bin" -q undo >/dev/null ;;
    dedupe)
        rm -rf work && cp -a dupes-tree work && sync
        time_us "$bin" -q dedupe --ignore-mtime work ;;
    farm_link)
        # the builds take turns with the two sandboxes (ext4's allocator state differs)
        (cd "$farm/home" && time_us "$bin" -q farm link pkg --dir ../stow --target .) ;;
    farm_unlink)
        (cd "$farm/home" && time_us "$bin" -q farm unlink pkg --dir ../stow --target .) ;;
    migrate)
        rm -rf src "$shm/dest" && cp -a data-tree src && sync
        time_us "$bin" -q migrate "$base/src" "$shm/dest"
        rm -f src ;;
    esac
}

dangling=$( (find links-tree -xtype l 2>/dev/null || true) | wc -l)
ops=(audit prune retarget dedupe farm_link farm_unlink migrate)
declare -A t
for r in $(seq "$rounds"); do
    if [ $((r % 2)) -eq 1 ]; then first=old second=new; else first=new second=old; fi
    for op in "${ops[@]}"; do
        for who in $first $second; do
            if [ "$who" = old ]; then s=a; else s=b; fi
            if [ $((r % 2)) -eq 0 ]; then if [ $s = a ]; then s=b; else s=a; fi; fi
            farm=$base/farm-$s
            t[$op.$who]+="$(run_op "$op" "$who") "
        done
    done
done

echo "tether $("$new" --version | head -n 1) against $("$old" --version | head -n 1), median of $rounds rounds ($(uname -r), $(nproc) cores)"
printf '| %-40s | %10s | %10s | %8s |\n' operation "old ms" "new ms" "new/old"
printf '|%s|%s|%s|%s|\n' "------------------------------------------" "------------" "------------" "----------"
declare -A what=(
    [audit]="audit, 100000-entry tree"
    [prune]="prune, the same tree ($dangling dangling)"
    [retarget]="retarget 10000 links"
    [dedupe]="dedupe --ignore-mtime, 20000 files"
    [farm_link]="farm link, 10000 files"
    [farm_unlink]="farm unlink, 10000 files"
    [migrate]="migrate 480 MB, /tmp to /dev/shm"
)
for op in "${ops[@]}"; do
    o=$(median "${t[$op.old]}")
    n=$(median "${t[$op.new]}")
    printf '| %-40s | %10s | %10s | %7sx |\n' "${what[$op]}" "$(ms "$o")" "$(ms "$n")" "$(ratio "$n" "$o")"
done
