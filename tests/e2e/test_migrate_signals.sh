#!/usr/bin/env bash
# Ctrl-C in a real terminal (tmux) during a 200 MB migration, at two moments: while the
# copy runs (before the link: everything is put back, exit 130, nothing left behind),
# and while the original is being deleted (after the link: the run stops, says how to
# finish, exit 130; that one command finishes it). A SIGTERM and a SIGHUP stop a run the
# same way (143, 129). The data is whole every time.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

use_tmux || { finish; exit; }

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
check "Ctrl-C during the copy: says so, in one line" has "$screen" "tether: $WORK/run/src: interrupted by SIGINT (step copy); everything was put back as it was"
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

finish
