-- replace identical files by hard links (or reflinks), with every safety check; undoable
local tether = require "tether"
local cli = require "tether.cli"
local plan = require "tether.plan"
local progress = require "tether.progress"

local args = cli.parse({...}, {
  name = "dedupe",
  usage = "tether dedupe PATH... [--min-size N] [--ignore-mtime] [--reflink]",
  summary = "Find files with identical content under the PATHs and replace the copies by hard links to one of them, reporting the bytes saved.",
  description = [[
Files are grouped by size, then by an xxHash of their first 4 KiB, then (in groups of
more than two) by an xxHash of all of their content, and only then compared byte for
byte. Only files on the same filesystem with the same owner, group, mode and (unless
--ignore-mtime) modification time are linked; empty files are left alone. Each file is checked again right before it
is replaced (a file changed meanwhile is left alone), the replacement is atomic (a link
under a temporary name renamed over the copy), and a file that reached its filesystem's
hard-link limit starts a new group. tether undo gives every file its own copy back.]],
  options = {
    { "min-size", "only files of at least N bytes (default 1)", value = "N" },
    { "ignore-mtime", "link files even if their modification times differ" },
    { "reflink", "use copy-on-write clones instead of hard links (btrfs, XFS)" },
  },
  min = 1,
})
local min_size = tonumber(args.min_size or "1")
if not min_size or min_size < 1 then cli.exit(cli.USAGE, "dedupe: --min-size must be a number of bytes, at least 1") end

-- 1. Candidates: regular files, grouped by what must match for linking to be allowed.
local line, started = progress.line(), tether.now()
local groups, seen, scanned = {}, {}, 0
for _, root in ipairs(args) do
  for e in tether.walk(root, { types = { "file" } }) do
    local i = e.type == "file" and tether.info(e.path)
    scanned = scanned + 1
    if i and i.size >= min_size then
      local id = i.dev .. ":" .. i.ino
      if not seen[id] then -- another name of a file already counted is already shared
        seen[id] = true
        i.path = e.path
        local key = table.concat({ i.dev, i.size, i.uid, i.gid, i.mode,
          args.ignore_mtime and "" or (i.mtime .. "." .. i.mtime_ns) }, ":")
        local g = groups[key]
        if not g then g = {}; groups[key] = g end
        g[#g + 1] = i
      end
    end
    if scanned % 1024 == 0 then line:show(string.format("scanning: %d files, %s", scanned, e.path)) end
  end
end

-- 2. Split each group by a hash of the first 4 KiB, then of everything, then compare.
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

-- What the plan (and its journal) keeps of a file: enough to tell it is unchanged, and
-- to give it back its own copy with the same mode, owner and time on undo.
local function identity(f)
  return { dev = f.dev, ino = f.ino, size = f.size, mtime = f.mtime, mtime_ns = f.mtime_ns,
           ctime = f.ctime, ctime_ns = f.ctime_ns, mode = f.mode, uid = f.uid, gid = f.gid }
end

local p = plan.new(args.reflink and "dedupe-reflink" or "dedupe", { roots = { table.unpack(args) } })
local saved, duplicates, hashed = 0, 0, 0
local link_max = {}
for _, g in pairs(groups) do
  if #g > 1 then
    for _, g1 in ipairs(split(g, function(f) return tether.hash(f.path, 4096) end)) do
      -- A pair (or a small file, already hashed whole) goes straight to the byte compare:
      -- hashing both first would only read them one more time.
      local full = (g1[1].size <= 4096 or #g1 == 2) and { g1 } or split(g1, function(f)
        hashed = hashed + f.size
        line:show(string.format("hashing: %s, %s", progress.bytes(hashed), f.path))
        return tether.hash(f.path)
      end)
      for _, g2 in ipairs(full) do
        table.sort(g2, function(a, b) return a.nlink > b.nlink or (a.nlink == b.nlink and a.path < b.path) end)
        local leader = g2[1]
        local max = link_max[leader.dev] or assert(tether.statfs(leader.path)).link_max
        link_max[leader.dev] = max
        local links = leader.nlink
        for k = 2, #g2 do
          local f = g2[k]
          if tether.same_content(leader.path, f.path) then
            if not args.reflink and links + f.nlink > max then -- the limit: a new group starts here
              leader, links = f, f.nlink
            else
              p:add("hardlink", { existing = leader.path, path = f.path, expect = identity(f),
                                  expect_existing = identity(leader), clone = args.reflink or nil })
              links = links + 1
              duplicates = duplicates + 1
              if f.nlink == 1 then saved = saved + f.size end
            end
          end
        end
      end
    end
  end
end
line:done()
local result = cli.apply_plan(p, "files", { bytes_saved = saved, duplicates = duplicates, scanned = scanned })
if not tether.options.json and not tether.options.quiet then
  local verb = result.dry and "would save" or "saved"
  cli.say("%s %s (%d duplicate files of %d scanned, %.1fs)", verb, progress.bytes(saved), duplicates, scanned,
    tether.now() - started)
end
return cli.OK
