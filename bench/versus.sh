#!/usr/bin/env bash
# Builds of tether against each other, in the same run, on the hot paths: 100000
# tether.symlink from a Lua loop, a plan of 10000 links in one directory, a walk and a
# walk that classifies every link (100000 entries, from Lua), audit --format json,
# prune, retarget, dedupe, farm link/unlink and migrate, on the same trees. The builds
# take turns (the order rotates every round, so each goes first as often), ROUNDS
# rounds, medians, and the last build's (NEW) elapsed and CPU (user + system) time over
# each other build's: on a machine shared with other work the CPU time of a run moves
# less than its elapsed time, which includes waiting for a core. Each mutating run
# starts from a fresh copy of its tree (not timed); each build keeps its own journals.
# usage: bench/versus.sh OLD... NEW [ROUNDS=5]   needs: python3
#   each build: a build directory, a tether binary, or a git revision of this
#   repository (exported with git archive and built once, RelWithDebInfo, into
#   ${TMPDIR:-/tmp}/tether-versus-REV); LABEL=BUILD names it in the table.
#   VERSUS_OPS="symlinks plan ..." runs only those.
# e.g.   bash bench/versus.sh 206d2e5 fcd69ef build 5
set -euo pipefail
shopt -s inherit_errexit
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
. "$here/lib.sh"
rounds=5
if [ $# -ge 3 ] && [[ ${!#} =~ ^[0-9]+$ ]] && [ ! -e "${!#}" ]; then
    rounds=${!#}
    set -- "${@:1:$#-1}"
fi

# The tether binary a build argument names, building a git revision when it is one.
binary_of() {
    local a=$1 dir
    if [ -f "$a" ] && [ -x "$a" ]; then (cd "$(dirname "$a")" && echo "$PWD/$(basename "$a")"); return; fi
    if [ -d "$a" ] && [ -x "$a/tether" ]; then (cd "$a" && echo "$PWD/tether"); return; fi
    git -C "$here/.." rev-parse --verify -q "$a^{commit}" >/dev/null ||
        { echo "versus.sh: $a is no build directory, tether binary or git revision" >&2; return 1; }
    dir=${TMPDIR:-/tmp}/tether-versus-$(git -C "$here/.." rev-parse --short=12 "$a")
    if [ ! -x "$dir/build/tether" ]; then
        echo "versus.sh: building $a in $dir" >&2
        rm -rf "$dir" && mkdir -p "$dir"
        git -C "$here/.." archive "$a" | tar -x -C "$dir"
        cmake -S "$dir" -B "$dir/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
        cmake --build "$dir/build" -j "$(nproc)" --target tether >/dev/null
    fi
    echo "$dir/build/tether"
}
bins=() names=()
for a in "$@"; do
    label=$(basename "$a")
    if [[ $a == *=* ]]; then label=${a%%=*} a=${a#*=}; fi
    bins+=("$(binary_of "$a")")
    names+=("$label")
done
nb=${#bins[@]}
new=$((nb - 1))

base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
shm=$(mktemp -d /dev/shm/tether-bench-XXXXXX)
trap 'rm -rf "$base" "$shm"' EXIT
cd "$base"
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
# One farm sandbox per build; the builds take turns with them (ext4's allocator state
# differs from one to its twin, see docs/benchmarks.md).
for s in $(seq 0 $new); do
    mkdir -p "state/$s"
    python3 -c '
import os, sys
for i in range(10000):
    rel = os.path.join(("bin", "share", "lib")[i % 3], "d%d" % (i % 100))
    os.makedirs(os.path.join(sys.argv[1], "stow/pkg", rel), exist_ok=True)
    os.makedirs(os.path.join(sys.argv[1], "home", rel), exist_ok=True)
    open(os.path.join(sys.argv[1], "stow/pkg", rel, "f%d" % i), "w").close()' "farm-$s"
done
sync

# links_in DIR N: stops the benchmark unless DIR holds N links (a run that did not do
# the work is not timed).
links_in() {
    [ "$(find "$1" -type l | wc -l)" = "$2" ] || { echo "versus.sh: $1 does not hold $2 links" >&2; exit 1; }
}

# One timed run of OP with build B (an index into bins), farm sandbox S; prints
# "ELAPSED CPU" in microseconds (bench/lib.sh both_us). Set-up is not timed.
run_op() {
    local op=$1 b=$2 s=$3 bin=${bins[$2]}
    export XDG_STATE_HOME=$base/state/$b
    case $op in
    symlinks)
        rm -rf "$shm/loop" && mkdir "$shm/loop"
        both_us "$bin" run "$here/symlink_loop.lua" "$shm/loop" 100000
        links_in "$shm/loop" 100000 ;;
    plan)
        rm -rf "$shm/plan" && mkdir "$shm/plan"
        both_us "$bin" run "$here/plan_links.lua" "$shm/plan" 10000
        links_in "$shm/plan" 10000 ;;
    walk) both_us "$bin" run "$here/walk_loop.lua" links-tree ;;
    classify) both_us "$bin" run "$here/walk_loop.lua" links-tree classify ;;
    audit) BENCH_MAX_RC=1 both_us "$bin" audit --format json links-tree ;;
    prune)
        rm -rf work && cp -a links-tree work
        both_us "$bin" -q prune work ;;
    retarget)
        both_us "$bin" -q retarget rt --from "$base/old" --to "$base/new"
        "$bin" -q undo >/dev/null ;;
    dedupe)
        rm -rf work && cp -a dupes-tree work && sync
        both_us "$bin" -q dedupe --ignore-mtime work ;;
    farm_link)
        (cd "farm-$s/home" && both_us "$bin" -q farm link pkg --dir ../stow --target .) ;;
    farm_unlink)
        (cd "farm-$s/home" && both_us "$bin" -q farm unlink pkg --dir ../stow --target .) ;;
    migrate)
        rm -rf src "$shm/dest" && cp -a data-tree src && sync
        both_us "$bin" -q migrate "$base/src" "$shm/dest"
        rm -f src ;;
    esac
}

