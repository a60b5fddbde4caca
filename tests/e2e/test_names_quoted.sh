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
# not_has_cntrl TEXT: no control character in TEXT but the newlines between lines.
not_has_cntrl() { ! printf '%s' "$1" | tr -d '\n' | LC_ALL=C grep -q '[[:cntrl:]]'; }
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

# A root whose name has a control character: the summary line quotes it, as every line does.
for raw in $'r\033[1mB' $'tab\troot'; do
    rm -rf "$raw" && mkdir "$raw" && ln -s /none "$raw/d"
    quoted=$("$TETHER" -e 'io.write(tether.quote(arg[1]))' "$raw")
    t audit "$raw"
    probe "audit of a root named $quoted"
    check "audit: the summary names the root quoted" has "$out" "under $quoted: "
    check "audit: one link is counted as one (no \"1 links\")" has "$out" "1 link in 2 entries under $quoted"
    t audit "$raw" --format csv
    check "audit --format csv: the summary (stderr) names the root quoted" has "$err" "under $quoted: "
    rm -rf "$raw"
done

# CSV: to a terminal no raw control character (escaped as in the table); to a pipe or a
# file the exact bytes (RFC 4180 allows any byte inside quotes).
if command -v script >/dev/null; then
    rm -rf nm && mkdir nm
    ln -s $'/x\033]0;TITLE\007' nm/osc && ln -s /no $'nm/esc\033[31mRED'
    out=$(TETHER="$TETHER" script -qec '"$TETHER" audit nm --format csv' /dev/null | tr -d '\r')
    check "audit --format csv to a terminal: no raw control character" \
        not_has_cntrl "$out"
    check "audit --format csv to a terminal: each name escaped" has "$out" 'nm/esc\027[31mRED,/no,broken'
    check "audit --format csv to a terminal: each target escaped" has "$out" 'nm/osc,/x\027]0;TITLE\007,broken'
    t audit nm --format csv
    check "audit --format csv to a pipe: the exact bytes" has "$out" $'nm/esc\033[31mRED,/no,broken'
    t audit nm --format csv -o report.csv
    check "audit --format csv to a file: the exact bytes" has "$(cat report.csv)" $'nm/osc,/x\033]0;TITLE\007,broken'
    rm -rf nm report.csv
else
    echo "skipped: no script(1) to give audit a terminal"
fi

finish
