#!/usr/bin/env bash
# A migration killed (SIGKILL) at any instant, then the recovery a user would run: the
# command `tether migrate --status` names, when it names one. Afterwards nothing of
# tether's (.tether-*) is left in SRC, SRC's parent or DEST's parent, exactly one complete
# copy of the data exists (SRC the original and no DEST, or SRC a link to a complete
# DEST), when nothing was started --rollback says so, and a resume keeps exactly the
# files the copy journaled that are still as recorded (copy_records.py; the copy journals
# every 4 files here). The kills: after a random delay
# (0-50 ms, the instants before the journal exists, and over a whole run), and before
# every system call that changes something (strace's fault injection, one syscall and
# one invocation at a time; on the shorter layouts one in two, see step_of). SRC's parent is on a filesystem that tells whether it keeps
# links (a disk's or tmpfs: nothing is tried) and, where bindfs can mount one, on FUSE, which
# does not tell (the run tries a link beside SRC first, journaled); DEST on another
# filesystem (a copy) or on SRC's (a rename).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
fuse=""
trap '[ -n "$fuse" ] && fusermount -u "$fuse" 2>/dev/null; rm -rf "$shm"; cleanup' EXIT
export ASAN_OPTIONS=detect_leaks=0 # LeakSanitizer cannot work under ptrace
export XDG_STATE_HOME=$shm/state # journals on tmpfs: hundreds of runs, each syncing its own
export TETHER_TEST_COPY_BATCH=4 # the copy journals what it finished every 4 files

mkdir -p pristine/sub/deep
for i in $(seq 8); do head -c $((i * 512)) /dev/urandom > "pristine/sub/f$i"; done
head -c 300000 /dev/urandom > pristine/big
echo leaf > pristine/sub/deep/leaf
ln pristine/sub/f1 pristine/hard
ln -s sub/f2 pristine/rel

# One layout per kind of filesystem pair: SP is SRC's parent, DP DEST's parent.
layouts="disk:$WORK/run/sp:$shm/dp same:$shm/sp:$shm/sp/dp"
if command -v bindfs >/dev/null && mkdir -p "$WORK/fuse-real" fuse && bindfs "$WORK/fuse-real" fuse 2>/dev/null; then
    fuse=$WORK/run/fuse
    layouts="$layouts fuse:$fuse/sp:$shm/dp"
else
    echo "skipped: a SRC on FUSE (bindfs cannot mount here)"
fi

