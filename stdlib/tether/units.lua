-- tether.units: sizes and durations, read from what a person types and written back for
-- a person to read. The one parser behind every option that takes one (cli.parse's
-- kind = "size" / "duration"), so --min-size, --min-free and --older-than read alike.
local M = {}

-- Binary multiples for K, M, ... and KiB, MiB, ... (as du, df and dd read K); decimal
-- for KB, MB, ... (as dd reads them).
local POWERS = { k = 1, m = 2, g = 3, t = 4, p = 5, e = 6 }
local LIMIT = 2 ^ 63

-- A number of bytes: 512, 512B, 4K, 4k, 1.5M, 10G, 1KiB, 2MB (decimal), 3T. Returns an
-- integer, or nil and why (the text is not one).
function M.size(text)
  local s = tostring(text):gsub("^%s+", ""):gsub("%s+$", "")
  local num, unit = s:match("^(%d+%.?%d*)%s*(%a*)$")
  if not num then num, unit = s:match("^(%.%d+)%s*(%a*)$") end
  local n = tonumber(num)
  if not n then return nil, "not a size" end
  local u = unit:lower()
  local base, power
  if u == "" or u == "b" then
    base, power = 1, 0
  elseif #u == 1 and POWERS[u] then
    base, power = 1024, POWERS[u]
  elseif #u == 3 and u:sub(2) == "ib" and POWERS[u:sub(1, 1)] then
    base, power = 1024, POWERS[u:sub(1, 1)]
  elseif #u == 2 and u:sub(2) == "b" and POWERS[u:sub(1, 1)] then
    base, power = 1000, POWERS[u:sub(1, 1)]
  else
    return nil, "unknown unit '" .. unit .. "'"
  end
  local bytes = n * base ^ power
  if bytes >= LIMIT then return nil, "too large" end
  if power == 0 and math.type(tonumber(num)) ~= "integer" then return nil, "not a whole number of bytes" end
  return math.floor(bytes + 0.5)
end

local SECONDS = { s = 1, m = 60, h = 3600, d = 86400, w = 604800 }
local NAMES = { sec = "s", second = "s", seconds = "s", min = "m", minute = "m", minutes = "m",
                hour = "h", hours = "h", day = "d", days = "d", week = "w", weeks = "w" }

-- A duration in seconds: 30s, 15m, 12h, 7d, 2w, 1.5h (or a plain number, taken in
-- `default` units: "s" unless said). Returns a number, or nil and why.
function M.duration(text, default)
  local s = tostring(text):gsub("^%s+", ""):gsub("%s+$", "")
  local num, unit = s:match("^(%d+%.?%d*)%s*(%a*)$")
  local n = tonumber(num)
  if not n then return nil, "not a duration" end
  local u = unit:lower()
  if u == "" then u = default or "s" end
  u = NAMES[u] or u
  if not SECONDS[u] then return nil, "unknown unit '" .. unit .. "'" end
  return n * SECONDS[u]
end

-- What each kind of value looks like, for the messages of the options that take one.
M.examples = { size = "512, 4K, 1.5M, 10G or 1KiB", duration = "30s, 15m, 12h, 7d or 2w" }

-- Bytes for a person: "512 B", "4.0 KiB", "1.5 GiB".
function M.bytes(n)
  local units, i = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" }, 1
  while n >= 1024 and i < #units do n, i = n / 1024, i + 1 end
  return i == 1 and string.format("%d B", math.floor(n)) or string.format("%.1f %s", n, units[i])
end

-- Seconds for a person: "1h02m", "3m05s" or "12s".
function M.seconds(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%dh%02dm", s // 3600, s % 3600 // 60) end
  if s >= 60 then return string.format("%dm%02ds", s // 60, s % 60) end
  return string.format("%ds", s)
end

return M
