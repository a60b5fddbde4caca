# Shared by the benchmark scripts: timing in microseconds and medians.
# time_us CMD...: runs CMD (output discarded) and prints the elapsed microseconds.
time_us() {
    local start end
    start=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo $(((end - start) / 1000))
}
# median "N N N ...": the middle value.
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# ratio A B [DIGITS]: A/B with two decimals.
ratio() { printf '%.2f' "$(bc -l <<<"$1/$2")"; }
ms() { printf '%.1f' "$(bc -l <<<"$1/1000")"; }
