-- The Lua side of bench/symlinks.sh: the same loop with tether or LuaFileSystem.
-- usage: tether run symlink_loop.lua DIR N      (tether.symlink)
--        lua5.4 symlink_loop.lua DIR N lfs      (lfs.link(target, name, true))
local dir, n, which = arg[1], tonumber(arg[2]), arg[3] or "tether"
if which == "lfs" then
  local lfs = require "lfs"
  for i = 0, n - 1 do
    assert(lfs.link("target-" .. i, dir .. "/l" .. i, true))
  end
else
  local symlink = (tether or require "tether").symlink
  for i = 0, n - 1 do
    assert(symlink("target-" .. i, dir .. "/l" .. i))
  end
end
