-- tether.dedupe: files with exactly the same bytes, found as hardlink(1), rdfind and
-- jdupes find them (by size and what must match to link them, then compared byte for
-- byte), and the plan that makes the copies hard links (or clones) of one of them.
-- tether dedupe walks and reports; this decides what is the same and what is linked.
local tether = require "tether"
local path = require "tether.path"
local plan = require "tether.plan"
local tempname = require "tether.tempname"

local M = {}

local SIDE_BY_SIDE = 64 -- the most files tether.same_groups reads at once

local Finder = {}
Finder.__index = Finder

-- A finder of identical files. opts: min_size (bytes, default 1: empty files are never
-- linked), ignore_mtime (files of other modification times may be linked). Give it
-- every entry of a walk with stat (finder:add), then ask for the sets (finder:sets).
-- finder.scanned: the entries given; finder.unreadable: messages for files not read.
function M.finder(opts)
  opts = opts or {}
  return setmetatable({ min_size = opts.min_size or 1, ignore_mtime = opts.ignore_mtime, groups = {}, seen = {},
                        scanned = 0, unreadable = {}, compared = 0 }, Finder)
end

-- Takes one walk entry: a regular file of at least min_size that is not tether's own
-- temporary name (a copy a killed run left; a name that only looks like one is the
-- user's) becomes a candidate, grouped with those it may be linked to: same size,
-- filesystem, owner, group, mode (and modification time). Another name of a file seen
-- already (a hard link, a bind mount) is no candidate: it shares the bytes already.
function Finder:add(e)
  self.scanned = self.scanned + 1
  local ours = tempname.inside(e.path)
  if ours or e.type ~= "file" or not e.size or e.size < self.min_size then return end
  local id = e.dev .. ":" .. e.ino
  if self.seen[id] then return end
  self.seen[id] = true
  local key = e.size .. ":" .. e.dev .. ":" .. e.uid .. ":" .. e.gid .. ":" .. e.mode ..
    (self.ignore_mtime and "" or ":" .. e.mtime .. "." .. e.mtime_ns)
  local g = self.groups[key]
  if not g then g = {}; self.groups[key] = g end
  g[#g + 1] = e
end

-- The bytes finder:sets will compare: every file that has another of its group.
function Finder:bytes_to_compare()
  local n = 0
  for _, g in pairs(self.groups) do
    if #g > 1 then n = n + g[1].size * #g end
  end
  return n
end

-- The sets of files in the answer of tether.same_groups for files, added to out.
function Finder:add_sets(files, groups, errors, out)
  if not groups then self.unreadable[#self.unreadable + 1] = errors; return end
  for _, err in ipairs(errors) do self.unreadable[#self.unreadable + 1] = err end
  for _, idx in ipairs(groups) do
    local set = {}
    for k, i in ipairs(idx) do set[k] = files[i] end
    out[#out + 1] = set
  end
end

-- The files of group split by key_of(file) (nil: left out), groups of one dropped.
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

function Finder:hash_of(limit)
  return function(f)
    local h, err = tether.hash(f, limit) -- checked to be the file walked before it is read
    if not h then self.unreadable[#self.unreadable + 1] = err end
    return h
  end
end

-- The sets of identical files of one group, added to out: up to 64 files compared side
-- by side, each read once; a larger group first split by an xxHash of its first 4 KiB,
-- then of all its content, and what is still larger compared in slices of 64 that all
-- begin with the same file (whose set continues across the slices).
function Finder:same_sets(files, out, meter)
  if #files <= SIDE_BY_SIDE then
    self.compared = self.compared + files[1].size * #files
    if meter then meter(self.compared, nil, files[1].path) end
    local groups, errors = tether.same_groups(files)
    return self:add_sets(files, groups, errors, out)
  end
  for _, part in ipairs(split(files, self:hash_of(4096))) do
    for _, g in ipairs(#part > SIDE_BY_SIDE and split(part, self:hash_of()) or { part }) do
      if #g <= SIDE_BY_SIDE then
        self:same_sets(g, out, meter)
      else
        local head, joined = g[1], { g[1] }
        for at = 2, #g, SIDE_BY_SIDE - 1 do
          local sets = {}
          self:same_sets({ head, table.unpack(g, at, math.min(at + SIDE_BY_SIDE - 2, #g)) }, sets, meter)
          for _, set in ipairs(sets) do
            if set[1] == head then
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

-- Every set of files with exactly the same bytes, each sorted with the file to keep
-- first (the one with the most links already, then the first by name), the sets by
-- that file's name. meter(bytes compared, what, path), when given, is told as it goes
-- (progress.meter's). The groups of up to 64 files are compared all at once, shared by two threads
-- (tether.same_groups_many). Returns the sets, or nil, message, errno, error when the
-- comparison could not start.
function Finder:sets(meter)
  local sets, small = {}, {}
  for _, g in pairs(self.groups) do
    if #g > SIDE_BY_SIDE then self:same_sets(g, sets, meter)
    elseif #g > 1 then small[#small + 1] = g end
  end
  if meter then meter(self.compared, string.format("%d groups of up to 64 files", #small)) end
  local many, err, code, e = tether.same_groups_many(small)
  if not many then return nil, err, code, e end
  for k, r in ipairs(many) do self:add_sets(small[k], r[1], r[2], sets) end
  local function before(a, b) return a.nlink > b.nlink or (a.nlink == b.nlink and a.path < b.path) end
  for _, set in ipairs(sets) do table.sort(set, before) end
  table.sort(sets, function(a, b) return a[1].path < b[1].path end)
  return sets
end

-- The filesystems known to make copy-on-write clones whatever options they were made
-- with (XFS and ZFS only when made or set up for it): only a try would tell of any other,
-- and a dry run tries none.
local CLONES = { btrfs = true, bcachefs = true, apfs = true }

-- Adds to plan p, for each set, the others made hard links to (opts.reflink: clones of)
-- its first file, in order; a file that would pass its filesystem's hard-link limit
-- starts a new group. Returns the bytes that frees and the number of files linked; with
-- opts.reflink, also {bytes =, fs = {names}}: the part of those bytes on filesystems not
-- known to make clones, which only a clone made there would show to be saved.
function M.plan(p, sets, opts)
  opts = opts or {}
  local saved, duplicates, link_max, fs_of = 0, 0, {}, {}
  local unsure, unsure_fs = { bytes = 0, fs = {} }, {}
  for _, set in ipairs(sets) do
    local leader = set[1]
    if link_max[leader.dev] == nil then
      local fs = tether.statfs(leader.path)
      link_max[leader.dev] = fs and fs.link_max or 65000
    end
    if opts.reflink and fs_of[leader.dev] == nil then
      local _, name = tether.link_support(path.dirname(leader.path))
      fs_of[leader.dev] = name or "a filesystem of unknown type"
    end
    local clones_unsure = opts.reflink and not CLONES[fs_of[leader.dev]]
    local max = link_max[leader.dev]
    local links, leader_id = leader.nlink, plan.content_identity(leader)
    for k = 2, #set do
      local f = set[k]
      if not opts.reflink and links + f.nlink > max then -- the limit: a new group starts here
        leader, links, leader_id = f, f.nlink, plan.content_identity(f)
      else
        p:add("hardlink", { existing = leader.path, path = f.path, expect = plan.file_identity(f),
                            expect_existing = leader_id, clone = opts.reflink or nil })
        links = links + 1
        duplicates = duplicates + 1
        if f.nlink == 1 then saved = saved + f.size end
        if f.nlink == 1 and clones_unsure then
          unsure.bytes = unsure.bytes + f.size
          local name = fs_of[leader.dev]
          if not unsure_fs[name] then unsure_fs[name] = true; unsure.fs[#unsure.fs + 1] = name end
        end
      end
    end
  end
  return saved, duplicates, opts.reflink and unsure or nil
end

return M
