-- tether.tempname: makes and parses tether's own temporary names (".tether-*"), whose
-- grammar is written down once, in core/tempname.h. A name that does not parse is not
-- tether's, whatever it starts with: nothing tether does removes or changes it.
local tether = require "tether"
local path = require "tether.path"
local raw = tether.raw

local M = {}

M.PREFIX = ".tether-"
local PID_MAX, N_MAX = 2147483647, 4294967295
local ROLES = { tmp = true, backup = true, undo = true, probe = true }
local BOXES = { report = true, doctor = true }

-- A decimal with no sign and no leading zero, from low to high; else nil (a name can
-- hold any digits, so the string is checked before it is made a number).
local function decimal(s, low, high)
  if not s or not (s == "0" or s:find("^[1-9]%d*$")) or #s > #tostring(high) then return nil end
  local n = math.tointeger(tonumber(s))
  return n and n >= low and n <= high and n or nil
end

local function is_hex(s) return s ~= nil and #s == 6 and s:find("^[0-9a-f]+$") ~= nil end
local function is_rand(s) return s ~= nil and #s == 6 and s:find("^[a-z0-9]+$") ~= nil end
local function is_name(s)
  return s ~= nil and s ~= "" and s ~= "." and s ~= ".." and not s:find(tether.platform == "windows" and "[/\\]" or "/")
end

-- Whether name carries tether's prefix: one of its names (parse tells which), or one
-- that only looks like one.
function M.claims(name) return type(name) == "string" and name:sub(1, #M.PREFIX) == M.PREFIX end

-- parse(name) -> what the name says, or nil when it is not one of tether's:
--   {kind = "temp", pid =, n =}
--   {kind = "migration", role =, hint =, name =} (role tmp, backup, undo or probe)
--   {kind = "report" or "doctor", pid =, rand =}
function M.parse(name)
  if not M.claims(name) then return nil end
  local rest = name:sub(#M.PREFIX + 1)
  local pid, n = rest:match("^(%d+)%-(%d+)%.tmp$")
  if pid then
    pid, n = decimal(pid, 1, PID_MAX), decimal(n, 0, N_MAX)
    return pid and n and { kind = "temp", pid = pid, n = n } or nil
  end
  local word, tail = rest:match("^([a-z]+)%-(.*)$")
  if ROLES[word] then
    local hint, of = tail:sub(1, 6), tail:sub(8)
    return is_hex(hint) and tail:sub(7, 7) == "-" and is_name(of)
      and { kind = "migration", role = word, hint = hint, name = of } or nil
  elseif BOXES[word] then
    local p, rand = tail:match("^(%d+)%-(.*)$")
    p = decimal(p, 1, PID_MAX)
    return p and is_rand(rand) and { kind = word, pid = p, rand = rand } or nil
  end
  return nil
end

-- inside(p) -> whether p is, or lies inside, one of tether's names (a file in a
-- migration's temporary copy, say): what must never be taken for a user's own.
function M.inside(p)
  if not p:find(M.PREFIX, 1, true) then return false end -- (most paths: a walk asks of each)
  for _, part in ipairs(path.parts(p)) do
    if M.parse(part) then return true end
  end
  return false
end

-- A run's hint: six lowercase hexadecimal digits.
function M.hint() return string.format("%06x", math.random(0, 0xffffff)) end

local ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
local function rand()
  local s = {}
  for i = 1, 6 do
    local k = math.random(1, #ALNUM)
    s[i] = ALNUM:sub(k, k)
  end
  return table.concat(s)
end

-- make(kind, fields) -> the name; fields as parse returns them, pid defaulting to this
-- process and hint and rand to new random ones. Fields that do not fit the grammar
-- raise (a bug in the caller, not a condition to handle).
function M.make(kind, f)
  f = f or {}
  local pid = f.pid or tether.pid()
  local name
  if kind == "temp" then
    name = string.format("%s%d-%d.tmp", M.PREFIX, pid, f.n or 0)
  elseif kind == "migration" then
    name = M.PREFIX .. tostring(f.role) .. "-" .. tostring(f.hint) .. "-" .. tostring(f.name)
  elseif BOXES[kind] then
    name = string.format("%s%s-%d-%s", M.PREFIX, kind, pid, f.rand or rand())
  end
  local t = name and M.parse(name)
  if not t or t.kind ~= kind or (kind == "migration" and t.role ~= f.role) then
    error(string.format("tempname.make: no %s name can be made of these fields", tostring(kind)), 2)
  end
  return name
end

-- box(dir, kind) -> path, identity of the new directory, identity of dir: a new private
-- directory (mode 0700) of tether's in dir, named for kind ("report", "doctor"). dir is
-- opened first and held (its links followed only when they belong to the caller or to
-- root) and the directory is made from that handle, so whatever another user does to
-- the path meanwhile, it is made in that directory and its identity is the one read
-- there. Else nil, message, errno name, error.
function M.box(dir, kind)
  local c <close>, err, code, e = raw.confine({ dir })
  if not c then return nil, err, code, e end
  local root = c:roots()[1]
  for _ = 1, 16 do -- a name taken already (another run's, or planted) is another try
    local box = path.join(dir, M.make(kind))
    local made
    made, err, code, e = raw.mkdir(box, { private = true })
    -- What is there right after is read by name: it must be what the caller makes (its
    -- own private directory), not another user's put there in between.
    if made and (made.type ~= "dir" or made.uid ~= tether.euid()
                 or (tether.platform ~= "windows" and made.mode & 63 ~= 0)) then
      return tether.fail("ECHANGED", box, "was replaced right after it was made; not used")
    end
    if made then return box, { dev = made.dev, ino = made.ino }, { dev = root.dev, ino = root.ino } end
    if code ~= "EEXIST" then break end
  end
  if code == "ENOTDIR" then -- dir itself is missing or not a directory: say so of dir
    if not tether.info(dir) then return tether.fail("ENOENT", dir, "no such directory") end
    return tether.fail("ENOTDIR", dir, "is not a directory")
  end
  return nil, err, code, e
end

return M
