-- move a folder to another drive and leave a link behind; crash-safe, verified, resumable
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local migration = require "tether.migration"
local preflight = require "tether.preflight"
local units = require "tether.units"

local args = cli.parse({...}, {
  name = "migrate",
  usage = "tether migrate [OPTIONS] SRC DEST\n" ..
          "       tether migrate --resume [ID] | --rollback [ID] | --finish [ID] | --status",
  summary = "Move the folder SRC to DEST (another filesystem or the same one) and leave a link at SRC, so every program that used SRC keeps working.",
  description = [[
Across filesystems the data is copied to a temporary name beside DEST (modes, owners,
times, symlinks, hard links, sparse files, xattrs, fifos and sockets kept; links inside
SRC that point into SRC by absolute path are rewritten to point into DEST), verified,
renamed into DEST; then SRC is renamed aside, checked once more for anything written
into it since the copy began, the link is made and checked to lead to DEST, and only
then is the original deleted. On the same filesystem SRC is simply renamed.

Every step is written to a journal on disk before it is taken. Until the link is in
place a failure, or Ctrl-C, puts everything back by itself (exit 3); once it is, nothing
rolls back: a failure stops, keeps the original aside and names the command that
finishes (exit 4). If the run is killed, --resume finishes it (a copy cut short keeps
the files it had finished whose source has not changed since, and the verification
still compares everything) and --rollback puts everything back; --status says where the one complete copy of the data is and what
command takes each run further. Two runs on the same SRC or DEST exclude each other.

Nothing is touched before every check has passed, and every problem is listed at once:
SRC is a real directory with no filesystem mounted inside it, everything in it can be
read and removed afterwards, DEST is not inside SRC and is empty or missing, DEST's
filesystem has room for the data and a margin (--min-free), a link can be made at SRC,
no file under SRC is open for writing, no other run holds SRC or DEST, the journal is
not inside SRC, and, across filesystems, no file under SRC has hard links outside it
(a copy on another filesystem cannot share their data, and nothing could join them
again on undo). Relative links that lead out of SRC, and processes working inside it,
are reported.]],
  options = {
    { "verify", "size (default): types, sizes, modes, owners, times, link targets; hash: also xxHash of every file",
      value = "KIND", choices = { size = true, hash = true } },
    { "link", "symlink, junction (Windows) or auto (default)", value = "KIND",
      choices = { symlink = true, junction = true, auto = true } },
    { "keep-backup", "keep the original (renamed aside) until tether migrate --finish" },
    { "scan", "warn about links under PATH that point into SRC (repeatable)", value = "PATH", many = true },
    { "force", "migrate even though a file under SRC is open for writing (what it writes may be lost), or has hard links outside SRC (the group is split for good)" },
    { "min-free", "room to leave free on DEST beyond the data (default: 2% of its filesystem, 1M to 64M)", value = "SIZE" },
    { "resume", "finish an interrupted run (the newest one, or ID)" },
    { "rollback", "put everything back as it was before an interrupted run" },
    { "finish", "delete the original a --keep-backup run kept" },
    { "status", "list migrations: their state, where the data is, the command that finishes each" },
  },
  runs_after = { "resume", "rollback", "finish" }, -- a run id may follow these (shell completion)
  epilog = "Exit codes: 0 done; 3 nothing was changed, or everything was put back; 4 stopped part-way:\n" ..
           "the message and --status name the command that finishes; 130 (Ctrl-C), 143, 129: stopped\n" ..
           "by a signal, with everything put back or the command to finish named.\n" ..
           "Undo a finished migration with: tether undo [ID|last]",
})

local json_out = tether.options.json
local modes = 0
for _, m in ipairs { "resume", "rollback", "finish", "status" } do if args[m] then modes = modes + 1 end end
if modes > 1 then cli.exit("usage", "migrate: --resume, --rollback, --finish and --status exclude each other") end

local function json_list(t) return require("tether.json").array(t or {}) end