dangling=$( (find links-tree -xtype l 2>/dev/null || true) | wc -l)
read -r -a ops <<<"${VERSUS_OPS:-symlinks plan walk classify audit prune retarget dedupe farm_link farm_unlink migrate}"
declare -A t cpu
for r in $(seq "$rounds"); do
    for op in "${ops[@]}"; do
        for k in $(seq 0 $new); do
            b=$(((k + r) % nb)) # round r starts with build r mod nb
            out=$(run_op "$op" "$b" $(((b + r) % nb)))
            read -r w c <<<"$out"
            t[$op.$b]+="$w " cpu[$op.$b]+="$c "
        done
    done
done

declare -A what=(
    [symlinks]="100000 tether.symlink, Lua loop, tmpfs"
    [plan]="plan of 10000 links in one dir, tmpfs"
    [walk]="walk, 100000 entries, from Lua"
    [classify]="walk + classify, 100000 entries"
    [audit]="audit --format json, 100000 entries"
    [prune]="prune, the same tree ($dangling dangling)"
    [retarget]="retarget 10000 links"
    [dedupe]="dedupe --ignore-mtime, 20000 files"
    [farm_link]="farm link, 10000 files"
    [farm_unlink]="farm unlink, 10000 files"
    [migrate]="migrate 480 MB, /tmp to /dev/shm"
)
echo "median of $rounds rounds in rotation ($(uname -r), $(nproc) cores, $(date -u +%Y-%m-%d)); NEW = ${names[$new]}"
for b in $(seq 0 $new); do echo "  ${names[$b]}: $("${bins[$b]}" --version | head -n 1) (${bins[$b]})"; done
head="| operation                                |"
rule="|------------------------------------------|"
for b in $(seq 0 $new); do
    head+="$(printf ' %12s |' "${names[$b]:0:9} ms")"
    rule+="--------------|"
done
for b in $(seq 0 $((new - 1))); do
    head+="$(printf ' %10s |' "new/${names[$b]:0:7}")"
    rule+="------------|"
done
for b in $(seq 0 $((new - 1))); do
    head+="$(printf ' %10s |' "CPU/${names[$b]:0:7}")"
    rule+="------------|"
done
echo "$head"
echo "$rule"
for op in "${ops[@]}"; do
    line=$(printf '| %-40s |' "${what[$op]}")
    n=$(median "${t[$op.$new]}")
    for b in $(seq 0 $new); do line+="$(printf ' %12s |' "$(ms "$(median "${t[$op.$b]}")")")"; done
    for b in $(seq 0 $((new - 1))); do line+="$(printf ' %9sx |' "$(ratio "$n" "$(median "${t[$op.$b]}")")")"; done
    nc=$(median "${cpu[$op.$new]}")
    for b in $(seq 0 $((new - 1))); do line+="$(printf ' %9sx |' "$(ratio "$nc" "$(median "${cpu[$op.$b]}")")")"; done
    echo "$line"
done
