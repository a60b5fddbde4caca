-- tether: the module. Its functions written in C come from tether.core (also reachable
-- as tether.raw: each of them knows only its own `dry` option); what is written in Lua
-- is added here, loaded the first time it is used: tether.migrate, tether.path,
-- tether.plan, tether.json, tether.run. Whether a run is dry is decided in one place,
-- tether.run, which tether.dryrun() asks and sets.
local core = require "tether.core"

local M = {}
for k, v in pairs(core) do M[k] = v end
M.raw = core
M.options = {} -- the command line's global options (the host fills it)

-- Modules and functions written in Lua, by the name they have in tether. They require
-- tether themselves, so they are loaded on first use, not here.
local MODULES = { path = "tether.path", plan = "tether.plan", json = "tether.json", run = "tether.run" }
local FUNCTIONS = { migrate = { "tether.migration", "migrate" } }

-- tether.dryrun([on]) -> whether dry-run mode is on (after setting it, when given).
function M.dryrun(on) return require("tether.run").dryrun(on) end

setmetatable(M, {
  __index = function(t, k)
    local v
    if MODULES[k] then
      v = require(MODULES[k])
    elseif FUNCTIONS[k] then
      v = require(FUNCTIONS[k][1])[FUNCTIONS[k][2]]
    end
    if v ~= nil then rawset(t, k, v) end
    return v
  end,
})

return M