leftovers() { find "$SP" "$DP" -name '.tether-*' 2>/dev/null; }
one_copy() { # SRC the original and no DEST, or SRC a link to a complete DEST
    if [ -L "$SP/src" ]; then
        [ "$(readlink "$SP/src")" = "$DP/dest" ] && python3 "$here/treecmp.py" pristine "$DP/dest"
    else
        [ ! -e "$DP/dest" ] && python3 "$here/treecmp.py" pristine "$SP/src"
    fi
}
fresh() {
    rm -rf "$SP" "$DP" "$XDG_STATE_HOME"
    mkdir -p "$SP" "$DP" && cp -a pristine "$SP/src"
}
# recover NAME: runs what --status names for an unfinished run (none: nothing was
# started, and --rollback says so), then checks what is left.
recover() {
    local next in_copy
    read -r in_copy next < <("$TETHER" --json migrate --status 2>/dev/null | python3 -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
r = runs[-1] if runs else None
print(int(bool(r) and r["state"] == "interrupted at copy"),
      "none" if not r else r["next"].split(" (")[0] if not r["ended"] and r.get("next") else "")')
    if [ "$next" = none ]; then
        t migrate --rollback
        check "$1: nothing started: --rollback says so" has "$rc|$err" "3|tether: $XDG_STATE_HOME/tether/journal: nothing to roll back: no migration recorded here"
        check "$1: nothing started: and that SRC is untouched" has "$err" "its SRC is untouched"
    elif [ -n "$next" ]; then
        # A resume in the copy keeps exactly what its records vouch for (copy_records.py).
        local want=0 partial
        if [ "$in_copy" = 1 ]; then
            partial=$(ls -d "$DP"/.tether-tmp-* 2>/dev/null)
            read -r want _ < <(python3 "$here/copy_records.py" "$XDG_STATE_HOME"/tether/journal/*.jsonl "$SP/src" "$partial")
        fi
        t --json ${next#tether }
        check "$1: '$next' finishes it" is "$rc" 0
        case $in_copy$next in 1*--resume*)
            check "$1: the resume keeps what the records vouch for" is "$(python3 -c '
import json, sys
print((json.load(sys.stdin).get("copy") or {}).get("kept", 0))' <<<"$out")" "$want" ;;
        esac
    fi
    check "$1: nothing of tether's is left" is "$(leftovers)" ""
    check "$1: one complete copy of the data" one_copy
    check "$1: no run left unfinished" is "$("$TETHER" --json migrate --status 2>/dev/null | python3 -c '
import json, sys
print(sum(1 for r in json.load(sys.stdin)["runs"] if not r["ended"]))')" 0
}
millis() { python3 -c "import random; print(random.randint($1, $2) / 1000)"; }

# Kills after a random delay: 0-50 ms, and anywhere in a whole run.
for layout in $layouts; do
    IFS=: read -r kind SP DP <<<"$layout"
    fresh
    start=$(date +%s%N)
    "$TETHER" -q migrate "$SP/src" "$DP/dest" >/dev/null 2>&1
    whole=$((($(date +%s%N) - start) / 1000000))
    rounds=12
    [ "${TETHER_SANITIZE:-OFF}" = ON ] && rounds=6
    for round in $(seq $rounds); do
        fresh
        if [ $((round % 2)) = 1 ]; then delay=$(millis 0 50); else delay=$(millis 0 "$whole"); fi
        "$TETHER" -q migrate "$SP/src" "$DP/dest" >/dev/null 2>&1 &
        pid=$!
        sleep "$delay"
        kill -KILL $pid 2>/dev/null
        wait $pid 2>/dev/null
        recover "$kind, killed after ${delay}s"
    done
done

# Kills before each system call that changes what is where (the names, the journal and
# lock files, what is synced), each call in turn. (The metadata calls of each copied file
# are left to the random delays and to test_migrate_crash.sh's kills mid-copy.)
calls="mkdirat,symlinkat,unlinkat,renameat2,linkat,write,pwrite64,ftruncate,fdatasync,fsync,flock,syncfs"
# Every instant across a filesystem (the longest sequence); on one filesystem and on
# FUSE, whose calls are mostly the same, one in every two from a random first one (the
# run says which; CI runs cover both halves over time). TETHER_KILL_STEP=1 kills before
# every call of every layout (about 2 minutes); the sanitizer build samples more thinly.
step_of() {
    if [ -n "${TETHER_KILL_STEP:-}" ]; then echo "$TETHER_KILL_STEP"
    elif [ "${TETHER_SANITIZE:-OFF}" = ON ]; then echo 3
    elif [ "$1" = disk ]; then echo 1
    else echo 2; fi
}
if command -v strace >/dev/null; then
    for layout in $layouts; do
        IFS=: read -r kind SP DP <<<"$layout"
        fresh
        strace -f -c -U name,calls -e trace="$calls" -o "$WORK/count" \
            "$TETHER" -q migrate "$SP/src" "$DP/dest" >/dev/null 2>&1
        n=0 step=$(step_of "$kind") first=$((RANDOM % $(step_of "$kind")))
        while read -r name count; do
            for when in $(seq 1 "$count"); do
                n=$((n + 1))
                [ $((n % step)) = "$first" ] || continue
                fresh
                strace -f -o /dev/null -e trace="$name" -e inject="$name:signal=KILL:when=$when" \
                    "$TETHER" -q migrate "$SP/src" "$DP/dest" >/dev/null 2>&1
                recover "$kind, killed at $name #$when"
            done
        done < <(awk 'NR > 2 && $1 != "total" && $1 !~ /^-/ { print $1, $2 }' "$WORK/count")
        echo "$kind: $n system calls that change something, killed before one in every $step (from the one at $((first + 1)))"
    done
else
    echo "skipped: kills at each system call need strace"
fi

finish
