-- tether.preflight: everything a migration checks before it touches anything, so that a
-- run that starts can finish. It refuses (naming every offending path at once) what would
-- make the migration fail after the copy or lose data: SRC missing or not a real
-- directory, DEST inside SRC or not empty, no room, no way to make a link where SRC is,
-- a filesystem mounted inside SRC (or SRC being one), entries the caller cannot read or
-- nobody could remove afterwards, files open for writing, another run holding a lock on
-- SRC or DEST, the journal kept inside SRC, and across filesystems files with hard links
-- outside SRC (a copy cannot share their data; --force splits them). It reports (without
-- refusing) relative links that lead out of SRC, processes working inside SRC, and links
-- elsewhere that point into SRC. It writes nothing anywhere: whether a link can be made where SRC
-- is comes from the filesystem (tether.link_support), and where only a try would tell,
-- the run itself tries one, journaled (migration.lua); a dry run says it did not.
local tether = require "tether"
local journal = require "tether.journal"
local path = require "tether.path"
local tempname = require "tether.tempname"
local units = require "tether.units"
local testhook = require "tether.testhook"
local writers = require "tether.writers"

local raw = tether.raw
local M = {}

local inside = path.inside

-- The real path of p even when it does not exist yet (its parent must).
local function real_of(p)
  local r = tether.realpath(p)
  if r then return r end
  local parent = tether.realpath(path.dirname(p))
  return parent and path.join(parent, path.basename(p))
end

