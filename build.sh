#!/usr/bin/env bash
# The two commands of the README:
#   ./build.sh demo   install what is missing, build, run `tether demo`
#   ./build.sh test   install what is missing, build, run the whole suite, run it again
#                     under AddressSanitizer + UndefinedBehaviorSanitizer, then cross-build
#                     tether.exe with mingw-w64 and run its smoke suite under Wine
#                     (skipped with a message where those packages cannot be installed)
# Only Debian packages are installed (apt-get; root or sudo). Builds go to build/,
# build-asan/ and build-win/ beside this script.
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(build-essential cmake pkg-config liblua5.4-dev libcmocka-dev libedit-dev
          libxxhash-dev libpcre2-dev)
TEST_PACKAGES=(lua5.4 lua-filesystem tmux python3 util-linux stow strace groff-base man-db bash-completion
               luarocks dpkg-dev debhelper lintian)
# Used by one test each, which skips with a message where they cannot be installed:
# headless Chromium renders the audit's HTML report, ansible-core runs the fleet module,
# bindfs mounts a FUSE filesystem (one that cannot tell whether it keeps links).
OPTIONAL_TEST_PACKAGES=(chromium ansible-core bindfs)
# The Windows build: the cross compiler, Wine to run the result, dpkg-dev to unpack the
# Debian source packages of Lua, cmocka and PCRE2 it compiles (apt-get source).
WIN_PACKAGES=(gcc-mingw-w64-x86-64 wine wine64 dpkg-dev)

SUDO=()
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO=(sudo); fi

# missing_packages PACKAGE...: prints those that are not installed.
missing_packages() {
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || echo "$p"
    done
}

