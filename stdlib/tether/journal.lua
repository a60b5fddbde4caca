-- tether.journal: the journals of runs that change things (migrations, plans). One
-- JSON-lines file per run under $XDG_STATE_HOME/tether/journal (on Windows
-- %LOCALAPPDATA%\tether\journal; or --journal-dir); each record is on disk before the
-- step it announces is taken (tether.journal in C fsyncs).
--
-- Journals are evidence, not commands. A journal directory or file that another user
-- could have written is refused (in C, before a byte is read); a line that does not
-- decode, anywhere but a last line cut short by a crash, makes the whole journal
-- "corrupt FILE:LINE"; and every record is checked against the schema of its kind of
-- run (registered by the modules that write them) before anything acts on it.
local tether = require "tether"
local json = require "tether.json"
local path = require "tether.path"
local testhook = require "tether.testhook"

local raw = tether.raw
local M = {}
local FAST = { sort = false }

function M.dir()
  if tether.options.journal_dir then return tether.options.journal_dir end
  local state = os.getenv("XDG_STATE_HOME")
  if (not state or state == "") and tether.platform == "windows" then state = os.getenv("LOCALAPPDATA") end
  if not state or state == "" then state = path.join(os.getenv("HOME") or "/tmp", ".local/state") end
  return path.join(state, "tether/journal")
end

local function file_of(id) return path.join(M.dir(), id .. ".jsonl") end
M.file_of = file_of

-- Ids sort in the order runs started: wall-clock time to the microsecond, then a
-- random part in case two processes start in the same microsecond.
local function new_id()
  local t = tether.now(true)
  local secs = math.floor(t)
  return string.format("%s-%06d-%02x", os.date("%Y%m%d-%H%M%S", secs), math.floor((t - secs) * 1e6),
    math.random(0, 0xff))
end

local ID_PATTERN = "^%d%d%d%d%d%d%d%d%-%d%d%d%d%d%d%-%d%d%d%d%d%d%-%x%x$"
function M.valid_id(id) return type(id) == "string" and id:find(ID_PATTERN) ~= nil end

local Journal = {}
Journal.__index = Journal

-- Appends a record (a table) and returns once it is on disk; raises if it cannot be
-- written, since acting without a journal would break the promise of a safe resume.
-- The error is a table {journal = true, message =, code =} for the caller to report.
local function check(self, ok, err, code)
  local injected = testhook.journal_error()
  if injected then ok, err, code = nil, self.path .. ": cannot write the journal (" .. injected .. ")", injected end
  if not ok then error({ journal = true, message = err, code = code }, 0) end
end

function Journal:record(rec)
  rec.time = os.time()
  check(self, self.handle:append(json.encode(rec, FAST)))
end

-- A record that may wait for the next sync (for outcomes, never for intentions; no
-- time stamp, since there may be one per file).
function Journal:note(rec)
  check(self, self.handle:append(json.encode(rec, FAST), { nosync = true }))
end

function Journal:sync()
  check(self, self.handle:sync())
end

function Journal:close() self.handle:close() end

-- The journal directory, made if needed, and checked to be the caller's alone.
function M.ensure_dir()
  return raw.journal_dir(M.dir(), { create = true })
end

local OWNERS = { plan = "tether.plan", migrate = "tether.migration" }

-- Starts the journal of a new run: its first record describes the run. Fails (nil,
-- message, code) when the journal cannot be written: then nothing may be changed.
function M.create(kind, header)
  local id = new_id()
  -- The first record is held to its kind's schema before a byte is written: a run whose
  -- journal tether undo could not read is refused here, at its start.
  header.event, header.kind, header.id, header.time = "start", kind, id, os.time()
  local owner = OWNERS[kind]
  if owner and not M.schemas[kind] then require(owner) end
  local check, line, what = M.schemas[kind], 1, "a run of unknown kind '" .. tostring(kind) .. "'"
  if check then line, what = check({ header }) end
  if line then
    return tether.fail("EINVAL", file_of(id), "this run's journal would not be readable (" .. what ..
      "), so it was not started; nothing was changed")
  end
  local ok, err, code = M.ensure_dir()
  if not ok then return nil, err, code end
  local handle, herr, hcode = tether.journal(file_of(id), { create = true })
  if not handle then return nil, herr, hcode end
  local j = setmetatable({ id = id, path = file_of(id), handle = handle }, Journal)
  local wok, werr = pcall(j.record, j, header)
  if not wok then
    handle:close()
    os.remove(file_of(id)) -- the run never started: its empty journal goes
    return nil, werr.message .. "; nothing was changed", werr.code
  end
  return j
end

-- Reopens the journal of an earlier run to go on writing it.
function M.reopen(id)
  if not M.valid_id(id) then return tether.fail("EINVAL", tostring(id), "not a run id") end
  local handle, err, code = tether.journal(file_of(id))
  if not handle then return nil, err, code end
  return setmetatable({ id = id, path = file_of(id), handle = handle }, Journal)
end

-- Schemas: kind -> function(records, file) that returns nil when the records make sense
-- for that kind of run, else "LINE: what is wrong". Registered by tether.migration and
-- tether.plan, which know their own records.
M.schemas = {}

local function bad(file, line, what) return tether.fail("EINVAL", file .. ":" .. line, "corrupt journal: " .. what) end


