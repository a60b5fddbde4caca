#!/usr/bin/env bash
# dedupe removes the copies it swaps out on the work queue's threads (the removal queue
# the run owns, tether.link_over{background = true} until tether.link_drain). A removal
# the system refuses there still reaches the user: the run fails naming the copy left,
# and nothing is lost (every name still holds its bytes; the copy left holds them too).
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || skip_all "needs strace to refuse a removal"

# Each thread's first unlinkat is refused (strace counts per thread): the main thread
# removes nothing while it links, so what is refused is the first removal of each of the
# queue's threads, then the rest are done.
refused() {
    ASAN_OPTIONS=detect_leaks=0 strace -f -o /dev/null -e trace=unlinkat \
        -e inject=unlinkat:error=EPERM:when=1 "$TETHER" "$@"
}

# holds DIR BYTES: every regular file in DIR holds BYTES.
holds() {
    local f
    for f in "$1"/* "$1"/.tether-*; do
        [ -f "$f" ] || continue
        [ "$(cat "$f")" = "$2" ] || return 1
    done
}

for n in 2 5 12; do
    rm -rf dd && mkdir dd
    for i in $(seq "$n"); do printf 'the same bytes\n' > "dd/f$i"; done
    touch -d @1000000000 dd/*
    out=$(refused dedupe dd 2>"$WORK/stderr"); rc=$?
    err=$(cat "$WORK/stderr")
    no_bug_report "dedupe, a removal refused ($n copies)" "$err"
    check "$n copies, a removal refused: the run fails" is "$rc" 4
    check "$n copies: the error names the copy left" has "$err" "dd/.tether-"
    check "$n copies: the error says why" \
        has "$err" "an old copy could not be removed; it holds the same bytes as its link (EPERM)"
    left=$(find dd -name '.tether-*.tmp' | wc -l)
    check "$n copies: a copy is left for each refused removal (1 or 2 threads)" \
        test "$left" -ge 1 -a "$left" -le 2
    check "$n copies: every name is there, hard-linked" is "$(find dd -name 'f*' -links "$n" | wc -l)" "$n"
    check "$n copies: nothing lost" holds dd "the same bytes"
    t undo
    check "$n copies: undo gives back separate copies" is "$rc|$(find dd -links 1 -name 'f*' | wc -l)" "0|$n"
    check "$n copies: undone, nothing lost" holds dd "the same bytes"
    t doctor --fix dd
    check "$n copies: doctor --fix clears the copies left" is "$(find dd -name '.tether-*' | wc -l)" 0
done

# tether.link_over{background = true} in a script: link_drain says how the removals went
# and ends the queue; the next background call starts a new one (with threads of its own,
# whose first removal strace refuses too); with nothing queued link_drain is true.
cat > drain.lua <<'EOF'
local function over(copy)
  assert(tether.link_over("d/keep", copy, tether.info(copy), { background = true }))
end
for i = 1, 3 do over("d/c" .. i) end
print((select(2, tether.link_drain())))
over("d/c4")
print((select(2, tether.link_drain())))
print(tether.link_drain())
EOF
rm -rf d && mkdir d
for f in keep c1 c2 c3 c4; do printf 'x\n' > "d/$f"; done
out=$(refused run drain.lua 2>"$WORK/stderr"); rc=$?
no_bug_report "link_drain script" "$(cat "$WORK/stderr")"
why="an old copy could not be removed; it holds the same bytes as its link (EPERM)"
check "link_drain: each queue's refused removal, then true" \
    is "$(sed 's/\.tether-[0-9-]*\.tmp/TMP/' <<<"$out")" "d/TMP: $why"$'\n'"d/TMP: $why"$'\n'true
check "link_drain: d/keep has 5 names" is "$rc|$(stat -c %h d/keep)" "0|5"
check "link_drain: nothing lost" holds d x
finish
