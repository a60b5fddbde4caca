-- tether.retarget: where a link points once the place it points into has moved (a drive
-- change: everything under `from` is now under `to`). The one answer tether retarget and
-- tether apply's retarget items give; they plan the replacement, this says what it is.
local tether = require "tether"
local path = require "tether.path"

local M = {}

-- The new place of the absolute target t when everything under `from` moved to `to`
-- (both absolute, in normal form), or nil when t is relative or not under from. t is
-- compared in normal form (/mnt//old/x is under /mnt/old; /mnt/old2 is not).
function M.moved(t, from, to)
  if not t or not path.is_absolute(t) then return nil end
  local rest = path.below(path.normalize(t), from)
  if not rest then return nil end
  return rest == "" and to or path.join(to, rest)
end

-- What a retarget does with the link at `link` that stores `target`, as one call:
-- returns the target to store and where it leads, or false and why it is left alone
-- ("relative": a relative link that leads into from, without opts.relative;
-- "uncomputable": no relative target reaches the new place from the link's directory;
-- "missing": the new place does not exist, without opts.allow_broken) and where it would
-- lead, or nil when the link does not lead into from.
-- opts.relative: a relative target is taken where it leads from the link's real
-- directory, and the new one stays relative (as tether link --relative computes it);
-- without it, such a link is reported (when opts.count_relative) or not looked at.
-- opts.cache: a table kept across calls (real directories, what exists; links share them).
function M.new_target(link, target, from, to, opts)
  opts = opts or {}
  local cache = opts.cache or {}
  cache.real, cache.there = cache.real or {}, cache.there or {}
  local relative = target and not path.is_absolute(target)
  if relative and not (opts.relative or opts.count_relative) then return nil end
  local led = target
  if relative then
    local d = path.dirname(link)
    if cache.real[d] == nil then cache.real[d] = tether.realpath(d) or false end
    led = cache.real[d] and path.join(cache.real[d], target)
  end
  local new = M.moved(led, from, to)
  if not new then return nil end
  if relative and not opts.relative then return false, "relative", new end
  local stored = new
  if relative then
    stored = tether.relative_target(new, link)
    if not stored then return false, "uncomputable", new end
  end
  if not opts.allow_broken then
    if cache.there[new] == nil then cache.there[new] = tether.exists(new, { follow = true }) end
    if not cache.there[new] then return false, "missing", new end
  end
  return stored, new
end

return M
