# Shared by the benchmark scripts: timing in microseconds and medians.
# time_us CMD...: runs CMD (output discarded) and prints the elapsed microseconds. A
# command that fails (exit status above BENCH_MAX_RC, default 0) stops the benchmark:
# the time of a run that did not do the work means nothing.
time_us() {
    local start end rc=0
    start=$(date +%s%N)
    "$@" >/dev/null 2>"${TMPDIR:-/tmp}/tether-bench-stderr.$$" || rc=$?
    end=$(date +%s%N)
    if [ "$rc" -gt "${BENCH_MAX_RC:-0}" ]; then
        echo "bench: '$*' failed (exit $rc):" >&2
        cat "${TMPDIR:-/tmp}/tether-bench-stderr.$$" >&2
        rm -f "${TMPDIR:-/tmp}/tether-bench-stderr.$$"
        return 1
    fi
    rm -f "${TMPDIR:-/tmp}/tether-bench-stderr.$$"
    echo $(((end - start) / 1000))
}
# variant NAME LABEL CMD...: one command the benchmark compares, run as cmd[NAME] (its
# words split again, so no word may hold a space), shown as label[NAME]; order lists the
# names in the order they were declared.
variant() {
    local name=$1 what=$2
    shift 2
    declare -gA cmd label
    cmd[$name]=$* label[$name]=$what
    order+=("$name")
}
# median "N N N ...": the middle value.
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# ratio A B [DIGITS]: A/B with two decimals.
ratio() { printf '%.2f' "$(bc -l <<<"$1/$2")"; }
ms() { printf '%.1f' "$(bc -l <<<"$1/1000")"; }
# both_us CMD...: runs CMD (output discarded) and prints its elapsed time and the user +
# system time it used, in microseconds ("WALL CPU"): on a machine shared with other work,
# a single-threaded command's CPU time moves less than its elapsed time (which includes
# waiting for a core).
both_us() {
    local start end t err=${TMPDIR:-/tmp}/tether-bench-stderr.$$
    start=$(date +%s%N)
    t=$("$@" >/dev/null 2>"$err"; rc=$?; times; [ "$rc" -le "${BENCH_MAX_RC:-0}" ]) || {
        echo "bench: '$*' failed:" >&2
        cat "$err" >&2
        rm -f "$err"
        return 1
    }
    end=$(date +%s%N)
    rm -f "$err"
    tail -n 1 <<<"$t" | awk -v wall=$(((end - start) / 1000)) '{ n = 0
        for (i = 1; i <= 2; i++) { split($i, p, /[ms]/); n += p[1] * 60 + p[2] }
        printf "%d %d\n", wall, n * 1000000 }'
}
