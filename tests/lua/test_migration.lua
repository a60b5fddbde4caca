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
