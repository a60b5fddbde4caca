-- tether.json: JSON for reports and journals. File names are bytes, not always UTF-8:
-- a byte that is not part of valid UTF-8 is written as "\udcXX" (a lone low surrogate,
-- as Python's surrogateescape does) and read back as that byte, so any name round-trips.
local M = {}

local ARRAY, OBJECT = {}, {}
-- Marks a table so an empty one encodes as [] or {} as intended.
function M.array(t) return setmetatable(t or {}, { __json = ARRAY }) end
function M.object(t) return setmetatable(t or {}, { __json = OBJECT }) end

M.null = setmetatable({}, { __tostring = function() return "null" end })

-- The encoder is in C (journals and reports encode a record per file); it writes a byte
-- that is not valid UTF-8 as "\udcXX", and tables marked by array()/object() as such.
local c_encode = require("tether")._json_encoder(ARRAY, OBJECT, M.null)

-- encode(value [, {indent = "  ", sort = false}]) -> string. Object keys are sorted
-- (stable output for people and tests) unless sort = false (journals, where speed counts).
-- Raises "json: ..." for a value JSON cannot hold (a function, a table inside itself).
function M.encode(v, opts)
  return c_encode(v, opts and opts.indent, not (opts and opts.sort == false))
end

-- decode(string) -> value; raises "json: ... at byte N" on malformed input.
function M.decode(s)
  local pos = 1
  local function fail(what) error(string.format("json: %s at byte %d", what, pos), 0) end
  local function ws() pos = s:find("[^ \t\r\n]", pos) or #s + 1 end
  local value

  local function str()
    local out = {}
    pos = pos + 1
    while true do
      local a, b = s:find('^[^"\\]+', pos)
      if a then out[#out + 1] = s:sub(a, b); pos = b + 1 end
      local c = s:sub(pos, pos)
      if c == '"' then pos = pos + 1; return table.concat(out) end
      if c == "" then fail("unterminated string") end
      local e = s:sub(pos + 1, pos + 1)
      local simple = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
      if simple[e] then
        out[#out + 1] = simple[e]; pos = pos + 2
      elseif e == "u" then
        local hex = s:match("^%x%x%x%x", pos + 2) or fail("bad \\u escape")
        local cp = tonumber(hex, 16)
        pos = pos + 6
        if cp >= 0xDC00 and cp <= 0xDCFF and cp - 0xDC00 >= 0x80 then
          out[#out + 1] = string.char(cp - 0xDC00)      -- an escaped raw byte
        elseif cp >= 0xD800 and cp <= 0xDBFF and s:match("^\\u[dD][c-fC-F]%x%x", pos) then
          local lo = tonumber(s:sub(pos + 2, pos + 5), 16)
          out[#out + 1] = utf8.char(0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00))
          pos = pos + 6
        else
          out[#out + 1] = utf8.char(cp)
        end
      else
        fail("bad escape")
      end
    end
  end

  local function num()
    local text = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos) or fail("bad number")
    pos = pos + #text
    return math.tointeger(tonumber(text)) or tonumber(text) or fail("bad number")
  end

  function value()
    ws()
    local c = s:sub(pos, pos)
    if c == "{" then
      local t = M.object()
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "}" then pos = pos + 1; return t end
      repeat
        ws()
        if s:sub(pos, pos) ~= '"' then fail("expected a key") end
        local k = str(); ws()
        if s:sub(pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        t[k] = value(); ws()
        c = s:sub(pos, pos); pos = pos + 1
      until c ~= ","
      if c ~= "}" then pos = pos - 1; fail("expected ',' or '}'") end
      return t
    elseif c == "[" then
      local t = M.array()
      pos = pos + 1; ws()
      if s:sub(pos, pos) == "]" then pos = pos + 1; return t end
      repeat
        t[#t + 1] = value(); ws()
        c = s:sub(pos, pos); pos = pos + 1
      until c ~= ","
      if c ~= "]" then pos = pos - 1; fail("expected ',' or ']'") end
      return t
    elseif c == '"' then return str()
    elseif s:match("^true", pos) then pos = pos + 4; return true
    elseif s:match("^false", pos) then pos = pos + 5; return false
    elseif s:match("^null", pos) then pos = pos + 4; return M.null
    elseif c:match("[-%d]") then return num()
    end
    fail(c == "" and "unexpected end" or "unexpected '" .. c .. "'")
  end

  local v = value(); ws()
  if pos <= #s then fail("trailing characters") end
  return v
end

return M
