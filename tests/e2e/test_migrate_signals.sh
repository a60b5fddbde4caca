#!/usr/bin/env bash
# Ctrl-C in a real terminal (tmux) during a 200 MB migration, at two moments: while the
# copy runs (before the link: everything is put back, exit 130, nothing left behind),
# and while the original is being deleted (after the link: the run stops, says how to
# finish, exit 130; that one command finishes it). A SIGTERM and a SIGHUP stop a run the
# same way (143, 129). The data is whole every time. And what each removal's progress
# says it deletes (TERM=dumb in a pseudo-terminal): the partial copy when a run stopped
# during its copy is put back, the original after the link, the migrated copy in an undo.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

use_tmux

mkdir -p pristine/sub
head -c $((200 * 1024 * 1024)) /dev/urandom > pristine/big
for i in $(seq 200); do head -c $((i * 97)) /dev/urandom > "pristine/sub/f$i"; done

leftovers() { echo "$(ls -A | grep -c '^\.tether')$(ls -A "$shm" | grep -c '^\.tether')"; }
on_screen() { # on_screen TEXT: waits up to 20 s for TEXT on the screen
    for _ in $(seq 400); do
        tm capture-pane -p -J -S -50 | grep -qF -- "$1" && return 0
        sleep 0.05
    done
    return 1
}
exit_code() { # waits for the command in the pane to end; prints its exit code
    for _ in $(seq 600); do [ -s "$WORK/rc" ] && break; sleep 0.05; done
    cat "$WORK/rc"
}
run_in_terminal() { # run_in_terminal ENV...: migrate src in a fresh 80-column terminal
    rm -f "$WORK/rc"
    tm kill-server 2>/dev/null
    # A server that is still shutting down refuses the new session: try again briefly.
    for _ in $(seq 50); do
        tm new-session -d -x 80 -y 20 \
            "cd '$WORK/run' && env XDG_STATE_HOME='$XDG_STATE_HOME' $* '$TETHER' migrate src '$shm/dest' 2>&1; echo \$? > '$WORK/rc'; sleep 30" \
            2>/dev/null && tm has-session 2>/dev/null && return 0
        sleep 0.1
    done
    echo "tmux would not start a session" >&2
    return 1
}

# 1. During the copy: put back.
cp -a pristine src
run_in_terminal
check "the copy shows its progress" on_screen "copying:"
tm send-keys C-c
code=$(exit_code)
screen=$(tm capture-pane -p -J -S -50)
no_bug_report "Ctrl-C during the copy" "$screen"
check "Ctrl-C during the copy: exit 130" is "$code" 130
check "Ctrl-C during the copy: says so, in one line" has "$screen" "tether: $WORK/run/src: interrupted by SIGINT (EINTR); stopped at step copy; everything was put back as it was"
check "Ctrl-C during the copy: everything put back" has "$screen" "everything was put back as it was"
check "Ctrl-C during the copy: SRC is the original" python3 "$here/treecmp.py" pristine src
check "Ctrl-C during the copy: nothing left" is "$(leftovers)|$(ls -A "$shm")" "00|"

# 2. After the link, while the original is deleted (a test hook marks that moment and
# holds the run there a moment, in tether itself, so the keypress lands in that step
# however fast this disk deletes).
run_in_terminal "TETHER_TEST_AT='cleanup:begin=pause 5 $WORK/at-cleanup'"
for _ in $(seq 400); do [ -e "$WORK/at-cleanup" ] && break; sleep 0.05; done
check "the run reaches the deletion" test -e "$WORK/at-cleanup"
tm send-keys C-c
code=$(exit_code)
screen=$(tm capture-pane -p -J -S -50)
no_bug_report "Ctrl-C during the deletion" "$screen"
check "Ctrl-C after the link: exit 130" is "$code" 130
check "Ctrl-C after the link: nothing rolled back, the command to finish named" has "$screen" \
    "the link is in place, so nothing was rolled back; finish with: tether migrate --resume"
