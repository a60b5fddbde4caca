-- tether.output: a regular file replaced whole only when the report is complete, nothing
-- left behind by one given up or one that failed; what is not a regular file written in
-- place or refused, never replaced. (The command line and a hostile user:
-- tests/e2e/test_audit_output.sh.)
local output = require "tether.output"
local T = {}

local read, write, names = read_file, write_file, names_in

function T.a_regular_file_is_replaced_only_when_complete()
  local d = tmpdir()
  write(d .. "/r.txt", "old")
  local before = tether.info(d .. "/r.txt")
  local out = assert(output.open(d .. "/r.txt"))
  eq(out.kind, "replaced")
  out:write("new ", "report"):write("\n")
  eq(read(d .. "/r.txt"), "old", "untouched while it is written")
  local ok, warning = out:close()
  eq(ok, true); eq(warning, nil)
  eq(read(d .. "/r.txt"), "new report\n")
  assert(tether.info(d .. "/r.txt").ino ~= before.ino, "a new file in its place")
  eq(names(d), "r.txt", "nothing left beside it")
  eq(out:close(), true, "closing twice is harmless")
end

function T.no_file_yet_is_made()
  local d = tmpdir()
  local out = assert(output.open(d .. "/new.html"))
  out:write("x")
  assert(out:close())
  eq(read(d .. "/new.html"), "x")
  eq(names(d), "new.html")
end

-- Given up (an error or an interruption: the to-be-closed variable goes out of scope
-- unclosed): FILE as it was, nothing beside it.
function T.given_up_leaves_nothing()
  local d = tmpdir()
  write(d .. "/r.txt", "old")
  local ok = pcall(function()
    local out <close> = assert(output.open(d .. "/r.txt"))
    out:write("half")
    error("interrupted")
  end)
  eq(ok, false)
  eq(read(d .. "/r.txt"), "old")
  eq(names(d), "r.txt")
end

-- A write that fails is kept: what follows is dropped and close reports it, with FILE as
-- it was and nothing beside it.
function T.a_failed_write_fails_the_close()
  local d = tmpdir()
  write(d .. "/r.txt", "old")
  local out = assert(output.open(d .. "/r.txt"))
  local real = out.file
  out.file = setmetatable({ close = function() return real:close() end,
                            write = function() return nil, "No space left on device", 28 end }, {})
  out:write("a"):write("b")
  local ok, err = out:close()
  eq(ok, nil); eq(err, "No space left on device")
  eq(read(d .. "/r.txt"), "old")
  eq(names(d), "r.txt")
end

function T.what_is_not_a_regular_file_is_refused_or_written_in_place()
  need_symlinks()
  local d = tmpdir()
  local _, err, code = output.open(d)
  eq(code, "EISDIR"); eq(err, d .. ": is a directory; name the file to write (EISDIR)")
  write(d .. "/file", "precious")
  assert(tether.symlink("file", d .. "/to-file"))
  _, err, code = output.open(d .. "/to-file")
  eq(code, "EINVAL")
  assert(err:find("leads to a regular file", 1, true), err)
  assert(tether.symlink("nowhere", d .. "/dangling"))
  _, _, code = output.open(d .. "/dangling")
  eq(code, "ENOENT")
  eq(read(d .. "/file"), "precious"); eq(tether.readlink(d .. "/to-file"), "file")
  eq(names(d), "dangling file to-file", "nothing made, nothing left")
  if tether.platform ~= "windows" then
    local out = assert(output.open("/dev/null"))
    eq(out.kind, "in place")
    out:write("into the void")
    assert(out:close())
    eq(tether.info("/dev/null").type, "other", "still the device")
    assert(tether.symlink("/dev/null", d .. "/null"))
    out = assert(output.open(d .. "/null"))
    eq(out.kind, "in place", "a link of the caller's to a device is followed")
    assert(out:close())
    eq(tether.readlink(d .. "/null"), "/dev/null")
  end
end

function T.standard_output()
  local out = assert(output.open(nil))
  eq(out.kind, "stdout"); eq(out.file, io.stdout)
  assert(out:close())
end

-- tether.create, under it: a new file only, never through a link or over a name.
function T.create_makes_only_new_files()
  need_symlinks()
  local d = tmpdir()
  local f, id = assert(tether.create(d .. "/a"))
  eq(id.ino, tether.info(d .. "/a").ino)
  assert(f:write("x")); assert(f:close())
  eq(read(d .. "/a"), "x")
  local _, _, code = tether.create(d .. "/a")
  eq(code, "EEXIST")
  assert(tether.symlink("b", d .. "/link"))
  _, _, code = tether.create(d .. "/link")
  eq(code, "EEXIST", "never through a link")
  eq(tether.exists(d .. "/b"), false)
  eq(tether.create(d .. "/c", { dry = true }), true, "a dry run makes nothing")
  eq(tether.exists(d .. "/c"), false)
end

-- tether.remove_file: a regular file that is still the one expected, nothing else.
function T.remove_file_removes_only_the_file_expected()
  need_symlinks()
  local d = tmpdir()
  write(d .. "/a", "x"); write(d .. "/b", "y")
  local a, b = tether.info(d .. "/a"), tether.info(d .. "/b")
  local _, err, code = tether.remove_file(d .. "/a")
  eq(err, d .. "/a: is not removed without the identity it must have (EINVAL)")
  _, _, code = tether.remove_file(d .. "/a", { expect = { dev = b.dev, ino = b.ino } })
  eq(code, "ECHANGED", "another file")
  _, _, code = tether.remove_file(d .. "/a", { expect = {} })
  eq(code, "EINVAL", "no identity, no removal")
  assert(tether.symlink("a", d .. "/link"))
  local l = tether.info(d .. "/link")
  _, _, code = tether.remove_file(d .. "/link", { expect = { dev = l.dev, ino = l.ino } })
  eq(code, "EINVAL", "never a link")
  assert(tether.mkdir(d .. "/dir"))
  local di = tether.info(d .. "/dir")
  _, _, code = tether.remove_file(d .. "/dir", { expect = { dev = di.dev, ino = di.ino } })
  eq(code, "EINVAL", "never a directory")
  eq(tether.remove_file(d .. "/a", { expect = { dev = a.dev, ino = a.ino }, dry = true }), true)
  eq(read(d .. "/a"), "x", "a dry run removes nothing")
  assert(tether.remove_file(d .. "/a", { expect = { dev = a.dev, ino = a.ino } }))
  eq(names(d), "b dir link")
end

return T
