-- tether.progress: one status line on stderr for long operations, redrawn in place.
-- Shown only when the host says stderr is a terminal and neither --quiet nor
-- --no-progress was given (tether.options.progress); otherwise every call is a no-op.
local tether = require "tether"

local M = {}

-- The terminal's width, as the host reads it from the terminal (TIOCGWINSZ, or the
-- console on Windows; asked again after SIGWINCH). $COLUMNS only when there is no answer:
-- shells do not export it.
local known_width
local function width()
  local w, resized = tether.term_width()
  if w then known_width = w elseif resized or not known_width then known_width = tonumber(os.getenv("COLUMNS")) or 80 end
  return known_width, resized
end

-- A terminal that cannot move its cursor (TERM=dumb, an Emacs shell buffer) gets plain
-- lines, one every few seconds, instead of a line redrawn in place.
local function dumb()
  local term = os.getenv("TERM")
  return term == "dumb" or term == "emacs"
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
-- The line is cut to the terminal's width (less one column, so it never wraps), with
-- the middle of a long path left out. On a terminal that cannot redraw, a plain line is
-- printed at most every few seconds, and at once when `now` is given (a new phase).
function M.line()
  local shown, plain, last_plain, last_cols = false, dumb(), -math.huge, 0
  local self = {}
  function self.show(_, text, now)
    if not tether.options.progress then return end
    local w, resized = width()
    w = w - 1
    if M.columns(text) > w then text = M.fit(text, w) end
    -- After a resize the terminal may have rewrapped the last line over more rows: go
    -- up to its first row and clear from there, so no piece of it stays behind.
    local rows = resized and shown and (last_cols + w) // (w + 1) or 1
    if rows > 1 then io.stderr:write(string.format("\r\27[%dA\27[J", rows - 1)) end
    last_cols = M.columns(text)
    if plain then
      local t = tether.now()
      if t - last_plain < 5 and not now then return end
      last_plain = t
      io.stderr:write(text, "\n")
    else
      io.stderr:write("\r\27[K", text)
      shown = true
    end
    io.stderr:flush()
  end
  function self.done()
    if shown then io.stderr:write("\r\27[K"); io.stderr:flush() end
    shown = false
  end
  return self
end

-- Columns text takes: one per UTF-8 character (continuation bytes take none).
function M.columns(text)
  local _, cont = text:gsub("[\128-\191]", "")
  return #text - cont
end

-- text cut to w columns, its middle replaced by "...", never splitting a UTF-8 character.
function M.fit(text, w)
  local starts = {}
  for pos in text:gmatch("()[^\128-\191]") do starts[#starts + 1] = pos end
  local n = #starts
  if n <= w then return text end
  if w < 8 then return text:sub(1, (starts[w + 1] or #text + 1) - 1) end
  local head, tail = w // 2 - 2, w - w // 2 - 1
  return text:sub(1, starts[head + 1] - 1) .. "..." .. text:sub(starts[n - tail + 1])
end

-- A meter for a phase with a known total: meter(done [, files, extra]) shows
-- "LABEL: 1.2 GiB of 4.0 GiB (30%), 120.0 MiB/s, ETA 24s" (counts instead of bytes with
-- unit = "entries"), redrawn at most ten times a second, on `line` (a new one if nil).
-- Returns the function and its line.
function M.meter(label, total, unit, line)
  local started, last = tether.now(), 0
  line = line or M.line()
  local fmt = unit and function(n) return string.format("%d %s", n, unit) end or M.bytes
  return function(done, extra)
    local now = tether.now()
    if now - last < 0.1 then return end
    local first = last == 0 -- the phase's first line is shown, even where lines are few
    last = now
    local rate = M.rate(done, started)
    local eta = rate > 0 and total > done and M.duration((total - done) / rate) or "-"
    line:show(string.format("%s: %s of %s (%d%%), %s/s, ETA %s%s", label, fmt(done), fmt(total),
      total > 0 and math.min(100, done * 100 // total) or 100, unit and string.format("%.0f", rate) or M.bytes(rate),
      eta, extra and (", " .. extra) or ""), first)
  end, line
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
