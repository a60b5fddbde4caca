#!/usr/bin/env bash
# The two commands of the README:
#   ./build.sh demo   install what is missing, build, run `tether demo`
#   ./build.sh test   install what is missing, build, run the whole suite, then run it
#                     again under AddressSanitizer + UndefinedBehaviorSanitizer
# Only Debian packages are installed (apt-get; root or sudo). Builds go to build/ and
# build-asan/ beside this script.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config liblua5.4-dev libcmocka-dev libedit-dev
          libxxhash-dev)
TEST_PACKAGES=(lua5.4 lua-filesystem tmux python3 util-linux stow)

install_missing() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "build.sh: installing Debian packages: ${missing[*]}"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null; then sudo=(sudo); else
            echo "build.sh: please install as root: apt-get install -y ${missing[*]}" >&2
            exit 1
        fi
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

build() { # build DIR [cmake options...]
    local dir=$1; shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)" -- --no-print-directory
}

run_suite() { # run_suite DIR LABEL: runs ctest, then lists each runner's own counts
    echo "== test suite ($2) =="
    local st=0
    ctest --test-dir "$1" --output-on-failure -j"$(nproc)" | tee "$1/ctest.out" || st=1
    echo "-- counts per runner ($2):"
    awk '
        /^[0-9]+\/[0-9]+ Test: / { name = $3; p = f = s = ""; next }
        /^\[  PASSED  \] [0-9]+ test/  { p = $4 }
        /^\[  FAILED  \] [0-9]+ test/  { f = $4 }
        /^\[  SKIPPED \] [0-9]+ test/  { s = $4 }
        /^\[==========\] [0-9]+ test\(s\) run/ { cm[name] = 1 }
        /^[0-9]+ passed, [0-9]+ failed/ { printf "   %-28s %s\n", name, $0 }
        /^Test (Passed|Failed)/ && cm[name] {
            printf "   %-28s %d passed, %d failed%s\n", name, p, f, s ? ", " s " skipped" : ""
        }' "$1/Testing/Temporary/LastTest.log"
    grep -E '^[0-9]+% tests passed' "$1/ctest.out" | tail -n 1
    return $st
}

case "${1:-}" in
demo)
    install_missing "${PACKAGES[@]}"
    build build
    exec ./build/tether demo
    ;;
test)
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    build build
    build build-asan -DTETHER_SANITIZE=ON
    status=0
    run_suite build-asan "AddressSanitizer + UndefinedBehaviorSanitizer" || status=1
    run_suite build "release build" || status=1
    exit $status
    ;;
*)
    echo "usage: ./build.sh demo | test" >&2
    exit 2
    ;;
esac