check "Ctrl-C after the link: SRC leads to a whole DEST" python3 "$here/treecmp.py" pristine "$shm/dest"
check "Ctrl-C after the link: SRC is the link" is "$(readlink src)" "$shm/dest"
t migrate --resume
check "that one command finishes it" is "$rc" 0
check "finished: nothing left" is "$(leftovers)" "00"
check "finished: the data whole" python3 "$here/treecmp.py" pristine "$shm/dest"
t -q undo
check "and undone" is "$rc|$(stat -c %F src)" "0|directory"

# 3. SIGTERM and SIGHUP, while the copy is verified: put back, exit 128 + the signal.
for sig in TERM HUP; do
    rm -f "$WORK/at-verify"
    TETHER_TEST_AT="verify:begin=pause 5 $WORK/at-verify" "$TETHER" migrate src "$shm/dest" \
        >/dev/null 2>"$WORK/sig.err" &
    pid=$!
    for _ in $(seq 400); do [ -e "$WORK/at-verify" ] && break; sleep 0.05; done
    kill -$sig $pid
    wait $pid
    code=$?
    no_bug_report "SIG$sig" "$(cat "$WORK/sig.err")"
    want=$((128 + $(kill -l $sig)))
    check "SIG$sig: exit $want" is "$code" "$want"
    check "SIG$sig: put back" has "$(cat "$WORK/sig.err")" "everything was put back as it was"
    check "SIG$sig: SRC is the original" python3 "$here/treecmp.py" pristine src
    check "SIG$sig: nothing left" is "$(leftovers)|$(ls -A "$shm")" "00|"
done

# 4. What a removal is shown as (TERM=dumb prints each phase's first line, then a plain
# line every few seconds).
if command -v script >/dev/null; then
    rm -rf src "$shm/dest" && mkdir small && for i in $(seq 100); do echo "$i" > "small/f$i"; done
    in_pty() { # in_pty OUT HOOK ARGS...: tether ARGS in a pseudo-terminal, TERM=dumb, TETHER_TEST_AT=HOOK
        local out=$1 hook=$2
        shift 2
        printf '%s\n' "echo \$\$ > '$WORK/pid'" "export TERM=dumb XDG_STATE_HOME='$XDG_STATE_HOME' TETHER_TEST_AT='$hook'" \
            "exec '$TETHER' $*" > "$WORK/pty.sh"
        script -qefc "sh '$WORK/pty.sh'" /dev/null > "$out" 2>&1
    }
    rm -f "$WORK/at-copy"
    in_pty "$WORK/int.out" "copy:50=pause 8 $WORK/at-copy" migrate small "$shm/dest" &
    pty=$!
    for _ in $(seq 400); do [ -e "$WORK/at-copy" ] && break; sleep 0.05; done
    kill -INT "$(cat "$WORK/pid")"
    wait $pty
    screen=$(cat "$WORK/int.out")
    no_bug_report "Ctrl-C during the copy (TERM=dumb)" "$screen"
    check "stopped during the copy: put back" has "$screen" "everything was put back as it was"
    check "stopped during the copy: the partial copy is what is removed" has "$screen" "removing the partial copy: "
    check "stopped during the copy: the original is not said to go" is "$(grep -c 'deleting the original' <<<"$screen")" 0
    check "stopped during the copy: nothing left" is "$(leftovers)|$(ls -A "$shm")" "00|"
    in_pty "$WORK/mig.out" "" migrate small "$shm/dest"
    check "after the link: the original is what is deleted" has "$(cat "$WORK/mig.out")" "deleting the original: "
    in_pty "$WORK/undo.out" "" undo
    check "an undo: the migrated copy is what is deleted" has "$(cat "$WORK/undo.out")" "deleting the migrated copy: "
    check "an undo: the data back, nothing left" is "$(stat -c %F small)|$(leftovers)|$(ls -A "$shm")" "directory|00|"
else
    echo "skipped: progress in TERM=dumb needs script(1)"
fi

finish
