#!/usr/bin/env bash
# One of each (docs/style.md): a fix lands in the one place that does a thing, so a
# second place doing it is a bug waiting. Each rule below is one line: what it keeps
# single, the files it looks at, a pattern (grep -E) for doing it, a line the pattern
# must catch (so a rule cannot silently match nothing), and the only files or
# directories allowed to do it.
# The sources are tether's own (core, bindings, host, stdlib, scripts): tests, benches
# and the fuzzer may do as they like.
. "$(dirname "$0")/lib.sh"
: "${TETHER_SOURCE_DIR:?set by ctest}"
SCOPE=(core bindings host stdlib scripts)

# rule WHAT FILES PATTERN EXAMPLE ALLOWED...: every match of PATTERN in the files named
# FILES (a glob: '*.[ch]', '*.lua') outside ALLOWED is a failure, listed with its file
# and line. An ALLOWED entry is a file or a directory (ending in /), or FILE=N: at most
# N matches in FILE (its one-shot primitives: one more would be a loop of its own).
rule() {
    local what=$1 files=$2 pattern=$3 example=$4
    shift 4
    check "$what: the pattern catches '$example'" grep -qE "$pattern" <<<"$example"
    local hits allowed n
    hits=$(cd "$TETHER_SOURCE_DIR" && grep -rnE --include="$files" "$pattern" "${SCOPE[@]}")
    for allowed in "$@"; do
        n=$(grep -c "^${allowed%=*}:" <<<"$hits")
        [ "$allowed" = "${allowed%=*}" ] || [ "$n" -le "${allowed#*=}" ] || continue
        hits=$(grep -v "^${allowed%=*}" <<<"$hits")
    done
    out=$hits err=""
    check "$what: only in $*" is "$hits" ""
}

# The system calls that read a link's target are the platform layer's two one-shot
# primitives (pf_dir_readlink, pf_dir_readlink_stat); the loop that grows a buffer until
# a target fits is core/link.c's tt_readlink_stat alone (a second loop would have its
# own limit and its own bugs, as posix.c's path walk once did).
rule "readlink system calls" '*.[ch]' '\breadlink(at)?\s*\([^0-9)]' 'n = readlinkat(fd, name, buf, cap);' core/platform/posix.c=2
rule "the readlink-until-it-fits loop" '*.[ch]' '\bpf_dir_readlink(_stat)?\s*\(' 'err = pf_dir_readlink(d, n, b, c, &l);' core/link.c core/platform/
# Every thread tether starts is one of core/workq's: one place bounds the work in
# flight, keeps the first failure, and keeps signals off the workers.
rule "threads" '*.[ch]' '\b(pthread_create|CreateThread|_beginthreadex|thrd_create)\s*\(' 'pthread_create(&t, NULL, run, arg);' core/workq.c core/platform/
# Clocks and resource limits differ between POSIX and Windows: pf_clock, pf_fs_now,
# pf_files_limit and pf_files_raise are the only ways to them.
rule "clocks and resource limits" '*.[ch]' '\b(clock_gettime|gettimeofday|[gs]etrlimit)\s*\(' 'getrlimit(RLIMIT_NOFILE, &rl);' core/platform/
# Work a library starts is ended by whoever started it (dedupe's removal queue is the
# Lua state's, drained by tether.link_drain): no exit hook drains what no one owns.
rule "exit hooks" '*.[ch]' '\b(atexit|at_quick_exit|on_exit)\s*\(' 'if (!set) set = atexit(drain) == 0;' host/ core/platform/
# The environment is read by the platform layer (pf_env, pf_temp_dir: where temporary
# files go differs between POSIX and Windows) and the host; core asks pf_env in the one
# module a knob belongs to (core/walk's tuning); bindings only pass values on.
rule "environment" '*.[ch]' '\b(getenv|secure_getenv|_wgetenv|GetEnvironmentVariable[AW]?)\s*\(' 'const char *tmp = getenv("TMPDIR");' host/ core/platform/
rule "knobs from the environment in core" '*.[ch]' '\bpf_env\s*\(' 'env = pf_env("TETHER_THREADS");' core/walk.c core/platform/
# Data flows one way (docs/style.md): stdlib requires the C part, never the other way.
# A binding that loads a Lua module (require, luaL_requiref, a chunk run from C) would
# make tether.core depend on what is written over it.
rule "bindings loading Lua" 'l_*.c' '"require"|\b(luaL_requiref|luaL_dostring|luaL_loadstring|luaL_dofile|luaL_loadfilex?)\s*\(' 'lua_getglobal(L, "require");' host/ core/

finish
