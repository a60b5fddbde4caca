-- tether.opts: the options tables of functions written in Lua, checked against what
-- stdlib/tether/api.lua says they take, by the rules tether.core's checker (l_options)
-- applies to its own: an unknown key is an error (with the nearest name), a value of
-- the wrong type is an error naming the option, a boolean option takes any value. The
-- fields of tether.plan's actions (api.lua's `actions`) are checked the same way.
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

-- "a: string, b?: boolean" -> {a = {type = "string", required = true}, b = {type = false}}
local function fields_of(sig)
  local fields = {}
  for _, p in ipairs(help.params(sig)) do fields[p.name] = { type = lua_type(p.type) or false, required = not p.optional } end
  return fields
end

local specs = {}

-- The options function `name` (as api.lua names it) takes: {key = Lua type or false},
-- and the position of its options table; nil when it takes none.
function M.spec(name)
  if specs[name] == nil then
    specs[name] = false
    for _, f in ipairs(api.functions) do
      for i, p in ipairs(f[1] == name and help.params(f.sig) or {}) do
        if p.name == "opts" and p.type:sub(1, 1) == "{" then
          specs[name] = { fields = fields_of(p.type:sub(2, -2)), at = i }
        end
      end
    end
  end
  if not specs[name] then return nil end
  local keys = {}
  for k, f in pairs(specs[name].fields) do keys[k] = f.type end
  return keys, specs[name].at
end

-- Raises the error of a misused table, as luaL_argerror words it, where the function
-- that checks it was called (level: of that function's caller, from here).
local function misuse(level, at, fname, what)
  error(string.format("bad argument #%d to '%s' (%s)", at, fname, what), level + 1)
end

-- Checks table t against fields (fields_of): every key one it names, each of its type
-- (or nil, unless required). noun: "option" or "field"; fname and at name the argument
-- in an error; level: where the error points (1: the caller of the checking function).
local function check_table(t, fields, noun, fname, at, level)
  level = level + 3 -- (below the function that checks: the checker, this function, misuse)
  if type(t) ~= "table" then misuse(level, at, fname, "table expected, got " .. type(t)) end
  for k, v in pairs(t) do
    local f = type(k) == "string" and fields[k] or nil
    if not f then
      local names = {}
      for key in pairs(fields) do names[#names + 1] = key end
      table.sort(names)
      local near = type(k) == "string" and require("tether.cli").closest(k, names)
      misuse(level, at, fname, string.format("unknown %s '%s'%s", noun, tostring(k),
        near and string.format(" (did you mean '%s'?)", near) or ""))
    end
    if f.type and type(v) ~= f.type then
      misuse(level, at, fname, string.format("%s '%s' must be a %s, not a %s", noun, k, f.type, type(v)))
    end
  end
  for k, f in pairs(fields) do
    if f.required and t[k] == nil then misuse(level, at, fname, string.format("%s '%s' is missing", noun, k)) end
  end
  return t
end

-- Checks opts, the options table given to tether.<name>: nil or a table whose every key
-- api.lua lists for it, each value of its type (or nil). Returns opts, or {} for nil.
-- An error points at the caller of the function that checks.
function M.check(name, opts)
  assert(M.spec(name), "tether.opts: api.lua lists no options for " .. tostring(name))
  if opts == nil then return {} end
  local s = specs[name]
  check_table(opts, s.fields, "option", "tether." .. name, s.at, 1)
  return opts
end

-- The fields an action of kind op takes (api.lua's actions): {field = Lua type or
-- false}, and which are required ({field = true}); nil for an op there is none of.
function M.action_fields(op)
  local sig = api.actions[op]
  if not sig then return nil end
  local types, required = {}, {}
  for k, f in pairs(fields_of(sig)) do types[k], required[k] = f.type, f.required or nil end
  return types, required
end

-- Checks the fields of an action of kind op given to plan:add (argument 2 of a method
-- call: 3 with self). An error points at the caller of plan:add.
local actions = {} -- op -> fields_of its sig (plan:add is called for every action of a plan)
function M.check_action(op, fields)
  if not actions[op] then
    assert(api.actions[op], "tether.opts: api.lua lists no action " .. tostring(op))
    actions[op] = fields_of(api.actions[op])
  end
  check_table(fields, actions[op], "field", "add", 2, 1)
  return fields
end

return M
