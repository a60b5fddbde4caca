-- The Lua module `tether` (tether/core.so under its stdlib's tether/init.lua) and its stdlib (tether.plan, tether.farm, ...) for
-- a stock Lua 5.4, built by the project's own CMake. From a clone:
--   luarocks make --local rockspecs/tether-0.1.0-1.rockspec
-- Needs the Debian packages of the build: cmake pkg-config liblua5.4-dev libxxhash-dev
-- libpcre2-dev libedit-dev (./build.sh installs them).
rockspec_format = "3.0"
package = "tether"
version = "0.1.0-1"
source = {
  url = "git+file:///dev/null", -- unused by `luarocks make`, which builds the clone it is run in
}
description = {
  summary = "Filesystem links (symbolic, hard, junctions) and safe folder migrations for Lua",
  detailed = [[
Link primitives that act from directory handles and check what they change, a tree
walker that classifies links, a copy engine, journals, and the stdlib the tether
command's recipes are built on: plans with conflict checks and undo, migrations,
GNU Stow-compatible symlink farms.]],
  license = "MIT",
  homepage = "https://example.org/tether", -- no public home yet; see README.md
}
dependencies = { "lua >= 5.4, < 5.5" }
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    TETHER_LUA_CMOD_DIR = "$(LIBDIR)",
    TETHER_LUA_LMOD_DIR = "$(LUADIR)",
    TETHER_TESTS = "OFF",
    TETHER_MODULE_ONLY = "ON", -- tether/core.so and the stdlib; the command comes with the .deb or cmake --install
  },
}
