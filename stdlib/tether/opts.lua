-- tether.opts: the options tables of functions written in Lua, checked against what
-- stdlib/tether/api.lua says they take, by the rules tether.core's checker (l_options)
-- applies to its own: an unknown key is an error (with the nearest name), a value of
-- the wrong type is an error naming the option, a boolean option takes any value.
local api = require "tether.api"
local help = require "tether.help"

local M = {}

-- The Lua type a value of each api.lua type must have (nil: any value, as C's booleans).
local function lua_type(ty)
  if ty == "boolean" or ty == "any" then return nil end
  if ty == "integer" or ty == "number" then return "number" end
  if ty == "string" then return "string" end
  if ty:find("^fun") or ty == "function" then return "function" end
  if ty:find("%[%]$") or ty:find("^{") or ty == "table" or ty:find("^tether%.") then return "table" end
  return nil
end

local specs = {}

-- The options function `name` (as api.lua names it) takes: {key = Lua type or false},
-- and the position of its options table; nil when it takes none.
function M.spec(name)
  if specs[name] == nil then
    specs[name] = false
    for _, f in ipairs(api.functions) do
      if f[1] == name then
        for i, p in ipairs(help.params(f.sig)) do
          if p.name == "opts" then
            local keys = {}
            for _, o in ipairs(help.options(f)) do keys[o.name] = lua_type(o.type) or false end
            specs[name] = { keys = keys, at = i }
          end
        end
      end
    end
  end
  return specs[name] and specs[name].keys or nil, specs[name] and specs[name].at or nil
end

-- Raises the error of a misused options table, as luaL_argerror words it, where the
-- function that checks its options was called.
local function misuse(name, at, what)
  error(string.format("bad argument #%d to 'tether.%s' (%s)", at, name, what), 4)
end

-- Checks opts, the options table given to tether.<name>: nil or a table whose every key
-- api.lua lists for it, each value of its type (or nil). Returns opts, or {} for nil.
function M.check(name, opts)
  local keys, at = M.spec(name)
  assert(keys, "tether.opts: api.lua lists no options for " .. tostring(name))
  if opts == nil then return {} end
  if type(opts) ~= "table" then misuse(name, at, "table expected, got " .. type(opts)) end
  for k, v in pairs(opts) do
    local want
    if type(k) == "string" then want = keys[k] end
    if want == nil then
      local names = {}
      for key in pairs(keys) do names[#names + 1] = key end
      table.sort(names)
      local near = type(k) == "string" and require("tether.cli").closest(k, names)
      misuse(name, at, string.format("unknown option '%s'%s", tostring(k),
        near and string.format(" (did you mean '%s'?)", near) or ""))
    end
    if want and type(v) ~= want then
      misuse(name, at, string.format("option '%s' must be a %s, not a %s", k, want, type(v)))
    end
  end
  return opts
end

return M