-- The default room kept free beyond the data: 2% of the destination's filesystem,
-- between 1 MiB and 64 MiB (a fixed 64 MiB refused 1 MiB into an empty 20 MiB disk).
function M.default_margin(total)
  return math.max(1024 * 1024, math.min(64 * 1024 * 1024, total // 50))
end

-- "10M", "1.5G", "4096" -> bytes, or nil.
function M.size(s)
  local n, unit = tostring(s):match("^(%d+%.?%d*)([KkMmGgTt]?)i?[Bb]?$")
  n = tonumber(n)
  if not n then return nil end
  local mult = ({ k = 1, m = 2, g = 3, t = 4 })[unit:lower()] or 0
  return math.floor(n * 1024 ^ mult)
end

-- Links under the scan paths that point into src: they keep working through the link
-- left at SRC, but the user should know about them.
local function links_into(src_real, scan)
  local found = {}
  for _, root in ipairs(scan or {}) do
    if tether.exists(root) then
      for e in tether.walk(root, { links_only = true, classify = true }) do
        local resolved = e.status == "ok" and tether.realpath(e.path)
        if resolved and inside(resolved, src_real) and not inside(e.path, src_real) then
          found[#found + 1] = e.path .. " -> " .. e.target
        end
      end
    end
  end
  return found
end

local WHAT = {
  mount = "a filesystem is mounted here; unmount it first (tether never copies or deletes across mounts)",
  unreadable = "cannot be read by this user",
  stuck = "could not be removed afterwards (immutable or append-only, or a directory this user can neither empty nor make writable)",
  link_out = "is a relative link that leads out of SRC (it will lead elsewhere from DEST)",
}
local CODE = { mount = "EBUSY", unreadable = "EACCES", stuck = "EPERM" }

-- The files with hard links outside root (hardlink_out in treesize's findings) when root
-- moves to another filesystem: a copy there cannot share their data with the names left
-- behind, and nothing could find those names to join them again. One line for each,
-- with how many names it has outside (what: the word for root).
local function split_groups(root, found, what)
  local files, order = {}, {}
  for _, f in ipairs(found) do
    local i = f.kind == "hardlink_out" and tether.info(f.path)
    local key = i and i.dev .. ":" .. i.ino
    if key and not files[key] then
      files[key], order[#order + 1] = { path = f.path, nlink = i.nlink, inside = 0 }, key
    end
  end
  if #order == 0 then return {} end
  for e in tether.walk(root, { stat = true, xdev = true }) do -- the names inside
    local f = e.type == "file" and files[e.dev .. ":" .. e.ino]
    if f then f.inside = f.inside + 1 end
  end
  local lines = {}
  for i, key in ipairs(order) do
    local f = files[key]
    local out = f.nlink - f.inside
    lines[i] = string.format("%s: has %d hard link%s outside %s (%d name%s in all), which a copy on another filesystem " ..
      "cannot share", f.path, out, out == 1 and "" or "s", what, f.nlink, f.nlink == 1 and "" or "s")
  end
  return lines
end
local SPLIT_HINT = "move those names inside first, or pass --force to split the group for good"

-- The failure for a list of problems ({text=, code=}) found at p: tether.fail's values
-- (the first problem's code names them all) and the lines that name each.
local function refused(p, what, problems)
  local lines = {}
  for i, pr in ipairs(problems) do lines[i] = pr.text end
  local _, msg, code, e = tether.fail(problems[1].code, p, string.format("%s: %d problem%s", what, #problems, #problems == 1 and "" or "s"),
    "nothing was changed")
  return nil, msg, code, e, lines
end

-- How the link where SRC is will be made: {kind = "symlink"|"junction" (auto: a
-- symlink), fallback = "junction" (auto on Windows, where symbolic links may not be
-- permitted), try = true when only making one would tell whether it can be, fs = the
-- filesystem's type}; fails when the directory or its filesystem says none can be.
local function link_plan(asked, src, src_parent)
  local known, fs, code = tether.link_support(src_parent)
  if known == nil then return nil, fs .. "; a link must be made here in place of " .. src, code end -- (a problem's line)
  return { kind = asked == "auto" and "symlink" or asked, try = not known, fs = fs,
           fallback = asked == "auto" and tether.platform == "windows" and "junction" or nil }
end

-- What stops SRC -> DEST before anything is looked at closely.
function M.places(src, dest)
  local info, err, code, e = tether.info(src)
  if not info then return nil, err, code, e end
  if info.type == "symlink" or info.type == "junction" then
    -- (the link a run that stopped after placing it made: that run is named)
    local where, stopped, further = M.stopped_on({ src = tether.absolute(src) or src })
    if where then return tether.fail("EBUSY", where, stopped, further .. "; nothing was changed") end
    return tether.fail("ENOTDIR", src, "is already a link (to " .. tostring(info.target) .. ")", "nothing to migrate")
  end
  if info.type ~= "dir" then return tether.fail("ENOTDIR", src, "is not a directory", "migrate moves folders") end
  local src_abs, src_real, dest_abs
  src_abs, err, code, e = tether.absolute(src)
  if not src_abs then return nil, err, code, e end
  if path.dirname(src_abs) == src_abs then return tether.fail("EINVAL", src, "is the root directory") end
  src_real, err, code, e = tether.realpath(src)
  if not src_real then return nil, err, code, e end
  dest_abs, err, code, e = tether.absolute(dest)
  if not dest_abs then return nil, err, code, e end
  local pinfo = tether.info(path.dirname(dest_abs))
  if not pinfo or (pinfo.type ~= "dir" and not (pinfo.status == "ok" and pinfo.target_type == "dir")) then
    return tether.fail("ENOENT", dest, "its parent directory does not exist")
  end
  local dest_real = real_of(dest_abs)
  if dest_real == src_real then return tether.fail("EINVAL", dest, "is the same place as " .. src) end
  if inside(dest_real, src_real) then
    return tether.fail("EINVAL", dest, "is inside " .. src, "a folder cannot move into itself")
  end
  if inside(src_real, dest_real) then return tether.fail("EINVAL", dest, "contains " .. src) end
  local dinfo = tether.info(dest_real)
  if dinfo then
    if dinfo.type ~= "dir" then return tether.fail("EEXIST", dest, "already exists and is not a directory") end
    for entry in tether.walk(dest_real, { max_depth = 1 }) do
      if entry.depth == 1 then return tether.fail("ENOTEMPTY", dest, "already exists and is not empty",
        "name as DEST an empty directory or a path that does not exist yet") end
    end
  end
  return { info = info, src = src_abs, src_real = src_real, dest = dest_real, dest_info = dinfo }
end

-- Set by tether.migration, which reads runs: when a run recorded in the journal stopped
-- part-way on SRC or DEST (at, as places() gives it), the path, what stopped there and
-- the command that takes it further; else nil.
M.stopped_on = function() return nil end

-- The keys SRC and DEST are locked by (tether.lock): their real paths.
function M.lock_keys(src_real, dest_real)
  return src_real == dest_real and { src_real } or { src_real, dest_real }
end

-- Another run working on SRC or DEST (live, or one that stopped part-way there): what
-- a dry run says (a real run holds the locks, and migration.lua asks the journal).
local function lock_problems(at, problems)
  for _, key in ipairs(M.lock_keys(at.src_real, at.dest)) do
    local state, holder, code = raw.lock_state(journal.dir(), key)
    if state == "held" then
      problems[#problems + 1] = { text = key .. ": another tether run is working on it (" .. holder .. ")", code = "EBUSY" }
    elseif not state then
      problems[#problems + 1] = { text = holder, code = code }
    else -- a run of another user (another journal directory) locks the directory itself
      local i = tether.info(key)
      local d, derr, dcode
      if i and i.type == "dir" then d, derr, dcode = raw.lock_dir(key) end
      if d then d:close() elseif dcode == "EBUSY" then problems[#problems + 1] = { text = derr, code = dcode } end
    end
  end
  local where, stopped, further = M.stopped_on(at)
  if where then problems[#problems + 1] = { text = where .. ": " .. stopped .. "; " .. further, code = "EBUSY" } end
end

-- The journal directory inside SRC (it would move with it), or not the caller's alone:
-- a problem ({text=, code=}), or nil. No lock can be kept there either.
function M.journal_problem(at)
  local jdir = journal.dir()
  local jreal = real_of(tether.absolute(jdir) or jdir)
  if jreal and inside(jreal, at.src_real) then
    return { text = jdir .. ": the journal directory is inside SRC; use --journal-dir elsewhere", code = "EINVAL" }
  elseif tether.exists(jdir) then
    local ok, jerr, jcode = raw.journal_dir(jdir)
    if not ok then return { text = jerr, code = jcode } end
  end
end

-- opts.link checked: "auto", "symlink" or "junction" (where there are junctions).
local function link_kind(link, src)
  if link ~= "auto" and link ~= "symlink" and link ~= "junction" then
    return tether.fail("EINVAL", "--link", "must be symlink, junction or auto, not '" .. tostring(link) .. "'")
  end
  if link == "junction" and tether.platform ~= "windows" then
    return tether.fail("ENOTSUP", src, "junctions are an NTFS feature and are not supported here", "use --link symlink")
  end
  return link
end

-- One walk of SRC: its sizes, and what in it would stop the migration or must be
-- reported (named as the user spelled SRC, so the paths read as typed); hard links that
-- lead out of SRC, which a rename keeps and a copy cannot. -> size, or nil, error...
local function tree_problems(src, same_fs, opts, problems, notes)
  local size, found, code, e = tether.treesize(src, { check = true })
  if not size then return nil, found, code, e end
  for _, f in ipairs(found) do
    local line = WHAT[f.kind] and (f.path .. ": " .. WHAT[f.kind])
    if CODE[f.kind] then problems[#problems + 1] = { text = line, code = CODE[f.kind] } elseif line then notes[#notes + 1] = line end
  end
  for _, line in ipairs(same_fs and {} or split_groups(src, found, "SRC")) do
    if opts.force then notes[#notes + 1] = "--force: " .. line .. "; the group is split for good"
    else problems[#problems + 1] = { text = line .. "; " .. SPLIT_HINT, code = "EXDEV" } end
  end
  return size
end

-- On one filesystem SRC is renamed: a directory moved to another parent must itself be
-- writable (its ".." changes), and neither immutable nor append-only.
local function rename_problem(src, at, dest_parent, problems)
  if at.info.type ~= "dir" or path.dirname(at.src_real) == tether.realpath(dest_parent) then return end
  local ok, why, code = tether.link_support(at.src_real)
  if ok == nil and (code == "EPERM" or code == "EACCES" or code == "EROFS") then
    problems[#problems + 1] = { text = src .. ": cannot be moved into another directory: " .. why, code = code }
  end
end

-- Room for the copy on DEST's filesystem (none needed for a rename). -> the space, what
-- is needed, the margin kept free; or nil, error...
local function space_problem(size, same_fs, dest_parent, opts, problems)
  local space, err, code, e = tether.statfs(dest_parent)
  if not space then return nil, err, code, e end
  local margin = opts.min_free or M.default_margin(space.total)
  local need = same_fs and 0 or size.alloc + (size.dirs + size.links + size.specials) * 4096 + margin
  if not same_fs and need > space.avail and not testhook.skip_space_check() then
    problems[#problems + 1] = { code = "ENOSPC", text = string.format(
      "%s: not enough free space: %s needed (%s of data and a %s margin), %s free; free some, or set a smaller --min-free",
      dest_parent, units.bytes(need), units.bytes(size.alloc), units.bytes(margin), units.bytes(space.avail)) }
  end
  return space, need, margin
end

-- Processes writing under SRC (a problem, or a note with --force) or working in it.
-- -> whether they could be looked for here.
local function writer_problems(src, at, opts, problems, notes)
  local open, cwds, checked = writers.scan({ at.src_real })
  for _, w in ipairs(open) do
    if opts.force then notes[#notes + 1] = "--force: " .. w .. "; what it writes after the copy may be lost"
    else problems[#problems + 1] = { text = src .. ": a file is open for writing: " .. w .. " (close it first, or pass --force)", code = "EBUSY" } end
  end
  for _, c in ipairs(cwds) do notes[#notes + 1] = c .. " (it will see the original until it changes directory)" end
  return checked
end

-- The names the run makes beside SRC and DEST (all with one hint), and the identities of
-- what it acts on, the parents as the run will hold them: the directories their
-- spelling leads to. -> the plan's fields, or nil, error...
local function places_of_the_run(at, how, src_parent, dest_parent)
  local hint = string.format("%06x", math.random(0, 0xffffff))
  local function beside(dir, what, name) return path.join(dir, tempname.make("migration", { role = what, hint = hint, name = name })) end
  local src_name, dest_name = path.basename(at.src), path.basename(at.dest)
  local src_parent_real, perr, pcode, pe = tether.realpath(src_parent)
  if not src_parent_real then return nil, perr, pcode, pe end
  local dest_parent_real, derr, dcode, de = tether.realpath(dest_parent)
  if not dest_parent_real then return nil, derr, dcode, de end
  local pid, did = tether.info(src_parent_real), tether.info(dest_parent_real)
  return {
    hint = hint, probe = how.try and beside(src_parent, "probe", src_name) or nil,
    tmp = beside(dest_parent, "tmp", dest_name), backup = beside(src_parent, "backup", src_name),
    back_tmp = beside(src_parent, "undo", src_name), back_aside = beside(dest_parent, "backup", dest_name),
    ids = {
      src = { dev = at.info.dev, ino = at.info.ino },
      src_parent = { dev = pid.dev, ino = pid.ino }, dest_parent = { dev = did.dev, ino = did.ino },
      dest = at.dest_info and { dev = at.dest_info.dev, ino = at.dest_info.ino } or nil,
    },
  }
end

-- Checks everything before anything is touched. Returns the plan of the migration, or
-- tether.fail's values and the problems (every offending path, for the user to see at
-- once).
-- opts: link, verify, keep_backup, scan, force, min_free, locked (a real run: the caller
-- holds the locks of SRC and DEST; otherwise only a look, which writes nothing).
function M.plan(src, dest, opts)
  opts = opts or {}
  local at, err, code, e = M.places(src, dest)
  if not at then return nil, err, code, e end
  local link
  link, err, code, e = link_kind(opts.link or "auto", src)
  if not link then return nil, err, code, e end
  local src_parent, dest_parent = path.dirname(at.src), path.dirname(at.dest)
  local problems, notes = {}, {}
  -- What the journal needs: its directory, private, and not inside what moves.
  local jproblem = M.journal_problem(at)
  if jproblem then problems[#problems + 1] = jproblem
  elseif not opts.locked then lock_problems(at, problems) end -- a real run holds them already

  local how, lerr, lcode = link_plan(link, src, src_parent)
  if not how then
    problems[#problems + 1] = { text = lerr, code = lcode }
  elseif how.try and not opts.locked then
    notes[#notes + 1] = src_parent .. ": whether a link can be made here is not checked (" .. how.fs ..
      ": only making one would tell, and a dry run makes nothing; the run tries one first)"
  end

  local same_fs = at.info.dev == tether.info(dest_parent).dev
  local size, space, need, margin, checked
  size, err, code, e = tree_problems(src, same_fs, opts, problems, notes)
  if not size then return nil, err, code, e end
  if same_fs then rename_problem(src, at, dest_parent, problems) end
  space, need, margin, e = space_problem(size, same_fs, dest_parent, opts, problems)
  if not space then return nil, need, margin, e end
  checked = writer_problems(src, at, opts, problems, notes)
  if #problems > 0 then return refused(src, "cannot be migrated", problems) end

  local run
  run, err, code, e = places_of_the_run(at, how, src_parent, dest_parent)
  if not run then return nil, err, code, e end
  run.src, run.src_real, run.dest, run.dest_existed = at.src, at.src_real, at.dest, at.dest_info ~= nil
  run.same_fs, run.link, run.link_fallback = same_fs, how.kind, how.try and how.fallback or nil
  run.verify, run.keep_backup, run.force = opts.verify or "size", opts.keep_backup or false, opts.force or false
  run.size, run.free, run.need, run.margin, run.writers_checked = size, space.avail, need, margin, checked
  run.notes, run.links_into = notes, links_into(at.src_real, opts.scan)
  return run
end

-- What undo must check before it moves the data back: room beside SRC, nothing open for
-- writing under DEST, nothing under DEST that cannot be read or removed, and across
-- filesystems no file under DEST with hard links outside it (unless opts.force). Returns
-- the size of DEST, or tether.fail's values and the problems.
function M.undo(p, opts)
  opts = opts or {}
  local problems = {}
  local l = tether.info(p.src)
  if not l or (l.type ~= "symlink" and l.type ~= "junction") or tether.readlink(p.src) ~= p.dest then
    return tether.fail("EEXIST", p.src, "is no longer the link to " .. p.dest .. " that tether made", "nothing was changed")
  end
  local size, found, scode, se = tether.treesize(p.dest, { check = true })
  if not size then return nil, found, scode, se end
  for _, f in ipairs(found) do
    if CODE[f.kind] then problems[#problems + 1] = { text = f.path .. ": " .. WHAT[f.kind], code = CODE[f.kind] } end
  end
  for _, line in ipairs((p.same_fs or opts.force) and {} or split_groups(p.dest, found, "DEST")) do
    problems[#problems + 1] = { text = line .. "; " .. SPLIT_HINT, code = "EXDEV" }
  end
  if not p.same_fs then
    local space, serr, spcode, spe = tether.statfs(path.dirname(p.src))
    if not space then return nil, serr, spcode, spe end
    local need = size.alloc + (size.dirs + size.links + size.specials) * 4096 + M.default_margin(space.total)
    if need > space.avail and not testhook.skip_space_check() then
      problems[#problems + 1] = { code = "ENOSPC", text = string.format("%s: not enough free space to move the data back: %s needed, %s free",
        path.dirname(p.src), units.bytes(need), units.bytes(space.avail)) }
    end
  end
  local open = writers.scan({ tether.realpath(p.dest) or p.dest })
  for _, w in ipairs(open) do
    if not opts.force then
      problems[#problems + 1] = { text = p.dest .. ": a file is open for writing: " .. w .. " (close it first, or pass --force)", code = "EBUSY" }
    end
  end
  if #problems > 0 then return refused(p.dest, "cannot be moved back", problems) end
  return size
end

return M
