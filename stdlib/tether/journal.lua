-- tether.journal: the journals of runs that change things (migrations, plans). One
-- JSON-lines file per run under $XDG_STATE_HOME/tether/journal (on Windows
-- %LOCALAPPDATA%\tether\journal; or --journal-dir); each
-- record is on disk before the step it announces is taken (tether.journal in C fsyncs).
local tether = require "tether"
local json = require "tether.json"
local path = require "tether.path"

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

-- Ids sort in the order runs started: wall-clock time to the microsecond, then a
-- random part in case two processes start in the same microsecond.
local function new_id()
  local t = tether.now(true)
  local secs = math.floor(t)
  return string.format("%s-%06d-%02x", os.date("%Y%m%d-%H%M%S", secs), math.floor((t - secs) * 1e6),
    math.random(0, 0xff))
end

local Journal = {}
Journal.__index = Journal

-- Appends a record (a table) and returns once it is on disk; raises if it cannot be
-- written, since acting without a journal would break the promise of a safe resume.
function Journal:record(rec)
  rec.time = os.time()
  assert(self.handle:append(json.encode(rec, FAST)))
end

-- A record that may wait for the next sync (for outcomes, never for intentions; no
-- time stamp, since there may be one per file).
function Journal:note(rec)
  assert(self.handle:append(json.encode(rec, FAST), { nosync = true }))
end

function Journal:sync() assert(self.handle:sync()) end

function Journal:close() self.handle:close() end

-- Starts the journal of a new run: its first record describes the run. Fails (nil,
-- message, code) when the journal cannot be written: then nothing may be changed.
function M.create(kind, header)
  local ok, err, code = tether.mkdir(M.dir(), { parents = true, dry = false })
  if not ok then return nil, err .. "; the journal cannot be kept there (use --journal-dir)", code end
  local id = new_id()
  local handle, herr, hcode = tether.journal(file_of(id), { create = true })
  if not handle then return nil, herr, hcode end
  local j = setmetatable({ id = id, path = file_of(id), handle = handle }, Journal)
  header.event, header.kind, header.id = "start", kind, id
  j:record(header)
  return j
end

-- Reopens the journal of an earlier run to go on writing it.
function M.reopen(id)
  local handle, err, code = tether.journal(file_of(id))
  if not handle then return nil, err, code end
  return setmetatable({ id = id, path = file_of(id), handle = handle }, Journal)
end

-- Every record of a run. A last line cut short by a crash is not a record.
function M.read(id)
  local f, err, code = io.open(file_of(id), "r")
  if not f then return nil, err, code end
  local records = {}
  for line in f:lines() do
    local ok, rec = pcall(json.decode, line)
    if ok and type(rec) == "table" then records[#records + 1] = rec end
  end
  f:close()
  if #records == 0 or records[1].event ~= "start" then
    return nil, file_of(id) .. ": not a tether journal", "EINVAL"
  end
  return records
end

-- All runs, oldest first: {id=, kind=, header=, records=}.
function M.list()
  local runs = {}
  if not tether.exists(M.dir()) then return runs end
  for e in tether.walk(M.dir(), { max_depth = 1, types = { "file" } }) do
    local id = e.name:match("^(.*)%.jsonl$")
    local records = id and M.read(id)
    if records then
      runs[#runs + 1] = { id = id, kind = records[1].kind, header = records[1], records = records }
    end
  end
  table.sort(runs, function(a, b) return a.id < b.id end)
  return runs
end

-- The run named by `which` (an id, or "last"/nil for the newest one that `accept`s).
function M.find(which, accept)
  local runs = M.list()
  for i = #runs, 1, -1 do
    local r = runs[i]
    if (which == nil or which == "last") and (not accept or accept(r)) then return r end
    if r.id == which then return r end
  end
  return nil
end

return M
