-- tether.preflight on real trees: what a migration checks before it touches anything,
-- every refusal naming the path and why, every problem found at once, nothing written.
local preflight = require "tether.preflight"
local path = require "tether.path"
local T = {}

local function write(p, text) local f = assert(io.open(p, "w")); f:write(text or ""); f:close() end

-- What a directory holds, to show nothing was written there.
local function snapshot(d)
  local out = {}
  for e in tether.walk(d) do out[#out + 1] = e.path .. ":" .. e.type end
  table.sort(out)
  return table.concat(out, "\n")
end

-- d/src with a file, a directory and a link inside; d/dest does not exist.
local function tree()
  local d = tether.realpath(tmpdir())
  assert(tether.mkdir(path.join(d, "src/sub"), { parents = true }))
  write(path.join(d, "src/sub/file"), "0123456789")
  write(path.join(d, "outside"), "x")
  return d, path.join(d, "src"), path.join(d, "dest")
end

function T.sizes_and_margins()
  eq(preflight.size("4096"), 4096)
  eq(preflight.size("10M"), 10 * 1024 * 1024)
  eq(preflight.size("1.5G"), math.floor(1.5 * 1024 ^ 3))
  eq(preflight.size("2KiB"), 2048)
  eq(preflight.size("ten"), nil)
  eq(preflight.default_margin(0), 1024 * 1024)                         -- at least 1 MiB
  eq(preflight.default_margin(100 * 1024 * 1024), 2 * 1024 * 1024)     -- 2%
  eq(preflight.default_margin(1 << 40), 64 * 1024 * 1024)               -- at most 64 MiB
  eq(#preflight.lock_keys("/a", "/a"), 1)
  eq(#preflight.lock_keys("/a", "/b"), 2)
end

function T.a_migration_that_can_run_is_planned_and_nothing_is_written()
  local d, src, dest = tree()
  local before = snapshot(d)
  local p = assert(preflight.plan(src, dest, {}))
  eq(path.normalize(p.src), path.normalize(src)) -- (Windows: either separator)
  eq(path.normalize(p.dest), path.normalize(dest))
  eq(p.dest_existed, false)
  eq(p.same_fs, true)
  eq(p.need, 0) -- a rename needs no room
  eq(p.size.files, 1)
  eq(p.size.bytes, 10)
  eq(p.verify, "size")
  eq(path.dirname(p.tmp), d)
  eq(path.dirname(p.backup), d)
  assert(path.basename(p.tmp):find("^%.tether%-"), p.tmp)
  eq(p.ids.src.ino, tether.info(src).ino)
  eq(snapshot(d), before)
end

function T.each_refusal_names_the_path_and_why()
  local d, src, dest = tree()
  local before = snapshot(d)
  local function refused(s, t, code, words)
    local ok, msg, c, e = preflight.plan(s, t, {})
    eq(ok, nil, s .. " -> " .. t)
    eq(c, code, msg)
    assert(msg:find(words, 1, true), msg .. " (want: " .. words .. ")")
    eq(type(e), "table", "the error table")
  end
  refused(path.join(d, "nope"), dest, "ENOENT", path.join(d, "nope"))
  refused(path.join(d, "outside"), dest, "ENOTDIR", "is not a directory")
  assert(tether.symlink(src, path.join(d, "link")) or skip("no symbolic links here"))
  refused(path.join(d, "link"), dest, "ENOTDIR", "is already a link")
  refused(src, path.join(src, "inner"), "EINVAL", "is inside " .. src)
  refused(src, src, "EINVAL", "is the same place as")
  refused(path.join(src, "sub"), src, "EINVAL", "contains")
  refused(src, path.join(d, "outside"), "EEXIST", "already exists and is not a directory")
  assert(tether.mkdir(path.join(d, "full")))
  write(path.join(d, "full/x"))
  refused(src, path.join(d, "full"), "ENOTEMPTY", "already exists and is not empty")
  refused(src, path.join(d, "no/such/dest"), "ENOENT", "its parent directory does not exist")
end

function T.an_empty_existing_dest_is_fine()
  local d, src, dest = tree()
  assert(tether.mkdir(dest))
  local p = assert(preflight.plan(src, dest, {}))
  eq(p.dest_existed, true)
  eq(p.ids.dest.ino, tether.info(dest).ino)
end

function T.options_are_checked()
  local _, src, dest = tree()
  local ok, msg, code = preflight.plan(src, dest, { link = "hard" })
  eq(ok, nil); eq(code, "EINVAL")
  eq(msg, "--link: must be symlink, junction or auto, not 'hard' (EINVAL)")
  if tether.platform ~= "windows" then
    ok, msg, code = preflight.plan(src, dest, { link = "junction" })
    eq(ok, nil); eq(code, "ENOTSUP")
  end
  local p = assert(preflight.plan(src, dest, { verify = "hash", keep_backup = true, min_free = 1 }))
  eq(p.verify, "hash"); eq(p.keep_backup, true); eq(p.margin, 1)
end

function T.relative_links_out_of_src_are_reported_not_refused()
  need_symlinks()
  local d, src, dest = tree()
  assert(tether.symlink("../../outside", path.join(src, "sub/out")))
  assert(tether.symlink(path.join(src, "sub/file"), path.join(d, "points-in")))
  local p = assert(preflight.plan(src, dest, { scan = { d } }))
  local notes = table.concat(p.notes, "\n")
  assert(notes:find("sub/out: is a relative link that leads out of SRC", 1, true), notes)
  eq(#p.links_into, 1)
  assert(p.links_into[1]:find("points-in", 1, true), p.links_into[1])
end

function T.hard_links_outside_src_stop_a_copy_to_another_filesystem()
  local d, src = tree()
  local other = tether.exists("/dev/shm") and tether.mkdtemp("/dev/shm/tether-lua-")
  if not other or tether.info(other).dev == tether.info(d).dev then
    if other then tether.rmtree(other) end
    skip("no other filesystem (/dev/shm) here")
  end
  local ok, err = pcall(function()
    assert(tether.hardlink(path.join(src, "sub/file"), path.join(d, "twin")))
    local p, msg, code, _, problems = preflight.plan(src, path.join(other, "dest"), {})
    eq(p, nil); eq(code, "EXDEV")
    assert(msg:find("cannot be migrated: 1 problem", 1, true), msg)
    assert(problems[1]:find("has 1 hard link outside SRC (2 names in all)", 1, true), problems[1])
    local forced = assert(preflight.plan(src, path.join(other, "dest"), { force = true }))
    eq(forced.same_fs, false)
    assert(forced.need > forced.size.alloc, "room for the data and a margin")
    assert(table.concat(forced.notes, "\n"):find("--force: ", 1, true))
  end)
  tether.rmtree(other)
  assert(ok, err)
end

return T
