# Shared by the end-to-end tests: each test file sources this, runs the real tether
# binary ($TETHER) inside a private directory that is removed on exit, and ends with
# `finish`, which prints "N passed, N failed" and sets the exit status. A test that cannot
# run here at all ends with `skip_all WHY` (ctest reports it skipped: exit 77, the
# SKIP_RETURN_CODE of tests/CMakeLists.txt); one that skips a part prints
# "skipped: WHY" and goes on.
set -u
: "${TETHER:?set TETHER to the tether binary}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tether-e2e-XXXXXX")
cleanup() { chmod -R u+rwx "$WORK" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
mkdir "$WORK/run" && cd "$WORK/run" || exit 1
export XDG_STATE_HOME="$WORK/.state"
export PYTHONDONTWRITEBYTECODE=1 # the Python drivers import checks.py: no __pycache__ in the tree
passed=0
failed=0

# t ARGS...: runs tether with ARGS in $WORK/run, capturing $out, $err and $rc. A
# sanitizer report, a Lua traceback or an "internal error" (a recipe that raised) fails
# the test whatever it checks next: nothing a user can do may show one.
t() {
    out=$("$TETHER" "$@" 2>"$WORK/stderr")
    rc=$?
    err=$(cat "$WORK/stderr")
    case " $* " in
    *" -v "*|*" --verbose "*) no_bug_report "tether $*" "${err//stack traceback/}" ;; # asked for
    *) no_bug_report "tether $*" "$err" ;;
    esac
}

# no_bug_report WHAT TEXT: fails the test when TEXT (what a command printed) shows a bug.
no_bug_report() {
    case "$2" in
    *Sanitizer*|*"runtime error:"*|*"stack traceback"*|*"internal error"*)
        failed=$((failed + 1))
        printf 'FAIL: a bug report from %s\n%s\n' "$1" "$2"
        ;;
    esac
}

# check NAME CONDITION...: records one assertion; prints the captured output on failure.
check() {
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        printf 'FAIL: %s\n  rc=%s\n  stdout: %s\n  stderr: %s\n' "$name" "${rc:-}" "${out:-}" "${err:-}"
        [ "$1" = is ] && printf '  got:  %s\n  want: %s\n' "$2" "$3"
    fi
}

has() { [[ "$1" == *"$2"* ]]; }
is() { [[ "$1" == "$2" ]]; }

# snapshot DIR: every path with its type and link target, to prove nothing changed.
snapshot() { (cd "$1" && find . -printf '%p|%y|%l|%s|%n\n' | LC_ALL=C sort); }

# use_tmux: for the tests that need a real terminal. Sets $shm (a directory on another
# filesystem, /dev/shm) and tm (tmux on a private server), both removed on exit; skips
# the whole test where tmux is not installed.
use_tmux() {
    command -v tmux >/dev/null || skip_all "tmux is not installed"
    shm=$(mktemp -d /dev/shm/tether-e2e-XXXXXX)
    sock="tether-tmux-$$"
    trap 'tmux -L "$sock" kill-server 2>/dev/null; rm -rf "$shm"; cleanup' EXIT
}
tm() { tmux -L "$sock" "$@"; }

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}

# skip_all WHY: the rest of the test cannot run here. Says why, and exits 77 (skipped)
# when nothing was checked yet, else as finish does (what ran still counts).
skip_all() {
    echo "skipped: $*"
    [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ] && exit 77
    finish
    exit
}
