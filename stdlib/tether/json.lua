-- tether.json: JSON for reports and journals. File names are bytes, not always UTF-8:
-- a byte that is not part of valid UTF-8 is written as "\udcXX" (a lone low surrogate,
-- as Python's surrogateescape does) and read back as that byte, so any name round-trips.
local M = {}

local ARRAY, OBJECT = {}, {}
-- Marks a table so an empty one encodes as [] or {} as intended.
function M.array(t) return setmetatable(t or {}, { __json = ARRAY }) end
function M.object(t) return setmetatable(t or {}, { __json = OBJECT }) end

local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
                  ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function encode_string(s)
  -- The common case, checked in C: valid UTF-8 with nothing to escape.
  if not s:find('[%z\1-\31"\\\127]') and utf8.len(s) then return '"' .. s .. '"' end
  local out, i, n = { '"' }, 1, #s
  while i <= n do
    local c = s:byte(i)
    local len = c < 0x80 and 1 or c >= 0xC2 and c <= 0xDF and 2 or c >= 0xE0 and c <= 0xEF and 3
      or c >= 0xF0 and c <= 0xF4 and 4 or 0
    local chunk = len > 0 and s:sub(i, i + len - 1)
    if len > 1 and not (#chunk == len and utf8.len(chunk)) then len = 0 end
    if len == 0 then
      out[#out + 1] = string.format("\\udc%02x", c)
      i = i + 1
    elseif len == 1 then
      local ch = string.char(c)
      out[#out + 1] = escapes[ch] or (c < 0x20 or c == 0x7f) and string.format("\\u%04x", c) or ch
      i = i + 1
    else
      out[#out + 1] = chunk
      i = i + len
    end
  end
  out[#out + 1] = '"'
  return table.concat(out)
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__json then return mt.__json == ARRAY end
  local n = #t
  if n == 0 then return false end
  local count = 0
  for _ in pairs(t) do count = count + 1 end
  return count == n
end

local encode
-- Keys repeat across records (path, target, status, ...): encode each once. Strings are
-- never collected from a weak table, so the cache is bounded instead (objects keyed by
-- paths would otherwise grow it without end).
local key_cache, cached, CACHE_MAX = {}, 0, 256

local function encode_table(t, indent, depth, seen, unsorted)
  if seen[t] then error("json: cannot encode a table that contains itself", 0) end
  seen[t] = true
  local nl = indent and "\n" .. string.rep(indent, depth + 1) or ""
  local close = indent and "\n" .. string.rep(indent, depth) or ""
  local colon = indent and ": " or ":"
  local parts = {}
  if is_array(t) then
    for i = 1, #t do parts[i] = encode(t[i], indent, depth + 1, seen, unsorted) end
    seen[t] = nil
    if #parts == 0 then return "[]" end
    return "[" .. nl .. table.concat(parts, "," .. nl) .. close .. "]"
  end
  local keys = {}
  for k in pairs(t) do
    if type(k) ~= "string" and math.type(k) ~= "integer" then
      error("json: object keys must be strings, got " .. type(k), 0)
    end
    keys[#keys + 1] = tostring(k)
  end
  if not unsorted then table.sort(keys) end
  for i, k in ipairs(keys) do
    local v = t[k]
    if v == nil then v = t[math.tointeger(k)] end
    local ek = key_cache[k]
    if not ek then
      ek = encode_string(k)
      if cached < CACHE_MAX then key_cache[k], cached = ek, cached + 1 end
    end
    parts[i] = ek .. colon .. encode(v, indent, depth + 1, seen, unsorted)
  end
  seen[t] = nil
  if #parts == 0 then return "{}" end
  return "{" .. nl .. table.concat(parts, "," .. nl) .. close .. "}"
end

function encode(v, indent, depth, seen, unsorted)
  local tv = type(v)
  if tv == "string" then return encode_string(v) end
  if tv == "number" then
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return math.type(v) == "integer" and tostring(v) or string.format("%.17g", v)
  end
  if tv == "boolean" then return tostring(v) end
  if tv == "nil" or v == M.null then return "null" end
  if tv == "table" then return encode_table(v, indent, depth, seen, unsorted) end
  error("json: cannot encode a " .. tv, 0)
end

M.null = setmetatable({}, { __tostring = function() return "null" end })

-- encode(value [, {indent = "  ", sort = false}]) -> string. Object keys are sorted
-- (stable output for people and tests) unless sort = false (journals, where speed counts).
function M.encode(v, opts)
  return encode(v, opts and opts.indent, 0, {}, opts and opts.sort == false)
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
