-- check what a filesystem can do, and find (and with --fix, clean up) what killed runs left
local tether = require "tether"
local cli = require "tether.cli"
local journal = require "tether.journal"
local migration = require "tether.migration"
local path = require "tether.path"
local plan = require "tether.plan"
local raw = tether.raw

local args = cli.parse({...}, {
  name = "doctor",
  usage = "tether doctor [PATH...] [--fix] [--no-probe] [-n] [--json]",
  summary = "For the filesystem of each PATH (default: .), try what tether relies on and report it; then list what killed or failed runs left behind under PATH and in the journals, and with --fix remove or finish it.",
  description = [[
Probes, each a real attempt in a temporary directory on that filesystem, removed after:
symbolic links, relative symbolic links, hard links (and the most a file may have),
junctions (Windows), reflinks, extended attributes, whether names are case-sensitive,
and the longest name. On Windows a symbolic link that cannot be made says whether
Developer Mode (or the privilege) is missing.

Leftovers: .tether-* names under PATH (a temporary link, hard link or copy a killed run
left beside its file; a migration's temporary copy or kept original), runs
that stopped part-way (a migration, its rollback or undo; an undo of a plan), and
journals that cannot be read. Exit 1 when there is any.

--fix removes or finishes each one through journaled runs, and never touches what it
cannot prove to be tether's own: a temporary name only when the process that made it is
gone; a temporary hard link only when its file has another name; a temporary copy only
when a file with the same bytes (its twin) is beside it (it becomes a name of the twin,
then goes: tether undo brings the name back); a migration's temporary names by
finishing the run its journal names (the command tether migrate --status shows). An
unreadable journal is reported, never changed. With -n, --fix lists what it would do.]],
  options = {
    { "fix", "remove or finish the leftovers (journaled; with -n: list what it would do)" },
    { "no-probe", "skip the filesystem probes" },
  },
  paths = true,
})

local roots = #args > 0 and { table.unpack(args) } or { "." }
cli.check_roots(roots)
local json = tether.options.json
local report = { filesystems = {}, leftovers = {}, runs = {}, unreadable = {}, fixed = {} }

-- 1. What each filesystem can do, by trying it in a new directory there. Every probe acts
-- from the handles of that directory (a confinement, checked to be the one just made), so
-- a user who can write DIR cannot redirect a probe anywhere else; the regular files the
-- probes need are copied in from a private directory of the system's temporary one.
local function probe(dir)
  local fs = { path = dir, probes = {} }
  local function note(name, ok, detail) fs.probes[#fs.probes + 1] = { name = name, ok = ok, detail = detail } end
  local src, serr = tether.mkdtemp()
  if not src then fs.error = { message = serr }; return fs end
  local h = io.open(path.join(src, "file"), "w")
  if h then h:write("probe"); h:close() end
  local d, err = tether.mkdtemp(path.join(dir, ".tether-doctor-"))
  local di, si = d and tether.info(d), tether.info(src)
  local c, cerr = di and si and raw.confine({ d, src }, { expect = { { dev = di.dev, ino = di.ino }, { dev = si.dev, ino = si.ino } } })
  if not c then
    fs.error = { message = err or cerr or (d .. ": changed right after it was made") }
    raw.rmtree(src)
    return fs
  end
  local f, g = path.join(d, "a", "file"), path.join(d, "b", "file")
  raw.copytree(src, path.join(d, "a"), { no_sync = true })
  raw.copytree(src, path.join(d, "b"), { no_sync = true })
  -- symbolic links, absolute and relative
  local ok, e = raw.symlink(f, path.join(d, "abs"))
  note("symlinks", ok and tether.readlink(path.join(d, "abs")) == f or false, not ok and e or nil)
  ok, e = raw.symlink("a/file", path.join(d, "rel"))
  local ri = ok and tether.info(path.join(d, "rel"))
  note("relative symlinks", ri and ri.status == "ok" or false, not ok and e or nil)
  -- hard links and how many a file may have
  ok, e = raw.hardlink(f, path.join(d, "hard"))
  local fi = tether.info(f)
  local st = tether.statfs(d)
  note("hard links", ok and fi and fi.nlink == 2 or false, ok and st and st.link_max > 0 and ("at most " .. st.link_max .. " per file") or e)
  -- junctions (NTFS)
  if tether.platform == "windows" then
    ok, e = raw.mkdir(path.join(d, "jdir"))
    if ok then ok, e = raw.junction(path.join(d, "jdir"), path.join(d, "junction")) end
    note("junctions", ok and true or false, not ok and e or nil)
  else
    note("junctions", false, "Windows (NTFS) only")
  end
  -- reflinks: a copy that shares its blocks (btrfs, XFS, APFS, ReFS)
  local gi = tether.info(g)
  ok, e = false, "could not make a file to try it with"
  if gi then ok, e = raw.link_over(f, g, plan.expect_of(gi), { clone = true }) end
  note("reflinks", ok and true or false, not ok and e or nil)
  -- extended attributes
  ok, e = raw.xattr_probe(f)
  note("extended attributes", ok and true or false, not ok and e or nil)
  -- case: does "CASE" find "case"?
  raw.mkdir(path.join(d, "case"))
  local insensitive = tether.exists(path.join(d, "CASE"))
  note("case-sensitive names", not insensitive, insensitive and "Name and NAME are the same file" or nil)
  -- the longest name: the most characters a directory name takes
  local lo, hi = 0, 1024
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    local name = path.join(d, string.rep("n", mid))
    if raw.mkdir(name) then raw.rmdir(name); lo = mid else hi = mid - 1 end
  end
  note("longest name", lo > 0, lo .. " bytes")
  -- Removed once the confinement lets go of it (Windows cannot remove a directory that
  -- is held open), checked to be still the directory made above.
  c:close()
  local gone, rerr = raw.rmtree(d, { expect = { dev = di.dev, ino = di.ino } })
  raw.rmtree(src)
  if not gone then fs.error = { message = rerr } end
  return fs
end

if not args.no_probe then
  local seen = {}
  for _, r in ipairs(roots) do
    local i = tether.info(r)
    local dir = i and i.type == "dir" and r or path.dirname(r)
    local di = tether.info(dir)
    if di and not seen[di.dev] then
      seen[di.dev] = true
      report.filesystems[#report.filesystems + 1] = probe(dir)
    end
  end
end

-- 2. Runs that stopped part-way, and journals that cannot be read.
local runs, broken = journal.list()
for _, b in ipairs(broken) do report.unreadable[#report.unreadable + 1] = { path = b.file, message = b.message } end
local by_path = {} -- a migration's temporary names -> its status row
for _, row in ipairs(migration.status(runs, broken)) do
  if not row.ended then
    report.runs[#report.runs + 1] = { id = row.id, recipe = "migrate", state = row.state, roots = { row.src, row.dest },
                                      where = row.data, next = row.command }
  end
end
for _, r in ipairs(runs) do
  if r.kind == "migrate" then
    local st = migration.state(r.records)
    local p = st.plan or {}
    for _, k in ipairs({ "tmp", "backup" }) do
      if p[k] then by_path[p[k]] = { id = r.id, ended = st.ended, what = k } end
    end
  elseif r.kind == "plan" then
    local row = journal.summary(r)
    if plan.summary(r).undo_failed then
      report.runs[#report.runs + 1] = { id = r.id, recipe = row.recipe, state = "undo stopped part-way", roots = row.roots,
                                        next = "tether undo " .. r.id }
    end
  end
end

-- 3. .tether-* names under each PATH.
local tmps = {}
for _, root in ipairs(roots) do
  for e in tether.walk(root, { stat = true }) do
    if e.name and e.name:sub(1, 8) == ".tether-" and e.depth > 0 then
      local abs = tether.absolute(e.path) or e.path
      local item = { path = e.path, type = e.type }
      local pid = e.name:match("^%.tether%-(%d+)%-%d+%.tmp$") or e.name:match("^%.tether%-probe%-(%d+)%-")
      local run = by_path[abs]
      if pid then
        item.pid = tonumber(pid)
        item.kind = e.name:find("probe") and "a migration's probe link" or
          e.type == "symlink" and "a temporary link" or
          (e.type == "file" and (e.nlink or 1) > 1) and "a temporary hard link" or
          e.type == "file" and "a temporary copy" or "a temporary name"
        if tether.pid_alive(item.pid) and item.pid ~= tether.pid() then item.kind = item.kind .. " of running process " .. pid; item.busy = true end
        item.stat = e
        tmps[#tmps + 1] = item
      elseif run then
        item.kind = string.format("the %s of migration %s (%s)", run.what == "tmp" and "temporary copy" or "kept original",
          run.id, run.ended or "unfinished")
        item.run = run.id
      elseif e.name:find("^%.tether%-doctor%-") then
        item.kind = "the probe directory of a killed tether doctor"
      elseif e.name:find("^%.tether%-report%-") then
        item.kind = "the report a killed tether audit -o was writing (only a copy: safe to delete)"
      else
        item.kind = "a name no journal explains: left alone"
      end
      report.leftovers[#report.leftovers + 1] = item
    end
  end
end

local problems = #report.leftovers + #report.runs + #report.unreadable

-- 4. --fix.
local function fixed(what, ok, err)
  if ok or type(err) ~= "string" then err = nil end
  report.fixed[#report.fixed + 1] = { what = what, ok = ok and true or false, error = err }
  if not ok then cli.warn(err or (what .. ": not fixed")) end
end
if args.fix and problems > 0 then
  local dry = tether.dryrun()
  -- Runs that stopped part-way: the command that takes each further.
  for _, r in ipairs(report.runs) do
    local what = r.next and (r.next:match("%-%-(%a+) ") or (r.next:match("^tether undo") and "undo"))
    local done, err = dry, nil
    if dry then
      -- listed only
    elseif r.recipe == "migrate" and what then
      done, err = migration.continue(what, r.id, {})
    elseif r.next and r.next:match("^tether undo") then
      local run, ferr = journal.find(r.id)
      if run then done, err = plan.undo(run) else err = ferr end
    end
    if r.next then fixed(r.next, done, err or (not done and (r.id .. ": not finished"))) end
  end
  -- Locks of runs that have ended: the run tidies them up.
  for _, l in ipairs(report.leftovers) do
    if l.kind:find("^a lock file %(stale") and l.run then
      local done, err = dry, nil
      if not dry then done, err = migration.continue("resume", l.run, {}) end
      -- A run finished above has tidied its locks already.
      if not done and not tether.exists(l.path) then done = true end
      fixed(l.path, done, err)
    end
  end
  -- Then (with the runs finished, the files they touched are final) the temporary names of
  -- processes that are gone, through one journaled plan.
  local p = plan.new("doctor", { roots = roots })
  local ino = {} -- dev:ino -> a name that is not a temporary one (for hard links)
  local want = {}
  for _, t in ipairs(tmps) do
    if not t.busy and t.stat.type == "file" and (t.stat.nlink or 1) > 1 then want[t.stat.dev .. ":" .. t.stat.ino] = true end
  end
  if next(want) then
    for _, root in ipairs(roots) do
      for e in tether.walk(root, { types = { "file" }, stat = true }) do
        local k = e.dev and (e.dev .. ":" .. e.ino)
        if k and want[k] and e.name:sub(1, 8) ~= ".tether-" then ino[k] = ino[k] or e.path end
      end
    end
  end
  for _, t in ipairs(tmps) do
    local s = t.stat
    if t.busy then
      -- in use: left alone
    elseif s.type == "symlink" then
      p:add("unlink", { path = t.path, target = s.target, expect = plan.expect_of(s) })
    elseif s.type == "file" and (s.nlink or 1) > 1 then
      local twin = ino[s.dev .. ":" .. s.ino]
      if twin then p:add("drop", { path = t.path, existing = twin, expect = plan.expect_of(tether.info(twin)) })
      else fixed(t.path, false, t.path .. ": its other names are outside the PATHs given; left alone (EBUSY)") end
    elseif s.type == "file" then
      -- A copy: only with a file of the same bytes beside it.
      local candidates = { s }
      for e in tether.walk(path.dirname(t.path), { max_depth = 1, types = { "file" }, stat = true }) do
        if e.depth == 1 and e.name:sub(1, 8) ~= ".tether-" and e.size == s.size then candidates[#candidates + 1] = e end
      end
      local twin
      if #candidates > 1 and #candidates <= 64 then
        for _, set in ipairs((tether.same_groups(candidates)) or {}) do
          local has_tmp, other = false, nil
          for _, k in ipairs(set) do if k == 1 then has_tmp = true elseif not other then other = candidates[k] end end
          if has_tmp and other then twin = other end
        end
      end
      if twin then
        local x = plan.expect_of(s)
        x.size, x.mtime, x.mtime_ns, x.mode, x.uid, x.gid = s.size, s.mtime, s.mtime_ns, s.mode, s.uid, s.gid
        local tw = { dev = twin.dev, ino = twin.ino, size = twin.size, mtime = twin.mtime, mtime_ns = twin.mtime_ns,
                     mode = twin.mode, uid = twin.uid, gid = twin.gid }
        p:add("hardlink", { path = t.path, existing = twin.path, expect = x, expect_existing = tw })
        p:add("drop", { path = t.path, existing = twin.path, expect = { dev = twin.dev, ino = twin.ino } })
      else
        fixed(t.path, false, t.path .. ": a temporary copy with no file of the same bytes beside it; left alone (EBUSY)")
      end
    end
  end
  if #p.actions > 0 then
    local conflicts = p:check()
    for _, c in ipairs(conflicts) do fixed(c.path, false, c.path .. ": " .. c.message) end
    if #conflicts == 0 then
      local result, err = p:apply()
      if not result then fixed("temporary names", false, err)
      else
        for _, a in ipairs(p.actions) do if a.op ~= "hardlink" then fixed(a.path, result.failed == 0, result.failed_actions[1] and result.failed_actions[1].message) end end
        report.id = result.id
      end
    end
  end
end

-- 5. The report.
local function count_failed()
  local n = 0
  for _, f in ipairs(report.fixed) do if not f.ok then n = n + 1 end end
  return n
end
if json then
  for _, l in ipairs(report.leftovers) do l.stat, l.busy = nil, nil end
  cli.json({ changed = (args.fix and not tether.dryrun() and #report.fixed > 0) and true or false,
             dry = tether.dryrun(), id = report.id,
             filesystems = report.filesystems, leftovers = report.leftovers, runs = report.runs,
             unreadable = report.unreadable, fixed = report.fixed })
else
  for _, fs in ipairs(report.filesystems) do
    cli.say("filesystem of %s:", cli.quote(fs.path))
    if fs.error then cli.say("  cannot probe: %s", cli.quote(fs.error.message)) end
    for _, pr in ipairs(fs.probes) do
      cli.say("  %-22s %s%s", pr.name, pr.ok and "yes" or "no", pr.detail and ("  (" .. cli.quote(pr.detail) .. ")") or "")
    end
  end
  if problems == 0 then cli.say("nothing left behind under %s", cli.quote(table.concat(roots, ", ")))
  else
    for _, l in ipairs(report.leftovers) do cli.say("left behind: %s: %s", cli.quote(l.path), l.kind) end
    for _, r in ipairs(report.runs) do
      cli.say("stopped part-way: %s (%s, %s)%s", r.id, r.recipe, r.state, r.next and ("; next: " .. r.next) or "")
    end
    for _, u in ipairs(report.unreadable) do cli.say("journal that cannot be read: %s", cli.quote(u.message)) end
    for _, f in ipairs(report.fixed) do
      cli.say("%s%s%s", f.ok and (tether.dryrun() and "would fix: " or "fixed: ") or "not fixed: ", cli.quote(f.what),
        f.error and ("  (" .. cli.quote(f.error) .. ")") or "")
    end
    if not args.fix then cli.say("tether doctor --fix -n lists what --fix would do") end
  end
end
if args.fix and not tether.dryrun() then
  return (count_failed() > 0 or #report.unreadable > 0) and cli.PROBLEMS or cli.OK
end
return problems > 0 and cli.PROBLEMS or cli.OK
