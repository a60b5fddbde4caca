#!/usr/bin/env bash
# A name with a control character (tab, newline, ESC: terminal injection) is shown quoted
# and escaped, once, where it appears; the rest of the message reads as it is. Checked as
# a property over every line several recipes print about such names: no raw control
# character reaches the output, no escape appears outside a quoted name, no escape is
# escaped twice, and each name appears in its quoted form.
. "$(dirname "$0")/lib.sh"

# shown LINE...: the check of the property over the lines given (stdout and stderr).
clean() {
    local text=$1 rest
    # no raw control character but the newlines between lines
    if printf '%s' "$text" | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]'; then return 1; fi
    # with every quoted string taken out, no escape is left; none is escaped twice
    rest=$(sed -E 's/"([^"\\]|\\.)*"//g' <<<"$text")
    ! grep -qE '\\[0-9]{3}|\\n' <<<"$rest" && ! grep -qF '\\\\0' <<<"$text"
}
# probe WHAT: the property over what the last command printed.
probe() {
    check "$1: names quoted once, the rest as it is" clean "$out
$err"
}

i=0
for raw in $'tab\tname' $'new\nline' $'esc\033[31mred' $'q"uo\\te\tx'; do
    i=$((i + 1))
    rm -rf d && mkdir d
    ln -s nowhere "d/$raw" && ln -s "gone/$raw" "d/to$i"
    quoted=$("$TETHER" -e 'io.write(tether.quote(arg[1]))' "d/$raw")
    t audit d
    probe "audit ($i)"
    check "audit ($i): the name quoted" has "$out" "$quoted"
    t -n prune d
    probe "prune -n ($i)"
    check "prune -n ($i): each action reads as an action" has "$out" "would remove link $quoted -> nowhere"
    t -v prune d
    probe "prune -v ($i)"
    t -n undo
    probe "undo -n ($i)"
    t undo
    probe "undo ($i)"
    t link elsewhere "d/$raw"
    probe "link over an existing name ($i)"
    check "link ($i): the error names the path quoted, the reason as it is" has "$err" "tether: $quoted: already exists (EEXIST)"
    t -n link "$raw" "d/new$raw"
    probe "link -n ($i)"
    t link "$raw" "d/new$raw"
    probe "link ($i)"
    t unlink "d/missing$raw"
    probe "unlink of a missing name ($i)"
    t --json unlink "d/missing$raw"
    check "unlink --json ($i): the path as it is in JSON" is \
        "$(python3 -c 'import json,sys; print(json.load(sys.stdin)["error"]["path"] == sys.argv[1])' "d/missing$raw" <<<"$out" 2>&1)" True
    t undo
    probe "undo of a link ($i)"
    t relativize d
    probe "relativize ($i)"
    t history
    probe "history ($i)"
done

finish
