#!/usr/bin/env bash
# Progress on a real terminal (tmux), resized while a migration copies: at each width
# from 20 to 200 columns the progress is one row that fits (one column spare), keeps its
# percentage (and its ETA from 40 columns on), shortens the path in its middle before it
# drops a field, and nothing of an earlier, wider line is left on the screen; TERM=dumb
# gets plain lines without cursor codes; piped output, -q and --no-progress get none.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

use_tmux

# Long names, so the path would make every progress line wider than the terminal.
deep=src/a-directory-with-a-rather-long-name/and-another-one-below-it-too
mkdir -p "$deep"
for i in $(seq 300); do head -c $((128 * 1024)) /dev/urandom > "$deep/file-number-$i-with-a-long-name.bin"; done
wait_for() { for _ in $(seq 400); do [ -e "$1" ] && return 0; sleep 0.05; done; return 1; }
# The rows of the pane that show progress (each has a percentage; no name here has one).
progress_rows() { tm capture-pane -p | grep -F '%' ; }

# The copy pauses (2 s) after files 40, 80, ...; the terminal is resized during each pause,
# and the first update after it is drawn at the new width.
widths=(120 60 20 200 40 30)
hooks=""
for i in "${!widths[@]}"; do hooks+="copy:$(( (i + 1) * 40 ))=pause 2 $WORK/p$i"$'\n'; done
tm new-session -d -x "${widths[0]}" -y 20 \
    "cd '$WORK/run' && env XDG_STATE_HOME='$XDG_STATE_HOME' TETHER_TEST_AT='$hooks' '$TETHER' migrate src '$shm/dest' 2>&1; echo \$? > '$WORK/rc'; sleep 30"
for i in "${!widths[@]}"; do
    w=${widths[$i]}
    if [ "$i" -gt 0 ]; then tm resize-window -x "$w" -y 20 2>/dev/null || tm resize-pane -x "$w"; fi
    check "$w columns: paused during the copy" wait_for "$WORK/p$i"
    sleep 0.3
    rows=$(progress_rows)
    check "$w columns: the progress is one row" is "$(wc -l <<<"$rows")" 1
    check "$w columns: it fits with a column to spare" is \
        "$(awk -v w="$w" '{ if (length($0) > w - 1) print "too wide: " length($0) }' <<<"$rows")" ""
    check "$w columns: it keeps the percentage" grep -qE '(^|: )[0-9]+%' <<<"$rows"
    [ "$w" -ge 40 ] && check "$w columns: and the ETA" has "$rows" "ETA"
    [ "$w" -ge 120 ] && check "$w columns: the path is shortened in its middle" grep -qE 'files  /.*\.\.\..*\.bin$' <<<"$rows"
    # (a rate only once half a second has passed: the first pause may come before that)
    [ "$w" -ge 120 ] && check "$w columns: with bytes" grep -qE '[0-9.]+ [KMG]iB of ' <<<"$rows"
    [ "$w" -ge 120 ] && [ "$i" -gt 0 ] && check "$w columns: and the rate" grep -qE '[0-9.]+ [KMG]iB/s, [0-9.]+ [KMG]iB of ' <<<"$rows"
    check "$w columns: nothing of an earlier line on the screen" is "$(tm capture-pane -p | grep -cE 'ETA|/s|files|iB')" \
        "$(grep -cE 'ETA|/s|files|iB' <<<"$rows")"
    lines[$i]=$rows; [ -n "${DEBUG:-}" ] && echo "$w: $rows"
done
check "the 20-column line is the shortest" is "$(for r in "${lines[@]}"; do echo "${#r}"; done | sort -n | head -1)" "${#lines[2]}"
for _ in $(seq 600); do [ -s "$WORK/rc" ] && break; sleep 0.05; done
check "the migration finished" is "$(cat "$WORK/rc")|$(readlink src)" "0|$shm/dest"
no_bug_report "migrate in tmux" "$(tm capture-pane -p -J -S -50)"
# (The visible screen: a terminal that rewraps on resizing may keep a copy of the old
# line in its scrollback, which no program can reach.)
check "the progress line is gone at the end" is "$(tm capture-pane -p | grep -c '%')" 0
tm kill-server 2>/dev/null

# TERM=dumb: plain lines, no cursor movement, through a pseudo-terminal (script(1)).
if command -v script >/dev/null; then
    rm -f src && mv "$shm/dest" src
    script -qefc "env TERM=dumb XDG_STATE_HOME='$XDG_STATE_HOME' '$TETHER' migrate src '$shm/dest2'" /dev/null > "$WORK/dumb.out" 2>&1
    check "TERM=dumb: the migration ran" is "$(readlink src)" "$shm/dest2"
    check "TERM=dumb: no cursor codes" is "$(grep -c $'\e\\[' "$WORK/dumb.out")" 0
    check "TERM=dumb: progress as plain lines" has "$(cat "$WORK/dumb.out")" "copying:"
    rm -f src && mv "$shm/dest2" src
    # A terminal, but -q or --no-progress: nothing of the progress, and no cursor codes.
    for opt in -q --no-progress; do
        script -qefc "env TERM=xterm XDG_STATE_HOME='$XDG_STATE_HOME' '$TETHER' $opt migrate src '$shm/dest2'" /dev/null > "$WORK/quiet.out" 2>&1
        check "$opt: the migration ran" is "$(readlink src)" "$shm/dest2"
        check "$opt: no progress on the terminal" is "$(grep -cE 'copying|%|'$'\e' "$WORK/quiet.out")" 0
        rm -f src && mv "$shm/dest2" src
    done
else
    echo "skipped: TERM=dumb, -q and --no-progress on a terminal need script(1)"
fi
# Piped: no progress at all.
t migrate src "$shm/dest3"
check "piped: no progress" is "$rc|$(grep -c 'copying' <<<"$err")" "0|0"

finish
