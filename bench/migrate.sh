#!/usr/bin/env bash
# Moving a ~480 MB, 20000-file tree (bench/gen.py data) from /tmp to /dev/shm:
# tether migrate (size verification), tether migrate --verify hash, tether migrate
# --keep-backup (the original is renamed aside, not deleted; with either verification),
# cp -a, rsync -aH and mv, all
# in one run, ROUNDS rounds in rotation, medians reported. Before each round the
# source is restored from a pristine copy (not timed) and the destination removed, so
# every tool starts from the same warm page cache.
# Note what each does: cp -a and rsync -aH only copy; mv copies then deletes the source;
# tether migrate copies, syncs, verifies, swaps in a link and deletes the source.
# usage: bench/migrate.sh [BUILD_DIR] [ROUNDS=3]    needs: python3, rsync
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
rounds=${2:-3}
for tool in python3 rsync; do
    command -v "$tool" >/dev/null || { echo "bench/migrate.sh: needs $tool (apt-get install $tool)" >&2; exit 1; }
done
. "$here/lib.sh"
base=$(mktemp -d "${TMPDIR:-/tmp}/tether-bench-XXXXXX")
shm=$(mktemp -d /dev/shm/tether-bench-XXXXXX)
export XDG_STATE_HOME=$base/state
trap 'rm -rf "$base" "$shm"' EXIT
python3 "$here/gen.py" data "$base/pristine" >/dev/null
bytes=$(du -sb "$base/pristine" | cut -f1)
files=$(find "$base/pristine" -type f | wc -l)

variant cp "cp -a" cp -a "$base/src" "$shm/dest"
variant tether "tether migrate (verify sizes)" "$build/tether" -q migrate "$base/src" "$shm/dest"
variant tether_hash "tether migrate --verify hash" "$build/tether" -q migrate --verify hash "$base/src" "$shm/dest"
variant tether_keep "tether migrate --keep-backup" "$build/tether" -q migrate --keep-backup "$base/src" "$shm/dest"
variant tether_keep_hash "tether migrate --keep-backup --verify hash" "$build/tether" -q migrate --keep-backup --verify hash "$base/src" "$shm/dest"
variant rsync "rsync -aH" rsync -aH "$base/src/" "$shm/dest/"
variant mv "mv" mv "$base/src" "$shm/dest"
declare -A times
for r in $(seq "$rounds"); do
    for v in "${order[@]}"; do
        rm -rf "$base/src" "$shm/dest"
        cp -a "$base/pristine" "$base/src"
        sync
        times[$v]+="$(time_us ${cmd[$v]}) "
        if [[ $v == tether* ]]; then
            [ "$(readlink "$base/src")" = "$shm/dest" ] || { echo "tether did not leave the link" >&2; exit 1; }
            rm "$base/src"
            rm -rf "$base"/.tether-backup-* # what --keep-backup kept (not timed)
        fi
    done
done
cpm=$(median "${times[cp]}")
# The source's filesystem and mount options say much of what deleting it costs (discard).
srcfs=$(findmnt -n -o FSTYPE,OPTIONS -T "$base" 2>/dev/null | awk '{print $1 ", " $2}')
echo "migrate: $((bytes / 1000000)) MB in $files files, $(dirname "$base") ($srcfs) -> /dev/shm (tmpfs), median of $rounds rounds ($(uname -r), $(nproc) cores)"
printf '| %-44s | %9s | %8s | %9s |\n' command "median ms" "vs cp -a" "MB/s"
printf '|%s|%s|%s|%s|\n' "----------------------------------------------" "-----------" "----------" "-----------"
for v in "${order[@]}"; do
    m=$(median "${times[$v]}")
    printf '| %-44s | %9s | %7sx | %9.0f |\n' "${label[$v]}" "$(ms "$m")" "$(ratio "$m" "$cpm")" \
        "$(bc -l <<<"$bytes/$m")"
done
