#!/usr/bin/env bash
# The REPL in a real pseudo-terminal (tmux): expressions print their values, a two-line
# for loop continues, Ctrl-C stops a running loop and the prompt comes back, Tab
# completes tether.sy, history persists, Ctrl-D exits.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
    echo "skipped: tmux is not installed"
    finish
    exit
fi
sock="tether-test-$$"
tm() { tmux -L "$sock" "$@"; }
trap 'tmux -L "$sock" kill-server 2>/dev/null; cleanup' EXIT

# on_screen GREP_FLAGS TEXT: waits up to 5 s for TEXT on the screen (-F: anywhere,
# -xF: a whole line).
on_screen() {
    for _ in $(seq 50); do
        tm capture-pane -p -S -100 | grep -q "$1" -- "$2" && return 0
        sleep 0.1
    done
    return 1
}
screen_has() { on_screen -F "$1"; }
screen_line() { on_screen -xF "$1"; }
prompts() { tm capture-pane -p -S -100 | grep -c '^tether>'; }

tm new-session -d -x 120 -y 40 "XDG_STATE_HOME='$XDG_STATE_HOME' '$TETHER' repl"
check "banner" screen_has "the \`tether\` module is loaded"
tm send-keys '1+1' Enter
check "1+1 shows 2" screen_line "2"

tm send-keys 'for i = 1, 3 do' Enter
check "continuation prompt" screen_has "   ...>"
tm send-keys 'io.write(i * 10, " ") end' Enter
check "two-line loop ran" screen_has "10 20 30"

tm send-keys '{a = 1, "x"}' Enter
check "tables printed readably" screen_has '{"x", a = 1}'

tm send-keys 'while true do end' Enter
sleep 0.5
n=$(prompts)
tm send-keys C-c
check "Ctrl-C interrupts" screen_has "interrupted!"
for _ in $(seq 50); do [ "$(prompts)" -gt "$n" ] && break; sleep 0.1; done
check "prompt back after Ctrl-C" test "$(prompts)" -gt "$n"
tm send-keys 'print("still " .. "here")' Enter
check "REPL still alive" screen_has "still here"

tm send-keys 'tether.sy' Tab
check "Tab completes tether.sy" screen_has "tether> tether.symlink"
tm send-keys C-u
tm send-keys 'tether.unkno' Tab Enter
check "no completion leaves text" screen_has "tether> tether.unkno"

tm send-keys C-d
for _ in $(seq 50); do tm has-session 2>/dev/null || break; sleep 0.1; done
check "Ctrl-D exits" bash -c "! tmux -L '$sock' has-session 2>/dev/null"
check "history persisted" grep -qF '1+1' "$XDG_STATE_HOME/tether/history"

finish
