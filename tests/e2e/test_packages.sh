#!/usr/bin/env bash
# The packages, built from a copy of the working tree as a user's clone has it:
# - the LuaRocks rockspec: `luarocks make` builds and installs the module and the stdlib
#   into a rock tree, and a stock lua5.4 then loads `tether` and `tether.plan` from it;
# - the Debian packages (debian/): dpkg-buildpackage -us -uc -b makes tether and
#   lua-tether, lintian has nothing to say at its default level, and installed with
#   dpkg -i (removed again afterwards) they give a working tether --version, a
#   migration, man -w tether, a bash completion through complete -p tether, and
#   require "tether.plan" in the system's lua5.4.
# Each part skips with a message where its Debian tools are missing; all of it under the
# sanitizers (a sanitized tether.so cannot be loaded by a stock interpreter).
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${TETHER_SOURCE_DIR:?set by ctest}"

if [ "${TETHER_SANITIZE:-OFF}" = ON ]; then
    skip_all "package checks under the sanitizers"
fi
# The working tree as a user's clone would have it, without build directories.
mkdir -p src
tar -C "$TETHER_SOURCE_DIR" --exclude='./build*' --exclude='./.git' -cf - . | tar -C src -xf -
version=$("$TETHER" -e 'io.write(tether.version)')

rockspec() {
spec=$(ls src/rockspecs/tether-*.rockspec | head -n 1)
check "one rockspec" test -f "$spec"
check "its version is tether's" has "$spec" "tether-$("$TETHER" -e 'io.write(tether.version)')-"
out=$(cd src && CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) luarocks --lua-version 5.4 make --tree "$WORK/rocks" \
    "${spec#src/}" 2>&1); rc=$?
check "luarocks make builds and installs" is "$rc" 0
[ "$rc" = 0 ] || echo "$out" | tail -20
out=$(eval "$(luarocks --lua-version 5.4 path --tree "$WORK/rocks")" &&
    lua5.4 -e 'local t = require "tether"; local p = require "tether.plan"
               local pl = p.new("x"); print(t.version, type(pl.add), (t.readlink("nowhere")))' 2>&1)
check "stock lua5.4 requires tether and tether.plan from the rock tree" is "$out" \
    "$("$TETHER" -e 'io.write(tether.version)')	function	nil"
out=$(cd src && luarocks --lua-version 5.4 lint "${spec#src/}" 2>&1); rc=$?
check "luarocks lint accepts the rockspec" is "$rc|$out" "0|"
}

debian() {
    local deb=$WORK/deb/tether-$version
    mkdir -p "$deb" && tar -C src -cf - . | tar -C "$deb" -xf -
    out=$(cd "$deb" && DEB_BUILD_OPTIONS="parallel=$(nproc) nocheck" dpkg-buildpackage -us -uc -b 2>&1); rc=$?
    check "dpkg-buildpackage -us -uc -b" is "$rc" 0
    [ "$rc" = 0 ] || { echo "$out" | tail -20; return; }
    check "two packages" is "$(cd "$WORK/deb" && ls tether_*.deb lua-tether_*.deb | wc -l)" 2
    out=$(lintian "$WORK/deb"/tether_*.changes 2>&1 | grep -v "running with root privileges"); rc=$?
    check "lintian has nothing to say" is "$out" ""
    if dpkg -s tether >/dev/null 2>&1 || [ -e /usr/bin/tether ]; then
        echo "skipped: installing the .deb (a tether is already installed on this machine)"
        return
    fi
    out=$(dpkg -i "$WORK/deb"/tether_*.deb "$WORK/deb"/lua-tether_*.deb 2>&1); rc=$?
    check "dpkg -i installs both" is "$rc" 0
    [ "$rc" = 0 ] || { echo "$out" | tail; dpkg -r lua-tether tether >/dev/null 2>&1; return; }
    check "the installed tether runs" is "$(/usr/bin/tether --version | cut -d' ' -f1-2)" "tether $version"
    mkdir -p deb-mig/src && echo data > deb-mig/src/f
    out=$(XDG_STATE_HOME="$WORK/deb-state" /usr/bin/tether -q migrate deb-mig/src "$WORK/run/deb-mig/dest" 2>&1); rc=$?
    check "the installed tether migrates" is "$rc|$(readlink deb-mig/src)|$(cat deb-mig/src/f)" "0|$WORK/run/deb-mig/dest|data"
    check "man -w tether" is "$(man -w tether 2>&1)" "/usr/share/man/man1/tether.1.gz"
    if [ -f /usr/share/bash-completion/bash_completion ]; then
        out=$(bash -c '. /usr/share/bash-completion/bash_completion; _completion_loader tether; complete -p tether' 2>&1)
        check "bash completion through complete -p tether" has "$out" "-F _tether tether"
    else
        echo "skipped: bash-completion is not installed"
    fi
    check "the system's lua5.4 requires tether.plan" is \
        "$(cd / && lua5.4 -e 'local p = require "tether.plan"; print(type(p.new))' 2>&1)" "function"
    out=$(dpkg -r lua-tether tether 2>&1); rc=$?
    check "dpkg -r removes both" is "$rc|$(ls /usr/bin/tether 2>/dev/null)" "0|"
}

if command -v luarocks >/dev/null && command -v lua5.4 >/dev/null; then
    rockspec
else
    echo "skipped: the rockspec (apt-get install luarocks lua5.4)"
fi
if [ "$(id -u)" -eq 0 ] && command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null &&
    command -v lintian >/dev/null && command -v lua5.4 >/dev/null; then
    debian
else
    echo "skipped: the Debian packages (needs root and dpkg-dev debhelper lintian lua5.4)"
fi

finish
