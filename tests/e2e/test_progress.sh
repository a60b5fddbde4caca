#!/usr/bin/env bash
# Progress on a real terminal (tmux): at 60 columns a migration's progress is one line
# that never wraps, with bytes, rate and ETA; after the terminal shrinks to 40 columns
# (SIGWINCH) it is redrawn to fit, with nothing of the old line left; TERM=dumb gets plain
# lines without cursor codes; piped output gets none at all.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

use_tmux

# Long names, so every progress line would be wider than the terminal.
deep=src/a-directory-with-a-rather-long-name/and-another-one-below-it-too
mkdir -p "$deep"
for i in $(seq 300); do head -c $((256 * 1024)) /dev/urandom > "$deep/file-number-$i-with-a-long-name.bin"; done
wait_for() { for _ in $(seq 400); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
# The rows of the pane that belong to the progress display (without joining wrapped rows).
progress_rows() { tm capture-pane -p | grep -E 'copying|of [0-9]+ files|ETA|/s,' ; }

tm new-session -d -x 60 -y 20 \
    "cd '$WORK/run' && env XDG_STATE_HOME='$XDG_STATE_HOME' TETHER_TEST_AT='copy:100=pause 3 $WORK/p1
copy:220=pause 3 $WORK/p2' '$TETHER' migrate src '$shm/dest' 2>&1; echo \$? > '$WORK/rc'; sleep 30"
check "paused during the copy" wait_for "$WORK/p1"
sleep 0.3
rows=$(progress_rows)
check "60 columns: the progress is one row" is "$(wc -l <<<"$rows")" 1
check "60 columns: it fits" is "$(awk '{ if (length($0) > 59) print "too wide: " length($0) }' <<<"$rows")" ""
check "it shows bytes, rate and ETA" has "$rows" "ETA"
check "a long line is cut in the middle" has "$rows" "..."
tm resize-window -x 40 -y 20 2>/dev/null || tm resize-pane -x 40
check "paused again after the resize" wait_for "$WORK/p2"
sleep 0.3
rows=$(progress_rows)
check "40 columns: still one row" is "$(wc -l <<<"$rows")" 1
check "40 columns: it fits the new width" is "$(awk '{ if (length($0) > 39) print "too wide: " length($0) }' <<<"$rows")" ""
for _ in $(seq 600); do [ -s "$WORK/rc" ] && break; sleep 0.05; done
check "the migration finished" is "$(cat "$WORK/rc")|$(readlink src)" "0|$shm/dest"
no_bug_report "migrate in tmux" "$(tm capture-pane -p -J -S -50)"
# (The visible screen: a terminal that rewraps on resizing may keep a copy of the old
# line in its scrollback, which no program can reach.)
check "the progress line is gone at the end" is "$(tm capture-pane -p | grep -c 'ETA')" 0
tm kill-server 2>/dev/null

# TERM=dumb: plain lines, no cursor movement, through a pseudo-terminal (script(1)).
if command -v script >/dev/null; then
    rm -f src && mv "$shm/dest" src
    script -qefc "env TERM=dumb XDG_STATE_HOME='$XDG_STATE_HOME' '$TETHER' migrate src '$shm/dest2'" /dev/null > "$WORK/dumb.out" 2>&1
    check "TERM=dumb: the migration ran" is "$(readlink src)" "$shm/dest2"
    check "TERM=dumb: no cursor codes" is "$(grep -c $'\e\\[' "$WORK/dumb.out")" 0
    check "TERM=dumb: progress as plain lines" has "$(cat "$WORK/dumb.out")" "copying:"
    rm -f src && mv "$shm/dest2" src
else
    echo "skipped: TERM=dumb needs script(1)"
fi
# Piped: no progress at all.
t migrate src "$shm/dest3"
check "piped: no progress" is "$rc|$(grep -c 'copying' <<<"$err")" "0|0"

finish
