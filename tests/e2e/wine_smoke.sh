#!/usr/bin/env bash
# Smoke test of the Windows build under Wine: tether.exe on real directories (Wine maps
# them to drive Z:). What Wine can show works: the command line, non-ASCII names, hard
# links, walking, auditing and copying; what it cannot (Wine 8.0 says yes to
# CreateSymbolicLinkW without making a link and answers FSCTL_SET_REPARSE_POINT with
# ERROR_NOT_SUPPORTED) must end in a clear error with nothing left behind.
# Run by ctest in the Windows build (build.sh test), with TETHER_EXE and WINE set.
: "${TETHER_EXE:?set TETHER_EXE to tether.exe}" "${WINE:?set WINE to wine}"
TETHER=$TETHER_EXE
. "$(dirname "$0")/lib.sh"

# t ARGS...: tether.exe under Wine; the console's CR LF line ends are made LF.
t() {
    out=$("$WINE" "$TETHER_EXE" "$@" 2>"$WORK/stderr")
    rc=$?
    out=${out//$'\r'/}
    err=$(tr -d '\r' <"$WORK/stderr")
}

json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

t --version
check "--version" has "$out" "tether 0.1.0"

# Non-ASCII names through the command line, tether.mkdir, tether.walk and back.
mkdir -p "$WORK/names"
t -e 'local d = arg[1] .. "/Ünïcödé/日本語"
      assert(tether.mkdir(d, { parents = true }))
      local n = 0
      for e in tether.walk(arg[1]) do n = n + 1; if e.depth == 2 then print(e.name) end end
      print(n, tether.info(d).type)' "$WORK/names"
check "-e with non-ASCII names: ran" is "$rc" 0
check "-e with non-ASCII names: made on disk" test -d "$WORK/names/Ünïcödé/日本語"
check "-e with non-ASCII names: walked back" is "$out" $'日本語\n3\tdir'

# Lua's own io and os functions take UTF-8 names too (the manifest's UTF-8 code page).
t -e 'local f = assert(io.open(arg[1] .. "/ünï 日本.txt", "w")); f:write("x"); f:close()
      assert(os.rename(arg[1] .. "/ünï 日本.txt", arg[1] .. "/é.txt"))' "$WORK/names"
check "io.open and os.rename with non-ASCII names" is "$(cat "$WORK/names/é.txt" 2>&1)" x

# Hard links: create, inspect, remove.
mkdir -p "$WORK/hl"
echo "content" >"$WORK/hl/café.txt"
t link --hard "$WORK/hl/café.txt" "$WORK/hl/copie.txt"
check "link --hard: ok" is "$rc" 0
check "link --hard: one file, two names" is "$(stat -c %i "$WORK/hl/café.txt")" "$(stat -c %i "$WORK/hl/copie.txt")"
t --json inspect "$WORK/hl/copie.txt"
check "inspect --json: a file with 2 links" is "$(json "$out" 'd["paths"][0]["type"], d["paths"][0]["nlink"]' 2>&1)" "file 2"
t unlink "$WORK/hl/copie.txt"
check "unlink refuses a multiply-linked file without --hard" test "$rc" -ne 0 -a -e "$WORK/hl/copie.txt"
t unlink --hard "$WORK/hl/copie.txt"
check "unlink --hard: ok" is "$rc" 0
check "unlink --hard: the name is gone, the content stays" test ! -e "$WORK/hl/copie.txt" -a "$(cat "$WORK/hl/café.txt")" = content

# Paths longer than MAX_PATH (260) go through the \\?\ prefix.
long="$WORK/long"
for i in 1 2 3 4 5 6; do long="$long/$(printf 'dossier-%02d-%040d' "$i" 0)"; done
t -e 'assert(tether.mkdir(arg[1], { parents = true }))
      assert(tether.hardlink(arg[2], arg[1] .. "/far.txt"))
      print(#arg[1], tether.info(arg[1] .. "/far.txt").nlink)' "$long" "$WORK/hl/café.txt"
check "long path: made and linked (rc)" is "$rc" 0
check "long path: longer than MAX_PATH, 2 links" is "$out" "${#long}"$'\t2'
check "long path: on disk" test "$(stat -c %i "$long/far.txt")" = "$(stat -c %i "$WORK/hl/café.txt")"
rm -rf "$WORK/long"

# Walk and audit of a small tree.
mkdir -p "$WORK/tree/a/b" "$WORK/tree/c"
for f in a/1 a/b/2 c/3 "c/espace et ü"; do echo "$f" >"$WORK/tree/$f"; done
t -e 'local n = 0; for _ in tether.walk(arg[1]) do n = n + 1 end; print(n)' "$WORK/tree"
check "walk: every entry" is "$out" "$(find "$WORK/tree" | wc -l)"
t --json audit "$WORK/tree"
check "audit: exit 0" is "$rc" 0
check "audit --json: no links in a tree without links" is "$(json "$out" 'd["summary"]["links"]' 2>&1)" 0

# A copy keeps content and modification times.
touch -d '2001-02-03 04:05:06' "$WORK/tree/a/1"
t -e 'local st = assert(tether.copytree(arg[1], arg[2])); print(st.files, st.dirs)' "$WORK/tree" "$WORK/copy"
check "copytree: ok" is "$rc" 0
check "copytree: same content" diff -r "$WORK/tree" "$WORK/copy"
check "copytree: times kept" is "$(stat -c %Y "$WORK/copy/a/1")" "$(stat -c %Y "$WORK/tree/a/1")"

# What Wine cannot do must fail clearly and leave nothing.
before=$(snapshot "$WORK/tree")
t link "$WORK/tree/a/1" "$WORK/tree/sym"
if [ "$rc" -eq 0 ]; then # a Wine that makes symbolic links: then it must read back
    t -e 'print(tether.readlink(arg[1]))' "$WORK/tree/sym"
    check "symlink made and read back" has "$out" "a"
    rm -f "$WORK/tree/sym"
else
    check "symlink reported as not made" has "$err" "EVERIFY"
    check "symlink error suggests a junction" has "$err" "junction"
    check "symlink: nothing left behind" test ! -e "$WORK/tree/sym" -a ! -L "$WORK/tree/sym"
fi
t link --junction "$WORK/tree/a" "$WORK/tree/j"
if [ "$rc" -ne 0 ]; then
    check "junction refused clearly" has "$err" "does not support junctions (FSCTL_SET_REPARSE_POINT) (ENOTSUP)"
    check "junction: the half-made directory is removed" test ! -e "$WORK/tree/j"
else
    t unlink "$WORK/tree/j"
fi
check "tree unchanged by the failed links" is "$(snapshot "$WORK/tree")" "$before"

# migrate needs a link in place of SRC: here it must stop in preflight, changing nothing.
t migrate "$WORK/tree" "$WORK/moved"
check "migrate without links: fails" test "$rc" -ne 0
check "migrate without links: says why" has "$err" "a link must be made here in place of"
check "migrate --link auto tried a junction too" has "$err" "a junction cannot be made either"
check "migrate without links: SRC untouched" is "$(snapshot "$WORK/tree")" "$before"
check "migrate without links: nothing made" test ! -e "$WORK/moved"
check "migrate without links: no probe left" is "$(ls -A "$WORK" | grep -c tether-probe)" 0

# doctor under Wine: symbolic links are not available (Wine says yes and makes nothing),
# hard links are; the probe directory is gone afterwards.
mkdir -p "$WORK/doc"
t --json doctor "$WORK/doc"
check "doctor: symlinks not available" is "$(json "$out" '[p["ok"] for p in d["filesystems"][0]["probes"] if p["name"] == "symlinks"][0]' 2>&1)" False
check "doctor: hard links are" is "$(json "$out" '[p["ok"] for p in d["filesystems"][0]["probes"] if p["name"] == "hard links"][0]' 2>&1)" True
check "doctor: nothing left behind" is "$(ls -A "$WORK/doc")" ""

# apply: directories and a hard link declared (what Wine can make), applied, applied
# again (nothing), undone (paths spelled the Windows way throughout).
mkdir -p "$WORK/ap" && echo data > "$WORK/ap/f"
printf 'return { dirs = { "made/deeper" }, links = { { path = "h", target = "f", type = "hard" } } }\n' > "$WORK/ap/d.lua"
t --json apply "$WORK/ap/d.lua"
check "apply: changed" is "$rc|$(json "$out" 'd["changed"]' 2>&1)" "0|True"
check "apply: made" is "$(test -d "$WORK/ap/made/deeper" && echo dir)|$(stat -c %h "$WORK/ap/f")" "dir|2"
t --json apply "$WORK/ap/d.lua"
check "apply again: nothing" is "$rc|$(json "$out" 'd["changed"]' 2>&1)" "0|False"
t undo
check "apply undone" is "$rc|$(ls -A "$WORK/ap" | tr '\n' ' ')|$(stat -c %h "$WORK/ap/f")" "0|d.lua f |1"

finish
