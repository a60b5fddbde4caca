-- tether.read: a regular file's content, read from its directory's handle; what is not a
-- regular file (a link, a FIFO a user planted, a directory) is refused without waiting,
-- and a file grown past max fails rather than filling memory.
local T = {}

local function write(p, s) local f = assert(io.open(p, "wb")); f:write(s); f:close() end

function T.read_a_file()
  local d = tmpdir()
  write(d .. "/f", "hello\0world")
  local text, id = assert(tether.read(d .. "/f"))
  eq(text, "hello\0world")
  eq(id.size, 11)
  eq(id.ino, tether.info(d .. "/f").ino)
  eq(assert(tether.read(d .. "/f", { max = 11 })), "hello\0world")
  write(d .. "/empty", "")
  eq(assert(tether.read(d .. "/empty")), "")
  write(d .. "/big", string.rep("x", 200000))
  eq(#assert(tether.read(d .. "/big")), 200000)
end

function T.read_refuses_what_is_not_that_file()
  need_symlinks()
  local d = tmpdir()
  write(d .. "/f", "secret")
  assert(tether.symlink(d .. "/f", d .. "/l"))
  local ok, _, code = tether.read(d .. "/l")
  eq(ok, nil); eq(code, "ECHANGED", "a link is not followed")
  ok, _, code = tether.read(d .. "/f", { max = 5 })
  eq(ok, nil); eq(code, "EFBIG", "more than max")
  local other = tether.info(d)
  ok, _, code = tether.read(d .. "/f", { expect = { dev = other.dev, ino = other.ino } })
  eq(ok, nil); eq(code, "ECHANGED", "another file than expected")
  ok, _, code = tether.read(d)
  eq(ok, nil); eq(code, "ECHANGED", "a directory")
  if os.execute("mkfifo '" .. d .. "/fifo' 2>/dev/null") then
    ok, _, code = tether.read(d .. "/fifo") -- (a FIFO with no writer would block an open)
    eq(ok, nil); eq(code, "ECHANGED", "a FIFO")
  end
end

return T
