-- tether.journal: journals of runs on disk (each test has a journal directory of its
-- own, tests/lua/run.lua): written, read back, listed, found, removed; a torn last line
-- forgiven, any other bad line refused with FILE:LINE; evidence, not commands.
local journal = require "tether.journal"
local run = require "tether.run"
require "tether.plan" -- registers the plan kind's schema
local path = require "tether.path"
local T = {}

-- A plan's header whose one root is a real temporary directory.
local function header()
  local d = tether.realpath(tmpdir())
  local i = tether.info(d)
  return { plan_kind = "test", roots = { { path = d, dev = i.dev, ino = i.ino } }, actions = {} }
end

local function append(file, text)
  local f = assert(io.open(file, "ab")); f:write(text); f:close()
end

function T.ids_sort_in_the_order_runs_started()
  local a = assert(journal.create("plan", header())); a:close()
  local b = assert(journal.create("plan", header())); b:close()
  eq(journal.valid_id(a.id), true)
  eq(journal.valid_id("20260101-000000-000000-zz"), false)
  eq(journal.valid_id("../x"), false)
  eq(journal.valid_id(nil), false)
  assert(a.id < b.id, a.id .. " before " .. b.id)
  eq(a.path, journal.file_of(a.id))
  eq(path.dirname(a.path), journal.dir())
end

function T.a_run_is_written_read_listed_found_and_removed()
  local j = assert(journal.create("plan", header()))
  j:record({ event = "undo" })
  j:close()
  local records = assert(journal.read(j.id))
  eq(#records, 2)
  eq(records[1].event, "start")
  eq(records[1].kind, "plan")
  eq(records[1].id, j.id)
  eq(records[2].event, "undo")
  local runs, broken = journal.list()
  eq(#runs, 1); eq(#broken, 0)
  eq(runs[1].id, j.id)
  eq(journal.find(j.id).id, j.id)
  eq(journal.find("last").id, j.id)
  eq(journal.find(nil, function() return false end), nil)
  assert(journal.remove(j.id))
  eq(tether.exists(j.path), false)
  eq(#journal.list(), 0)
end

function T.errors_are_tether_fail_values()
  local ok, msg, code, e = journal.remove("../../etc/passwd")
  eq(ok, nil); eq(code, "EINVAL"); eq(msg, "../../etc/passwd: not a run id (EINVAL)"); eq(e.errno, "EINVAL")
  ok, msg, code = journal.read(42)
  eq(ok, nil); eq(code, "EINVAL"); eq(msg, "42: not a run id (EINVAL)")
  ok, msg, code, e = journal.find("20260101-000000-000000-ab")
  eq(ok, nil); eq(code, "ENOENT"); eq(msg, "20260101-000000-000000-ab: no run with this id (ENOENT)")
  eq(e.path, "20260101-000000-000000-ab")
end

function T.a_torn_last_line_is_no_record_and_any_other_bad_line_is_corrupt()
  local j = assert(journal.create("plan", header())); j:close()
  append(j.path, '{"i": 1, "pha') -- a crash in the middle of a write: no newline
  eq(#assert(journal.read(j.id)), 1)
  append(j.path, '\n{"i": 1, "phase": "done"}\n')
  local ok, msg, code = journal.read(j.id)
  eq(ok, nil); eq(code, "EINVAL")
  eq(msg, j.path .. ":2: corrupt journal: not a JSON record (EINVAL)")
  -- One bad file hides no other run, and is listed with why.
  local k = assert(journal.create("plan", header())); k:close()
  local runs, broken = journal.list()
  eq(#runs, 1); eq(runs[1].id, k.id)
  eq(#broken, 1); eq(broken[1].id, j.id); eq(broken[1].message, msg)
end

function T.a_journal_newer_than_the_run_chosen_that_cannot_be_read_stops_last()
  local old = assert(journal.create("plan", header())); old:close()
  local new = assert(journal.create("plan", header())); new:close()
  append(new.path, "not json\n")
  local r, msg, code = journal.find("last")
  eq(r, nil); eq(code, "EINVAL")
  assert(msg:find("it may be the run meant", 1, true), msg)
  eq(journal.find(old.id).id, old.id) -- by its id it is found
end

function T.a_run_killed_before_its_first_record_did_nothing()
  assert(journal.ensure_dir())
  local id = "20260101-000000-000000-ab"
  append(journal.file_of(id), "")
  local ok, msg, code = journal.read(id)
  eq(ok, nil); eq(code, "ENODATA")
  eq(msg, journal.file_of(id) .. ": its run was killed before it wrote its first record, and changed nothing (ENODATA)")
  local runs, broken = journal.list()
  eq(#runs, 0); eq(#broken, 0) -- no run at all
end

function T.records_are_held_to_their_schema()
  assert(journal.ensure_dir())
  local id = "20260101-000000-000000-cd"
  append(journal.file_of(id), '{"event":"start","kind":"nosuchkind","id":"' .. id .. '"}\n')
  local ok, msg = journal.read(id)
  eq(ok, nil)
  eq(msg, journal.file_of(id) .. ":1: corrupt journal: a run of unknown kind 'nosuchkind' (EINVAL)")
  local other = "20260101-000000-000000-ce"
  append(journal.file_of(other), '{"event":"start","kind":"plan","id":"' .. id .. '"}\n') -- another run's id
  ok, msg = journal.read(other)
  eq(ok, nil)
  assert(msg:find(":1: corrupt journal: does not start with the record of its run", 1, true), msg)
end

function T.a_run_whose_journal_would_not_be_readable_is_not_started()
  local h = header()
  h.roots = {}
  local ok, msg, code = journal.create("plan", h)
  eq(ok, nil); eq(code, "EINVAL")
  assert(msg:find("this run's journal would not be readable (no roots)", 1, true), msg)
  eq(tether.exists(journal.dir()) and #journal.list() or 0, 0)
end

function T.remove_in_a_dry_run_removes_nothing()
  local j = assert(journal.create("plan", header())); j:close()
  run.dryrun(true)
  local ok = journal.remove(j.id)
  run.dryrun(false)
  eq(ok, true)
  eq(tether.exists(j.path), true)
end

function T.a_journal_goes_on_where_it_stopped()
  local j = assert(journal.create("plan", header())); j:close()
  local again = assert(journal.reopen(j.id))
  again:record({ event = "undo" })
  again:close()
  local records = assert(journal.read(j.id))
  eq(records[#records].event, "undo")
  eq(type(records[#records].time), "number")
end

return T
