#!/usr/bin/env bash
# farm against GNU Stow: the same packages linked, unlinked and relinked in two identical
# sandboxes, one by stow and one by tether; after every step the target trees (every
# path, type and link target) must be the same. Also conflicts, --adopt and undo.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! command -v stow >/dev/null; then
    skip_all "GNU stow is not installed"
fi

make_sandbox() {
    local s=$1
    mkdir -p "$s/stow/emacs/.emacs.d/lisp" "$s/stow/emacs/bin" "$s/stow/vim/.vim/colors" "$s/stow/vim/bin"
    mkdir -p "$s/stow/tools/bin" "$s/stow/tools/share/man/man1" "$s/stow/tools/lib/deep/er/est" "$s/stow/docs/share/doc/docs"
    mkdir -p "$s/stow/more/share/man/man1" "$s/stow/more/lib/deep/er" "$s/home/.config"
    echo e > "$s/stow/emacs/.emacs" && echo l > "$s/stow/emacs/.emacs.d/lisp/init.el"
    echo b > "$s/stow/emacs/bin/emacs-wrapper" && echo v > "$s/stow/vim/.vimrc"
    echo c > "$s/stow/vim/.vim/colors/dark.vim" && echo t > "$s/stow/vim/bin/vim-wrapper"
    echo t > "$s/stow/tools/bin/tool" && echo m > "$s/stow/tools/share/man/man1/tool.1"
    echo d > "$s/stow/tools/lib/deep/er/est/lib.so" && echo r > "$s/stow/tools/README.md"
    echo x > "$s/stow/tools/bin/tool~" && echo m > "$s/stow/more/share/man/man1/more.1"
    # the rest of stow's default ignore list, and names that only look like it
    mkdir -p "$s/stow/tools/CVS" "$s/stow/tools/.git" "$s/stow/tools/share/doc"
    for n in "bin/tool,v" "bin/.#tool" "bin/#tool#" "bin/,v" "bin/#" "bin/~" "LICENSE.txt" COPYING \
        share/doc/README share/doc/COPYING .gitignore CVS/Root .git/HEAD bin/.gitx bin/RCSx; do
        echo i > "$s/stow/tools/$n"
    done
    echo d > "$s/stow/more/lib/deep/er/more.so" && echo d > "$s/stow/docs/share/doc/docs/index.html"
    echo mine > "$s/home/.config/user-file"
}
make_sandbox "$WORK/run/s"
make_sandbox "$WORK/run/t"
export XDG_STATE_HOME="$WORK/state"
tree_of() { (cd "$1" && find . -printf '%p|%y|%l\n' | LC_ALL=C sort); }

# step NAME STOW_ARGS... -- FARM_ARGS...: one step in both sandboxes, then compare.
step() {
    local name=$1; shift
    local stow_args=() farm_args=()
    while [ "$1" != -- ]; do stow_args+=("$1"); shift; done
    shift
    farm_args=("$@")
    (cd "$WORK/run/s/home" && stow -d ../stow -t . "${stow_args[@]}") >/dev/null 2>"$WORK/stow.err"
    local stow_rc=$?
    (cd "$WORK/run/t/home" && "$TETHER" -q farm "${farm_args[@]}" --dir ../stow --target .) >/dev/null 2>"$WORK/farm.err"
    local farm_rc=$?
    no_bug_report "tether farm ${farm_args[*]}" "$(cat "$WORK/farm.err")"
    check "$name: same tree as stow" is "$(tree_of "$WORK/run/t/home")" "$(tree_of "$WORK/run/s/home")"
    check "$name: both succeed or both refuse" is "$([ $stow_rc = 0 ] && echo ok || echo refused)" "$([ $farm_rc = 0 ] && echo ok || echo refused)"
}

