-- tether.progress: one status line on stderr for long operations, redrawn in place.
-- Shown only when the host says stderr is a terminal and neither --quiet nor
-- --no-progress was given (tether.options.progress); otherwise every call is a no-op.
local tether = require "tether"
local units = require "tether.units"

local M = {}

-- The terminal's width, asked of it at every update (TIOCGWINSZ, or the console on
-- Windows: one ioctl, at most ten times a second), so a resize shows at the next one.
-- $COLUMNS only when there is no answer: shells do not export it, and a stale one
-- would outlive a resize.
local function width()
  return tether.term_width() or tonumber(os.getenv("COLUMNS")) or 80
end

-- A terminal that cannot move its cursor (TERM=dumb, an Emacs shell buffer) gets plain
-- lines, one every few seconds, instead of a line redrawn in place.
local function dumb()
  local term = os.getenv("TERM")
  return term == "dumb" or term == "emacs"
end

-- Characters a terminal shows two columns wide (East Asian wide and fullwidth forms,
-- emoji) or none (combining marks): the ranges of wcwidth() that file names meet.
local WIDE = { { 0x1100, 0x115F }, { 0x2E80, 0x303E }, { 0x3041, 0x33FF }, { 0x3400, 0x4DBF },
               { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF },
               { 0xFE30, 0xFE4F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x1F300, 0x1F64F },
               { 0x1F900, 0x1F9FF }, { 0x20000, 0x3FFFD } }
local ZERO = { { 0x0300, 0x036F }, { 0x200B, 0x200F }, { 0x20D0, 0x20FF }, { 0xFE00, 0xFE0F } }

local function within(ranges, c)
  for _, r in ipairs(ranges) do
    if c >= r[1] and c <= r[2] then return true end
  end
  return false
end

