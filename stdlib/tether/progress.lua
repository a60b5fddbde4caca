-- tether.progress: one status line on stderr for long operations, redrawn in place.
-- Shown only when the host says stderr is a terminal and neither --quiet nor
-- --no-progress was given (tether.options.progress); otherwise every call is a no-op.
local tether = require "tether"

local M = {}

local function width()
  return tonumber(os.getenv("COLUMNS")) or 100
end

-- Human units: 1536 -> "1.5 KiB".
function M.bytes(n)
  local units, i = { "B", "KiB", "MiB", "GiB", "TiB" }, 1
  while n >= 1024 and i < #units do n, i = n / 1024, i + 1 end
  return i == 1 and string.format("%d B", math.floor(n)) or string.format("%.1f %s", n, units[i])
end

-- Seconds as "1h02m", "3m05s" or "12s".
function M.duration(s)
  s = math.floor(s + 0.5)
  if s >= 3600 then return string.format("%dh%02dm", s // 3600, s % 3600 // 60) end
  if s >= 60 then return string.format("%dm%02ds", s // 60, s % 60) end
  return string.format("%ds", s)
end

-- A line that redraws itself: p = progress.line(); p:show("text"); p:done().
function M.line()
  local shown = false
  local self = {}
  function self.show(_, text)
    if not tether.options.progress then return end
    local w = width() - 1
    if #text > w then text = text:sub(1, w // 2 - 2) .. "..." .. text:sub(-(w - w // 2 - 1)) end
    io.stderr:write("\r\27[K", text)
    io.stderr:flush()
    shown = true
  end
  function self.done()
    if shown then io.stderr:write("\r\27[K"); io.stderr:flush() end
    shown = false
  end
  return self
end

-- Per second since `since` (a tether.now() reading).
function M.rate(count, since)
  local dt = tether.now() - since
  return dt > 0 and count / dt or 0
end

-- A progress function for tether.walk's `progress` option: "LABEL: N entries, R/s, DIR".
-- Returns the function and its line (call line:done() before printing results).
function M.walk(label)
  local line, started = M.line(), tether.now()
  return function(s)
    line:show(string.format("%s: %d entries, %.0f/s, %d links  %s", label, s.entries,
      M.rate(s.entries, started), s.links, s.dir))
  end, line
end

return M
