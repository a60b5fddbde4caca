-- a guided tour: migrate a sample folder to another filesystem, audit the links, undo
local tether = require "tether"
local cli = require "tether.cli"
local path = require "tether.path"
local units = require "tether.units"

local args = cli.parse({...}, {
  name = "demo",
  usage = "tether demo [--keep]",
  summary = "Make a sample game library under a temporary directory, migrate it to another filesystem (/dev/shm when it differs from /tmp) leaving a link behind, audit every link, then undo the migration and remove everything.",
  options = { { "keep", "leave the migrated sample in place and print where it is" } },
  max = 0,
})

-- -n: the sample is still made (in its own temporary directory: tether.raw's calls are
-- blind to dry-run), and the migration is planned and shown instead of run (tether.migrate
-- is as dry as the run); then the sample goes.
local raw = tether.raw
-- The sample lives in temporary directories of its own; a failure to make or remove
-- them (a full /tmp) ends the demo with its message.
local function must(ok, err, _, e)
  if not ok then cli.exit("refused", err, e) end
  return ok
end
local root = must(raw.mkdtemp())
-- The demo keeps its journal with its sample, not among the user's own runs.
tether.options.journal_dir = tether.options.journal_dir or path.join(root, "journal")

local function write(p, text)
  local f = must(io.open(p, "w")); f:write(text); f:close()
end

-- 1. A sample folder, with the kinds of links real folders have.
local games = path.join(root, "games")
must(raw.mkdir(path.join(games, "saves"), { parents = true }))
must(raw.mkdir(path.join(games, "mods"), { parents = true }))
for i = 1, 40 do write(path.join(games, "saves", string.format("slot%02d.sav", i)), string.rep("level " .. i .. "\n", 50 * i)) end
write(path.join(games, "config.ini"), "[video]\nwidth=1920\n")
must(raw.symlink("../config.ini", path.join(games, "mods", "config-link")))
must(raw.symlink(path.join(games, "saves", "slot01.sav"), path.join(games, "latest-save")))
must(raw.hardlink(path.join(games, "saves", "slot02.sav"), path.join(games, "mods", "slot02-copy.sav")))
must(raw.symlink("no-such-mod", path.join(games, "mods", "broken-mod")))
cli.say("sample folder: %s", games)

-- 2. Migrate it to another filesystem, leaving a link.
local elsewhere = tether.info("/dev/shm") and tether.info("/dev/shm").dev ~= tether.info(root).dev
local dest_parent = elsewhere and must(raw.mkdtemp("/dev/shm/tether-demo-")) or root
local dest = path.join(dest_parent, "games-on-new-drive")
local p, err = tether.migrate(games, dest, { verify = "hash" })
if not p or p.dry then -- refused, or a dry run's plan: the sample goes
  if p then
    cli.say("\nwould migrate %s -> %s (%s, %d files%s); nothing migrated (dry run)", games, p.dest,
      units.bytes(p.size.bytes), p.size.files, elsewhere and ", across filesystems" or "")
  end
  must(raw.rmtree(root))
  if elsewhere then must(raw.rmtree(dest_parent)) end
  if not p then cli.exit("refused", err) end
  cli.say("removed the sample")
  if tether.options.json then
    cli.json({ changed = false, dry = true, src = games, dest = p.dest, bytes = p.size.bytes, files = p.size.files })
  end
  return
end
cli.say("\nmigrated %s -> %s (%s, %d files, verified by xxHash%s)", games, p.dest,
  units.bytes(p.size.bytes), p.size.files, elsewhere and ", across filesystems" or ", same filesystem")
local li = tether.info(games)
cli.say("%s is now a %s -> %s [%s]", games, li.type, li.target, li.status)

-- 3. Audit: every link under the old path, followed through the new link.
cli.say("\naudit of the migrated folder:")
local counts = {}
for e in tether.walk(games, { links_only = true, classify = true }) do
  counts[e.status] = (counts[e.status] or 0) + 1
  local note = e.depth == 0 and ", the link the migration left"
    or path.inside(e.target, p.dest) and ", rewritten to point into the new place" or ""
  cli.say("  %-7s %s -> %s (%s%s)", e.status, e.depth == 0 and games or path.below(e.path, games),
    e.target, e.form, note)
end
cli.say("  %d ok, %d broken (the broken one was broken before, and is reported, not hidden)",
  counts.ok or 0, counts.broken or 0)

-- 4. Undo (the data moves back and the link goes), unless asked to keep it.
if args.keep then
  cli.say("\nkept: %s -> %s; journal in %s", games, p.dest, tether.options.journal_dir)
  if tether.options.json then
    cli.json({ changed = true, dry = false, id = p.id, src = games, dest = p.dest, bytes = p.size.bytes, files = p.size.files })
  end
  return
end
must(require("tether.migration").continue("undo", p.id))
cli.say("\nundone: %s is a real folder again (%s)", games, tether.info(games).type)
must(raw.rmtree(root))
if elsewhere then must(raw.rmtree(dest_parent)) end
cli.say("removed the sample")
if tether.options.json then
  cli.json({ changed = false, dry = false, src = games, dest = p.dest, bytes = p.size.bytes, files = p.size.files,
             statuses = counts })
end
return
