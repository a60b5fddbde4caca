-- replace identical files by hard links (or reflinks), with every safety check; undoable
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local plan = require "tether.plan"
local progress = require "tether.progress"
local units = require "tether.units"
local dedupe = require "tether.dedupe"
local path = require "tether.path"

local args = cli.parse({...}, {
  name = "dedupe",
  usage = "tether dedupe PATH... [--min-size SIZE] [--ignore-mtime] [--reflink] [--xdev]",
  summary = "Find files with identical content under the PATHs and replace the copies by hard links to one of them, reporting the bytes saved.",
  description = [[
Files are grouped by size, then compared byte for byte, up to 64 files of a size side by
side so that each is read once (a larger group is first split by an xxHash of the first
4 KiB, then of all the content). Only files on the same filesystem with the same owner,
group, mode and (unless --ignore-mtime) modification time are linked; empty files are
left alone. Each file is checked again right before it is replaced (a file changed
meanwhile is left alone), the replacement is atomic (a link under a temporary name
swapped with the copy), and a file that reached its filesystem's hard-link limit starts
a new group. The copies swapped out are deleted by two background threads while the
next files are linked (the run waits for them); if tether is killed before that, one
may remain beside its file as .tether-PID-N.tmp, holding the same bytes. Files that
cannot be read are reported and left alone (exit status 1). tether undo gives every
file its own copy back.

With --reflink, -n cannot try a clone: on a filesystem not known to make them (all but
btrfs, bcachefs and APFS; XFS and ZFS make them only when set up to) it says the space
saved is not checked instead of promising it. The real run stops at the first file its
filesystem cannot clone, and tries no other.]],
  options = {
    { "min-size", "only files of at least SIZE (512, 4K, 1.5M, 10G, 1KiB...; default 1 byte)", value = "SIZE", size = true, least = 1 },
    { "ignore-mtime", "link files even if their modification times differ" },
    { "reflink", "use copy-on-write clones instead of hard links (where the filesystem makes them: see below)" },
    { "xdev", "stay on the filesystem of each PATH (as find -xdev): what is mounted below it is not looked at" },
  },
  min = 1, paths = true,
})
local min_size = args.min_size or 1

local held <close>, roots = cli.roots(args) -- each there, each walked once, held till the end
-- 1. Candidates: regular files, grouped by what must match for linking to be allowed.
local line, started = progress.line(), tether.now()
local show_progress = tether.options.progress
local found = dedupe.finder({ min_size = min_size, ignore_mtime = args.ignore_mtime })
-- stat = true: the walk's thread stats each file relative to its directory.
for e in cli.walk(roots, { xdev = args.xdev, types = { "file" }, stat = true }) do
  if e.error and e.type == "dir" then cli.walk_problem(e) end
  found:add(e)
  if found.scanned % 1024 == 0 and show_progress then line:show({ label = "scanning", found.scanned .. " files", path = e.path }) end
end

-- 2. Sets of files with exactly the same bytes (tether.dedupe compares them).
local meter = progress.meter("comparing", found:bytes_to_compare(), nil, line)
local sets, merr, _, me = found:sets(show_progress and meter or nil)
if not sets then cli.exit("refused", merr .. "; nothing changed", me) end

-- 3. The plan: in each set, the file with the most links already (then the first by
-- name) stays and the others become links to it, in the order of their names.
local p = plan.new(args.reflink and "dedupe-reflink" or "dedupe", { roots = roots.paths })
local saved, duplicates, unsure = dedupe.plan(p, sets, { reflink = args.reflink })
local scanned, unreadable = found.scanned, found.unreadable
line:done()
for _, err in ipairs(unreadable) do cli.warn(err .. "; left alone") end
-- A dry run makes no clone, so on a filesystem not known to make them what a clone
-- would save is not promised: it is told apart (bytes_unchecked), and a real run that
-- cannot clone there refuses.
local unchecked = run.would(nil, unsure and unsure.bytes > 0 and unsure or nil)
-- A clone its filesystem cannot make: no other file there would be cloned either, so the
-- first such failure stops the run, naming the filesystem.
local NO_CLONE = { ENOTSUP = true, EOPNOTSUPP = true, EXDEV = true }
local function no_clone(a, code)
  if not (a.clone and NO_CLONE[code]) then return nil end
  local _, fs = tether.link_support(path.dirname(a.path))
  local _, msg, _, e = tether.fail(code, a.shown or a.path, "cannot make a copy-on-write clone here: its filesystem ("
    .. (fs or "of unknown type") .. ") makes none", "drop --reflink to hard-link the copies instead")
  return msg, e
end
local result = cli.apply_plan(p, "file", { bytes_saved = saved - (unchecked and unchecked.bytes or 0), duplicates = duplicates,
  scanned = scanned, bytes_unchecked = unchecked and unchecked.bytes or nil }, { stop = no_clone })
if not tether.options.json and not tether.options.quiet then
  local counts = string.format("(%s of %d scanned, %.1fs)", cli.count(duplicates, "duplicate file"), scanned, tether.now() - started)
  if unchecked then
    local known = saved - unchecked.bytes
    cli.say("would save %s%s, not checked: a dry run makes no clone, and %s %s not known to make them %s",
      known > 0 and units.bytes(known) .. ", and up to " or "up to ", units.bytes(unchecked.bytes) .. (known > 0 and " more" or ""),
      table.concat(unchecked.fs, ", "), #unchecked.fs > 1 and "are" or "is", counts)
  else
    cli.say("%s %s %s", result.dry and "would save" or "saved", units.bytes(saved), counts)
  end
end
return (#unreadable > 0) and run.code("problems") or cli.done()