# try_install PACKAGE...: installs the missing ones; fails (saying which) if it cannot.
try_install() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ] && [ ${#SUDO[@]} -eq 0 ]; then
        echo "build.sh: please install as root: apt-get install -y ${missing[*]}" >&2
        return 1
    fi
    echo "build.sh: installing Debian packages: ${missing[*]}"
    "${SUDO[@]}" apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
}

install_missing() { try_install "$@" || exit 1; }

# try_optional PACKAGE...: installs what is missing without recommended extras; says so
# and goes on when it cannot (the tests that need them skip).
try_optional() {
    local missing
    mapfile -t missing < <(missing_packages "$@")
    [ ${#missing[@]} -eq 0 ] && return 0
    if { [ "$(id -u)" -eq 0 ] || [ ${#SUDO[@]} -gt 0 ]; } &&
        echo "build.sh: installing Debian packages: ${missing[*]}" &&
        "${SUDO[@]}" apt-get update -qq >/dev/null 2>&1 &&
        DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends \
            "${missing[@]}" >/dev/null 2>&1; then
        return 0
    fi
    echo "build.sh: could not install ${missing[*]}; the tests that need them will skip"
}

# Debian source packages need deb-src entries: one is added beside each deb entry.
ensure_deb_src() {
    apt-get source --print-uris lua5.4 >/dev/null 2>&1 && return 0
    echo "build.sh: adding deb-src entries (/etc/apt/sources.list.d/tether-deb-src.*) for apt-get source"
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -e "$f" ] && [ "$f" != /etc/apt/sources.list.d/tether-deb-src.sources ] &&
            { sed 's/^Types: deb$/Types: deb-src/' "$f"; echo; }
    done | "${SUDO[@]}" tee /etc/apt/sources.list.d/tether-deb-src.sources >/dev/null
    [ -f /etc/apt/sources.list ] && grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' |
        "${SUDO[@]}" tee /etc/apt/sources.list.d/tether-deb-src.list >/dev/null
    "${SUDO[@]}" apt-get update -qq
}

# The Windows build: tether.exe from mingw-w64 with Lua and cmocka compiled from Debian's
# source packages, checked to be PE32+ with no DLLs beyond Windows' own, then its
# test suite under Wine (a private prefix in build-win/wine).
windows() {
    echo "== Windows build (mingw-w64) and its suite under Wine =="
    if ! try_install "${WIN_PACKAGES[@]}" || ! ensure_deb_src; then
        echo "build.sh: SKIPPED the Windows build and Wine suite: cannot install ${WIN_PACKAGES[*]} or sources"
        return 0
    fi
    local deps=build-win/deps
    mkdir -p "$deps"
    if ! ls -d "$deps"/lua5.4-*/src >/dev/null 2>&1 || ! ls -d "$deps"/cmocka-*/src >/dev/null 2>&1; then
        (cd "$deps" && apt-get source -qq lua5.4 cmocka >source.log 2>&1) ||
            { cat "$deps/source.log" >&2; return 1; }
    fi
    if ! ls -d "$deps"/pcre2-*/src >/dev/null 2>&1; then
        # The newest version may be missing from a mirror: then an older one listed.
        (cd "$deps" && { apt-get source -qq pcre2 >pcre2.log 2>&1 ||
            for v in $(apt-cache showsrc pcre2 | awk '/^Version:/ { print $2 }'); do
                apt-get source -qq "pcre2=$v" >>pcre2.log 2>&1 && break
            done; }) 
        ls -d "$deps"/pcre2-*/src >/dev/null 2>&1 || { cat "$deps/pcre2.log" >&2; return 1; }
    fi
    cmake -S . -B build-win -DCMAKE_TOOLCHAIN_FILE=host/mingw-w64.cmake -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DCMAKE_COMPILE_WARNING_AS_ERROR=ON \
        -DLUA_SOURCE_DIR="$(ls -d "$PWD/$deps"/lua5.4-*/ | head -n 1)" \
        -DCMOCKA_SOURCE_DIR="$(ls -d "$PWD/$deps"/cmocka-*/ | head -n 1)" \
        -DPCRE2_SOURCE_DIR="$(ls -d "$PWD/$deps"/pcre2-*/ | head -n 1)" >/dev/null
    cmake --build build-win -j"$(nproc)" -- --no-print-directory || return 1
    file build-win/tether.exe
    file build-win/tether.exe | grep -q 'PE32+' || { echo "tether.exe is not PE32+" >&2; return 1; }
    local dlls
    dlls=$(x86_64-w64-mingw32-objdump -p build-win/tether.exe | awk '/DLL Name:/ { print $3 }')
    echo "tether.exe imports: $(echo $dlls)"
    if echo "$dlls" | grep -viqE '^(kernel32|msvcrt|shell32|advapi32|user32|ws2_32|ntdll)\.dll$'; then
        echo "tether.exe needs a DLL that is not part of Windows" >&2
        return 1
    fi
    export WINEPREFIX="$PWD/build-win/wine" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
    wineboot -i >/dev/null 2>&1 || true # make the prefix once, before tests run in parallel
    run_suite build-win "Windows build under Wine"
}

build() { # build DIR [cmake options...]
    local dir=$1; shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    cmake --build "$dir" -j"$(nproc)" -- --no-print-directory
}

run_suite() { # run_suite DIR LABEL [ctest options]: runs ctest, then lists each runner's own counts
    echo "== test suite ($2) =="
    local dir=$1 label=$2 st=0
    shift 2
    ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" "$@" | tee "$dir/ctest.out" || st=1
    echo "-- counts per runner ($label):"
    awk '
        /^[0-9]+\/[0-9]+ Test: / { name = $3; p = f = s = why = ""; counted = 0; next }
        /^skipped: / { why = $0 }
        /^\[  PASSED  \] [0-9]+ test/  { p = $4 }
        /^\[  FAILED  \] [0-9]+ test/  { f = $4 }
        /^\[  SKIPPED \] [0-9]+ test/  { s = $4 }
        /^\[==========\] [0-9]+ test\(s\) run/ { cm[name] = 1 }
        /^[0-9]+ passed, [0-9]+ failed/ { printf "   %-28s %s\n", name, $0; counted = 1 }
        /^Test Passed/ && why != "" && !counted && !cm[name] { printf "   %-28s %s\n", name, why }
        /^Test (Passed|Failed)/ && cm[name] {
            printf "   %-28s %d passed, %d failed%s\n", name, p, f, s ? ", " s " skipped" : ""
        }' "$dir/Testing/Temporary/LastTest.log"
    grep -E '^[0-9]+% tests passed' "$dir/ctest.out" | tail -n 1
    local skipped
    skipped=$(grep -c '(Skipped)$' "$dir/ctest.out" || true)
    [ "$skipped" -eq 0 ] || echo "$skipped of them skipped (exit 77: each says why above)"
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
    try_optional "${OPTIONAL_TEST_PACKAGES[@]}"
    build build
    build build-asan -DTETHER_SANITIZE=ON
    status=0
    # The long tests run in one pass each (tests/CMakeLists.txt says which and why).
    run_suite build-asan "AddressSanitizer + UndefinedBehaviorSanitizer" -LE exhaustive || status=1
    run_suite build "release build" -LE sanitized || status=1
    windows || status=1
    exit $status
    ;;
windows) # only the Windows part of `test`, for working on the win32 layer
    install_missing "${PACKAGES[@]}" python3
    windows
    ;;
*)
    echo "usage: ./build.sh demo | test | windows" >&2
    exit 2
    ;;
esac
