-- check what a filesystem can do, and find (and with --fix, clean up) what killed runs left
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local journal = require "tether.journal"
local migration = require "tether.migration"
local path = require "tether.path"
local plan = require "tether.plan"
local probe = require "tether.probe"
local tempname = require "tether.tempname"
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

Leftovers: .tether-* names under PATH that follow the grammar of tether's own temporary
names (a temporary link, hard link or copy a killed run left beside its file; a
migration's probe link, temporary copy or kept original; the private directory of a
killed audit -o or doctor), runs that stopped part-way (a migration, its
rollback or undo; an undo of a plan), and journals that cannot be read. Exit 1 when
there is any. Other .tether-* names are reported as not tether's and never touched.

--fix takes each one further or says why not (and then exits 1), and never touches what
it cannot prove to be tether's own. A stopped run is taken the way it was going: a
migration is resumed (or its rollback, undo or finish finished), an undo finished; the
report says which command ran and why. Names of a process that is still running are in
use and left alone. A temporary link goes; a temporary hard link only when its file has
another name; a temporary copy only when a file with the same bytes (its twin) is beside
it (it becomes a name of the twin, then goes: tether undo brings the name back), all in
one journaled run. A migration's own names (its probe, copy and original) go with its
run (a kept original stays: tether migrate
--finish deletes it). A killed audit -o's or doctor's private directory is removed whole
(not journaled: it holds only a copy of a report or probe files) when it is yours,
private, and holds only what that run makes there. An unreadable journal is reported,
never changed. With -n, --fix lists what it would do.]],
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

