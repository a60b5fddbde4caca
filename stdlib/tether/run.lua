-- tether.run: a run, from its start to its end, owned in one place.
--
--   dry-run   decided here and nowhere else: tether.dryrun(on) sets it; the functions of
--             tether that change something then pass {dry = true} to tether.core's, which
--             know only that option (tether.raw is blind to the mode)
local tether = require "tether"
local api = require "tether.api"
local help = require "tether.help"

local M = {}

-- The functions of tether that change something, and where their options table is: every
-- one whose options (stdlib/tether/api.lua) take `dry`.
local changing = {}
for _, f in ipairs(api.functions) do
  for i, p in ipairs(help.params(f.sig)) do
    if p.name == "opts" and p.type:find("[{,]%s*dry%?:") then changing[f[1]] = i end
  end
end

-- f(..., opts) called with a copy of opts that says dry = true.
local function dry_call(f, at)
  return function(...)
    local args = table.pack(...)
    local opts = args[at]
    if opts == nil or type(opts) == "table" then
      local o = {}
      for k, v in pairs(opts or {}) do o[k] = v end
      o.dry = true
      args[at] = o
      if args.n < at then args.n = at end
    end
    return f(table.unpack(args, 1, args.n))
  end
end

local dry = false

-- Whether this run changes nothing (tether's -n, or a script's tether.dryrun(true)).
function M.dry() return dry end

-- Sets dry-run mode (when `on` is given) and says whether it is on. Every changing
-- function of tether is the core's own when it is off (nothing in between), a call that
-- adds dry = true when it is on.
function M.dryrun(on)
  if on ~= nil then
    dry = on and true or false
    for name, at in pairs(changing) do
      local f = tether.raw[name]
      if f then rawset(tether, name, dry and dry_call(f, at) or f) end
    end
  end
  return dry
end

return M