-- The characters of text with the columns each takes. A byte that is not part of valid
-- UTF-8 (a name in another encoding) is one character of one column, as a terminal
-- shows it (one replacement character).
local function chars(text)
  local list, pos = {}, 1
  while pos <= #text do
    local b = text:byte(pos)
    local len = b >= 0xF0 and 4 or b >= 0xE0 and 3 or b >= 0xC2 and 2 or 1
    local seq = text:sub(pos, pos + len - 1)
    local c = len > 1 and utf8.len(seq) == 1 and utf8.codepoint(seq) or nil
    if not c then seq = text:sub(pos, pos) end
    local cols = c and (within(ZERO, c) and 0 or within(WIDE, c) and 2) or 1
    list[#list + 1] = { seq, cols }
    pos = pos + #seq
  end
  return list
end

-- Columns text takes on a terminal.
function M.columns(text)
  if not text:find("[\128-\255]") then return #text end
  local n = 0
  for _, ch in ipairs(chars(text)) do n = n + ch[2] end
  return n
end

-- Characters of list from `from` on (step 1) or back (step -1) that fit in room columns,
-- the index after them, and the room left.
local function take(list, from, step, room)
  local parts, i = {}, from
  while list[i] and room >= list[i][2] do
    parts[#parts + 1], room, i = list[i][1], room - list[i][2], i + step
  end
  return parts, i, room
end

-- The beginning of text that fits in w columns.
local function cut(text, w)
  return table.concat((take(chars(text), 1, 1, math.max(w, 0))))
end

-- text in at most w columns: its middle replaced by "...", never splitting a character;
-- under 8 columns, its beginning.
function M.fit(text, w)
  if M.columns(text) <= w then return text end
  if w < 8 then return cut(text, w) end
  local list = chars(text)
  local head, stop, left = take(list, 1, 1, w // 2 - 2)
  local tail, room = {}, w - 3 - (w // 2 - 2 - left)
  for i = #list, stop, -1 do
    if list[i][2] > room then break end
    table.insert(tail, 1, list[i][1])
    room = room - list[i][2]
  end
  return table.concat(head) .. "..." .. table.concat(tail)
end

-- A status: what a progress line says, as parts it can leave out to fit.
--   { label = "copying", "30%", "ETA 24s", "120.0 MiB/s", "1.2 GiB of 4.0 GiB", path = "a/b" }
-- reads "copying: 30%, ETA 24s, 120.0 MiB/s, 1.2 GiB of 4.0 GiB  a/b". Fields come most
-- important first; one may be a table { text, short = shorter text }. In fewer columns
-- the path is shortened in its middle (to no less than SHORTEST columns), then left
-- out; then the fields go, the last first, down to two; then the label (shortened the
-- same way first), then the second field; the first stays, in its short form, cut only
-- when even that is too wide. A plain string is cut in its middle. Control characters in any of
-- it are shown escaped (tether.quote), so a name cannot break the line.
local SHORTEST = 12

-- text in room columns, shortened in its middle if need be; nil when that would leave
-- less than SHORTEST columns of it.
local function squeeze(text, room)
  if M.columns(text) <= room then return text end
  if room >= SHORTEST then return M.fit(text, room) end
end

-- The first k fields, joined.
local function fields(status, k)
  local texts = {}
  for i = 1, k do
    local f = status[i]
    texts[i] = tether.quote(type(f) == "table" and f[1] or f, true)
  end
  return table.concat(texts, ", ")
end

-- The shapes a status can take, widest first, as {fields, labelled}: all fields and
-- the label, one field fewer each time down to two, then without the label down to one.
local function shapes(n, labelled)
  local list, floor = {}, math.min(n, 2)
  if labelled then
    for k = n, floor, -1 do list[#list + 1] = { k, true } end
  end
  for k = labelled and floor or n, 1, -1 do list[#list + 1] = { k, false } end
  return list
end

-- The line for a status in at most w columns.
function M.render(status, w)
  if type(status) == "string" then return M.fit(tether.quote(status, true), w) end
  local label = status.label and tether.quote(status.label, true)
  local path = status.path and tether.quote(status.path, true)
  for i, shape in ipairs(shapes(#status, label ~= nil)) do
    local text = fields(status, shape[1])
    local room = w - M.columns(text)
    if shape[2] then
      local shown = squeeze(label, room - 2)
      text = shown and (shown .. ": " .. text)
      room = shown and room - M.columns(shown) - 2 or -1
    end
    if room >= 0 then
      local shown = i == 1 and path and squeeze(path, room - 2) -- only with all the rest
      return shown and (text .. "  " .. shown) or text
    end
  end
  local first = status[1]
  return cut(tether.quote(type(first) == "table" and (first.short or first[1]) or first, true), w)
end

-- A line that redraws itself: p = progress.line(); p:show(status); p:done().
-- The status (above) is fitted to the terminal's width less one column, so the line
-- never wraps. On a terminal that cannot redraw, a plain line is printed at most every
-- few seconds, and at once when `now` is given (a new phase).
function M.line()
  local shown, plain, last_plain = false, dumb(), -math.huge
  local drawn_cols, drawn_width = 0, nil
  local self = {}
  function self.show(_, status, now)
    if not tether.options.progress then return end
    local cols = math.max(width(), 2)
    local text = M.render(status, cols - 1)
    if plain then
      local t = tether.now()
      if t - last_plain < 5 and not now then return end
      last_plain = t
      io.stderr:write(text, "\n")
    else
      -- Narrowed since the last line: a terminal that rewraps (tmux, VTE, kitty, Windows
      -- Terminal) now shows that line over several rows, the cursor on the last: go up
      -- to its first row and clear from there, so no piece of it stays behind.
      local rows = shown and cols < drawn_width and (drawn_cols + cols - 1) // cols or 1
      io.stderr:write(rows > 1 and string.format("\r\27[%dA\27[J", rows - 1) or "", "\r\27[K", text)
      shown, drawn_cols, drawn_width = true, M.columns(text), cols
    end
    io.stderr:flush()
  end
  function self.done()
    if shown then io.stderr:write("\r\27[K"); io.stderr:flush() end
    shown = false
  end
  return self
end

-- Per second since `since` (a tether.now() reading), or nil before M.RATE_AFTER seconds
-- have passed: a first tick a few microseconds in would show a rate (714.9 GiB/s) nothing
-- ever reaches.
M.RATE_AFTER = 0.5
function M.rate(count, since)
  local dt = tether.now() - since
  if dt < M.RATE_AFTER then return nil end
  return count / dt
end

-- A meter for a phase with a known total: meter(done [, extra [, path]]) shows
-- "LABEL: 30%, ETA 24s, 120.0 MiB/s, 1.2 GiB of 4.0 GiB, EXTRA  PATH" (counts of `unit`
-- instead of bytes when one is given), redrawn at most ten times a second, on `line`
-- (a new one if nil). Returns the function and its line.
function M.meter(label, total, unit, line)
  local started, last = tether.now(), 0
  line = line or M.line()
  local amount = unit and function(n) return string.format("%d", n) end or units.bytes
  local of = unit and (" " .. unit) or ""
  return function(done, extra, path)
    local now = tether.now()
    if now - last < 0.1 then return end
    local first = last == 0 -- the phase's first line is shown, even where lines are few
    last = now
    local rate = M.rate(done, started)
    local percent = total > 0 and math.min(100, done * 100 // total) or 100
    local status = {
      label = label,
      string.format("%d%%", percent),
      "ETA " .. (rate and rate > 0 and total > done and units.seconds((total - done) / rate) or "-"),
      path = path,
    }
    if rate then status[#status + 1] = (unit and string.format("%.0f", rate) or units.bytes(rate)) .. "/s" end
    status[#status + 1] = string.format("%s of %s%s", amount(done), amount(total), of)
    status[#status + 1] = extra
    line:show(status, first)
  end, line
end

-- A progress function for tether.walk's `progress` option:
-- "LABEL: N entries, R/s, L links  DIR". Returns the function and its line (call
-- line:done() before printing results).
function M.walk(label)
  local line, started = M.line(), tether.now()
  return function(s)
    local rate = M.rate(s.entries, started)
    local status = { label = label, { s.entries .. " entries", short = tostring(s.entries) }, path = s.dir }
    if rate then status[#status + 1] = string.format("%.0f/s", rate) end
    status[#status + 1] = s.links .. " links"
    line:show(status)
  end, line
end

return M
