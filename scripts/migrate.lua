-- move a folder to another drive and leave a link behind; crash-safe, verified, resumable
local tether = require "tether"
local cli = require "tether.cli"
local migration = require "tether.migration"
local progress = require "tether.progress"

local args = cli.parse({...}, {
  name = "migrate",
  usage = "tether migrate [OPTIONS] SRC DEST\n" ..
          "       tether migrate --resume [ID] | --rollback [ID] | --finish [ID] | --status",
  summary = "Move the folder SRC to DEST (another filesystem or the same one) and leave a link at SRC, so every program that used SRC keeps working.",
  description = [[
Across filesystems the data is copied to a temporary name beside DEST (modes, owners,
times, symlinks, hard links, sparse files and xattrs kept; links inside SRC that point
into SRC by absolute path are rewritten to point into DEST), verified, renamed into
DEST; then SRC is renamed aside, the link is made and checked to lead to DEST, and only
then is the original deleted. On the same filesystem SRC is simply renamed. Every step is
written to a journal on disk before it is taken: if the run is killed at any instant,
--resume finishes it and --rollback puts everything back. A failed step rolls back on
its own. Nothing is touched before every check has passed: SRC is a real directory,
DEST is not inside SRC and is empty or missing, DEST's filesystem has room, a link can
be made at SRC, no file under SRC is open for writing.]],
  options = {
    { "verify", "size (default): types, sizes, link targets; hash: also xxHash of every file", value = "KIND",
      choices = { size = true, hash = true } },
    { "link", "symlink, junction (Windows) or auto (default)", value = "KIND",
      choices = { symlink = true, junction = true, auto = true } },
    { "keep-backup", "keep the original (renamed aside) until tether migrate --finish" },
    { "scan", "warn about links under PATH that point into SRC (repeatable)", value = "PATH", many = true },
    { "force", "migrate even though a file under SRC is open for writing" },
    { "resume", "finish an interrupted run (the newest one, or ID)" },
    { "rollback", "return an interrupted run to how things were before it" },
    { "finish", "delete the original a --keep-backup run kept" },
    { "status", "list migrations and their state" },
  },
  epilog = "Exit codes: 0 done; 3 failed and nothing was changed (or all was put back);\n" ..
           "4 stopped part-way: the journal says where, --resume or --rollback takes it from there.\n" ..
           "Undo a finished migration with: tether undo [ID|last]",
})

local json_out = tether.options.json
local modes = 0
for _, m in ipairs { "resume", "rollback", "finish", "status" } do if args[m] then modes = modes + 1 end end
if modes > 1 then cli.exit(cli.USAGE, "migrate: --resume, --rollback, --finish and --status exclude each other") end

local function failed(err, code, how)
  cli.exit(how == "partial" and cli.PARTIAL or cli.FAILED, err)
end

if args.status then
  local runs = migration.status()
  if json_out then cli.json(runs) return cli.OK end
  if #runs == 0 then cli.say("no migrations recorded in %s", require("tether.journal").dir()) end
  for _, r in ipairs(runs) do
    cli.say("%s  %-28s %s -> %s", r.id, r.state, cli.quote(r.src), cli.quote(r.dest))
  end
  return cli.OK
end

if args.resume or args.rollback or args.finish then
  if #args > 1 then cli.exit(cli.USAGE, "migrate: give at most one run ID") end
  local what = args.resume and "resume" or args.rollback and "rollback" or "finish"
  local p, err, code = migration[what](args[1])
  if not p then failed(err, code, "partial") end
  local said = {
    resume = "finished " .. p.id .. ": " .. p.src .. " is now a link to " .. p.dest,
    rollback = "rolled back " .. p.id .. ": " .. p.src .. " is as it was before",
    finish = "deleted the kept original of " .. p.id,
  }
  if json_out then cli.json({ id = p.id, action = what, src = p.src, dest = p.dest }) else cli.say("%s", said[what]) end
  return cli.OK
end

if #args ~= 2 then cli.exit(cli.USAGE, "migrate: needs SRC and DEST; see tether help migrate") end
local src, dest = args[1], args[2]
local opts = { verify = args.verify, link = args.link, keep_backup = args.keep_backup,
               scan = args.scan, force = args.force }
local started = tether.now()

if tether.dryrun() then
  local p, err, code = migration.plan(src, dest, opts)
  if not p then failed(err, code) end
  if json_out then cli.json(p) return cli.OK end
  cli.say("would migrate %s -> %s", cli.quote(p.src), cli.quote(p.dest))
  cli.say("  data: %s in %d files, %d directories, %d links, %d hard links", progress.bytes(p.size.bytes),
    p.size.files, p.size.dirs, p.size.links, p.size.hardlinks)
  cli.say("  %s", p.same_fs and "same filesystem: a rename, no copy" or
    string.format("needs %s on the destination, %s free", progress.bytes(p.need), progress.bytes(p.free)))
  local steps = p.same_fs and { "move", "link" } or { "copy", "verify", "place", "aside", "link", p.keep_backup and nil or "cleanup" }
  for i, step in ipairs(steps) do cli.say("  %d. %s", i, migration.describe[step](p)) end
  if p.keep_backup then cli.say("  the original stays at %s until tether migrate --finish", p.backup) end
  for _, l in ipairs(p.links_into) do cli.say("  note: %s points into SRC (it keeps working through the link)", l) end
  return cli.OK
end

local p, err, code, how = tether.migrate(src, dest, opts)
if not p then failed(err, code, how) end
local secs = tether.now() - started
for _, l in ipairs(p.links_into) do cli.warn("note: " .. l .. " points into " .. p.src .. "; it keeps working through the link") end
if json_out then
  cli.json({ id = p.id, src = p.src, dest = p.dest, bytes = p.size.bytes, files = p.size.files,
             seconds = secs, same_fs = p.same_fs, link = p.link, backup = p.keep_backup and p.backup or nil })
else
  cli.say("migrated %s -> %s: %s in %d files, %.1fs%s", cli.quote(p.src), cli.quote(p.dest),
    progress.bytes(p.size.bytes), p.size.files, secs,
    (not p.same_fs and secs > 0) and (", " .. progress.bytes(p.size.bytes / secs) .. "/s") or "")
  cli.say("%s is now a %s to %s (journal %s)", cli.quote(p.src), p.link, cli.quote(p.dest), p.id)
  if p.keep_backup then cli.say("the original is kept at %s; delete it with tether migrate --finish %s", p.backup, p.id) end
end
return cli.OK
