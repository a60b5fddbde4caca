-- tether.copytree / tether.migrate from Lua: progress callbacks, errors from them, dry
-- runs, journals.
local path = require "tether.path"
local journal = require "tether.journal"
local T = {}

local function tree()
  need_symlinks()
  local d = tmpdir()
  assert(tether.mkdir(path.join(d, "src/sub"), { parents = true }))
  for i = 1, 5 do
    local f = assert(io.open(path.join(d, "src/sub/f" .. i), "w")); f:write(string.rep("x", i * 100)); f:close()
  end
  assert(tether.symlink("sub/f1", path.join(d, "src/l")))
  return d
end

function T.copytree_reports_progress_and_counts()
  local d = tree()
  local calls, last = 0, nil
  local st = assert(tether.copytree(path.join(d, "src"), path.join(d, "copy"), {
    progress = function(p) calls = calls + 1; last = p end }))
  eq(st.files, 5); eq(st.bytes, 1500); eq(st.links, 1); eq(st.dirs, 1)
  assert(calls >= 5, "called per file")
  eq(last.files, 5)
  assert(tether.verifytree(path.join(d, "src"), path.join(d, "copy"), { hash = true }))
  eq(tether.readlink(path.join(d, "copy/l")), "sub/f1")
end

function T.an_error_in_progress_stops_the_copy_and_is_raised()
  local d = tree()
  raises(function()
    tether.copytree(path.join(d, "src"), path.join(d, "copy"), {
      progress = function(p) if p.files == 2 then error("enough") end end })
  end, "enough")
  local ok, msg, code = tether.copytree(path.join(d, "src"), path.join(d, "copy"))
  eq(ok, nil); eq(code, "EEXIST")  -- the partial copy is left for the caller to remove
  assert(tether.rmtree(path.join(d, "copy")))
end

function T.verifytree_finds_a_difference()
  local d = tree()
  assert(tether.copytree(path.join(d, "src"), path.join(d, "copy")))
  local f = assert(io.open(path.join(d, "copy/sub/f3"), "r+")); f:write("y"); f:close()
  local ok, msg, code = tether.verifytree(path.join(d, "src"), path.join(d, "copy"))
  eq(ok, nil); eq(code, "EIO"); assert(msg:find("modification time"), msg) -- the write shows
  -- With the time put back, only the content tells them apart: size alone cannot.
  os.execute(string.format("touch -r '%s' '%s'", path.join(d, "src/sub/f3"), path.join(d, "copy/sub/f3")))
  assert(tether.verifytree(path.join(d, "src"), path.join(d, "copy")))  -- same size
  ok, msg, code = tether.verifytree(path.join(d, "src"), path.join(d, "copy"), { hash = true })
  eq(ok, nil); eq(code, "EIO"); assert(msg:find("content differs"), msg)
end

