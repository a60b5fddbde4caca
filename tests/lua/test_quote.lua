-- tether.quote (core/error.c's tt_quote), the one quoting of a name for output, and the
-- path of an error message (tether.fail, and every primitive's failure) quoted by it: a
-- quoted name reads back as a Lua string to exactly the name, holds no control
-- character, and a name with none is left as it is.
local path = require "tether.path"
local T = {}

local function random_name(no_nul)
  local t = {}
  for i = 1, math.random(1, 12) do
    local r = math.random()
    t[i] = string.char(r < 0.3 and math.random(no_nul and 1 or 0, 31) or r < 0.4 and ({ 34, 92, 127 })[math.random(3)] or math.random(32, 255))
  end
  return table.concat(t)
end

function T.quoted_names_read_back()
  math.randomseed(25)
  for _ = 1, 3000 do
    local s = random_name()
    local q = tether.quote(s)
    assert(not q:find("[%c]"), q)
    if s:find("[%c]") then
      eq(load("return " .. q)(), s, "read back")
    else
      eq(q, s, "no control character: as it is")
    end
    local b = tether.quote(s, true)
    assert(not b:find("[%c]"), b)
    if not s:find("[%c]") then eq(b, s) end
  end
end

function T.error_messages_quote_the_path_only()
  math.randomseed(26)
  for _ = 1, 300 do
    local s = random_name(true) -- (a path holds no NUL)
    local _, msg, code, e = tether.fail("EINVAL", s, "the reason", "the hint")
    eq(msg, tether.quote(s) .. ": the reason (EINVAL); the hint")
    eq(code, "EINVAL"); eq(e.path, s, "the structured error keeps the path as it is")
  end
  local d = tmpdir()
  local name = d .. "/a\tb\27[31m"
  local ok, msg, code, e = tether.unlink(name)
  -- (Windows refuses such a name: EINVAL, "invalid argument")
  local want = path.sep == "/" and "ENOENT" or "EINVAL"
  eq(ok, nil); eq(code, want)
  eq(msg:sub(1, #tether.quote(name) + 2), tether.quote(name) .. ": ")
  eq(msg:sub(-#want - 2), "(" .. want .. ")")
  eq(e.path, name)
end

return T
