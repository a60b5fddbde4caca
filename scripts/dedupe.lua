-- replace identical files by hard links (or reflinks), with every safety check; undoable
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local plan = require "tether.plan"
local progress = require "tether.progress"
local units = require "tether.units"
local tempname = require "tether.tempname"

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
file its own copy back.]],
  options = {
    { "min-size", "only files of at least SIZE (512, 4K, 1.5M, 10G, 1KiB...; default 1 byte)", value = "SIZE", size = true, least = 1 },
    { "ignore-mtime", "link files even if their modification times differ" },
    { "reflink", "use copy-on-write clones instead of hard links (btrfs, XFS)" },
    { "xdev", "stay on the filesystem of each PATH (as find -xdev): what is mounted below it is not looked at" },
  },
  min = 1, paths = true,
})
local min_size = args.min_size or 1

local held <close>, roots = cli.roots(args) -- each there, each walked once, held till the end
-- 1. Candidates: regular files, grouped by what must match for linking to be allowed.
local line, started = progress.line(), tether.now()
local show_progress = tether.options.progress
local groups, seen, scanned = {}, {}, 0
-- stat = true: the walk's thread stats each file relative to its directory.
for e in cli.walk(roots, { xdev = args.xdev, types = { "file" }, stat = true }) do
  if e.error and e.type == "dir" then cli.walk_problem(e) end
  -- tether's own temporary names (a copy a killed run left) are never linked to; a name
  -- that only looks like one is the user's (tether.tempname says which is which).
  local ours = (e.name:sub(1, 8) == ".tether-" or e.path:find("/.tether-", 1, true)) and tempname.inside(e.path)
  local i = not ours and e.type == "file" and e.size and e
  scanned = scanned + 1
  if i and i.size >= min_size then
    -- One file, one candidate: another name of it (a hard link, or the same name reached
    -- again through a bind mount) is the same bytes already, nothing to save.
    local id = i.dev .. ":" .. i.ino
    if not seen[id] then
      seen[id] = true
      local key = i.size .. ":" .. i.dev .. ":" .. i.uid .. ":" .. i.gid .. ":" .. i.mode ..
        (args.ignore_mtime and "" or ":" .. i.mtime .. "." .. i.mtime_ns)
      local g = groups[key]
      if not g then g = {}; groups[key] = g end
      g[#g + 1] = i
    end
  end
  if scanned % 1024 == 0 and show_progress then line:show({ label = "scanning", scanned .. " files", path = e.path }) end
end

-- 2. Sets of files with exactly the same bytes. Up to 64 files of one size are read
-- side by side, each once, and compared byte for byte (tether.same_groups; the groups
-- of up to 64 all at once, shared by two threads); a larger group is first split by an
-- xxHash of its first 4 KiB, then of all its content, and what is still larger is
-- compared in slices of 64 that all begin with the same file.
local unreadable, compared, compare_meter = {}, 0, nil

-- The sets of files (tables with .path) in the answer of same_groups for files.
local function sets_of(files, groups, errors, out)
  if not groups then unreadable[#unreadable + 1] = errors; return end
  for _, err in ipairs(errors) do unreadable[#unreadable + 1] = err end
  for _, idx in ipairs(groups) do
    local set = {}
    for k, i in ipairs(idx) do set[k] = files[i] end
    out[#out + 1] = set
  end
end

local function split(group, key_of)
  local by = {}
  for _, f in ipairs(group) do
    local k = key_of(f)
    if k then by[k] = by[k] or {}; table.insert(by[k], f) end
  end
  local out = {}
  for _, g in pairs(by) do if #g > 1 then out[#out + 1] = g end end
  return out
end

local function hash_of(limit)
  return function(f)
    local h, err = tether.hash(f, limit) -- checked to be the file walked before it is read
    if not h then unreadable[#unreadable + 1] = err end
    return h
  end
end

local function same_sets(files, out)
  if #files <= 64 then
    compared = compared + files[1].size * #files
    if show_progress then compare_meter(compared, nil, files[1].path) end
    local groups, errors = tether.same_groups(files)
    return sets_of(files, groups, errors, out)
  end
  for _, part in ipairs(split(files, hash_of(4096))) do
    for _, g in ipairs(#part > 64 and split(part, hash_of()) or { part }) do
      if #g <= 64 then
        same_sets(g, out)
      else
        local head, joined = g[1], { g[1] }
        for at = 2, #g, 63 do
          local sets = {}
          same_sets({ head, table.unpack(g, at, math.min(at + 62, #g)) }, sets)
          for _, set in ipairs(sets) do
            if set[1] == head then -- the head's set continues across the slices
              for k = 2, #set do joined[#joined + 1] = set[k] end
            else
              out[#out + 1] = set
            end
          end
        end
        if #joined > 1 then out[#out + 1] = joined end
      end
    end
  end
end

-- What the plan (and its journal) keeps of a file: enough to tell it is unchanged, and
-- to give it back its own copy with the same mode, owner and time on undo. The file
-- that is kept is known without its ctime: each link made to it changes that.
local function identity(f)
  return { dev = f.dev, ino = f.ino, size = f.size, mtime = f.mtime, mtime_ns = f.mtime_ns,
           ctime = f.ctime, ctime_ns = f.ctime_ns, mode = f.mode, uid = f.uid, gid = f.gid }
end

local function kept_identity(f)
  local x = identity(f)
  x.ctime, x.ctime_ns = nil, nil
  return x
end

local p = plan.new(args.reflink and "dedupe-reflink" or "dedupe", { roots = roots.paths })
local saved, duplicates = 0, 0
local link_max = {}
local sets, small, lists = {}, {}, {}
-- The bytes to compare: every file that has another of its size (and owner, mode, time).
local to_compare = 0
for _, g in pairs(groups) do
  if #g > 1 then to_compare = to_compare + g[1].size * #g end
end
compare_meter = progress.meter("comparing", to_compare, nil, line)
for _, g in pairs(groups) do
  if #g > 64 then
    same_sets(g, sets)
  elseif #g > 1 then
    small[#small + 1], lists[#lists + 1] = g, g
  end
end
if show_progress then compare_meter(compared, string.format("%d groups of up to 64 files", #lists)) end
local many, merr, _, me = tether.same_groups_many(lists)
if not many then cli.exit("refused", merr .. "; nothing changed", me) end
for k, r in ipairs(many) do sets_of(small[k], r[1], r[2], sets) end

-- 3. The plan: in each set, the file with the most links already (then the first by
-- name) stays and the others become links to it, in the order of their names.
local function before(a, b) return a.nlink > b.nlink or (a.nlink == b.nlink and a.path < b.path) end
for _, set in ipairs(sets) do table.sort(set, before) end
table.sort(sets, function(a, b) return a[1].path < b[1].path end)
for _, set in ipairs(sets) do
  local leader = set[1]
  local fs = link_max[leader.dev] == nil and tether.statfs(leader.path)
  local max = link_max[leader.dev] or (fs and fs.link_max) or 65000
  link_max[leader.dev] = max
  local links, leader_id = leader.nlink, kept_identity(leader)
  for k = 2, #set do
    local f = set[k]
    if not args.reflink and links + f.nlink > max then -- the limit: a new group starts here
      leader, links, leader_id = f, f.nlink, kept_identity(f)
    else
      p:add("hardlink", { existing = leader.path, path = f.path, expect = identity(f),
                          expect_existing = leader_id, clone = args.reflink or nil })
      links = links + 1
      duplicates = duplicates + 1
      if f.nlink == 1 then saved = saved + f.size end
    end
  end
end
line:done()
for _, err in ipairs(unreadable) do cli.warn(err .. "; left alone") end
local result = cli.apply_plan(p, "file", { bytes_saved = saved, duplicates = duplicates, scanned = scanned })
if not tether.options.json and not tether.options.quiet then
  local verb = result.dry and "would save" or "saved"
  cli.say("%s %s (%d duplicate files of %d scanned, %.1fs)", verb, units.bytes(saved), duplicates, scanned,
    tether.now() - started)
end
return (#unreadable > 0) and run.code("problems") or cli.done()