-- Exits with the code of the brief for how the run ended, after listing the problems
-- (e: the failure as tether.fail's table, for --json).
local function failed(err, _, outcome, sig, problems, e)
  for _, pr in ipairs(problems or {}) do cli.warn(cli.quote(pr)) end
  cli.exit(outcome or "refused", err, e, sig)
end

local function say_warnings(p)
  for _, w in ipairs(p.warnings or {}) do cli.warn(cli.quote(w)) end
end

if args.status then
  local runs, broken = migration.status()
  for _, b in ipairs(broken) do cli.warn(b.message) end
  local code = run.code(#broken > 0 and "problems" or "nothing") -- the others are listed all the same
  if json_out then
    local rows = {}
    for i, r in ipairs(runs) do
      rows[i] = { id = r.id, recipe = "migrate", state = r.state, src = r.src, dest = r.dest,
                  roots = { r.src, r.dest }, where = r.data, next = r.command, ended = r.ended }
    end
    cli.json({ runs = rows })
    return code
  end
  if #runs == 0 then
    cli.say("no %smigrations recorded in %s", #broken > 0 and "other " or "", require("tether.journal").dir())
  end
  for _, r in ipairs(runs) do
    cli.say("%s  %s -> %s", r.id, cli.quote(r.src), cli.quote(r.dest))
    if r.data_known then cli.say("    %s; the data is in %s", r.state, r.data_shown)
    else cli.say("    %s; cannot tell where the data is: %s", r.state, r.data_shown) end
    if r.command then cli.say("    next: %s", r.command) end
  end
  return code
end

-- The steps a run takes (or would), from the steps table.
local function print_steps(steps)
  for i, s in ipairs(steps) do cli.say("  %d. %s", i, s) end
end

if args.resume or args.rollback or args.finish then
  if #args > 1 then cli.exit("usage", "migrate: give at most one run ID") end
  local what = args.resume and "resume" or args.rollback and "rollback" or "finish"
  local p, err, code, outcome, sig, problems, e = migration.continue(what, args[1], { force = args.force })
  if not p then failed(err, code, outcome, sig, problems, e) end
  if p.dry then
    if json_out then
      cli.json({ changed = false, dry = true, id = p.id, mode = what, src = p.src, dest = p.dest, steps = p.steps })
      return
    end
    cli.say("would %s %s (%s -> %s):", what, p.id, cli.quote(p.src), cli.quote(p.dest))
    print_steps(p.steps)
    if #p.steps == 0 then cli.say("  nothing left to do") end
    return
  end
  say_warnings(p)
  local said = {
    resume = "finished " .. p.id .. ": " .. cli.quote(p.src) .. " is now a link to " .. cli.quote(p.dest),
    rollback = "rolled back " .. p.id .. ": " .. cli.quote(p.src) .. " is as it was before",
    finish = "deleted the kept original of " .. p.id,
  }
  if json_out then
    cli.json({ changed = true, dry = false, id = p.id, mode = what, src = p.src, dest = p.dest, steps = p.did or {},
               copy = p.copy })
  else
    cli.say("%s", said[what])
    if p.copy then cli.say("  kept %d files the interrupted copy had finished, copied %d", p.copy.kept, p.copy.copied) end
  end
  return
end

if #args ~= 2 then cli.exit("usage", "migrate: needs SRC and DEST; see tether help migrate") end
local src, dest = args[1], args[2]
local min_free = args.min_free and preflight.size(args.min_free)
if args.min_free and not min_free then
  cli.exit("usage", "migrate: --min-free takes a size such as 500M or 2G, not '" .. args.min_free .. "'")
end
local opts = { verify = args.verify, link = args.link, keep_backup = args.keep_backup,
               scan = args.scan, force = args.force, min_free = min_free }
local started = tether.now()

-- A dry run's migration is its plan (tether.run decides; the plan says p.dry).
local p, err, code, outcome, sig, problems, e = tether.migrate(src, dest, opts)
if not p then failed(err, code, outcome, sig, problems, e) end
if p.dry then
  local x = { from = p.src, to = p.dest, tmp = p.tmp, bak = p.backup, link_at = p.src, link = p.link,
              verify = p.verify, size = p.size }
  local steps = {}
  for i, step in ipairs(p.steps) do steps[i] = migration.steps[step].describe(x) end
  if json_out then
    cli.json({ changed = false, dry = true, mode = "migrate", src = p.src, dest = p.dest, steps = steps,
               bytes = p.size.bytes, files = p.size.files, dirs = p.size.dirs, same_fs = p.same_fs,
               need = p.need, free = p.free, link = p.link, notes = json_list(p.notes), links_into = json_list(p.links_into) })
    return
  end
  cli.say("would migrate %s -> %s", cli.quote(p.src), cli.quote(p.dest))
  cli.say("  data: %s in %d files, %d directories, %d links, %d hard links", units.bytes(p.size.bytes),
    p.size.files, p.size.dirs, p.size.links, p.size.hardlinks)
  cli.say("  %s", p.same_fs and "same filesystem: a rename, no copy" or
    string.format("needs %s on the destination (with a %s margin), %s free", units.bytes(p.need),
      units.bytes(p.margin), units.bytes(p.free)))
  for i, step in ipairs(steps) do cli.say("  %d. %s", i, step) end
  if p.keep_backup then cli.say("  the original stays at %s until tether migrate --finish", cli.quote(p.backup)) end
  for _, n in ipairs(p.notes) do cli.say("  note: %s", cli.quote(n)) end
  for _, l in ipairs(p.links_into) do cli.say("  note: %s points into SRC (it keeps working through the link)", cli.quote(l)) end
  return
end

local secs = tether.now() - started
say_warnings(p)
for _, n in ipairs(p.notes) do cli.warn("note: " .. cli.quote(n)) end
for _, l in ipairs(p.links_into) do cli.warn("note: " .. cli.quote(l) .. " points into " .. cli.quote(p.src) .. "; it keeps working through the link") end
if json_out then
  cli.json({ changed = true, dry = false, mode = "migrate", id = p.id, src = p.src, dest = p.dest, steps = p.did or {},
             bytes = p.size.bytes, files = p.size.files, seconds = secs, same_fs = p.same_fs, link = p.link,
             backup = p.keep_backup and p.backup or nil })
else
  cli.say("migrated %s -> %s: %s in %d files, %.1fs%s", cli.quote(p.src), cli.quote(p.dest),
    units.bytes(p.size.bytes), p.size.files, secs,
    (not p.same_fs and secs > 0) and (", " .. units.bytes(p.size.bytes / secs) .. "/s") or "")
  cli.say("%s is now a %s to %s (journal %s)", cli.quote(p.src), p.link, cli.quote(p.dest), p.id)
  if p.keep_backup then cli.say("the original is kept at %s; delete it with tether migrate --finish %s", cli.quote(p.backup), p.id) end
end
return
