#!/usr/bin/env bash
# Journals are evidence, not commands (docs/migration.md): a damaged line anywhere but a
# last line a crash tore makes the whole journal "corrupt FILE:LINE" and nothing acts on
# it; a record that does not fit the run (a temporary copy that is not beside DEST) is
# refused; a journal directory or file another user could have written is refused; a
# full journal disk stops a run before anything changes; history and --status list
# every other run when one journal is bad; and -n with --resume, --rollback, --finish
# and undo only says what it would do.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
trap 'umount "$WORK/jfull" 2>/dev/null; rm -rf "$shm"; cleanup' EXIT
jdir="$XDG_STATE_HOME/tether/journal"
mkdir -p pristine/sub && echo one > pristine/sub/f && echo two > pristine/g
fresh() { rm -rf src .tether-* "$shm"/* "$shm"/.tether-* "$jdir" && cp -a pristine src; }
journal_of() { ls "$jdir"/*.jsonl | tail -n 1; }
# crash STEP ARGS...: tether killed (SIGKILL, by its crash hook) as STEP begins.
crash() { { TETHER_CRASH_AT=$1:begin "$TETHER" "${@:2}"; } >/dev/null 2>&1; }
state() { snapshot "$WORK/run" | grep -v '^\./\.state'; ls -A "$shm"; cat "$jdir"/*.jsonl 2>/dev/null | md5sum; }

# A kept original: the run is over but --finish and undo remain.
fresh
t migrate --keep-backup src "$shm/dest"
id=$(basename "$(journal_of)" .jsonl)
check "a run to work with" is "$rc" 0

# -n of every command that continues a run changes nothing.
before=$(state)
for cmd in "migrate --finish" "migrate --finish $id" "undo" "undo $id"; do
    t -n $cmd
    check "-n $cmd: exit 0" is "$rc" 0
    check "-n $cmd: says what it would do" has "$out" "would "
    check "-n $cmd: nothing changed" is "$(state)" "$before"
done
t -q undo "$id"
fresh
crash aside migrate src "$shm/dest"
id2=$(basename "$(journal_of)" .jsonl)
before=$(state)
for cmd in "migrate --resume" "migrate --rollback"; do
    t -n $cmd
    check "-n $cmd after a crash: exit 0" is "$rc" 0
    check "-n $cmd after a crash: lists its steps" has "$out" "  1. "
    check "-n $cmd after a crash: nothing changed" is "$(state)" "$before"
done

# A new migration of the same SRC while that run is stopped part-way would leave its copy
# behind: -n and the real run refuse, naming the run and the command that goes on.
for n in -n ""; do
    t $n migrate src "$shm/elsewhere"
    check "a new run over a stopped one ($n): refused" is "$rc" 3
    check "a new run over a stopped one ($n): names it" has "$err" "$WORK/run/src: run $id2 stopped part-way here"
    check "a new run over a stopped one ($n): and the command" has "$err" "tether migrate --resume $id2"
    check "a new run over a stopped one ($n): nothing changed" is "$(state)" "$before"
done

# A last line torn by a crash is no record: the run goes on from the one before it, and
# the next record starts a line of its own (the journal stays readable after).
printf '{"event":"step","st' >>"$(journal_of)"
t migrate --resume
check "torn last line: resumed" is "$rc|$(readlink src)" "0|$shm/dest"
t migrate --status
check "torn last line: the journal reads whole afterwards" is "$rc" 0
check "torn last line: finished" has "$out" "finished; the data is in $shm/dest"
t -q undo
check "and undone" is "$rc|$(stat -c %F src)" "0|directory"

# A damaged line in the middle: corrupt FILE:LINE, nothing done by any command.
fresh
crash aside migrate src "$shm/dest"
j=$(journal_of)
id=$(basename "$j" .jsonl)
sed -i '3s/.*/{"event": "step", garbage/' "$j"
before=$(state)
for cmd in "migrate --resume" "migrate --rollback" "migrate --resume $id" "migrate --rollback $id" "undo $id"; do
    t $cmd
    check "corrupt line 3, $cmd: refused" is "$rc" 3
    check "corrupt line 3, $cmd: names the file and line" has "$err" "$j:3: corrupt journal"
    check "corrupt line 3, $cmd: nothing changed" is "$(state)" "$before"
done

# history and --status name it and list every other run all the same (exit 1).
mkdir -p other && echo x > other/f
t migrate other "$shm/other"
check "another run beside the corrupt one" is "$rc" 0
t migrate --status
check "--status with a corrupt journal: exit 1" is "$rc" 1
check "--status names the corrupt journal" has "$err" "$j:3: corrupt journal"
check "--status lists the others" has "$out" "$WORK/run/other -> $shm/other"
t history
check "history with a corrupt journal: exit 1" is "$rc" 1
check "history names it" has "$err" "$j:3: corrupt journal"
check "history lists the others" has "$out" "$WORK/run/other -> $shm/other"
# The newest run to resume cannot be known while a newer journal is unreadable: no guess.
t -q undo
mv "$j" "$jdir/29991231-235959-000000-ff.jsonl"
sed -i 's/"id":"'"$id"'"/"id":"29991231-235959-000000-ff"/' "$jdir/29991231-235959-000000-ff.jsonl"
t migrate other "$shm/other"
crash aside migrate other "$shm/other2"
t -q undo
before=$(state)
t migrate --resume
check "a newer journal unreadable: --resume refuses" is "$rc" 3
check "a newer journal unreadable: says to name the run" has "$err" "name a run id, or move that journal away"
check "a newer journal unreadable: nothing changed" is "$(state)" "$before"
rm -f "$jdir"/29991231-*
t -q migrate --rollback
rm -rf other

# A crafted journal whose temporary copy is not beside DEST: refused by the schema.
fresh
mkdir -p "$WORK/victim" && echo precious > "$WORK/victim/keep"
crash verify migrate src "$shm/dest"
j=$(journal_of)
python3 - "$j" "$WORK/victim" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
head = json.loads(lines[0])
head["plan"]["tmp"] = sys.argv[2]
lines[0] = json.dumps(head)
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
before=$(state)
t migrate --rollback
check "crafted temporary path: refused" is "$rc" 3
check "crafted temporary path: the schema names it" has "$err" "$j:1: corrupt journal"
check "crafted temporary path: the victim untouched" is "$(cat "$WORK/victim/keep")" precious
check "crafted temporary path: nothing changed" is "$(state)" "$before"
rm -rf "$jdir" "$shm"/.tether-* src/.tether-* .tether-*

# A crafted journal whose link tried beside SRC is elsewhere (a link there that leads to
# DEST, which the recovery would remove as its probe): refused by the schema.
fresh
crash verify migrate src "$shm/dest"
j=$(journal_of)
ln -s "$shm/dest" "$WORK/victim/link"
python3 - "$j" "$WORK/victim/link" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
head = json.loads(lines[0])
head["plan"]["probe"] = sys.argv[2]
lines[0] = json.dumps(head)
lines.insert(1, json.dumps({"event": "made", "seq": "migrate", "key": "probe", "value": {"pending": True}}))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
EOF
before=$(state)
t migrate --rollback
check "crafted probe path: refused" is "$rc" 3
check "crafted probe path: the schema names it" has "$err" "$j:1: corrupt journal: the probe link is not beside SRC"
check "crafted probe path: the victim untouched" is "$(readlink "$WORK/victim/link")" "$shm/dest"
check "crafted probe path: nothing changed" is "$(state)" "$before"
rm -rf "$jdir" "$shm"/.tether-* src/.tether-* .tether-*

# A journal directory or file that another user could have written is refused.
fresh
crash aside migrate src "$shm/dest"
j=$(journal_of)
chmod g+w "$jdir"
before=$(state)
t migrate --rollback
check "group-writable journal directory: refused" is "$rc" 3
check "group-writable journal directory: says why" has "$err" \
    "$jdir: the journal directory can be written by other users; refused (EPERM); chmod go-w it"
t migrate src "$shm/other"
check "group-writable journal directory: a new run refused too" is "$rc" 3
check "group-writable journal directory: nothing changed" is "$(state)" "$before" ; diff <(echo "$before") <(state)
chmod g-w "$jdir" && chmod o+w "$j"
t migrate --rollback
check "world-writable journal: refused" is "$rc" 3
check "world-writable journal: says why" has "$err" "$j: the journal can be written by other users; refused (EPERM)"
chmod o-w "$j"
if [ "$(id -u)" -eq 0 ]; then
    chown 65534 "$j"
    t migrate --rollback
    check "a journal of another user: refused" is "$rc" 3
    check "a journal of another user: says why" has "$err" "$j: the journal belongs to another user; refused (EPERM)"
    chown 0 "$j"
fi
check "refused journals: nothing changed" is "$(state)" "$before"
t migrate --rollback
check "mended: the rollback runs" is "$rc|$(stat -c %F src)" "0|directory"

# A full journal disk: a clear error before anything changes (a 64 KiB tmpfs, filled).
if [ "$(id -u)" -eq 0 ] && mkdir "$WORK/jfull" && mount -t tmpfs -o size=64k tmpfs "$WORK/jfull" 2>/dev/null; then
    mkdir -m 700 "$WORK/jfull/j" && head -c 1M /dev/zero >"$WORK/jfull/fill" 2>/dev/null
    fresh
    before=$(state)
    t --journal-dir "$WORK/jfull/j" migrate src "$shm/dest"
    check "journal disk full: exit 3" is "$rc" 3
    check "journal disk full: says so" has "$err" "(ENOSPC); the disk that holds journals is full; nothing was changed"
    check "journal disk full: nothing changed" is "$(state)" "$before"
    check "journal disk full: no journal left" is "$(ls -A "$WORK/jfull/j")" ""
    ln -s gone src/dangling
    t --journal-dir "$WORK/jfull/j" prune src
    check "journal disk full, prune: exit 3" is "$rc|$(readlink src/dangling)" "3|gone"
    check "journal disk full, prune: says so" has "$err" "(ENOSPC)"
    umount "$WORK/jfull"
else
    echo "skipped: full journal disk (mounting a tmpfs is not permitted here)"
fi

finish
