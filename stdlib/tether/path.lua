-- tether.path: lexical path helpers ('/'-separated; on Windows '\' is accepted too).
-- Lexical means no filesystem access: ".." is folded by name. When links matter, use
-- tether.realpath or the relative=true option of tether.symlink, which resolve real dirs.
local M = {}

local windows = package.config:sub(1, 1) == "\\"
M.sep = windows and "\\" or "/"
local SEP = windows and "[/\\]" or "/"
local STARTS_WITH_SEP = "^" .. SEP

local function root_of(p)
  if windows then
    local drive = p:match("^%a:[/\\]")
    if drive then return drive:sub(1, 2) .. "/" end
  end
  return p:find(STARTS_WITH_SEP) and "/" or ""
end

function M.is_absolute(p)
  assert(type(p) == "string", "path must be a string")
  return root_of(p) ~= ""
end

-- The root an absolute path starts from ("/", or on Windows "C:/"), "" for a relative one.
function M.root(p)
  assert(type(p) == "string", "path must be a string")
  return root_of(p)
end

-- Components of p, without empty ones: "/a//b/" -> {"a", "b"}.
function M.parts(p)
  local out = {}
  for part in p:gmatch(windows and "[^/\\]+" or "[^/]+") do out[#out + 1] = part end
  if windows and p:match("^%a:") then table.remove(out, 1) end
  return out
end

-- p with each name replaced by fn(name) (kept as it is where fn returns nil), the
-- separators and the root as they are.
function M.map_names(p, fn)
  return (p:gsub(windows and "[^/\\]+" or "[^/]+", fn))
end

-- Whether p is in normal form already: no empty, "." or ".." component and no trailing
-- separator (most paths a walk or a plan meets; they are given back as they are).
local function is_normal(p)
  if windows or p == "" or p:find("//", 1, true) or (#p > 1 and p:sub(-1) == "/") then return false end
  return not ("/" .. p .. "/"):find("/%.%.?/")
end

function M.normalize(p)
  assert(type(p) == "string", "path must be a string")
  if is_normal(p) then return p end
  local root = root_of(p)
  local out = {}
  for _, part in ipairs(M.parts(p)) do
    if part == ".." then
      if #out > 0 and out[#out] ~= ".." then
        out[#out] = nil
      elseif root == "" then
        out[#out + 1] = ".."          -- above a relative start: keep it
      end                             -- above the root: stays at the root
    elseif part ~= "." then
      out[#out + 1] = part
    end
  end
  local s = root .. table.concat(out, "/")
  return s == "" and "." or s
end

-- (Joins come by the thousand in a plan or a farm: nothing is built per call that is
-- not the answer.)
local ENDS_IN_SEP = SEP .. "$"
function M.join(...)
  local a, b = ...
  if select("#", ...) == 2 and type(a) == "string" and type(b) == "string" then -- (most: a directory and a name)
    if a == "" then return b end
    if b == "" then return a end
    local c = b:byte(1) -- (47: "/", 92: "\\")
    if c == 47 or (windows and (c == 92 or b:find("^%a:[/\\]"))) then return b end
    c = a:byte(-1)
    if c == 47 or (windows and c == 92) then return a .. b end
    return a .. "/" .. b
  end
  local result = ""
  for i = 1, select("#", ...) do
    local p = select(i, ...)
    if type(p) ~= "string" then error("join: argument " .. i .. " is not a string", 2) end
    if result == "" or root_of(p) ~= "" then
      result = p
    elseif p ~= "" then
      result = result .. (result:find(ENDS_IN_SEP) and "" or "/") .. p
    end
  end
  return result
end

-- dirname and basename of "a/b/c" are "a/b" and "c"; trailing separators are ignored.
function M.split(p)
  assert(type(p) == "string", "path must be a string")
  local prefix = p:sub(1, #root_of(p))
  local rest = p:sub(#prefix + 1):gsub(SEP .. "+$", "")
  local base = rest:match(windows and "[^/\\]*$" or "[^/]*$")
  local dir = rest:sub(1, #rest - #base):gsub(SEP .. "+$", "")
  if dir == "" and prefix == "" then
    return (#base < #rest) and "/" or ".", base
  end
  return prefix .. dir, base
end

-- p cut at its last "/": the directory and the name ("a/b/c" -> "a/b", "c"; "/a" -> "",
-- "a"), or nil when p has no "/". For paths in normal form (written with "/" on every
-- system), in loops over thousands of them (a plan's view) that need none of split's
-- care for roots and trailing separators.
function M.cut(p) return p:match("^(.*)/([^/]*)$") end

-- The directories on the way down to p, from the top, as p spells them (p itself left
-- out): "a/b/c" -> {"a", "a/b"}; "/a/b" -> {"/a"}. For a path in normal form.
function M.ancestors(p)
  local out = {}
  local i = p:find("/", #root_of(p) + 1, true)
  while i do
    out[#out + 1] = p:sub(1, i - 1)
    i = p:find("/", i + 1, true)
  end
  return out
end

-- The part of p below dir ("" when p is dir itself), or nil when p is neither dir nor
-- below it: "/a/b" is below "/a" ("b") and below "/" ("a/b"); "/ab" is not below "/a".
-- Lexical and as given (normalize both first where spellings may differ); either
-- separator on Windows. The one "is it below" of the Lua side.
function M.below(p, dir)
  if windows then p, dir = p:gsub("\\", "/"), dir:gsub("\\", "/") end -- one spelling of the separator
  if p == dir then return "" end
  local n = #dir
  if n == 0 or p:sub(1, n) ~= dir then return nil end
  if dir:sub(n):match(SEP) then return p:sub(n + 1) end -- "/" or "C:\"
  if p:sub(n + 1, n + 1):match(SEP) then return p:sub(n + 2) end
  return nil
end

-- Whether p is dir or below it (M.below).
function M.inside(p, dir) return M.below(p, dir) ~= nil end

function M.dirname(p)
  return (M.split(p))
end

function M.basename(p)
  local _, base = M.split(p)
  return base
end

-- The path that leads from directory `from` to `to`, lexically. Both must be absolute,
-- or both relative to the same place; raises when no lexical answer exists.
function M.relative(from, to)
  from, to = M.normalize(from), M.normalize(to)
  if M.is_absolute(from) ~= M.is_absolute(to) then
    error("relative: '" .. from .. "' and '" .. to .. "' must both be absolute or both relative", 2)
  end
  if root_of(from) ~= root_of(to) then return to end
  local a, b = M.parts(from), M.parts(to)
  if a[1] == "." then a = {} end
  if b[1] == "." then b = {} end
  local common = 0
  while common < #a and common < #b and a[common + 1] == b[common + 1] do common = common + 1 end
  local out = {}
  for i = common + 1, #a do
    if a[i] == ".." then
      error("relative: cannot go from '" .. from .. "' to '" .. to .. "' by names alone", 2)
    end
    out[#out + 1] = ".."
  end
  for i = common + 1, #b do out[#out + 1] = b[i] end
  return #out == 0 and "." or table.concat(out, "/")
end

return M
