#!/usr/bin/env bash
# README.md's examples, run as written. Every fenced block is read from the README: a
# block of commands line by line through bash (a line ending in \ goes on), a ```lua
# block as a script through `tether run`, each block in a fresh sandbox of the machine
# the README assumes (a $HOME with ~/Games, ~/Music, ~/Photos, ~/dotfiles and notes;
# /mnt/big, /mnt/old and /mnt/new another filesystem each; /srv with links absolute,
# dangling and in a loop), in a mount namespace of the test's own. A command fails the
# test on a non-zero exit or a bug report (traceback, "internal error", sanitizer). A
# block the README marks `<!-- not run: WHY -->` (installing into the system, the build
# itself, a ten-minute search) is skipped, saying why; so is nothing else.
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" != --inside ]; then
    if [ "$(id -u)" != 0 ] || ! unshare -m --propagation private true 2>/dev/null; then
        . "$here/lib.sh"
        echo "skipped: needs root and a mount namespace (unshare -m) to stand in for /srv and /mnt"
        finish
        exit
    fi
    exec unshare -m --propagation private bash "$0" --inside
fi
. "$here/lib.sh"
readme="$here/../../README.md"

mount -t tmpfs tmpfs /srv && mount -t tmpfs tmpfs /mnt || {
    echo "FAIL: cannot stand in for /srv and /mnt"
    exit 1
}

# `tether` is the binary under test; lua5.4 loads its module (an instrumented one needs
# the sanitizer runtime first).
mkdir -p "$WORK/bin"
ln -s "$TETHER" "$WORK/bin/tether"
if [ "${TETHER_SANITIZE:-OFF}" = ON ]; then
    printf '#!/bin/sh\nLD_PRELOAD="%s %s" ASAN_OPTIONS=detect_leaks=0 exec lua5.4 "$@"\n' \
        "$(gcc -print-file-name=libasan.so)" "$(gcc -print-file-name=libubsan.so)" > "$WORK/bin/lua5.4"
    sed -i "s|exec lua5.4|exec $(command -v lua5.4)|" "$WORK/bin/lua5.4"
    chmod +x "$WORK/bin/lua5.4"
fi
export PATH="$WORK/bin:$PATH"
# A clone with its build, for the examples that run from one ($PWD/build, stdlib/).
mkdir -p "$WORK/clone"
ln -s "${TETHER_BUILD_DIR:-$(dirname "$TETHER")}" "$WORK/clone/build"
ln -s "${TETHER_SOURCE_DIR:-$here/../..}/stdlib" "$WORK/clone/stdlib"

export HOME="$WORK/home"
# The machine the README's examples speak of, made afresh for each block.
sandbox() {
    umount /srv /mnt && mount -t tmpfs tmpfs /srv && mount -t tmpfs tmpfs /mnt || return 1
    rm -rf "$HOME" "$XDG_STATE_HOME"
    mkdir -p "$HOME"/{Games/saves,Music,Videos,Photos/2023,Photos/backup,Desktop,bin} \
        "$HOME"/dotfiles/{vim,git,zsh,bin/bin} /mnt/big /mnt/old/share/docs /mnt/new/share/docs \
        /srv/www/html /srv/releases/{7,41,42}
    head -c 300000 /dev/urandom > "$HOME/Games/game.dat"
    echo slot1 > "$HOME/Games/saves/slot1"
    for i in $(seq 30); do
        head -c 65536 /dev/urandom > "$HOME/Music/track-$i.ogg"
        head -c 65536 /dev/urandom > "$HOME/Videos/clip-$i.mkv"
    done
    head -c 8192 /dev/urandom > "$HOME/Photos/2023/beach.jpg"
    cp -p "$HOME/Photos/2023/beach.jpg" "$HOME/Photos/backup/beach.jpg"
    echo "set number" > "$HOME/dotfiles/vim/.vimrc"
    echo "[user]" > "$HOME/dotfiles/git/.gitconfig"
    echo "export EDITOR=vi" > "$HOME/dotfiles/zsh/dot-zshrc"
    printf '#!/bin/sh\necho backup\n' > "$HOME/dotfiles/bin/bin/backup"
    echo notes > "$HOME/notes.txt"
    echo todo > "$HOME/todo.txt"
    echo docs > /mnt/old/share/docs/readme && echo docs > /mnt/new/share/docs/readme
    echo '<h1>hi</h1>' > /srv/www/html/index.html
    rmdir /srv/releases/7 # what /srv/www/stale pointed at is gone
    ln -s /srv/releases/41 /srv/www/current
    ln -s /srv/releases/7 /srv/www/stale
    ln -s /mnt/old/share/docs /srv/www/docs
    ln -s loop-b /srv/loop-a && ln -s loop-a /srv/loop-b
    # The declaration `tether apply state.lua` reads, and the script `tether run plan.lua` runs.
    cat > "$HOME/state.lua" <<'EOF'
return {
  dirs = { "~/projects" },
  links = { { path = "~/Desktop/Games", target = os.getenv("HOME") .. "/Games" } },
}
EOF
    cat > "$HOME/plan.lua" <<'EOF'
-- every link under the root given, with its status
for e in tether.walk(arg[1], { links_only = true, classify = true }) do print(e.status, e.path) end
EOF
}

