-- tether.show: a readable one-line rendering of any Lua value, used by the REPL to print
-- results. Tables are shown one level deep, keys in a stable order.
local function scalar(v)
  if type(v) == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  return tostring(v)
end

local function key(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  return "[" .. scalar(k) .. "]"
end

local function order(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return ta < tb end
  if ta == "number" or ta == "string" then return a < b end
  return tostring(a) < tostring(b)
end

return function(v)
  if type(v) ~= "table" or (getmetatable(v) and getmetatable(v).__tostring) then
    return scalar(v)
  end
  local parts, n = {}, #v
  for i = 1, n do
    parts[#parts + 1] = type(v[i]) == "table" and "{...}" or scalar(v[i])
  end
  local keys = {}
  for k in pairs(v) do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then keys[#keys + 1] = k end
  end
  table.sort(keys, order)
  for _, k in ipairs(keys) do
    local val = v[k]
    parts[#parts + 1] = key(k) .. " = " .. (type(val) == "table" and "{...}" or scalar(val))
  end
  return "{" .. table.concat(parts, ", ") .. "}"
end