before=$(tree_of "$WORK/run/t/home")
(cd "$WORK/run/t/home" && "$TETHER" farm link -n emacs vim tools --dir ../stow --target .) > "$WORK/dry.out"
check "dry run changed nothing" is "$(tree_of "$WORK/run/t/home")" "$before"
check "dry run prints each action" has "$(cat "$WORK/dry.out")" "would link $WORK/run/t/home/.emacs -> ../stow/emacs/.emacs"
step "link emacs" emacs -- link emacs
step "link vim (unfolds bin)" vim -- link vim
step "link tools and more (unfold deep trees)" tools more -- link tools more
step "link docs" docs -- link docs
step "link again changes nothing" emacs vim -- link emacs vim
step "unlink vim (folds bin back)" -D vim -- unlink vim
step "relink tools" -R tools -- relink tools
step "unlink more (refolds lib and share)" -D more -- unlink more
step "unlink everything" -D emacs tools docs -- unlink emacs tools docs
check "README and backup files were ignored" is "$(find "$WORK/run/t/home" -name 'README*' -o -name '*~' | wc -l)" 0

# A conflict: a real file where a package wants a link. Both refuse; nothing changes.
echo precious > "$WORK/run/s/home/.vimrc" && echo precious > "$WORK/run/t/home/.vimrc"
before=$(tree_of "$WORK/run/t/home")
step "conflict refused" vim -- link vim
check "conflict: nothing changed" is "$(tree_of "$WORK/run/t/home")" "$before"
check "conflict named" has "$(cat "$WORK/farm.err")" "existing target is neither a link nor a directory: .vimrc"
t --json farm link vim --dir "$WORK/run/t/stow" --target "$WORK/run/t/home"
check "--json: each conflict with its path" is "$rc|$(python3 -c 'import json,sys; c=json.load(sys.stdin)["error"]["conflicts"]; print(len(c), c[0]["path"], c[0]["package"])' <<<"$out")" "3|1 $WORK/run/t/home/.vimrc vim"

# --adopt: the file in the target moves into the package and is linked.
step "adopt" --adopt vim -- link --adopt vim
check "adopted content in the package" is "$(cat "$WORK/run/t/stow/vim/.vimrc")" "precious"
check "same package contents as stow" is "$(tree_of "$WORK/run/t/stow")" "$(tree_of "$WORK/run/s/stow")"

# undo takes a farm run back.
before=$(tree_of "$WORK/run/t/home")
(cd "$WORK/run/t/home" && "$TETHER" -q farm link emacs tools --dir ../stow --target .)
(cd "$WORK/run/t/home" && "$TETHER" -q undo)
check "undo restores the target" is "$(tree_of "$WORK/run/t/home")" "$before"

# --adopt then undo gives the package's file back as it was: content, mode and owner (a
# user's own set-user-ID file stays that user's; root never makes one of its own).
if [ "$(id -u)" -eq 0 ]; then
    A=$WORK/run/own
    mkdir -p "$A/stow/pkg/bin" "$A/home/bin"
    echo pkg >"$A/stow/pkg/bin/tool" && echo target >"$A/home/bin/tool"
    chown -R 65534:65534 "$A" && chmod 4755 "$A/stow/pkg/bin/tool"
    before=$(stat -c '%u:%g %a' "$A/stow/pkg/bin/tool")
    (cd "$A/stow" && "$TETHER" -q farm --adopt -t "$A/home" pkg)
    check "adopt as root: the user's file adopted" is "$(cat "$A/stow/pkg/bin/tool")" "target"
    (cd "$A/stow" && "$TETHER" -q undo)
    check "adopt undone: the package's file, its owner and mode as they were" \
        is "$(stat -c '%u:%g %a' "$A/stow/pkg/bin/tool")|$(cat "$A/stow/pkg/bin/tool")" "$before|pkg"
    rm -rf "$A"
fi

t farm link nosuch --dir "$WORK/run/t/stow" --target "$WORK/run/t/home"
check "unknown package" is "$rc" 3
t farm fold emacs --dir "$WORK/run/t/stow" --target "$WORK/run/t/home"
check "a first word that is not an action is a package, as with stow" is "$rc|$err" "3|tether: $WORK/run/t/stow/fold: no such package (ENOENT)"
t farm link -S emacs --dir "$WORK/run/t/stow" --target "$WORK/run/t/home"
check "-S after the word link is a usage error" is "$rc" 2