-- Every record of a run, checked. A last line cut short by a crash (no newline at its
-- end) is not a record; any other line that does not decode, or a record that does not
-- fit its schema, makes the whole journal corrupt, and it is not believed at all.
function M.read(id)
  if not M.valid_id(id) then return tether.fail("EINVAL", tostring(id), "not a run id") end
  local file = file_of(id)
  local text, err, code = raw.journal_read(file)
  if not text then return nil, err, code end
  local records, n = {}, 0
  for line, nl in text:gmatch("([^\n]*)(\n?)") do
    if line == "" and nl == "" then break end
    n = n + 1
    if nl == "" then break end -- torn: the crash came in the middle of this write
    local ok, rec = pcall(json.decode, line)
    if not ok or type(rec) ~= "table" then return bad(file, n, "not a JSON record") end
    records[#records + 1] = rec
  end
  local first = records[1]
  if not first and n <= 1 then -- killed before its first record was whole: it did nothing
    return tether.fail("ENODATA", file, "its run was killed before it wrote its first record, and changed nothing")
  end
  if not first or first.event ~= "start" or first.id ~= id or type(first.kind) ~= "string" then
    return bad(file, 1, "does not start with the record of its run")
  end
  -- The module that writes a kind of run registers its schema (and summary) when loaded.
  local owner = OWNERS[first.kind]
  if owner and not M.schemas[first.kind] then require(owner) end
  local check = M.schemas[first.kind]
  if not check then return bad(file, 1, "a run of unknown kind '" .. tostring(first.kind) .. "'") end
  local line, what = check(records)
  if line then return bad(file, line, what) end
  return records
end

-- All runs, oldest first: {id=, kind=, header=, records=}, and the journals that could
-- not be read: {{id=, file=, message=}, ...}. One bad file hides no other run.
function M.list()
  local runs, broken = {}, {}
  local d = M.dir()
  if not tether.exists(d) then return runs, broken end
  local ok, derr = raw.journal_dir(d)
  if not ok then return runs, { { id = "", file = d, message = derr } } end
  for e in tether.walk(d, { max_depth = 1 }) do
    local id = e.depth == 1 and e.name:match("^(.*)%.jsonl$")
    if id and M.valid_id(id) then
      local records, err, code = M.read(id)
      if records then
        runs[#runs + 1] = { id = id, kind = records[1].kind, header = records[1], records = records }
      elseif code ~= "ENODATA" then -- (a run that never began is no run)
        broken[#broken + 1] = { id = id, file = e.path, message = err }
      end
    end
  end
  table.sort(runs, function(a, b) return a.id < b.id end)
  table.sort(broken, function(a, b) return a.id < b.id end)
  return runs, broken
end

-- The run named by `which` (an id, or "last"/nil for the newest one that `accept`s).
-- A named run that cannot be read says why (nil, message, code), and so does a journal
-- newer than the run that would be chosen that cannot be read. runs, broken: what
-- M.list() gave, when the caller has read the journals already.
function M.find(which, accept, runs, broken)
  if which and which ~= "last" then
    local records, err, code = M.read(which)
    if not records then
      if code == "ENOENT" then return tether.fail("ENOENT", which, "no run with this id") end
      return nil, err, code
    end
    return { id = which, kind = records[1].kind, header = records[1], records = records }
  end
  -- A journal that cannot be read may be the newest run's: then "the newest" is not
  -- known, and acting on an older run instead would be a guess.
  if not runs then runs, broken = M.list() end
  local newest_bad = broken[#broken]
  for i = #runs, 1, -1 do
    if not accept or accept(runs[i]) then
      if newest_bad and newest_bad.id > runs[i].id then break end
      return runs[i]
    end
  end
  if newest_bad then
    return nil, newest_bad.message .. "; it may be the run meant: name a run id, or move that journal away",
      "EINVAL"
  end
  return nil
end

-- Summaries: kind -> function(run) returning the run's JSON object (docs/json.md "run":
-- id, recipe, state, time, roots, ...) and whether it is still going (a migration stopped
-- part-way: its journal is what finishes it). Registered beside the schemas.
M.summaries = {}

function M.summary(run)
  local f = M.summaries[run.kind]
  local row, open = f(run)
  row.id, row.time = run.id, run.header.time
  return row, open
end

-- The runs a run names, whose journals its undo reads: tether apply's plan lists the
-- migrations it ran (header.migrations), and undoing the apply reverses them too. While
-- a run is kept, so are they (history --prune).
function M.named(run)
  local out = {}
  for _, id in ipairs(run.header.migrations or {}) do out[#out + 1] = id end
  return out
end

-- Removes the journal of a finished run (history --prune).
function M.remove(id)
  if not M.valid_id(id) then return tether.fail("EINVAL", tostring(id), "not a run id") end
  if require("tether.run").dry() then return true end
  return raw.journal_remove(M.dir(), id .. ".jsonl")
end

-- Small checks the schemas share.
M.check = {}
function M.check.abs(v)
  if type(v) ~= "string" or not path.is_absolute(v) then return false end
  for _, part in ipairs(path.parts(v)) do
    if part == "." or part == ".." then return false end
  end
  return true
end
function M.check.id(v)
  return type(v) == "table" and math.type(v.dev) == "integer" and math.type(v.ino) == "integer"
end
function M.check.int(v) return math.type(v) == "integer" end

return M
