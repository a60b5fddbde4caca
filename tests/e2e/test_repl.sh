#!/usr/bin/env bash
# The REPL in a real pseudo-terminal (tmux): expressions print their values, a two-line
# for loop and an unfinished expression continue, any error object is shown, help and ?
# explain functions, Tab completes names, option names and names after ?, Ctrl-C stops a
# running loop and the prompt comes back, history persists, Ctrl-D exits.
. "$(dirname "$0")/lib.sh"

if ! command -v tmux >/dev/null; then
    skip_all "tmux is not installed"
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

# An expression cut short asks for more (lua.c asks only for statements).
tm send-keys '6 *' Enter
check "an unfinished expression continues" screen_has "   ...> "
tm send-keys '7' Enter
check "and is evaluated whole" screen_line "42"
# Any error object is shown, as lua.c shows it.
tm send-keys 'error({})' Enter
check "error({}) says what was raised" screen_has "(error object is a table value)"
tm send-keys 'error(setmetatable({}, {__tostring = function() return "mine" end}))' Enter
check "an error object's __tostring is used" screen_line "mine"

# Help from stdlib/tether/api.lua: by name, by function value, ?NAME, the overview.
tm send-keys '?readlink' Enter
check "?NAME shows the signature" screen_has "tether.readlink(path)"
check "?NAME shows an example" screen_has 'print(tether.readlink("l")) --> f'
tm send-keys 'help(tether.symlink)' Enter
check "help(function) shows its options" screen_has "    relative       boolean"
tm send-keys 'help "simlink"' Enter
check "help of a misspelt name suggests one" screen_has 'did you mean "symlink"?'
tm send-keys 'help()' Enter
check "help() lists the functions" screen_has "  hardlink           Create a hard link"
tm send-keys clear Enter
tm clear-history

# Completion of option names inside a call's options table, and of names after ? / help ".
tm send-keys 'tether.symlink("a", "b", {rel' Tab
check "Tab completes an option name" screen_has 'tether> tether.symlink("a", "b", {relative ='
tm send-keys C-u
tm send-keys '?hardl' Tab
check "Tab completes after ?" screen_has "tether> ?hardlink"
tm send-keys C-u
tm send-keys 'help "relative_t' Tab
check "Tab completes after help \"" screen_has 'tether> help "relative_target'
tm send-keys C-u

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