# What a command needs beyond the sandbox: a run that was interrupted, to resume or roll back.
# (killed at its tenth file as a power cut would stop it: the subshell keeps bash's "Killed")
interrupted() { (TETHER_CRASH_AT=copy:10 tether migrate ~/"$1" /mnt/big/"$1") > /dev/null 2>&1; }
declare -A before=(
    ["tether migrate --resume"]="interrupted Music"
    ["tether migrate --rollback"]="interrupted Videos"
)

# The blocks: BLOCKS/N.sh or N.lua, N.skip holding why the README does not run it, and
# N.line the README line it starts on.
mkdir "$WORK/blocks"
python3 - "$readme" "$WORK/blocks" <<'EOF'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
n, i, last = 0, 0, ""
while i < len(lines):
    fence = re.match(r"^```(\w*)\s*$", lines[i])
    if not fence:
        if lines[i].strip():
            last = lines[i].strip()
        i += 1
        continue
    start, lang, body = i + 1, fence.group(1), []
    i += 1
    while i < len(lines) and lines[i] != "```":
        body.append(lines[i])
        i += 1
    i += 1
    n += 1
    base = "%s/%02d" % (sys.argv[2], n)
    ext = {"": "sh", "sh": "sh", "bash": "sh", "lua": "lua"}.get(lang, lang or "unknown")
    open("%s.%s" % (base, ext), "w", encoding="utf-8").write("\n".join(body) + "\n")
    open(base + ".line", "w").write(str(start))
    skip = re.match(r"^<!-- not run: (.+) -->$", last)
    if skip:
        open(base + ".skip", "w").write(skip.group(1))
    last = ""
EOF

ran=0
skipped=0
for file in "$WORK"/blocks/*.*; do
    case $file in *.skip|*.line) continue ;; esac
    base=${file%.*}
    where="README.md:$(cat "$base.line")"
    if [ -e "$base.skip" ]; then
        echo "not run: the block at $where: $(cat "$base.skip")"
        skipped=$((skipped + 1))
        continue
    fi
    sandbox || { echo "FAIL: cannot make the sandbox"; exit 1; }
    dir=$HOME
    grep -q 'PWD/build' "$file" && dir=$WORK/clone
    case $file in
    *.lua)
        cmds=("tether run $file")
        ;;
    *.sh)
        # Logical lines: a trailing \ continues; blank and comment-only lines are not commands.
        mapfile -t cmds < <(sed -e ':a' -e '/\\$/{N;s/\\\n//;ba' -e '}' "$file" | grep -vE '^\s*(#|$)')
        ;;
    *)
        check "$where: a block of a kind this test knows (sh or lua)" false
        continue
        ;;
    esac
    for cmd in "${cmds[@]}"; do
        bare=$(sed -E 's/[[:space:]]+#[[:space:]].*$//; s/[[:space:]]+$//' <<<"$cmd")
        if [ -n "${before[$bare]:-}" ]; then ${before[$bare]}; fi
        output=$(cd "$dir" && bash -c "$cmd" 2>&1 < /dev/null)
        rc=$?
        ran=$((ran + 1))
        [ -n "${TETHER_README_SHOW:-}" ] && printf '$ %s\n%s\n' "$bare" "$output"
        if [ "$rc" != 0 ]; then
            failed=$((failed + 1))
            printf 'FAIL: %s: `%s` exits %s\n%s\n' "$where" "$bare" "$rc" "$output"
        else
            passed=$((passed + 1))
        fi
        no_bug_report "$where: $bare" "${output//the traceback of an internal error/}" # (-v in --help)
    done
done
echo "$ran commands run, $skipped blocks not run"
check "the README's examples were found" test "$ran" -ge 35
finish