# --- Stow's own command lines, given to stow and to tether farm word for word: short
# options, -S/-D/-R, .stowrc, .stow-local-ignore with regexes, --ignore, --no-folding,
# --dotfiles, --defer, --override; the trees, exit codes and conflict reports must agree.
make_stow_sandbox() {
    local s=$1
    mkdir -p "$s/pkgs/shell/dot-config/fish" "$s/pkgs/shell/notes" "$s/pkgs/ed/.local/ed" "$s/pkgs/ed/lib/ed/plugins"
    mkdir -p "$s/pkgs/ed2/lib/ed/plugins" "$s/pkgs/ed2/.local/ed" "$s/home"
    echo b > "$s/pkgs/shell/dot-bashrc" && echo p > "$s/pkgs/shell/dot-profile"
    echo f > "$s/pkgs/shell/dot-config/fish/config.fish" && echo n > "$s/pkgs/shell/notes/todo.txt"
    echo s > "$s/pkgs/shell/secret.key" && echo l > "$s/pkgs/shell/build.log" && echo o > "$s/pkgs/shell/notes/old.bak"
    printf '%s\n' '# regexes, as stow reads them' '.*\.key   # private keys (a name: anchored at both ends)' '^/notes/.*\.bak' 'build\.(log|tmp)' > "$s/pkgs/shell/.stow-local-ignore"
    echo e > "$s/pkgs/ed/.local/ed/edrc" && echo x > "$s/pkgs/ed/lib/ed/plugins/a.so"
    echo y > "$s/pkgs/ed2/lib/ed/plugins/b.so" && echo z > "$s/pkgs/ed2/.local/ed/edrc"
    echo w > "$s/pkgs/ed/lib/ed/plugins/skip.tmp"
    printf -- '--target=%s/home\n--ignore=\.tmp\n' "$s" > "$s/pkgs/.stowrc"
}
make_stow_sandbox "$WORK/run/ps"
make_stow_sandbox "$WORK/run/pt"
# same COMMAND-LINE...: run word for word by stow in ps/pkgs and tether farm in pt/pkgs.
same() {
    local name=$1; shift
    (cd "$WORK/run/ps/pkgs" && HOME="$WORK/run/ps" stow "$@") >/dev/null 2>"$WORK/stow.err"
    local stow_rc=$?
    (cd "$WORK/run/pt/pkgs" && HOME="$WORK/run/pt" "$TETHER" farm "$@") >/dev/null 2>"$WORK/farm.err"
    local farm_rc=$?
    no_bug_report "tether farm $*" "$(cat "$WORK/farm.err")"
    check "$name: same tree as stow" is "$(tree_of "$WORK/run/pt/home")" "$(tree_of "$WORK/run/ps/home" | sed "s#$WORK/run/ps#$WORK/run/pt#g")"
    check "$name: same exit code as stow" is "$farm_rc" "$stow_rc"
}
same "dotfiles, local ignore regexes, --ignore from .stowrc" -v --dotfiles shell
check "regexes ignored the key, the log and the backup" is "$(find "$WORK/run/pt/home" -name '*.key' -o -name '*.log' -o -name '*.bak' | wc -l)" 0
check "dot-bashrc is .bashrc" is "$(readlink "$WORK/run/pt/home/.bashrc")" "../pkgs/shell/dot-bashrc"
same "no folding" --no-folding -S ed
check "a directory of links, not one link" is "$(stat -c %F "$WORK/run/pt/home/lib/ed/plugins")" "directory"
check ".stowrc's --ignore=\.tmp applied" is "$(ls "$WORK/run/pt/home/lib/ed/plugins")" "a.so"
same "a conflict between packages" -S ed2
check "stow's conflict report" is "$(grep -v '^tether:' "$WORK/farm.err")" "$(cat "$WORK/stow.err")"
same "--defer leaves it to the first package" --defer=.local -S ed2 --ignore=plugins
same "--override takes it" --override='\.local' -R ed2 --ignore=plugins
same "-D then -S in one command line" -D ed2 -S ed2 --ignore=plugins
same "bundled short options" -nvD ed2
same "unstow all" -D shell ed ed2 --dotfiles
check "no link left" is "$(find "$WORK/run/pt/home" -type l | wc -l)" 0
echo '(broken' > "$WORK/run/pt/pkgs/ed/.stow-local-ignore"
t farm -d "$WORK/run/pt/pkgs" -t "$WORK/run/pt/home" ed
check "a bad regex names the file and refuses" is "$rc|$(find "$WORK/run/pt/home" -type l | wc -l)" "3|0"
check "and says why" has "$err" "pkgs/ed/.stow-local-ignore: (broken: not a Perl-compatible regular expression: missing closing parenthesis"

