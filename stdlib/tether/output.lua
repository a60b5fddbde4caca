-- tether.output: where a report is written. Standard output; an existing terminal, FIFO
-- or other character device (/dev/null), written in place and never replaced; or a
-- regular file (or none yet), replaced whole: the report is written in a private
-- directory beside it and renamed over it once complete, so FILE holds either what it
-- held or the whole report, and a failure (a full disk) leaves nothing behind.
--
-- Root may write a report into a directory another user can write (a home). So every
-- step goes through directory handles, each checked to be the one made or met first:
-- the directory is held while the private one is made in it (tether.tempname.box), the
-- file is made from the private directory's handle, renamed from one handle to the
-- other, and the private directory removed by its identity. A user who renames it away
-- and puts a link in its place cannot make root write, rename or remove anything there.
-- A link at FILE is followed only when it belongs to the caller or to root and leads to
-- a terminal, FIFO or character device (/dev/stdout); anything else that is not a
-- regular file is refused: a directory, a block device, a socket, a link to a regular
-- file (name the file itself), another user's link.
local tether = require "tether"
local path = require "tether.path"
local tempname = require "tether.tempname"
local raw = tether.raw

local M = {}

local Output = {}
Output.__index = Output

-- out:write(...): as a file's; the first failure is kept for close to report, and what
-- comes after it is dropped (a partial report must not look complete).
function Output:write(...)
  if not self.err then
    local ok, err = self.file:write(...)
    if not ok then self.err = err end
  end
  return self
end

-- The directory of FILE held for a change, checked to be the one met when the output
-- was opened; with_box: the private directory in it too, checked to be the one made. (It
-- is left out to remove the private directory: Windows cannot remove one held open.)
function Output:hold(with_box)
  if with_box then return raw.confine({ self.dir, self.box }, { expect = self.ids }) end
  return raw.confine({ self.dir }, { expect = { self.ids[1] } })
end

-- The report file and the private directory removed, each by name from its directory's
-- handle and only while it is the one made (else, moved away by someone, it is left
-- where it is). One name each, so an interruption (^C) does not stop it half-way.
local function empty_box(self)
  if self.file_id then raw.remove_file(self.file_path, { expect = self.file_id }) end
  return raw.rmdir(self.box, { expect = self.ids[2] })
end

function Output:remove_box()
  local c <close> = self:hold()
  return c and empty_box(self)
end

-- The complete report renamed over FILE from the private directory, which goes after.
local function put_in_place(self)
  local c <close>, err, code, e = self:hold()
  if not c then return nil, err, code, e end
  local ok
  ok, err, code, e = raw.rename(self.file_path, self.dest, { expect = self.file_id, expect_to = { type = "file" } })
  if not ok then
    empty_box(self)
    return nil, err, code, e
  end
  local gone, rerr = raw.rmdir(self.box, { expect = self.ids[2] })
  return true, not gone and rerr or nil
end

-- out:close() -> true (and a warning when the private directory could not be removed
-- after the report was put in place), or nil, message, errno name, error: the report is
-- complete where it was asked for, or it is not there at all. (Until it returns, an
-- interruption still leaves it to the to-be-closed end below.)
function Output:close()
  if self.closed then return true end
  local ok, err
  if self.kind == "stdout" then ok, err = self.file:flush() else ok, err = self.file:close() end
  if self.err then ok, err = nil, self.err end -- the first failure says the most
  if not ok and self.kind == "replaced" then self:remove_box() end
  local done = table.pack(ok, err)
  if ok and self.kind == "replaced" then done = table.pack(put_in_place(self)) end
  self.closed = true
  return table.unpack(done, 1, done.n)
end

-- Closed without being completed (an error or an interruption on the way): nothing is
-- put in place and nothing is left behind.
function Output:__close()
  if self.closed then return end
  self.closed = true
  if self.kind == "stdout" then self.file:flush(); return end
  if io.type(self.file) == "file" then self.file:close() end
  if self.kind == "replaced" then self:remove_box() end
end

-- The report file, made from the private directory's handle.
local function make_file(o)
  local c <close>, err, code, e = o:hold(true)
  if not c then return nil, err, code, e end
  local f, made
  f, made, code, e = raw.create(o.file_path)
  if not f then return nil, made, code, e end
  o.file, o.file_id = f, { dev = made.dev, ino = made.ino }
  return o
end

local function replaced(dest)
  local dir = path.dirname(dest)
  local box, box_id, dir_id, e = tempname.box(dir, "report")
  if not box then return nil, box_id, dir_id, e end -- (its message, errno name, error)
  local o = setmetatable({ kind = "replaced", dest = dest, dir = dir, box = box, ids = { dir_id, box_id },
                           file_path = path.join(box, "report") }, Output)
  local ok, err, code, fe = make_file(o)
  if not ok then
    o.closed = true
    o:remove_box()
    return nil, err, code, fe
  end
  return o
end

-- open(dest) -> an output (out:write, out:close, and a to-be-closed value that removes
-- what an unfinished report left), or nil, message, errno name, error. dest nil:
-- standard output.
function M.open(dest)
  if not dest then return setmetatable({ kind = "stdout", file = io.stdout }, Output) end
  local info, err, code, e = tether.info(dest)
  if not info and code ~= "ENOENT" then return nil, err, code, e end
  if info and info.type == "dir" then return tether.fail("EISDIR", dest, "is a directory; name the file to write") end
  if not info or info.type == "file" then return replaced(dest) end
  local f, st
  f, st, code, e = raw.open_in_place(dest)
  if not f then return nil, st, code, e end
  return setmetatable({ kind = "in place", dest = dest, file = f, info = st }, Output)
end

return M
