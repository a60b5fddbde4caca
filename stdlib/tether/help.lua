-- tether.help: what stdlib/tether/api.lua says about a function, for people: the REPL's
-- help(tether.info), help "info" and ?info, its overview help(), and the completion of
-- function and option names. host/gendocs.lua reads the same table through params().
local api = require "tether.api"

local M = {}

-- "a: string, b?: {x: t, y: u}" -> {{name = "a", type = "string"}, {name = "b", optional = true, type = "{...}"}}
function M.params(sig)
  local list, depth, start = {}, 0, 1
  local function take(s)
    s = s:gsub("^%s+", ""):gsub("%s+$", "")
    if s == "" then return end
    local name, opt, ty = s:match("^([%w_]+)(%??):%s*(.+)$")
    assert(name, "stdlib/tether/api.lua: cannot read parameter '" .. s .. "'")
    list[#list + 1] = { name = name, optional = opt == "?", type = ty }
  end
  for i = 1, #sig do
    local c = sig:sub(i, i)
    if c == "{" or c == "(" then depth = depth + 1
    elseif c == "}" or c == ")" then depth = depth - 1
    elseif c == "," and depth == 0 then take(sig:sub(start, i - 1)); start = i + 1 end
  end
  take(sig:sub(start))
  return list
end

local by_name = {}
for _, f in ipairs(api.functions) do by_name[f[1]] = f end

-- The options a function takes: the fields of its `opts` parameter, {{name =, type =}, ...}.
function M.options(entry)
  for _, p in ipairs(M.params(entry.sig)) do
    if p.name == "opts" and p.type:sub(1, 1) == "{" then
      local fields = M.params(p.type:sub(2, -2))
      for _, o in ipairs(fields) do o.optional = nil end
      return fields
    end
  end
  return {}
end

-- The entry for x: a function of the module (tether.info, tether.raw.info), or its name
-- ("info", "tether.info", "raw.info"); nil and the nearest name when there is none.
function M.find(x)
  local tether = require "tether"
  if type(x) == "function" then -- the first entry of the table with that function
    for _, f in ipairs(api.functions) do
      if tether[f[1]] == x or tether.raw[f[1]] == x then return f end
    end
    return nil
  end
  if type(x) ~= "string" then return nil end
  local name = x:gsub("^%s+", ""):gsub("[%s()]+$", ""):gsub("^tether%.", ""):gsub("^raw%.", "")
  if by_name[name] then return by_name[name] end
  local names = {}
  for _, f in ipairs(api.functions) do names[#names + 1] = f[1] end
  return nil, require("tether.cli").closest(name, names)
end

local function indent(text, by)
  return by .. text:gsub("\n", "\n" .. by)
end

-- Breaks text into lines of at most `width` columns (tether.cli's), each begun with `by`.
local function wrap(text, width, by) return indent(require("tether.cli").wrap(text, width), by) end

-- The whole entry: signature, what it does, parameters and options, returns, errors,
-- and the example.
function M.text(f)
  local ps, names = M.params(f.sig), {}
  for i, p in ipairs(ps) do names[i] = p.optional and ("[" .. p.name .. "]") or p.name end
  local lines = { string.format("tether.%s(%s)", f[1], table.concat(names, ", ")), "",
                  wrap(f.doc, 84, "  "), "" }
  for _, p in ipairs(ps) do
    if p.name == "opts" then
      lines[#lines + 1] = "  opts, a table of options (each may be left out):"
      for _, o in ipairs(M.options(f)) do lines[#lines + 1] = string.format("    %-14s %s", o.name, o.type) end
    else
      lines[#lines + 1] = string.format("  %-16s %s%s", p.name, p.type, p.optional and " (may be left out)" or "")
    end
  end
  if #ps > 0 then lines[#lines + 1] = "" end
  lines[#lines + 1] = "  returns " .. f.ret .. "; on failure nil, message, errno name, error table"
  local fails = { "ENOENT", "EACCES", "ENOTDIR" }
  for _, e in ipairs(f.fails or {}) do fails[#fails + 1] = e end
  lines[#lines + 1] = "  fails with " .. table.concat(fails, ", ")
  lines[#lines + 1] = ""
  lines[#lines + 1] = "  example:"
  lines[#lines + 1] = indent(f.example, "    ")
  return table.concat(lines, "\n")
end

-- Every function with the first sentence of what it does.
function M.overview()
  local lines = { "The tether module (also the global `tether`). help(tether.NAME), help \"NAME\" or ?NAME",
                  "for one function; Tab completes names, and option names inside {...}.", "" }
  for _, f in ipairs(api.functions) do
    if f[1]:sub(1, 1) ~= "_" then
      local first = f.doc:match("^(.-%.)%s") or f.doc
      if #first > 74 then first = first:sub(1, 71):gsub("%s*%S*$", "") .. " ..." end
      lines[#lines + 1] = string.format("  %-18s %s", f[1], first)
    end
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Modules written in Lua: require \"tether.path\" (paths), \"tether.plan\" (bulk changes with a"
  lines[#lines + 1] = "journal and undo), \"tether.json\". Every failure is nil, message, errno, table: use assert()."
  return table.concat(lines, "\n")
end

-- help(x): prints the entry for x, or the overview without x. The REPL's `help` and `?`.
function M.help(x)
  if x == nil then print(M.overview()) return end
  local f, near = M.find(x)
  if f then print(M.text(f)) return end
  local what = type(x) == "string" and string.format("%q", x) or tostring(x)
  print(string.format("no help for %s%s; help() lists every function", what,
    near and string.format(" (did you mean %q?)", near) or ""))
end

-- The innermost call whose argument list `before` (the line up to the word being
-- completed) is inside, if it is a call of tether.NAME and the word is a key of a table
-- constructor among its arguments: NAME.
local function option_context(before)
  local opens, q = {}, nil
  local i = 1
  while i <= #before do
    local c = before:sub(i, i)
    if q then
      if c == "\\" then i = i + 1 elseif c == q then q = nil end
    elseif c == '"' or c == "'" then q = c
    elseif c == "(" or c == "{" then opens[#opens + 1] = { c, i }
    elseif c == ")" or c == "}" then opens[#opens] = nil end
    i = i + 1
  end
  if q then return nil end
  local top = opens[#opens]
  if not top or top[1] ~= "{" then return nil end
  -- What follows the brace must be the start of a key: nothing, or "x = ..., ".
  local after = before:sub(top[2] + 1)
  if after:find("=%s*[^,]*$") then return nil end
  local call = opens[#opens - 1]
  if not call or call[1] ~= "(" then return nil end
  return before:sub(1, call[2] - 1):match("tether%.raw%.([%w_]+)%s*$") or
    before:sub(1, call[2] - 1):match("tether%.([%w_]+)%s*$")
end

-- Completions of `word` given the text before it: option names inside the options table
-- of a call of tether.NAME, function names after `help "` or `?`; nil when neither (the
-- REPL then completes global names and fields).
function M.complete(before, word)
  local out = {}
  local fname = option_context(before)
  if fname and by_name[fname] then
    for _, o in ipairs(M.options(by_name[fname])) do
      if o.name:sub(1, #word) == word then out[#out + 1] = o.name .. " = " end
    end
    return out
  end
  local prefix = ""
  if word:sub(1, 1) == "?" and before:match("^%s*$") then prefix, word = "?", word:sub(2)
  elseif not before:match("help%s*%(?%s*[\"']$") then return nil end
  for _, f in ipairs(api.functions) do
    if f[1]:sub(1, #word) == word and f[1]:sub(1, 1) ~= "_" then out[#out + 1] = prefix .. f[1] end
  end
  return out
end

return M
