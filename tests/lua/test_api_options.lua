-- Options from one source: stdlib/tether/api.lua lists every function's options; the C
-- functions' option specs (the l_opt tables bindings/*.c give l_options) must accept
-- exactly those keys, with the same types, and functions written in Lua check theirs
-- against api.lua (tether.opts) by the same rules.
local api = require "tether.api"
local help = require "tether.help"
local opts = require "tether.opts"
local T = {}

local SRC = debug.getinfo(1, "S").source:match("^@(.*)/tests/lua/[^/]*$") or "."

local function read(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

-- Every function a bindings/*.c file defines, name -> body.
local function functions_of(text)
  local out = {}
  for name, _, body in text:gmatch("\n[%w_ ]-[%s%*]([%w_]+)(%b())%s*(%b{})") do out[name] = body end
  return out
end

-- The C side: Lua name -> {key = "boolean"|"number"|"string"|"table"|"function"} for
-- every function a luaL_Reg table of bindings/*.c registers (an empty table when it
-- reads no options), from the l_opt specs its body, or a helper it calls, gives l_options.
local function c_options()
  local by_name = {}
  local files = {}
  for e in tether.walk(SRC .. "/bindings", { max_depth = 1 }) do
    if e.depth == 1 and e.name:match("%.c$") then files[#files + 1] = e.path end
  end
  assert(#files > 5, "bindings/*.c not found under " .. SRC)
  for _, file in ipairs(files) do
    local text = read(file)
    local specs = {}
    for name, body in text:gmatch("static const l_opt ([%w_]+)%[%]%s*=%s*(%b{})") do
      local keys = {}
      for key, ty in body:gmatch('{%s*"([%w_]+)"%s*,%s*LUA_T(%u+)') do keys[key] = ty:lower() end
      specs[name] = keys
    end
    local funcs = functions_of(text)
    local function specs_of(fname, seen)
      seen = seen or {}
      if seen[fname] or not funcs[fname] then return {} end
      seen[fname] = true
      local body, found, named = funcs[fname], {}, {}
      for word in body:gmatch("[%w_]+") do
        if specs[word] and not named[word] then found[#found + 1], named[word] = specs[word], true end
      end
      if #found == 0 then -- the spec is read by a helper it calls
        for callee in body:gmatch("([%w_]+)%s*%(") do
          for _, sp in ipairs(specs_of(callee, seen)) do found[#found + 1] = sp end
        end
      end
      return found
    end
    for _, reg in text:gmatch("luaL_Reg%s+([%w_]+)%[%]%s*=%s*(%b{})") do
      for lname, cname in reg:gmatch('{%s*"([%w_]+)"%s*,%s*([%w_]+)%s*}') do
        local found = specs_of(cname)
        assert(#found <= 1, file .. ": " .. cname .. " reads two option specs")
        by_name[lname] = found[1] or {}
      end
    end
  end
  return by_name
end

local C_TYPE = { boolean = false, number = "number", string = "string", table = "table", ["function"] = "function" }

function T.every_c_function_takes_exactly_the_options_api_lua_lists()
  local c = c_options()
  assert(c.symlink and c.symlink.relative == "boolean", "the parser found symlink's spec")
  local problems = {}
  local function problem(...) problems[#problems + 1] = string.format(...) end
  for _, f in ipairs(api.functions) do
    local name = f[1]
    if not f.lua and c[name] then
      local documented = opts.spec(name) or {}
      for key, ty in pairs(c[name]) do
        if documented[key] == nil then
          problem("tether.%s accepts option '%s' (C), which api.lua does not list", name, key)
        elseif documented[key] ~= C_TYPE[ty] then
          problem("tether.%s's option '%s' is a %s in C, %s in api.lua", name, key, ty, tostring(documented[key] or "any"))
        end
      end
      for key in pairs(documented) do
        if c[name][key] == nil then problem("api.lua lists option '%s' of tether.%s, which C does not accept", key, name) end
      end
    elseif not f.lua and not c[name] then
      problem("api.lua lists tether.%s, which no luaL_Reg table of bindings/*.c registers", name)
    end
  end
  table.sort(problems)
  eq(table.concat(problems, "\n"), "")
end

-- The parser above reads what l_options really enforces: a key the spec has is taken, one
-- it lacks raises "unknown option" (for every function that reads options).
function T.the_c_specs_read_are_the_ones_enforced()
  local c = c_options()
  local d = tmpdir()
  local missing = d .. "/none/x"
  local checked = 0
  for _, f in ipairs(api.functions) do
    local keys = not f.lua and c[f[1]]
    local _, at = opts.spec(f[1])
    if keys and at and next(keys) then
      local args = {}
      for i, p in ipairs(help.params(f.sig)) do
        if i < at then
          args[i] = (p.type == "string" and missing) or (p.type:find("%[%]$") and { missing }) or
            (p.type == "table" or p.type:find("^tether%.")) and {} or 0
        end
      end
      args[at] = { ["no such option"] = true }
      local ok, err = pcall(tether.raw[f[1]], table.unpack(args, 1, at))
      assert(not ok and tostring(err):find("unknown option 'no such option'", 1, true),
        "tether.raw." .. f[1] .. " did not refuse an unknown option: " .. tostring(err))
      checked = checked + 1
    end
  end
  assert(checked >= 15, "only " .. checked .. " functions checked")
end

function T.lua_functions_refuse_unknown_options_with_the_nearest_name()
  local d = tmpdir()
  assert(tether.mkdir(d .. "/src"))
  local ok, err = pcall(function() local p = tether.migrate(d .. "/src", d .. "/dest", { verfy = "hash" }); return p end)
  eq(ok, false)
  assert(err:find("unknown option 'verfy' (did you mean 'verify'?)", 1, true), err)
  assert(err:find("^.-test_api_options%.lua:%d+:"), "the error is where it was called: " .. err)
  ok, err = pcall(tether.migrate, d .. "/src", d .. "/dest", { verify = 1 })
  eq(ok, false)
  assert(err:find("option 'verify' must be a string, not a number", 1, true), err)
  ok, err = pcall(tether.migrate, d .. "/src", d .. "/dest", { [1] = true })
  eq(ok, false)
  assert(err:find("unknown option '1'", 1, true), err)
  ok, err = pcall(tether.migrate, d .. "/src", d .. "/dest", "hash")
  eq(ok, false)
  assert(err:find("table expected, got string", 1, true), err)
  -- A boolean option takes any value (as in C); a right one runs.
  local p = assert(tether.migrate(d .. "/src", d .. "/dest", { dry = true, keep_backup = "yes", verify = "hash" }))
  eq(p.dry, true)
  eq(tether.exists(d .. "/dest"), false)
end

-- Every function written in Lua that takes options checks them (a new one too).
function T.every_lua_function_with_options_checks_them()
  local d = tmpdir()
  local n = 0
  for _, f in ipairs(api.functions) do
    local _, at = opts.spec(f[1])
    if f.lua and at then
      local args = {}
      for i = 1, at - 1 do args[i] = d .. "/none" .. i end
      args[at] = { zz_unknown = true }
      local ok, err = pcall(tether[f[1]], table.unpack(args, 1, at))
      assert(not ok and tostring(err):find("unknown option 'zz_unknown'", 1, true),
        "tether." .. f[1] .. " did not check its options: " .. tostring(err))
      n = n + 1
    end
  end
  assert(n >= 1, "no function written in Lua takes options")
end

-- tether.plan's actions take the fields api.lua lists for each (a typo is an error that
-- names the nearest one; a required one missing is named), and the journal's schema asks
-- for the same required strings.
function T.plan_actions_check_their_fields()
  local plan = require "tether.plan"
  local d = tmpdir()
  local p = plan.new("test", { roots = { d } })
  local function add(op, fields)
    local ok, err = pcall(function() local a = p:add(op, fields); return a end)
    eq(ok, false, op)
    return tostring(err)
  end
  local err = add("symlink", { pth = d .. "/l", target = "x" })
  assert(err:find("unknown field 'pth' (did you mean 'path'?)", 1, true), err)
  assert(err:find("^.-test_api_options%.lua:%d+:"), "the error is where plan:add was called: " .. err)
  err = add("replace", { path = d .. "/l", target = "x" })
  assert(err:find("field 'old' is missing", 1, true), err)
  err = add("symlink", { path = d .. "/l", target = 3 })
  assert(err:find("field 'target' must be a string, not a number", 1, true), err)
  err = add("symlnk", { path = d .. "/l", target = "x" })
  assert(err:find("no action 'symlnk', did you mean 'symlink'?", 1, true), err)
  eq(#p.actions, 0)
  p:add("symlink", { path = d .. "/l", target = "x", dir = "yes" }) -- a boolean: any value
  eq(#p.actions, 1)
  for op in pairs(api.actions) do
    local types, required = opts.action_fields(op)
    eq(types.path, "string", op)
    eq(required.path, true, op)
  end
end

function T.spec_reads_api_lua()
  local keys, at = opts.spec("migrate")
  eq(at, 3)
  eq(keys.verify, "string")
  eq(keys.scan, "table")
  eq(keys.progress, "function")
  eq(keys.min_free, "number")
  eq(keys.force, false) -- a boolean: any value
  eq(opts.spec("readlink"), nil)
end

return T
