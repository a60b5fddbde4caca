-- tether.writers: which processes could change a folder while it is being moved: those
-- holding a file under it open for writing, or mapped shared and writable (a store
-- through such a mapping changes the file without changing its times again, even after
-- the descriptor is closed), and those whose working directory is inside it (they can
-- open its files by relative names at any time). Linux /proc; elsewhere
-- none can be seen, and `checked` says so.
local tether = require "tether"

local M = {}

local path = require "tether.path"
local inside = path.inside

local function comm(pid)
  local f = io.open(path.join("/proc", pid, "comm"))
  local name = f and f:read("l")
  if f then f:close() end
  return name or "?"
end

-- Whether descriptor fd of process pid is open for writing (O_WRONLY or O_RDWR).
local function writing(pid, fd)
  local f = io.open(path.join("/proc", pid, "fdinfo", fd))
  local text = f and f:read("a") -- nil when the process or descriptor went meanwhile
  local flags = text and text:match("flags:%s*(%d+)")
  if f then f:close() end
  return flags and tonumber(flags, 8) & 3 ~= 0
end

-- The files process pid maps shared and writable (perms "rw.s"), by their paths.
local function mapped_for_writing(pid)
  local f = io.open(path.join("/proc", pid, "maps"))
  if not f then return {} end -- gone meanwhile, or not ours to read
  local text = f:read("a") -- nil when the process went meanwhile (ESRCH): it maps nothing
  f:close()
  local out = {}
  for line in (text or ""):gmatch("[^\n]+") do
    local perms, file = line:match("^%S+%s+(%S+)%s+%S+%s+%S+%s+%S+%s+(/.*)$")
    if perms and perms:sub(2, 2) == "w" and perms:sub(4, 4) == "s" then
      out[#out + 1] = (file:gsub(" %(deleted%)$", ""))
    end
  end
  return out
end

-- scan(dirs) -> writers, cwds, checked: lists of "NAME (pid N) writes PATH" and
-- "NAME (pid N) works in PATH" for processes other than this one, for the real paths
-- in dirs.
function M.scan(dirs)
  local writers, cwds = {}, {}
  if tether.platform == "windows" or not tether.exists("/proc/self/fdinfo") then return writers, cwds, false end
  local me = tostring(tether.pid())
  for proc in tether.walk("/proc", { max_depth = 1, types = { "dir" } }) do
    local pid = proc.depth == 1 and proc.name:match("^%d+$") and proc.name
    if pid and pid ~= me then
      local cwd = tether.readlink(path.join("/proc", pid, "cwd"))
      for _, dir in ipairs(dirs) do
        if cwd and inside(cwd, dir) then cwds[#cwds + 1] = string.format("%s (pid %s) works in %s", comm(pid), pid, cwd) end
      end
      local ok, iter = pcall(tether.walk, path.join("/proc", pid, "fd"), { max_depth = 1 })
      for fd in ok and iter or function() end do
        local target = fd.depth == 1 and tether.readlink(fd.path)
        for _, dir in ipairs(dirs) do
          if target and inside(target, dir) and writing(pid, fd.name) then
            writers[#writers + 1] = string.format("%s (pid %s) writes %s", comm(pid), pid, target)
          end
        end
      end
      for _, file in ipairs(mapped_for_writing(pid)) do
        for _, dir in ipairs(dirs) do
          if inside(file, dir) then
            writers[#writers + 1] = string.format("%s (pid %s) maps %s shared and writable", comm(pid), pid, file)
          end
        end
      end
    end
  end
  return writers, cwds, true
end

return M
