#!/usr/bin/env bash
# farm against GNU Stow: the same packages linked, unlinked and relinked in two identical
# sandboxes, one by stow and one by tether; after every step the target trees (every
# path, type and link target) must be the same. Also conflicts, --adopt and undo.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

if ! command -v stow >/dev/null; then
    echo "skipped: GNU stow is not installed"
    finish
    exit
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

# --adopt: the file in the target moves into the package and is linked.
step "adopt" --adopt vim -- link --adopt vim
check "adopted content in the package" is "$(cat "$WORK/run/t/stow/vim/.vimrc")" "precious"
check "same package contents as stow" is "$(tree_of "$WORK/run/t/stow")" "$(tree_of "$WORK/run/s/stow")"

# undo takes a farm run back.
before=$(tree_of "$WORK/run/t/home")
(cd "$WORK/run/t/home" && "$TETHER" -q farm link emacs tools --dir ../stow --target .)
(cd "$WORK/run/t/home" && "$TETHER" -q undo)
check "undo restores the target" is "$(tree_of "$WORK/run/t/home")" "$before"

t farm link nosuch --dir "$WORK/run/t/stow" --target "$WORK/run/t/home"
check "unknown package" is "$rc" 3
t farm fold emacs --dir "$WORK/run/t/stow" --target "$WORK/run/t/home"
check "unknown action is a usage error" is "$rc" 2

finish