# --- stow's -v levels: each adds to the one before; -v is tether's -v (each change as it
# is made); a .stowrc's --verbose=N holds unless the command line gives its own.
mkdir -p "$WORK/v/stow/pkg/bin" "$WORK/v/stow/pkg/lib" "$WORK/v/t/lib"
echo x > "$WORK/v/stow/pkg/bin/f" && echo y > "$WORK/v/stow/pkg/lib/g" && echo z > "$WORK/v/stow/pkg/lib/g~"
vfarm() { (cd "$WORK/v/t" && HOME="$WORK/v" "$TETHER" farm -d ../stow -t . "$@" 2>&1); }
declare -A level_says=([1]="link $WORK/v/t/bin -> ../stow/pkg/bin" [2]="planning stow of package pkg..."
    [3]="stowing contents of $WORK/v/stow/pkg/lib into lib" [4]="ignoring path segment g~"
    [5]="$WORK/v/stow/pkg: ignore list built in")
for spelling in "" "-v" "-vv" "-v -v -v" "-vvvv" "--verbose=5" "-v4 -v" "--verbose=0" "-v 2"; do
    out=$(vfarm $spelling pkg)
    n=0
    case $spelling in -v) n=1 ;; -vv|"-v 2") n=2 ;; "-v -v -v") n=3 ;; -vvvv) n=4 ;; --verbose=5|"-v4 -v") n=5 ;; esac
    for l in 1 2 3 4 5; do
        if [ "$l" -le "$n" ]; then check "'$spelling' is level $n: shows level $l" has "$out" "${level_says[$l]}"
        else check "'$spelling' is level $n: not level $l" is "$(has "$out" "${level_says[$l]}" && echo shown)" ""; fi
    done
    check "'$spelling': the summary" has "$out" "2 links and directories created; undo with"
    vfarm -D pkg >/dev/null