function T.migrate_from_lua_with_a_journal()
  local d = tree()
  local saved = tether.options.journal_dir
  tether.options.journal_dir = path.join(d, "journal")
  local plan = assert(tether.migrate(path.join(d, "src"), path.join(d, "moved"), { dry = true }))
  eq(plan.dry, true); eq(tether.info(path.join(d, "src")).type, "dir")
  local r = assert(tether.migrate(path.join(d, "src"), path.join(d, "moved")))
  eq(tether.readlink(path.join(d, "src")), r.dest)
  local runs = journal.list()
  eq(#runs, 1); eq(runs[1].id, r.id); eq(runs[1].kind, "migrate")
  eq(runs[1].records[#runs[1].records].event, "end")
  assert(require("tether.migration").continue("undo", r.id))
  eq(tether.info(path.join(d, "src")).type, "dir")
  tether.options.journal_dir = saved
end

-- What the tests of a migration's runs share: SRC in a temporary directory, journals in
-- one of their own (put back however the test ends), and a directory on another
-- filesystem where there is one (/dev/shm), removed however the test ends.
local migration = require "tether.migration"

local function closing(f) return setmetatable({}, { __close = f }) end

local function journals_in(d)
  local saved = tether.options.journal_dir
  tether.options.journal_dir = path.join(d, "journal")
  return closing(function() tether.options.journal_dir = saved end)
end

local function other_fs(d)
  local o = tether.exists("/dev/shm") and tether.mkdtemp("/dev/shm/tether-lua-")
  if not o or tether.info(o).dev == tether.info(d).dev then
    if o then tether.rmtree(o) end
    skip("no other filesystem (/dev/shm) here")
  end
  return o, closing(function() tether.rmtree(o) end)
end

local function records_of(id) return assert(journal.read(id)) end

-- The states of docs/migration.md are the code's table: every row, word for word (the
-- commands written for run ID).
function T.the_state_table_is_the_one_in_the_docs()
  local here = debug.getinfo(1, "S").source:match("^@(.*)[/\\]tests[/\\]lua[/\\]")
  local f = assert(io.open(path.join(here, "docs", "migration.md")))
  local text = f:read("a"); f:close()
  local section = assert(text:match("\n## States\n(.-)\n## "), "a States section")
  local rows = {}
  for line in section:gmatch("[^\n]+") do
    local cells = line:match("^| (.*) |$")
    if cells and not cells:find("^state |") and not cells:find("^%-%-%-") then
      rows[#rows + 1] = cells:gsub("`", "")
    end
  end
  local cmd = migration.commands("ID")
  local words = { RESUME = cmd.resume, ROLLBACK = cmd.rollback, UNDO = cmd.undo, FINISH = cmd.finish }
  local states, ways = {}, {}
  for _, r in ipairs(rows) do
    if r:find("^[^|]* | [^|]* | [^|]* | [^|]* | ") then ways[#ways + 1] = r else states[#states + 1] = r end
  end
  eq(#states, #migration.states, "rows of the state table")
  eq(#ways, #migration.states - 1, "rows of the commands' table (all but running)")
  for i, s in ipairs(migration.states) do
    local next = s.next and (cmd[s.next] .. (s.note and (" " .. s.note) or "")) or s.note
    eq(states[i], s.says .. " | " .. s.data .. " | " .. next:gsub("%u%u+", words), "row " .. i)
    if i > 1 then
      local cells = { s.name }
      for _, what in ipairs({ "resume", "rollback", "undo", "finish" }) do cells[#cells + 1] = s.go[what] or "refused" end
      eq(ways[i - 1], table.concat(cells, " | "), "what each command does, row " .. (i - 1))
    end
  end
end

-- A run put in each state of the table by the records that lead there, in a journal of
-- its own: the state it is told to be in, what doctor would run (next_step), whether
-- tether undo has something to do, and for each command what -n says it would do, or
-- the refusal the table gives.
function T.every_state_of_the_table_from_its_records()
  local d = tree()
  local _ <close> = journals_in(d)
  local p = assert(tether.migrate(path.join(d, "src"), path.join(d, "moved"), { dry = true }))
  p.dry, p.steps = nil, nil
  local commit = migration.commit[p.same_fs and "undo_same_fs" or "undo"]
  local function step(seq, name, dir, phase) return { event = "step", seq = seq, step = name, dir = dir, phase = phase } end
  local mode = function(m) return { event = "mode", mode = m } end
  local ended = function(s) return { event = "end", state = s } end
  local migrated = { mode("migrate"), step("migrate", "link", "do", "done"), ended("finished") }
  local function after(list, ...) local t = { table.unpack(list) }; for _, r in ipairs({ ... }) do t[#t + 1] = r end; return t end
  local leads = {
    finished = migrated,
    kept = { mode("migrate"), step("migrate", "link", "do", "done"), ended("kept") },
    ["rolled back"] = { mode("migrate"), step("migrate", "move", "do", "begin"), mode("rollback"), ended("rolled back") },
    undone = after(migrated, mode("undo"), step("undo", commit, "do", "done"), ended("undone")),
    ["rolling back"] = { mode("migrate"), step("migrate", "move", "do", "done"), mode("rollback"),
                         step("migrate", "move", "back", "begin") },
    ["taking back an undo"] = after(migrated, mode("undo"), step("undo", "unlink", "do", "done"), mode("unundo")),
    ["undone past its commit point"] = after(migrated, mode("undo"), step("undo", commit, "do", "done")),
    undoing = after(migrated, mode("undo"), step("undo", "unlink", "do", "begin")),
    finishing = { mode("migrate"), step("migrate", "link", "do", "done"), ended("kept"), mode("finish"),
                  step("migrate", "cleanup", "do", "begin") },
    ["not begun"] = {},
    linked = { mode("migrate"), step("migrate", "link", "do", "done"), step("migrate", "cleanup", "do", "failed") },
    migrating = { mode("migrate"), step("migrate", "move", "do", "begin") },
  }
  local seen = 0
  for _, s in ipairs(migration.states) do
    if s.name ~= "running" then
      local list = assert(leads[s.name], "records that lead to " .. s.name)
      local j = assert(journal.create("migrate", { plan = p }))
      for _, r in ipairs(list) do j:record(r) end
      j:close()
      local records = records_of(j.id)
      local _, command, name = migration.describe_state({ id = j.id, records = records })
      eq(name, s.name, "the state of its records")
      eq(command ~= nil, s.next ~= nil, s.name .. ": a command to go on")
      local over = s.name == "undone" or s.name == "rolled back"
      eq(migration.undone(records), over, s.name .. ": undone")
      eq(migration.undoable(records), not over, s.name .. ": undoable")
      local n = migration.next_step(records)
      local stopped = s.name ~= "finished" and s.name ~= "kept" and not over
      eq(n and n.op, stopped and s.next or nil, s.name .. ": what doctor runs")
      if n then assert(n.why:find("^it stopped") and not n.why:find("%u%u%u"), n.why) end
      for _, what in ipairs({ "resume", "rollback", "undo", "finish" }) do
        local got, err, code, outcome, _, _, e = migration.continue(what, j.id, { dry = true })
        if s.go[what] then
          -- (an undo that begins checks the tree first, -n too: these records have no
          -- tree behind them, so there the table lets it go and the check refuses)
          local checked = what == "undo" and not got and code == "EEXIST" and err:find("is no longer the link", 1, true)
          assert((got and got.dry) or checked, s.name .. ": " .. what .. " applies: " .. tostring(err))
        else
          eq(got, nil, s.name .. ": " .. what .. " is refused")
          eq(code, "EINVAL"); eq(outcome, "refused"); eq(e.errno, "EINVAL"); eq(e.path, j.id)
          local reason = s.refuse[what][1]:gsub("%u%u+.*", "") -- (up to the paths it names)
          assert(err:find(j.id .. ": " .. reason, 1, true), s.name .. ", " .. what .. ": " .. err)
        end
      end
      seen = seen + 1
    end
  end
  eq(seen, #migration.states - 1)
end

-- The questions tether.run asks of a run, across filesystems: its paths, what it
-- re-created by copying (DEST once migrated, SRC too once undone), whether it is undone.
function T.a_run_says_what_it_recopied()
  local d = tree()
  local o, _ <close> = other_fs(d)
  local _ <close> = journals_in(d)
  local src, dest = path.join(d, "src"), path.join(o, "dest")
  local r = assert(tether.migrate(src, dest))
  local records = records_of(r.id)
  local paths = migration.paths(records)
  eq(paths[1], r.src); eq(paths[2], r.dest); eq(paths.src, r.src); eq(paths.dest, r.dest)
  eq(table.concat(migration.recopied(records), " "), r.dest)
  eq(migration.undoable(records), true); eq(migration.undone(records), false)
  eq(migration.next_step(records), nil) -- finished: nothing stopped part-way
  assert(migration.undo(r.id))
  records = records_of(r.id)
  eq(table.concat(migration.recopied(records), " "), r.dest .. " " .. tether.realpath(src))
  eq(migration.undoable(records), false); eq(migration.undone(records), true)
  local again, err, code, outcome = migration.undo(r.id)
  eq(again, nil); eq(code, "EINVAL"); eq(outcome, "refused"); assert(err:find("was undone"), err)
  -- One filesystem: a rename re-creates nothing, unless DEST was an empty directory.
  r = assert(tether.migrate(src, path.join(d, "moved")))
  eq(#migration.recopied(records_of(r.id)), 0)
  assert(migration.undo(r.id))
  assert(tether.mkdir(path.join(d, "empty")))
  r = assert(tether.migrate(src, path.join(d, "empty")))
  eq(table.concat(migration.recopied(records_of(r.id)), " "), r.dest)
  assert(migration.undo(r.id))
end

-- An older migration inside a newer one's SRC, across filesystems: once the newer one is
-- undone, its copy back is a new directory. The older undo goes by opts.recopied: told
-- nothing was re-created, it refuses and changes nothing; told what the newer run
-- re-created (its M.recopied), it takes the directory there as its SRC's parent.
function T.undo_goes_by_what_newer_runs_recopied()
  local d = tree()
  local o, _ <close> = other_fs(d)
  local _ <close> = journals_in(d)
  local inner = assert(tether.migrate(path.join(d, "src/sub"), path.join(o, "sub")))
  local outer = assert(tether.migrate(path.join(d, "src"), path.join(o, "src")))
  assert(migration.undo(outer.id))
  local ok, err, code, outcome, _, _, e = migration.undo(inner.id, { recopied = {} })
  eq(ok, nil); eq(code, "ECHANGED"); eq(outcome, "refused"); eq(e.errno, "ECHANGED")
  assert(err:find("nothing was done", 1, true), err)
  eq(tether.readlink(path.join(d, "src/sub")), path.join(o, "sub"))
  eq(migration.undone(records_of(inner.id)), false)
  assert(migration.undo(inner.id, { recopied = migration.recopied(records_of(outer.id)) }))
  eq(tether.info(path.join(d, "src/sub")).type, "dir")
  eq(tether.info(path.join(d, "src/sub/f3")).size, 300)
  eq(migration.undone(records_of(inner.id)), true)
end

-- A failure comes as tether.fail's values, the error table last.
function T.failures_carry_tether_fail_values()
  local d = tree()
  local _ <close> = journals_in(d)
  local f = assert(io.open(path.join(d, "file"), "w")); f:close()
  local p, err, code, outcome, _, _, e = tether.migrate(path.join(d, "file"), path.join(d, "x"))
  eq(p, nil); eq(code, "ENOTDIR"); eq(outcome, "refused")
  eq(e.errno, "ENOTDIR"); eq(e.path, path.join(d, "file")); eq(e.reason, "is not a directory"); eq(e.message, err)
  local _, nerr, ncode, _, _, _, ne = migration.continue("resume")
  eq(ncode, "ENOENT"); eq(ne.path, journal.dir()); assert(nerr:find("nothing to resume", 1, true), nerr)
end

-- The writer scan reads /proc while processes come and go: a /proc file that opens but
-- cannot be read any more (its process just ended) is a process that writes nothing.
function T.writers_scan_survives_processes_that_end_meanwhile()
  if tether.platform == "windows" or not tether.exists("/proc/self/fdinfo") then skip("no /proc here to see writers in") end
  local writers = require "tether.writers"
  local d = tmpdir()
  local file, pidfile = path.join(d, "written"), path.join(d, "pid")
  -- Another process with a file under d open for writing (its standard output).
  assert(os.execute("sleep 30 > '" .. file .. "' & echo $! > '" .. pidfile .. "'"))
  local pf = assert(io.open(pidfile)); local pid = pf:read("l"); pf:close()
  for _ = 1, 200 do -- until it has the file open
    if tether.readlink("/proc/" .. pid .. "/fd/1") == tether.realpath(file) then break end
    tether.sleep(0.01)
  end
  local seen = writers.scan({ tether.realpath(d) })
  local real_open = io.open
  io.open = function(name, mode) -- every fdinfo read fails, as for a process that just ended
    if name:find("/fdinfo/", 1, true) then
      return { read = function() return nil end, close = function() end }
    end
    return real_open(name, mode)
  end
  local ok, w = pcall(writers.scan, { tether.realpath(d) })
  io.open = real_open
  os.execute("kill " .. pid)
  eq(#seen, 1) -- seen while it could be read
  assert(ok, w)
  eq(#w, 0)
end

return T
