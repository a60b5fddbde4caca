-- tether.progress: status lines that fit any terminal width. Property tests over random
-- statuses, widths and figures: every line fits, keeps its most important field, and
-- leaves parts out in the documented order (path shortened, then dropped; then fields
-- from the last; the label after the third field); and through progress.line with the
-- terminal stubbed, what reaches the terminal when it is resized between two updates.
local tether = require "tether"
local progress = require "tether.progress"
local units = require "tether.units"
local T = {}

-- Columns of text counted independently of progress.columns, for the alphabet below:
-- ASCII and 2-byte characters one column, 3- and 4-byte ones (CJK, emoji) two, a byte
-- that starts no character (\255) one.
local function columns(text)
  local n, pos = 0, 1
  while pos <= #text do
    local b = text:byte(pos)
    local len = b < 0x80 and 1 or b >= 0xF0 and b <= 0xF4 and 4 or b >= 0xE0 and b < 0xF0 and 3 or
      b >= 0xC2 and b < 0xE0 and 2 or 1
    n, pos = n + (len >= 3 and 2 or 1), pos + len
  end
  return n
end

local PIECES = { "a", "b", "z", "0", "7", "-", "_", ".", " ", "/", "é", "ü", "日", "本", "🙂", "\255" }
local function word(rng, len, extra)
  local out = {}
  for i = 1, len do
    local pool = (extra and rng(8) == 1) and extra or PIECES
    out[i] = pool[rng(#pool)]
  end
  return table.concat(out)
end

local function starts(s, prefix) return s:sub(1, #prefix) == prefix end
local function ends(s, suffix) return suffix == "" or s:sub(-#suffix) == suffix end

-- shown is text itself, or text shortened in its middle (a beginning of it, "...", an
-- end of it) to no less than 12 columns (11 where a wide character did not fit the 12th).
local function shortened_from(shown, text)
  if shown == text then return true end
  local at = shown:find("...", 1, true)
  while at do -- the text itself may hold dots: try each place
    local head, tail = shown:sub(1, at - 1), shown:sub(at + 3)
    if columns(shown) >= 11 and starts(text, head) and ends(text, tail) and #head + #tail < #text then return true end
    at = shown:find("...", at + 1, true)
  end
  return false
end

local function fields_text(status, k)
  local t = {}
  for i = 1, k do t[i] = type(status[i]) == "table" and status[i][1] or status[i] end
  return table.concat(t, ", ")
end

-- Checks one rendered line against its status and width; returns nil or what is wrong.
local function check_line(line, status, w)
  if columns(line) > w then return "wider than " .. w end
  if line:find("[%c]") then return "a control character" end
  local n = #status
  local full = (status.label and status.label .. ": " or "") .. fields_text(status, n) ..
    (status.path and "  " .. tether.quote(status.path, true) or "")
  if columns(full) <= w then
    if line ~= full then return "shortened though it fits" end
    return nil
  end
  -- The shape: [LABEL: ]F1, ..., Fk[  PATH]
  local label, rest = nil, line
  if status.label then
    for cut in line:gmatch("()") do -- the label part ends at a ": " that starts the fields
      if line:sub(cut, cut + 1) == ": " and starts(line:sub(cut + 2), fields_text(status, 1)) and
        shortened_from(line:sub(1, cut - 1), status.label) then
        label, rest = line:sub(1, cut - 1), line:sub(cut + 2)
        break
      end
    end
  end
  local k
  for i = n, 1, -1 do
    local f = fields_text(status, i)
    if rest == f or starts(rest, f .. "  ") then k = i; break end
  end
  if not k then
    local first = status[1]
    local short = type(first) == "table" and first.short or fields_text(status, 1)
    if columns(fields_text(status, 1)) <= w then return "the first field is missing" end
    if columns(short) <= w then
      if line ~= short then return "not the short form" end
    elseif not starts(short, line) then
      return "not a beginning of the first field"
    end
    return nil
  end
  local path = rest:sub(#fields_text(status, k) + 3)
  local pq = status.path and tether.quote(status.path, true)
  if path ~= "" then
    if k < n then return "a path with a field left out" end
    if status.label and not label then return "a path without the label" end
    if not shortened_from(path, pq) then return "the path is not shortened in its middle" end
  elseif k == n and pq and columns(line) + 2 + math.min(columns(pq), 12) <= w then
    return "the path left out though 12 columns of it fit"
  end
  if label and k < math.min(n, 2) then return "the label kept but the second field dropped" end
  -- (Without its label, a status shows two fields at most: the label goes after the third.)
  if k < n and not (status.label and not label and k >= 2) then
    local next_cols = columns(fields_text(status, k + 1))
    local need = label and next_cols + 2 + math.min(columns(status.label), 12) or next_cols
    if need <= w then return "field " .. (k + 1) .. " left out though it fits" end
  end
  if status.label and not label and k >= math.min(n, 2) and
    columns(fields_text(status, k)) + 2 + math.min(columns(status.label), 12) <= w then
    return "the label left out though it fits"
  end
end

local function random_status(rng)
  local status = {}
  local n = rng(6)
  for i = 1, n do status[i] = word(rng, rng(i == 1 and 20 or 14)):gsub("[,:]", ""):gsub("^ +", "x"):gsub(" +$", "y") end
  if rng(3) == 1 then status[1] = { status[1] .. " entries", short = status[1] } end
  if rng(4) > 1 then status.label = ({ "copying", "verifying", "auditing" })[rng(3)] end
  if rng(5) == 1 then status.label = "deleting /" .. word(rng, rng(60)):gsub("[,:]", "") end
  if rng(4) > 1 then status.path = word(rng, rng(200), { "\n", "\t", "\27[2J" }) end
  return status
end

function T.render_property()
  for seed = 1, 40 do
    math.randomseed(seed)
    local rng = math.random
    for _ = 1, 150 do
      local status, w = random_status(rng), rng(1, 300)
      local line = progress.render(status, w)
      local wrong = check_line(line, status, w)
      if wrong then
        error(string.format("seed %d, width %d: %s\n  line:   %q\n  status: label=%q path=%q %s", seed, w, wrong,
          line, tostring(status.label), tostring(status.path), fields_text(status, #status)))
      end
    end
  end
end

-- Checks a hand-picked status at the widths of real terminals, as a reader sees them.
function T.render_examples()
  local s = { label = "copying", "30%", "ETA 24s", "120.0 MiB/s", "1.2 GiB of 4.0 GiB", "12 of 300 files",
              path = "Games/steamapps/common/Some Game/data/textures/level-01.pak" }
  eq(progress.render(s, 200), "copying: 30%, ETA 24s, 120.0 MiB/s, 1.2 GiB of 4.0 GiB, 12 of 300 files  " ..
    "Games/steamapps/common/Some Game/data/textures/level-01.pak")
  eq(progress.render(s, 99), "copying: 30%, ETA 24s, 120.0 MiB/s, 1.2 GiB of 4.0 GiB, 12 of 300 files  " ..
    "Games/steam...level-01.pak")
  eq(progress.render(s, 79), "copying: 30%, ETA 24s, 120.0 MiB/s, 1.2 GiB of 4.0 GiB, 12 of 300 files")
  eq(progress.render(s, 39), "copying: 30%, ETA 24s, 120.0 MiB/s")
  eq(progress.render(s, 21), "copying: 30%, ETA 24s")
  eq(progress.render(s, 20), "30%, ETA 24s")
  eq(progress.render(s, 9), "30%")
  eq(progress.render(s, 2), "30")
  eq(progress.render({ label = "auditing", { "1234567 entries", short = "1234567" } }, 9), "1234567")
  eq(progress.render("a plain line that is far too long", 20), "a plain ... too long")
end

function T.fit_never_splits_a_character()
  math.randomseed(7)
  for _ = 1, 2000 do
    local text, w = word(math.random, math.random(0, 80)), math.random(0, 90)
    local got = progress.fit(text, w)
    if columns(got) > w then error(string.format("%q in %d columns: %q", text, w, got)) end
    if columns(text) <= w then eq(got, text)
    elseif w < 8 then eq(starts(text, got), true, "a beginning")
    else
      eq(shortened_from(got, text) or columns(got) < 12, true, string.format("%q from %q", got, text))
      eq(columns(got) >= w - 1, true, "uses the room (a wide character may leave one column)")
    end
    eq(progress.columns(got), columns(got), got)
  end
end

-- Runs fn with stderr, the terminal's width and the clock stubbed; returns what was
-- written to stderr, one string per write.
local function on_terminal(widths, fn)
  local saved = { stderr = io.stderr, width = tether.term_width, now = tether.now, on = tether.options.progress }
  local writes, clock = {}, 1000
  io.stderr = { write = function(self, ...) writes[#writes + 1] = table.concat({ ... }); return self end,
                flush = function() end }
  tether.term_width = function() return widths(), false end
  tether.now = function() clock = clock + 1; return clock end
  tether.options.progress = true
  local ok, err = pcall(fn)
  io.stderr, tether.term_width, tether.now, tether.options.progress = saved.stderr, saved.width, saved.now, saved.on
  if not ok then error(err, 0) end
  return writes
end

-- A migration's copy meter through one terminal resized at random between updates: each
-- line fits the width of its moment, keeps its percentage, and is drawn over a cleared
-- row; after a narrowing, the rows the last line now takes are cleared first.
function T.meter_through_resizes()
  math.randomseed(11)
  for _ = 1, 30 do
    local total = math.random(0, 2 ^ 44)
    local w = math.random(10, 300)
    local sequence = {}
    local writes = on_terminal(function() return w end, function()
      local meter = progress.meter("copying", total)
      for _ = 1, 40 do
        local done = total > 0 and math.random(0, total) or 0
        local before = w
        if math.random(3) == 1 then w = math.random(10, 300) end
        sequence[#sequence + 1] = { done = done, w = w, narrowed = w < before }
        meter(done, string.format("%d of %d files", math.random(9999), 9999), "src/" .. word(math.random, math.random(150)))
      end
    end)
    local drawn, i = nil, 0
    for _, out in ipairs(writes) do
      i = i + 1
      local step = sequence[i]
      local up, text = out:match("^\r\27%[(%d+)A\27%[J\r\27%[K(.*)$")
      if not text then text = out:match("^\r\27%[K(.*)$") end
      if not text then error(string.format("update %d: not drawn over a cleared row: %q", i, out)) end
      if columns(text) > step.w - 1 then error(string.format("update %d: %d columns at width %d: %q", i, columns(text), step.w, text)) end
      local percent = total > 0 and math.min(100, step.done * 100 // total) or 100
      if not text:find("^[^%%]-%f[%d]" .. percent .. "%%") then error(string.format("update %d: no %d%%: %q", i, percent, text)) end
      if step.w > 100 and not text:find(units.bytes(total), 1, true) then
        error(string.format("update %d: no total at width %d: %q", i, step.w, text))
      end
      local rows = drawn and step.narrowed and (drawn + step.w - 1) // step.w or 1
      eq(up and tonumber(up) + 1 or 1, rows, string.format("update %d: rows to clear after %d columns at width %d", i, drawn or 0, step.w))
      drawn = columns(text)
    end
    eq(i, #sequence, "every update drawn")
  end
end

-- A walk's line keeps its count of entries whole at any width that holds it.
function T.walk_keeps_the_count()
  for w = 10, 300, 7 do
    local writes = on_terminal(function() return w end, function()
      local show = progress.walk("auditing")
      show({ entries = 123456789, links = 42, dir = "/srv/" .. string.rep("deep/", 40) })
    end)
    local text = writes[1]:match("^\r\27%[K(.*)$")
    if not text:find("123456789", 1, true) or columns(text) > w - 1 then error(w .. ": " .. text) end
  end
end

-- Without a terminal (piped, --quiet, --no-progress) nothing at all is written.
function T.silent_without_a_terminal()
  local writes = on_terminal(function() return 80 end, function()
    tether.options.progress = false
    local line = progress.line()
    line:show("nothing to see")
    progress.meter("copying", 100, nil, line)(50)
    progress.walk("auditing")({ entries = 1, links = 0, dir = "/" })
    line:done()
  end)
  eq(#writes, 0, "writes")
end

-- done() clears the line it drew, and only then.
function T.done_clears()
  local writes = on_terminal(function() return 80 end, function()
    local line = progress.line()
    line:done()
    line:show({ label = "copying", "1%" })
    line:done()
  end)
  eq(table.concat(writes, "|"), "\r\27[Kcopying: 1%|\r\27[K")
end

-- No rate before progress.RATE_AFTER seconds: a first tick microseconds in shows none (it
-- would be a rate nothing reaches), nor an ETA from it; once time has passed, both are
-- shown, and true. The meter and the walk's line, for several first ticks.
function T.no_rate_at_first()
  for _, first in ipairs({ 0, 1e-6, 0.01, progress.RATE_AFTER / 2 }) do
    local saved, clock = tether.now, 1000
    tether.now = function() return clock end
    local writes = on_terminal(function() return 200 end, function()
      tether.now = function() return clock end
      local meter = progress.meter("copying", 2 ^ 40)
      clock = clock + 0.2 + first -- (the meter draws at most ten times a second)
      meter(2 ^ 30)
      clock = clock + 2
      meter(2 ^ 31)
      local walk = progress.walk("auditing")
      clock = clock + first
      walk({ entries = 500000, links = 7, dir = "/d" })
      clock = clock + 2
      walk({ entries = 1000000, links = 9, dir = "/d" })
    end)
    tether.now = saved
    local texts = {}
    for _, w in ipairs(writes) do
      local text = w:match("\r\27%[K(.+)$")
      if text then texts[#texts + 1] = text end
    end
    local where = "first tick after " .. first .. " s"
    eq(texts[1], "copying: 0%, ETA -, 1.0 GiB of 1.0 TiB", where)
    local rate = 2 ^ 31 / (2.2 + first)
    eq(texts[2], string.format("copying: 0%%, ETA %s, %s/s, 2.0 GiB of 1.0 TiB",
      units.seconds((2 ^ 40 - 2 ^ 31) / rate), units.bytes(rate)), where)
    eq(texts[3], "auditing: 500000 entries, 7 links  /d", where)
    eq(texts[4], string.format("auditing: 1000000 entries, %.0f/s, 9 links  /d", 1000000 / (2 + first)), where)
  end
end

return T
