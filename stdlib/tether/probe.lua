-- tether.probe: what a filesystem can do, found by trying it: whether a link can be made
-- in a directory (a migration's probe, journaled by migration.lua) and the whole list
-- tether doctor reports (links, hard links, junctions, reflinks, extended attributes,
-- case, the longest name), with what such a try leaves in its directory, so that doctor
-- can tell a killed probe's directory from anything else.
local tether = require "tether"
local path = require "tether.path"
local plan = require "tether.plan"
local tempname = require "tether.tempname"
local testhook = require "tether.testhook"

local raw = tether.raw
local M = {}

-- Makes a link of `kind` at probe leading to target, and removes it: whether one can be
-- made there. Returns true, or tether.fail's values and true when the probe could not be
-- removed again.
function M.try_link(kind, probe, target)
  local ok, err, code, e = (kind == "junction" and raw.junction or raw.symlink)(target, probe)
  if not ok then return nil, err, code, e end
  testhook.point("probe:made")
  local gone, gerr, gcode, ge = raw.unlink(probe, { old = target })
  if not gone then return nil, gerr, gcode, ge, true end
  return true
end

-- The private directory the probes work in, made in dir (from a handle of it:
-- tether.tempname.box, so its identity is the one made), and one of the system's
-- temporary directory holding the file the probes copy; both held by a confinement.
-- -> d, its identity, src, the confinement; or nil, a message.
local function open_box(dir)
  local src, serr = tether.mkdtemp()
  if not src then return nil, serr end
  local h = io.open(path.join(src, "file"), "w")
  if h then h:write("probe"); h:close() end
  local d, di = tempname.box(dir, "doctor")
  local si = tether.info(src)
  local c, cerr
  if d and si then c, cerr = raw.confine({ d, src }, { expect = { di, { dev = si.dev, ino = si.ino } } }) end
  if not c then
    if d then raw.rmtree(d, { expect = di }) end
    raw.rmtree(src)
    return nil, d and (cerr or (src .. ": changed right after it was made")) or di
  end
  return d, di, src, c
end

-- Symbolic links (absolute and relative), hard links and how many a file may have,
-- junctions (NTFS), each tried in d on its file f.
local function try_links(d, f, note)
  local ok, e = raw.symlink(f, path.join(d, "abs"))
  note("symlinks", ok and tether.readlink(path.join(d, "abs")) == f or false, not ok and e or nil)
  ok, e = raw.symlink("a/file", path.join(d, "rel"))
  local ri = ok and tether.info(path.join(d, "rel"))
  note("relative symlinks", ri and ri.status == "ok" or false, not ok and e or nil)
  ok, e = raw.hardlink(f, path.join(d, "hard"))
  local fi = tether.info(f)
  local st = tether.statfs(d)
  note("hard links", ok and fi and fi.nlink == 2 or false, ok and st and st.link_max > 0 and ("at most " .. st.link_max .. " per file") or e)
  if tether.platform == "windows" then
    ok, e = raw.mkdir(path.join(d, "jdir"))
    if ok then ok, e = raw.junction(path.join(d, "jdir"), path.join(d, "junction")) end
    note("junctions", ok and true or false, not ok and e or nil)
  else
    note("junctions", false, "Windows (NTFS) only")
  end
end

-- Reflinks (a copy that shares its blocks: btrfs, XFS, APFS, ReFS) of f over g,
-- extended attributes, case ("CASE" finds "case"?) and the longest name (the most
-- characters a directory name takes), tried in d.
local function try_names_and_data(d, f, g, note)
  local gi = tether.info(g)
  local ok, e = false, "could not make a file to try it with"
  if gi then ok, e = raw.link_over(f, g, plan.expect_of(gi), { clone = true }) end
  note("reflinks", ok and true or false, not ok and e or nil)
  ok, e = raw.xattr_probe(f)
  note("extended attributes", ok and true or false, not ok and e or nil)
  raw.mkdir(path.join(d, "case"))
  local insensitive = tether.exists(path.join(d, "CASE"))
  note("case-sensitive names", not insensitive, insensitive and "Name and NAME are the same file" or nil)
  local lo, hi = 0, 1024
  while lo < hi do
    local mid = (lo + hi + 1) // 2
    local name = path.join(d, string.rep("n", mid))
    if raw.mkdir(name) then raw.rmdir(name); lo = mid else hi = mid - 1 end
  end
  note("longest name", lo > 0, lo .. " bytes")
end

-- What the filesystem of dir can do, by trying it in a new private directory there:
-- {path = dir, probes = {{name, ok, detail}, ...}} (error = {message} when it could not
-- be tried). Every probe acts from the handles of that directory (a confinement, checked
-- to be the one just made), so a user who can write dir cannot redirect a probe anywhere
-- else; the regular files the probes need are copied in from a private directory of
-- the system's temporary one. The directory is removed after, checked to be the one made.
function M.filesystem(dir)
  local fs = { path = dir, probes = {} }
  local function note(name, ok, detail) fs.probes[#fs.probes + 1] = { name = name, ok = ok, detail = detail } end
  local d, di, src, c = open_box(dir)
  if not d then fs.error = { message = di }; return fs end
  local f, g = path.join(d, "a", "file"), path.join(d, "b", "file")
  raw.copytree(src, path.join(d, "a"), { no_sync = true })
  raw.copytree(src, path.join(d, "b"), { no_sync = true })
  try_links(d, f, note)
  try_names_and_data(d, f, g, note)
  -- Removed once the confinement lets go of it (Windows cannot remove a directory that
  -- is held open), checked to be still the directory made above.
  c:close()
  local gone, rerr = raw.rmtree(d, { expect = { dev = di.dev, ino = di.ino } })
  raw.rmtree(src)
  if not gone then fs.error = { message = rerr } end
  return fs
end

-- What M.filesystem makes in its directory, by name: an entry of a killed probe's
-- directory that is not one of these (or a directory of n's, a name tried for length,
-- or a file in a or b) was not put there by a probe.
local MADE = { a = "dir", b = "dir", abs = "symlink", rel = "symlink", hard = "file", case = "dir", jdir = "dir",
               junction = "junction" }

-- Whether walk entry e (below a probe's directory: depth 1 or 2) is what M.filesystem makes.
function M.made(e)
  if e.depth == 1 then return MADE[e.name] == e.type or (e.type == "dir" and e.name:find("^n+$") ~= nil) end
  return e.depth == 2 and e.name == "file" and e.type == "file" and path.basename(path.dirname(e.path)):find("^[ab]$") ~= nil
end

return M