done
check "each change of an unlink at -v" has "$(vfarm -v pkg >/dev/null; vfarm -v -D pkg)" "remove link $WORK/v/t/bin"
check "-q -vvv prints nothing" is "$(vfarm -q -vvv pkg; vfarm -q -D pkg)" ""
check "tether -v farm is level 1" has "$( (cd "$WORK/v/t" && HOME="$WORK/v" "$TETHER" -v farm -d ../stow -t . pkg; vfarm -D pkg) 2>&1)" "link $WORK/v/t/bin"
printf -- '--verbose=2\n' > "$WORK/v/.stowrc"
out=$(vfarm pkg)
check ".stowrc's --verbose=2 applies (stow takes it; farm refused it before)" has "$out" "planning stow of package pkg..."
check ".stowrc's --verbose=2 is not 3" is "$(has "$out" "stowing contents of" && echo shown)" ""
out=$(vfarm -v -D pkg)
check "-v on the command line replaces .stowrc's --verbose=2, as with stow" is "$(has "$out" "planning unstow" && echo shown)" ""
check "... and is level 1" has "$out" "remove link $WORK/v/t/bin"
rm "$WORK/v/.stowrc"
t farm --verbose=loud -d "$WORK/v/stow" -t "$WORK/v/t" pkg
check "--verbose=N takes a number" is "$rc|$err" "2|tether: farm: --verbose takes a whole number, not 'loud'; see tether help farm"
printf -- '-v\n\n  --target\n' > "$WORK/v/.stowrc"
out=$(vfarm pkg)
check "an error in ~/.stowrc names the file and line" is "$out" "tether: farm: $WORK/v/.stowrc:3: --target needs DIR; see tether help farm"
mv "$WORK/v/.stowrc" "$WORK/v/t/.stowrc"
out=$(vfarm pkg)
check "an error in ./.stowrc names it" is "$out" "tether: farm: ./.stowrc:3: --target needs DIR; see tether help farm"
printf -- '--dir=$NOT_SET_ANYWHERE/x\n' > "$WORK/v/t/.stowrc"
out=$(vfarm pkg)
check "an undefined variable in ./.stowrc names the line" is "$out" "tether: farm: ./.stowrc:1: --dir references undefined environment variable \$NOT_SET_ANYWHERE; see tether help farm"
printf -- '-v\n--ignore=(\n' > "$WORK/v/t/.stowrc"
out=$(vfarm pkg)
check "a bad regex in ./.stowrc names the line and the regex as written" has "$out" "tether: farm: ./.stowrc:2: --ignore (: not a Perl-compatible regular expression"
printf -- '--target=~nosuchuser/x\n' > "$WORK/v/t/.stowrc"
out=$(vfarm pkg)
check "an unknown ~USER in ./.stowrc" has "$out" "./.stowrc:1: --target: no such user 'nosuchuser'"
printf -- '--target=~root\n' > "$WORK/v/t/.stowrc"
out=$(cd "$WORK/v/t" && HOME="$WORK/v" "$TETHER" farm -n -d ../stow pkg 2>&1)
check "~USER is that user's home" has "$out" "would link $(getent passwd root | cut -d: -f6)/bin -> "
printf -- '-v\n--target=%s/nowhere\n' "$WORK" > "$WORK/v/t/.stowrc"
out=$(cd "$WORK/v/t" && HOME="$WORK/v" "$TETHER" farm -d ../stow pkg 2>&1)
check "a .stowrc's --target that is not there: the error says where it comes from" is "$out" \
    "tether: $WORK/nowhere: no such file or directory (ENOENT); --target comes from ./.stowrc:2"
out=$(cd "$WORK/v/t" && HOME="$WORK/v" "$TETHER" farm -d ../stow -t . -n pkg 2>&1)
check "... unless the command line gives its own" has "$out" "would link $WORK/v/t/bin"
printf -- '--dir=%s/v/stow/pkg/bin/f\n' "$WORK" > "$WORK/v/t/.stowrc"
out=$(cd "$WORK/v/t" && HOME="$WORK/v" "$TETHER" farm pkg 2>&1)
check "a .stowrc's --dir that is a file" is "$out" \
    "tether: $WORK/v/stow/pkg/bin/f: is not a directory (ENOTDIR); --dir comes from ./.stowrc:1"
rm "$WORK/v/t/.stowrc"
check "nothing was left linked" is "$(find "$WORK/v/t" -type l | wc -l)" 0

# A directory farm must read and cannot: an error naming it, exit 3, nothing changed (never
# taken as empty). -p reads the whole target; a package's directories are read always.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
    mkdir -p np/stow/pkg/bin np/stow/other/lib np/t/private np/t/lib
    echo f > np/stow/pkg/bin/f && echo g > np/stow/other/lib/g
    ln -s ../stow/pkg/bin np/t/bin
    chown -R 65534:65534 np && chmod 000 np/t/private np/stow/other/lib
    chmod 711 "$WORK" "$WORK/run" # farm resolves its directories from /
    nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$TETHER" "$@"; }
    before=$(tree_of np)
    out=$(nobody farm -p -d np/stow -t np/t -D pkg 2>&1)
    rc=$?
    no_bug_report "farm -p" "$out"
    check "-p: an unreadable directory in the target stops the run" is "$rc|$out" \
        "3|tether: $PWD/np/t/private: cannot read this directory (EACCES); nothing changed"
    out=$(nobody farm -d np/stow -t np/t other 2>&1)
    rc=$?
    check "an unreadable directory in a package stops the run" is "$rc|$out" \
        "3|tether: $PWD/np/stow/other/lib: cannot read this directory (EACCES); nothing changed"
    check "nothing changed" is "$(tree_of np)" "$before"
    chmod 755 np/t/private np/stow/other/lib
    rm -rf np
fi

finish