-- 1. What each filesystem can do, by trying it in a new directory there (tether.probe).
if not args.no_probe then
  local seen = {}
  for _, r in ipairs(roots) do
    local i = tether.info(r)
    local dir = i and i.type == "dir" and r or path.dirname(r)
    local di = tether.info(dir)
    if di and not seen[di.dev] then
      seen[di.dev] = true
      report.filesystems[#report.filesystems + 1] = probe.filesystem(dir)
    end
  end
end

-- 2. Runs that stopped part-way, and journals that cannot be read. What --fix does with
-- each is decided from its journal's records (the way the run was going), never from
-- the words that describe it.
local runs, broken = journal.list()
for _, b in ipairs(broken) do report.unreadable[#report.unreadable + 1] = { path = b.file, message = b.message } end
-- The command that takes run id further by op ("resume", "rollback", "finish", "undo").
local function command(op, id) return migration.commands(id)[op] end

local stopped = {} -- {id =, op =, why =, run = the journal's run}: what --fix takes further
local by_path = {} -- a migration's temporary names -> {id =, ended =, what =, running =}
local rows = {}
for _, row in ipairs(migration.status(runs, broken)) do rows[row.id] = row end
for _, r in ipairs(runs) do
  if r.kind == "migrate" then
    local st = migration.state(r.records)
    local p = st.plan or {}
    local running = migration.running(r.records) ~= nil
    for _, k in ipairs({ "tmp", "backup", "back_tmp", "back_aside", "probe" }) do
      if p[k] then by_path[p[k]] = { id = r.id, ended = st.ended, what = k, running = running } end
    end
    local row = rows[r.id]
    if row and not row.ended and not running then
      report.runs[#report.runs + 1] = { id = r.id, recipe = "migrate", state = row.state, roots = { row.src, row.dest },
                                        where = row.data, next = row.command }
      local step = migration.next_step(r.records)
      if step then stopped[#stopped + 1] = { id = r.id, op = step.op, why = step.why, run = r } end
    end
  elseif r.kind == "plan" then
    local row = journal.summary(r)
    if plan.summary(r).undo_failed then
      report.runs[#report.runs + 1] = { id = r.id, recipe = row.recipe, state = "undo stopped part-way", roots = row.roots,
                                        next = command("undo", r.id) }
      stopped[#stopped + 1] = { id = r.id, op = "undo", why = "its undo stopped part-way: the undo is finished", run = r }
    end
  end
end

-- 3. .tether-* names under each PATH, each known by what its name says (tether.tempname
-- parses tether's grammar): who made it, and whether that process is still running. A
-- name that does not parse is not tether's: reported, never touched.
local WHAT = { tmp = "temporary copy", backup = "original set aside", back_tmp = "undo's copy",
               back_aside = "original the undo set aside", probe = "probe link" }
local function running(pid) return pid ~= tether.pid() and tether.pid_alive(pid) end
local stat_of = {} -- leftover -> its entry of the walk (stat included)

local function temp_kind(e)
  if e.type == "symlink" then return "a temporary link" end
  if e.type == "file" then return (e.nlink or 1) > 1 and "a temporary hard link" or "a temporary copy" end
  return "a temporary name"
end

local function leftover(e, t)
  local item = { path = e.path, type = e.type, tempname = t.kind, role = t.role, pid = t.pid, in_use = false }
  if t.kind == "temp" then
    item.description = temp_kind(e)
  elseif t.kind == "report" then
    item.description = "the private directory of a killed tether audit -o (only a copy of its report)"
  elseif t.kind == "doctor" then
    item.description = "the probe directory of a killed tether doctor"
  else -- a migration's own name (its copy, original or probe): its journal says whose
    local run = by_path[tether.absolute(e.path) or e.path]
    if run then
      item.description = string.format("the %s of migration %s (%s)", WHAT[run.what], run.id,
        run.running and "running" or run.ended or "unfinished")
      item.run, item.in_use = run.id, run.running
    else
      item.description = "a migration's temporary name that no journal explains"
    end
  end
  if item.pid and running(item.pid) then
    item.in_use = true
    item.description = item.description .. " of running process " .. item.pid
  end
  stat_of[item] = e
  return item
end

report.not_ours = require("tether.json").array({}) -- a list, even when empty
for _, root in ipairs(roots) do
  for e in tether.walk(root, { stat = true }) do
    if e.name and e.depth > 0 and tempname.claims(e.name) then
      local t = tempname.parse(e.name)
      if t then report.leftovers[#report.leftovers + 1] = leftover(e, t)
      else report.not_ours[#report.not_ours + 1] = { path = e.path, type = e.type } end
    end
  end
end

local problems = #report.leftovers + #report.runs + #report.unreadable

-- 4. --fix: every leftover listed is removed or finished, or said why not (and the exit
-- code says so too).
-- The fixes of temporary names, one journaled plan; a dry run's plan says so (fixes.dry),
-- and what --fix calls (a run taken further, a box removed) is as dry as the run.
local fixes = plan.new("doctor", { roots = roots })
local function fixed(entry, ok, err, code, e)
  entry.ok = ok and true or false
  if not ok then
    entry.error = type(e) == "table" and e or { message = err or ((entry.path or entry.run) .. ": not fixed"), errno = code }
    cli.warn(entry.error.message)
  end
  report.fixed[#report.fixed + 1] = entry
end
local function not_fixed(l, code, reason)
  local _, err, c, e = tether.fail(code, l.path, reason)
  fixed({ path = l.path }, false, err, c, e)
end
local function busy(l) not_fixed(l, "EBUSY", "in use (" .. l.description .. "); left alone") end

-- Runs that stopped part-way: the command that takes each further, on its way.
local fixed_run = {} -- id -> whether its run was taken further
local function finish_runs()
  for _, r in ipairs(stopped) do
    local done, err, code, e, _
    if r.run.kind == "migrate" then
      done, err, code, _, _, _, e = migration.continue(r.op, r.id, {})
    else
      done, err, code, e = plan.undo(r.run)
    end
    fixed_run[r.id] = done and true or false
    fixed({ run = r.id, command = command(r.op, r.id), why = r.why }, done, err, code, e)
  end
end

-- A migration's own names go with its run.
local function fix_migration_name(l)
  local run = by_path[tether.absolute(l.path) or l.path]
  if l.in_use then return busy(l) end
  if not run then return not_fixed(l, "EBUSY", "no journal names it, so it cannot be told whose it is; left alone") end
  if fixed_run[run.id] and (fixes.dry or not tether.exists(l.path)) then
    return fixed({ path = l.path, why = "by taking its run " .. run.id .. " further" }, true)
  end
  if fixed_run[run.id] == false then return not_fixed(l, "EBUSY", "its run " .. run.id .. " could not be taken further (see above)") end
  if run.what == "backup" and run.ended == "kept" then
    return not_fixed(l, "EBUSY", "migration " .. run.id .. " kept the original on purpose; " .. command("finish", run.id) .. " deletes it")
  end
  not_fixed(l, "EBUSY", "migration " .. run.id .. " has ended (" .. tostring(run.ended) .. ") and left it; look at it before removing it")
end

-- What a killed run's private directory may hold: a report box its one report file,
-- a doctor's probe directory what tether.probe makes. Anything else: not removed.
local function box_holds_only_its_own(kind, root)
  for e in tether.walk(root, { stat = true }) do
    if e.error then return select(2, tether.fail(e.error, e.path, "cannot be read")) end
    local ok = e.depth == 0 or (kind == "report" and e.depth == 1 and e.name == "report" and e.type == "file")
      or (kind == "doctor" and probe.made(e))
    if not ok then return e.path .. ": not something tether " .. kind .. " makes there" end
  end
end

local function remove_box(box, s)
  local c <close>, err, code, e = raw.confine({ path.dirname(box) })
  if not c then return nil, err, code, e end
  return tether.rmtree(box, { expect = { dev = s.dev, ino = s.ino } })
end

-- A private directory of a killed audit -o or doctor: removed whole, not journaled (it
-- holds only a copy of a report or probe files: nothing to give back), when it is the
-- caller's own, private, and holds only what such a run makes there.
local function fix_box(l)
  if l.in_use then return busy(l) end
  local s = stat_of[l]
  local why
  if s.type ~= "dir" then
    why = "is not a directory, which is all tether makes under this name"
  elseif s.uid ~= tether.euid() then
    why = "belongs to another user (uid " .. s.uid .. "), whose run made it: run tether doctor --fix as that user"
  elseif tether.platform ~= "windows" and s.mode & 63 ~= 0 then
    why = string.format("is not private (mode %o), as tether makes it", s.mode)
  else
    why = box_holds_only_its_own(l.tempname, l.path)
  end
  if why then return not_fixed(l, "EBUSY", why .. "; left alone") end
  local done, err, code, e = remove_box(l.path, s)
  fixed({ path = l.path, why = "process " .. l.pid .. " that made it is gone" }, done, err, code, e)
end

-- The hard-linked temporary files' other names (dev:ino -> a name that is not a
-- temporary one), found under the PATHs given.
local function other_names(temps)
  local want, names = {}, {}
  for _, t in ipairs(temps) do
    local s = stat_of[t]
    if s.type == "file" and (s.nlink or 1) > 1 then want[s.dev .. ":" .. s.ino] = true end
  end
  if not next(want) then return names end
  for _, root in ipairs(roots) do
    for e in tether.walk(root, { types = { "file" }, stat = true }) do
      local k = e.dev and (e.dev .. ":" .. e.ino)
      if k and want[k] and not tempname.parse(e.name) then names[k] = names[k] or e.path end
    end
  end
  return names
end

-- A file of the same bytes beside the temporary copy t (stat s), or nil.
local function same_bytes_beside(t, s)
  local candidates = { s }
  for e in tether.walk(path.dirname(t.path), { max_depth = 1, types = { "file" }, stat = true }) do
    if e.depth == 1 and not tempname.parse(e.name) and e.size == s.size then candidates[#candidates + 1] = e end
  end
  if #candidates < 2 or #candidates > 64 then return nil end
  local twin
  for _, set in ipairs((tether.same_groups(candidates)) or {}) do
    local has_tmp, other = false, nil
    for _, k in ipairs(set) do if k == 1 then has_tmp = true elseif not other then other = candidates[k] end end
    if has_tmp and other then twin = other end
  end
  return twin
end

-- The fix of one temporary name into plan p: a link unlinked, a hard link's temporary
-- name dropped, a copy linked to the file of its bytes beside it, then dropped; or why not.
local function add_fix(p, t, names)
  local s = stat_of[t]
  if s.type == "symlink" then
    p:add("unlink", { path = t.path, target = s.target, expect = plan.expect_of(s) })
  elseif t.tempname ~= "temp" or s.type ~= "file" then
    not_fixed(t, "EBUSY", "tether makes this name only for " .. (t.tempname == "temp" and "links and files" or "a link") .. "; left alone")
  elseif (s.nlink or 1) > 1 then
    local twin = names[s.dev .. ":" .. s.ino]
    if twin then p:add("drop", { path = t.path, existing = twin, expect = plan.expect_of(tether.info(twin)) })
    else not_fixed(t, "EBUSY", "its other names are outside the PATHs given; left alone") end
  else
    local twin = same_bytes_beside(t, s)
    if not twin then return not_fixed(t, "EBUSY", "a temporary copy with no file of the same bytes beside it; left alone") end
    p:add("hardlink", { path = t.path, existing = twin.path, expect = plan.file_identity(s),
                        expect_existing = plan.content_identity(twin) })
    p:add("drop", { path = t.path, existing = twin.path, expect = { dev = twin.dev, ino = twin.ino } })
  end
end

-- The fixes applied as one journaled plan, each name said fixed or not, and why.
local function apply_fixes(p)
  local conflicts = p:check()
  for _, c in ipairs(conflicts) do fixed({ path = c.path }, false, c.path .. ": " .. c.message) end
  if #conflicts > 0 then return end
  local result, err, code, e = p:apply({ checked = true })
  if not result then
    for _, a in ipairs(p.actions) do if a.op ~= "hardlink" then fixed({ path = a.path }, false, err, code, e) end end
    return
  end
  local failed = {} -- an action -> why it failed or was skipped
  for _, f in ipairs(result.failed_actions) do failed[f.action] = f end
  for _, f in ipairs(result.skipped_actions) do failed[f.action] = { message = f.action.path .. ": " .. f.message, code = "ECHANGED" } end
  for i, a in ipairs(p.actions) do
    -- A copy's hard link and the drop after it are one fix of one name.
    local f = failed[a] or (a.op == "drop" and p.actions[i - 1] and p.actions[i - 1].path == a.path and failed[p.actions[i - 1]])
    if a.op ~= "hardlink" then
      fixed({ path = a.path, why = "the process that made it is gone" }, not f, f and f.message, f and f.code)
    end
  end
  report.id = result.id
end

-- Temporary links, hard links and copies of processes that are gone, through one
-- journaled plan (with the runs finished, the files they touched are final).
local function fix_temp_names(temps)
  local names = other_names(temps)
  for _, t in ipairs(temps) do add_fix(fixes, t, names) end
  if #fixes.actions > 0 then apply_fixes(fixes) end
end

if args.fix and problems > 0 then
  finish_runs()
  local temps = {}
  for _, l in ipairs(report.leftovers) do
    if l.tempname == "migration" then fix_migration_name(l)
    elseif l.tempname == "report" or l.tempname == "doctor" then fix_box(l)
    elseif l.in_use then busy(l)
    else temps[#temps + 1] = l end
  end
  fix_temp_names(temps)
end

-- 5. The report.
local function count_failed()
  local n = 0
  for _, f in ipairs(report.fixed) do if not f.ok then n = n + 1 end end
  return n
end
if json then
  cli.json({ changed = run.changed(args.fix and #report.fixed > 0),
             dry = fixes.dry, id = report.id,
             filesystems = report.filesystems, leftovers = report.leftovers, not_ours = report.not_ours,
             runs = report.runs, unreadable = report.unreadable, fixed = report.fixed })
else
  for _, fs in ipairs(report.filesystems) do
    cli.say("filesystem of %s:", cli.quote(fs.path))
    if fs.error then cli.say("  cannot probe: %s", cli.quote(fs.error.message)) end
    for _, pr in ipairs(fs.probes) do
      cli.say("  %-22s %s%s", pr.name, pr.ok and "yes" or "no", pr.detail and ("  (" .. cli.quote(pr.detail) .. ")") or "")
    end
  end
  for _, n in ipairs(report.not_ours) do
    cli.say("not tether's: %s (its name is not one tether makes; left alone)", cli.quote(n.path))
  end
  if problems == 0 then cli.say("nothing left behind under %s", cli.quote(table.concat(roots, ", ")))
  else
    for _, l in ipairs(report.leftovers) do cli.say("left behind: %s: %s", cli.quote(l.path), l.description) end
    for _, r in ipairs(report.runs) do
      cli.say("stopped part-way: %s (%s, %s)%s", r.id, r.recipe, r.state, r.next and ("; next: " .. r.next) or "")
    end
    for _, u in ipairs(report.unreadable) do cli.say("journal that cannot be read: %s", cli.quote(u.message)) end
    for _, f in ipairs(report.fixed) do
      local detail = f.ok and f.why or (f.error and f.error.message)
      cli.say("%s%s%s", f.ok and run.would("fixed: ", "would fix: ") or "not fixed: ", cli.quote(f.command or f.path),
        detail and ("  (" .. cli.quote(detail) .. ")") or "")
    end
    if not args.fix then cli.say("tether doctor --fix -n lists what --fix would do") end
  end
end
if args.fix and not fixes.dry then
  return run.code(((count_failed() > 0 or #report.unreadable > 0)) and "problems" or "nothing")
end
return run.code((problems > 0) and "problems" or "nothing")
