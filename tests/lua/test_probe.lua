-- tether.probe: what a filesystem can do, found by trying it in a real temporary
-- directory, and that a try leaves nothing behind.
local probe = require "tether.probe"
local path = require "tether.path"
local T = {}

local function names_in(d)
  local out = {}
  for e in tether.walk(d, { max_depth = 1 }) do if e.depth == 1 then out[#out + 1] = e.name end end
  table.sort(out)
  return table.concat(out, " ")
end

function T.filesystem_reports_each_probe_and_leaves_nothing()
  need_symlinks()
  local d = tmpdir()
  local f = assert(io.open(path.join(d, "mine"), "w")); f:close()
  local fs = probe.filesystem(d)
  eq(fs.path, d)
  eq(fs.error, nil)
  local by = {}
  for _, pr in ipairs(fs.probes) do by[pr.name] = pr end
  for _, name in ipairs({ "symlinks", "relative symlinks", "hard links", "junctions", "reflinks",
                          "extended attributes", "case-sensitive names", "longest name" }) do
    assert(by[name], "no probe " .. name)
    eq(type(by[name].ok), "boolean", name)
  end
  eq(by.symlinks.ok, true)
  eq(by["relative symlinks"].ok, true)
  eq(by["hard links"].ok, true)
  assert(by["hard links"].detail:find("^at most %d+ per file$"), by["hard links"].detail)
  eq(by.junctions.ok, tether.platform == "windows")
  eq(by["longest name"].ok, true)
  assert(by["longest name"].detail:find("^%d+ bytes$"))
  eq(names_in(d), "mine") -- its directory is gone again
end

function T.filesystem_of_a_directory_that_cannot_be_written_says_why()
  local fs = probe.filesystem(path.join(tmpdir(), "missing"))
  assert(fs.error and fs.error.message:find("missing"), fs.error and fs.error.message)
  eq(#fs.probes, 0)
end

function T.try_link_makes_and_removes_one()
  need_symlinks()
  local d = tmpdir()
  eq(probe.try_link("symlink", path.join(d, "p"), path.join(d, "target")), true)
  eq(names_in(d), "")
  local f = assert(io.open(path.join(d, "taken"), "w")); f:close()
  local ok, err, code = probe.try_link("symlink", path.join(d, "taken"), "x")
  eq(ok, nil)
  eq(code, "EEXIST")
  assert(err:find("taken", 1, true), err)
  eq(names_in(d), "taken")
end

function T.made_knows_what_a_probe_makes_and_nothing_else()
  local function e(depth, p, ty) return { depth = depth, name = path.basename(p), path = "/x/box/" .. p, type = ty } end
  eq(probe.made(e(1, "a", "dir")), true)
  eq(probe.made(e(1, "abs", "symlink")), true)
  eq(probe.made(e(1, "nnnnnn", "dir")), true)
  eq(probe.made(e(2, "a/file", "file")), true)
  eq(probe.made(e(2, "b/file", "file")), true)
  eq(probe.made(e(1, "abs", "file")), false)     -- right name, wrong type
  eq(probe.made(e(1, "nnnnx", "dir")), false)
  eq(probe.made(e(1, "secret", "file")), false)
  eq(probe.made(e(2, "c/file", "file")), false)
  eq(probe.made(e(2, "a/other", "file")), false)
  eq(probe.made(e(3, "a/file/x", "file")), false)
  -- What a real probe leaves in its directory when killed: each entry is one it makes.
  need_symlinks()
  local d = tmpdir()
  local box = path.join(d, "box")
  assert(tether.mkdir(path.join(box, "a"), { parents = true }))
  local f = assert(io.open(path.join(box, "a/file"), "w")); f:close()
  assert(tether.symlink(path.join(box, "a/file"), path.join(box, "abs")))
  assert(tether.hardlink(path.join(box, "a/file"), path.join(box, "hard")))
  for w in tether.walk(box) do
    if w.depth > 0 then eq(probe.made(w), true, w.path) end
  end
end

return T
