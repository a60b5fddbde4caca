-- tether.chain: the links met while resolving a path one name at a time, as the kernel
-- does and namei(1) shows them (tether inspect --chain). Names are split and joined by
-- tether.path, so a path or a link target spelled with '\' or a drive (Windows) is
-- followed as one spelled with '/'.
local tether = require "tether"
local path = require "tether.path"

local M = {}

M.MAX_HOPS = 40 -- as the kernel's ELOOP

-- The status of a name that cannot be looked at, by its errno name.
local function status_of(code)
  if code == "EACCES" then return "denied" end
  if code == "ENOENT" or code == "ENOTDIR" then return "broken" end
  return "error"
end

-- The links met while resolving p: a hop {path, target, status, errno} for each (a link
-- in a parent directory too), and where the chain ends: {path, type} ("missing" when
-- nothing is there), or nil when a hop stops it (the last hop says why: broken, denied,
-- loop, error).
function M.resolve(p)
  local hops = {}
  local cur = path.is_absolute(p) and path.root(p) or (tether.absolute(".") or ".")
  local rest = path.parts(p)
  local seen = {} -- a link met again with the same names still to go: a loop
  local function stop(at, status, errno, target)
    hops[#hops + 1] = { path = at, target = target, status = status, errno = errno }
    return hops, nil
  end
  while #rest > 0 do
    local name = table.remove(rest, 1)
    if name == ".." then
      cur = path.dirname(cur)
    elseif name ~= "." then
      local at = path.join(cur, name)
      local i, _, code = tether.info(at)
      if not i then return stop(at, status_of(code), code) end
      if i.type == "symlink" or i.type == "junction" then
        local key = at .. "\0" .. table.concat(rest, "/")
        if seen[key] or #hops >= M.MAX_HOPS then return stop(at, "loop", "ELOOP", i.target) end
        seen[key] = true
        hops[#hops + 1] = { path = at, target = i.target, status = i.status, errno = i.status_error }
        local parts = path.parts(i.target)
        for k = #parts, 1, -1 do table.insert(rest, 1, parts[k]) end
        if path.is_absolute(i.target) then cur = path.root(i.target) end
      elseif #rest > 0 and i.type ~= "dir" then
        return stop(at, "broken", "ENOTDIR")
      else
        cur = at
      end
    end
  end
  local final = tether.info(cur)
  return hops, { path = cur, type = final and final.type or "missing" }
end

return M
