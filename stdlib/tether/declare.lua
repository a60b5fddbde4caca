-- tether.declare: the desired state `tether apply` brings a machine to. A declaration is
-- a Lua file returning a table (it may compute it from the machine: tether.hostname(),
-- os.getenv, what exists) or JSON of the same shape:
--
--   links      = { {path=, target=, type="symlink"|"hard"|"junction", relative=, force=} }
--   absent     = { path, ... }             links that must not be there (never real data)
--   dirs       = { path, ... }             directories that must exist (parents made too)
--   migrations = { {from=, to=, link=, verify=} }   this folder lives at `to`, a link at `from`
--   farms      = { {dir=, target=, packages={...}, dotfiles=, no_folding=} }   as tether farm
--   retarget   = { {under=, from=, to=, allow_broken=} }   links under `under` into `from` go to `to`
--
-- Relative paths are taken from the declaration's own directory; ~ is $HOME. M.plan compares the
-- declaration with the machine and returns one plan of the changes (links, directories,
-- farms, retargets) and the migrations to run, with every conflict found first: a
-- declaration that cannot be reached as a whole changes nothing. It plans in the order
-- apply runs (migrations, then the rest on the machine as they leave it), each item at
-- its real path as the run leaves the links on the way, and checks that the state the
-- plan leaves holds every item, so that a second apply has nothing to do.
local tether = require "tether"
local json = require "tether.json"
local path = require "tether.path"
local cli = require "tether.cli"
local plan = require "tether.plan"
local farm = require "tether.farm"
local retarget = require "tether.retarget"

local M = {}

-- The fields each kind of item takes (true: required), and how its items are named.
local FIELDS = {
  links = { path = true, target = true, type = false, relative = false, force = false },
  absent = { path = true },
  dirs = { path = true },
  migrations = { from = true, to = true, link = false, verify = false },
  farms = { dir = true, target = true, packages = true, dotfiles = false, no_folding = false },
  retarget = { under = true, from = true, to = true, allow_broken = false },
}
-- The order items are planned, run and reported in: migrations first, so that the rest
-- is planned (and made) on the machine as they leave it.
M.ORDER = { "migrations", "dirs", "absent", "links", "farms", "retarget" }
local BOOLEAN = { relative = true, force = true, dotfiles = true, no_folding = true, allow_broken = true }
local SHORT = { links = "path", absent = "path", dirs = "path" } -- a bare string is this field
local NOUN = { links = "link", absent = "absent", dirs = "dir", migrations = "migration", farms = "farm",
               retarget = "retarget" }

-- What a declaration's Lua code may use: reading the machine, never changing it.
local function sandbox()
  local t = {}
  for _, name in ipairs({ "hostname", "info", "lstat", "exists", "islink", "readlink", "realpath",
                          "absolute", "platform", "quote" }) do
    t[name] = tether[name]
  end
  -- Copies, so that a declaration cannot change what tether itself uses afterwards.
  local function copy(m) local c = {} for k, v in pairs(m) do c[k] = v end return c end
  return {
    tether = t, path = copy(path), string = copy(string), table = copy(table), math = copy(math), utf8 = copy(utf8),
    os = { getenv = os.getenv, date = os.date, time = os.time },
    pairs = pairs, ipairs = ipairs, next = next, select = select, type = type, tostring = tostring,
    tonumber = tonumber, error = error, assert = assert, pcall = pcall,
    print = function(...) -- to stderr: stdout is the report's
      local parts = {}
      for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
      io.stderr:write(table.concat(parts, "\t"), "\n")
    end,
  }
end

-- Lua keeps the last of two fields with one name in a table constructor ({links = A,
-- links = B} is B): in a declaration that drops items without a word, so it is refused,
-- as luacheck warns of it. Found in the source's tokens: the keys (name = or ["name"] =)
-- each constructor has at its own level, outside nested functions and blocks.
local OPENS = { ["function"] = true, ["if"] = true, ["do"] = true, ["repeat"] = true }
local CLOSES = { ["end"] = true, ["until"] = true }

local function tokens(text)
  local out, pos, line, n = {}, 1, 1, #text
  local function skip_to(e) -- past a comment or string ending at e, counting its lines
    local _, nl = text:sub(pos, e):gsub("\n", "")
    line, pos = line + nl, e + 1
  end
  while pos <= n do
    local c = text:sub(pos, pos)
    local long = text:match("^%[(=*)%[", pos)
    if c == "\n" then
      line, pos = line + 1, pos + 1
    elseif c:match("%s") then
      pos = pos + 1
    elseif text:find("^%-%-", pos) then
      local eq = text:match("^%-%-%[(=*)%[", pos)
      local close = eq and select(2, text:find("]" .. eq .. "]", pos, true))
      skip_to(eq and (close or n) or (text:find("\n", pos, true) or n + 1) - 1)
    elseif long then
      local close = select(2, text:find("]" .. long .. "]", pos, true)) or n
      out[#out + 1] = { t = "string", line = line }
      skip_to(close)
    elseif c == '"' or c == "'" then
      local i, escaped = pos + 1, false
      while i <= n and text:sub(i, i) ~= c do -- the chunk compiled: the string ends
        if text:sub(i, i) == "\\" then escaped, i = true, i + 1 end
        i = i + 1
      end
      out[#out + 1] = { t = "string", line = line, s = not escaped and text:sub(pos + 1, i - 1) or nil }
      skip_to(i)
    else
      local word = text:match("^[%a_][%w_]*", pos) or text:match("^%d[%w%.]*", pos) or
                   text:match("^%.%.%.", pos) or text:match("^[=~<>/:%.]=?", pos) or c
      out[#out + 1] = { t = word:match("^[%a_]") and "name" or "op", v = word, line = line }
      pos = pos + #word
    end
  end
  return out
end

-- The first key given twice in one table constructor of a (valid) Lua chunk: the key,
-- the line of its second and of its first mention; nil when there is none.
local function repeated_key(text)
  local toks, stack = tokens(text), {}
  for i, tk in ipairs(toks) do
    local top = stack[#stack]
    if top and top.fields and top.start then
      top.start = false
      local key
      if tk.t == "name" and toks[i + 1] and toks[i + 1].v == "=" then
        key = tk.v
      elseif tk.v == "[" and toks[i + 1] and toks[i + 1].s and toks[i + 2] and toks[i + 2].v == "]" and
             toks[i + 3] and toks[i + 3].v == "=" then
        key = toks[i + 1].s
      end
      if key and top.fields[key] then return key, tk.line, top.fields[key] end
      if key then top.fields[key] = tk.line end
    end
    local v = tk.v
    if v == "{" then
      stack[#stack + 1] = { fields = {}, start = true }
    elseif v == "(" or v == "[" or (tk.t == "name" and OPENS[v]) then
      stack[#stack + 1] = {}
    elseif v == "}" or v == ")" or v == "]" or (tk.t == "name" and CLOSES[v]) then
      stack[#stack] = nil
    elseif (v == "," or v == ";") and top and top.fields then
      top.start = true
    end
  end
end

-- Reads FILE ("-": standard input): JSON when it is named .json or starts with { , else
-- Lua. Returns the declaration and the directory relative paths are taken from, or nil,
-- a message and (when the file could not be read at all) true. A key given twice in
-- one object or table is an error, in JSON as in Lua.
function M.load(file)
  local text, base
  if file == "-" then
    text, base = io.stdin:read("a"), tether.absolute(".")
  else
    local f, err = io.open(file, "rb")
    if not f then return nil, err, true end
    text = f:read("a")
    f:close()
    base = path.dirname(tether.absolute(file))
  end
  if not text then return nil, file .. ": cannot be read" end
  local decl
  if file:match("%.json$") or text:match("^%s*{") then
    local ok, v = pcall(json.decode, text)
    if not ok then return nil, file .. ": not valid JSON: " .. tostring(v):gsub("^json: ", "") end
    decl = v
  else
    local env = sandbox()
    local chunk, err = load(text, "=" .. file, "t", env)
    if not chunk then return nil, err end
    local key, line, first = repeated_key(text)
    if key then
      return nil, string.format("%s:%d: '%s' is given twice in one table (also on line %d); Lua would keep only the last",
        file, line, key, first)
    end
    local ok, v = pcall(chunk)
    if not ok then return nil, tostring(v) end
    if v == nil then -- the items as globals: links = {...}
      v = {}
      for kind in pairs(FIELDS) do v[kind] = rawget(env, kind) end
    end
    decl = v
  end
  if type(decl) ~= "table" then return nil, file .. ": must give a table of items (links, absent, dirs, migrations, farms, retarget)" end
  return decl, base
end

-- The known word closest to `w` (for "did you mean"), from the keys of a table.
local function closest(w, known)
  local words = {}
  for k in pairs(known) do words[#words + 1] = k end
  table.sort(words)
  return cli.closest(w, words)
end

local function is_list(t)
  if type(t) ~= "table" then return false end
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t
end

-- The path p of a declaration made absolute: ~ is the home directory, a relative path is
-- taken from base, and the result is in the system's own spelling.
local function absolute_from(base)
  local home = os.getenv("HOME") or os.getenv("USERPROFILE")
  return function(p)
    if home and (p == "~" or p:match("^~[/\\]")) then p = home .. p:sub(2) end
    p = path.is_absolute(p) and p or path.join(base, p)
    return tether.absolute(p) or path.normalize(p)
  end
end

-- Whether a field of item `it` (its `name`) holds a NUL byte, which no path can; each
-- one found is a problem (bad).
local function has_nul(it, name, bad)
  local found = false
  for f, v in pairs(it) do
    for k, s in ipairs(f == "packages" and type(v) == "table" and v or { v }) do
      if type(s) == "string" and s:find("\0", 1, true) then
        bad(string.format("%s: %s%s holds a NUL byte (\\0), which no path can", name, f,
          f == "packages" and ("[" .. k .. "]") or ""))
        found = true
      end
    end
  end
  return found
end

-- One item of kind `kind` as declared (raw: a table, or a path where the kind takes
-- one), its fields checked (each problem: bad): the item {kind=, name=, noun=, fields},
-- or nil when it is not a table.
local function check_item(kind, name, raw, bad)
  local item = type(raw) == "string" and SHORT[kind] and { [SHORT[kind]] = raw } or raw
  if type(item) ~= "table" then
    bad(name .. ": must be a table" .. (SHORT[kind] and " or a path" or ""))
    return nil
  end
  local it = { kind = kind, name = name, noun = NOUN[kind] }
  for f, v in pairs(item) do
    if FIELDS[kind][f] == nil then
      local near = type(f) == "string" and closest(f, FIELDS[kind])
      bad(string.format("%s: unknown field '%s'%s", name, tostring(f), near and (" (did you mean " .. near .. "?)") or ""))
    else
      it[f] = v
    end
  end
  for f, required in pairs(FIELDS[kind]) do
    local v, want = it[f], BOOLEAN[f] and "boolean" or f == "packages" and "table" or "string"
    if required and (v == nil or v == "") then bad(name .. ": " .. f .. " is missing")
    elseif v ~= nil and type(v) ~= want then
      bad(string.format("%s: %s must be a %s, not %s", name, f, want == "table" and "list" or want,
        v == json.null and "null" or type(v)))
    end
  end
  if kind == "links" and it.type and it.type ~= "symlink" and it.type ~= "hard" and it.type ~= "junction" then
    bad(name .. ": type must be symlink, hard or junction, not '" .. tostring(it.type) .. "'")
  end
  if kind == "farms" and it.packages ~= nil and (not is_list(it.packages) or #it.packages == 0) then
    bad(name .. ": packages must be a non-empty list of package names")
  end
  return it
end

-- The paths of item it made absolute (abs): the ones it names, a farm's target, and a
-- link's target when it is taken as a path (relative = true, a hard link).
local function absolute_paths(it, abs)
  for _, f in ipairs({ "path", "from", "to", "under", "dir" }) do
    if type(it[f]) == "string" and it[f] ~= "" then it[f] = abs(it[f]) end
  end
  if it.kind == "farms" and type(it.target) == "string" then it.target = abs(it.target) end
  if it.kind == "links" and type(it.target) == "string" and (it.relative or it.type == "hard") then
    it.target = abs(it.target)
  end
end

-- Checks the shape of a declaration: returns the items, each {kind=, name="links[2]",
-- fields}, with paths made absolute from base; or nil and every problem found.
function M.items(decl, base)
  local items, problems = {}, {}
  local function bad(msg) problems[#problems + 1] = msg end
  for k in pairs(decl) do
    if not FIELDS[k] then
      local near = type(k) == "string" and closest(k, FIELDS)
      bad(string.format("unknown item kind '%s'%s", tostring(k), near and (" (did you mean " .. near .. "?)") or ""))
    end
  end
  local abs = absolute_from(base)
  for _, kind in ipairs(M.ORDER) do
    local list = decl[kind]
    if list ~= nil and not is_list(list) then
      bad(kind .. ": must be a list")
    elseif list then
      for i, raw in ipairs(list) do
        local it = check_item(kind, string.format("%s[%d]", kind, i), raw, bad)
        if it then
          if not has_nul(it, it.name, bad) then absolute_paths(it, abs) end
          items[#items + 1] = it
        end
      end
    end
  end
  -- One path, one wish.
  local seen = {}
  for _, it in ipairs(items) do
    local p = it.kind == "migrations" and it.from or it.path
    if p then
      if seen[p] then bad(string.format("%s: %s is declared twice (also %s)", it.name, p, seen[p])) end
      seen[p] = it.name
    end
  end
  if #problems > 0 then return nil, problems end
  return items
end

local function what(i)
  if not i then return "nothing" end
  if i.type == "symlink" or i.type == "junction" then return "a link to " .. tostring(i.target) end
  return i.type == "dir" and "a real directory" or i.type == "file" and "a real file" or ("a " .. tostring(i.type))
end

local function is_link(i) return i and (i.type == "symlink" or i.type == "junction") end

-- Why d (looked at: i) is no directory to put things in.
local function not_a_dir(d, i) return i and (d .. " is " .. what(i) .. ", not a directory") or (d .. " does not exist") end

local within = path.inside -- p is top or below it

local function root_of(p) return p:match("^%a:[/\\]") and (p:sub(1, 2) .. "/") or "/" end

-- Where each declared path really is. A declaration names paths as people type them,
-- through links (/var/run/x is /run/x; releases/current/profile is in the release
-- current points to). Every item is planned at the path the kernel would reach once the
-- run is done: each link on the way read from the plan's view of the machine (what
-- the declaration's own changes leave, else the filesystem), as systemd's chase()
-- resolves them. Links of another user are not followed (they could lead anywhere a
-- moment later), as the confinement of the run's roots refuses them.
local Resolver = {}
Resolver.__index = Resolver

local MAX_LINKS = 40 -- as the kernel's ELOOP

-- What a resolution saw at a path, to tell later whether the plan leaves it so: a
-- directory and nothing are the same to it (names go on below either), a link is its
-- target, anything else its type.
local function fingerprint(i)
  if not i or i.type == "dir" then return "d" end
  if is_link(i) then return "l" .. tostring(i.target) end
  return "f" .. i.type
end

local function new_resolver(view, euid)
  return setmetatable({ view = view, euid = euid, seen = {} }, Resolver)
end

-- The real path of p (absolute): with follow, a link at p itself is followed too (a
-- directory to walk or make); without, p's last name stays as it is (the link itself).
-- Names that do not exist are kept. Returns the path, or nil and why (an item that
-- cannot be reached). Each path looked at is kept with what was seen, for `settled`.
function Resolver:resolve(p, follow, item)
  local names, cur = path.parts(p), root_of(p)
  local i, hops = 1, 0
  while i <= #names do
    local name, last = names[i], i == #names
    i = i + 1
    if name == ".." then
      cur = path.dirname(cur)
    elseif name ~= "." then
      local q = path.join(cur, name)
      local info, err, code
      if follow or not last then
        info, err, code = self.view:look(q)
        if not info and code and code ~= "ENOENT" and code ~= "ENOTDIR" then return nil, err end
        self.seen[q] = self.seen[q] or { fp = fingerprint(info), item = item }
      end
      if is_link(info) then
        hops = hops + 1
        if hops > MAX_LINKS then return nil, select(2, tether.fail("ELOOP", p, "too many links on the way")) end
        -- The confinement's rule (core/chase.c); a directory this run makes is not there
        -- yet, and is its own.
        local trusted, why = true, nil
        if info.uid then trusted, why = tether.link_trusted(info.uid, tether.info(cur), self.euid) end
        if why == "owner" then
          return nil, select(2, tether.fail("EPERM", q, "is a link that belongs to another user, who could point it anywhere; not followed",
            "give the path it leads to instead, if that is meant"))
        end
        if not trusted then
          return nil, select(2, tether.fail("EPERM", q, "is a link in a directory another user can write, who could have put it there; not followed",
            "give the path it leads to instead, if that is meant"))
        end
        local rest = { table.unpack(names, i) }
        names, i = path.parts(info.target), 1
        for _, r in ipairs(rest) do names[#names + 1] = r end
        if path.is_absolute(info.target) then cur = root_of(info.target) end
      elseif info and info.type ~= "dir" and not last then
        return nil, q .. " is " .. what(info) .. ", not a directory"
      else
        cur = q
      end
    end
  end
  if path.sep ~= "/" then cur = cur:gsub("/", path.sep) end -- the system's own spelling (Windows)
  return cur
end

-- Whether every path the resolutions looked at is, once the plan is done, as they saw
-- it. Returns nil when so, else the first path that is not and the item that saw it.
function Resolver:settled(view)
  local paths = {}
  for q in pairs(self.seen) do paths[#paths + 1] = q end
  table.sort(paths)
  for _, q in ipairs(paths) do
    if fingerprint(view:look(q)) ~= self.seen[q].fp then return q, self.seen[q].item end
  end
end

-- The state one planning pass keeps: the resolver, which item claimed which real path,
-- the migrations to run first, the run's roots and which item each action is for.
local function new_ctx(view, euid, pending, claims)
  local ctx = { roots = {}, owner = {}, claims = {}, claimed = {}, pending = pending or {},
                resolver = new_resolver(view, euid) }
  for _, c in ipairs(claims or {}) do
    ctx.claims[c.real], ctx.claimed[#ctx.claimed + 1] = c, c
  end
  return ctx
end

-- The real path of p for item it (nil, and a conflict set, when it cannot be reached).
-- After the first pass, p is resolved as the run leaves the links on its way; the plan
-- as it stands must lead there too, or a change planned later decides where p is:
-- the item waits for it (it.deferred), planned after the others; after them, a path
-- that still leads elsewhere depends on the item's own changes: a conflict.
local function real(ctx, it, p, follow)
  local r, why = ctx.resolver:resolve(p, follow, it)
  if r and ctx.now then
    local now = ctx.now:resolve(p, follow)
    if now ~= r and not ctx.last then
      it.deferred = true
      return nil
    elseif now ~= r then
      r, why = nil, string.format("%s leads to %s once the run is done, but to %s where its change comes in the run; "
        .. "the changes depend on each other in a circle", p, r, tostring(now))
    end
  end
  if not r then it.conflict = it.conflict or why end
  return r
end

-- One path, one wish, however it is spelled: the first item to claim a real path has
-- it; another is a conflict naming both.
local function claim(ctx, it, r, as, role)
  local c = ctx.claims[r]
  if c and c.item ~= it then
    it.conflict = string.format("%s is declared twice (also %s%s)", as, c.item.name,
      c.as ~= as and (", as " .. c.as) or r ~= as and (", which is " .. r) or "")
    return false
  end
  c = { real = r, as = as, item = it, role = role }
  ctx.claims[r], ctx.claimed[#ctx.claimed + 1] = c, c
  return true
end

-- The pending migration whose folder (its from, or its to: they are one once it has
-- run) is at, under or above p (above too with `around`), if any.
local function moved_by(ctx, p, around)
  for _, m in ipairs(ctx.pending) do
    for _, q in ipairs({ m.real_from, m.real_to }) do
      if within(p, q) or (around and within(q, p)) then return m, q end
    end
  end
end

-- The filesystem a new name at p would be on: that of its nearest ancestor on disk.
local function device_at(p, view)
  local d = path.dirname(p)
  while true do
    local i = view:look(d)
    if i and i.dev then return i.dev end
    local up = path.dirname(d)
    if up == d then return nil end
    d = up
  end
end

-- The planners of each kind: fill item.status ("ok" or "changed"), item.changes (what
-- would be done, in words) or item.conflict; add the plan's actions.
local planners = {}

function planners.dirs(p, it, ctx)
  local r = real(ctx, it, it.path, false)
  if not r or not claim(ctx, it, r, it.path, "dir") then return end
  local i = p:look(r)
  if is_link(i) then -- a link to a directory is a directory there, as mkdir -p takes it
    local to = real(ctx, it, r, true)
    local t = to and p:look(to)
    if not (t and t.type == "dir") then it.conflict = it.conflict or (it.path .. " is " .. what(i) .. ", not a directory") end
    return
  end
  local missing, d = {}, r
  while true do
    i = p:look(d)
    if i and i.type == "dir" then break end
    if i then
      it.conflict = d .. " is " .. what(i) .. ", not a directory"
      return
    end
    table.insert(missing, 1, d)
    local up = path.dirname(d)
    if up == d then break end
    d = up
  end
  for _, m in ipairs(missing) do
    p:add("mkdir", { path = m })
    it.changes[#it.changes + 1] = "+ directory " .. m
  end
end

function planners.absent(p, it, ctx)
  local r = real(ctx, it, it.path, false)
  if not r or not claim(ctx, it, r, it.path, "absent") then return end
  local i = p:look(r)
  if not i then return end
  if not is_link(i) then
    it.conflict = r .. " is " .. what(i) .. ": absent applies to links only, real data is never removed"
    return
  end
  p:add("unlink", { path = r, target = i.target })
  it.changes[#it.changes + 1] = "- link " .. r .. " -> " .. tostring(i.target)
end

-- The target a relative link at r stores to reach `target`: from r's real directory to
-- target's real directory (a link at target itself is kept, as tether.relative_target
-- does), both as the run leaves them.
local function relative_want(ctx, it, r, target)
  local base = path.basename(target)
  local t
  if base == "" or base == "." or base == ".." then
    t = real(ctx, it, target, true)
  else
    local d = real(ctx, it, path.dirname(target), true)
    t = d and path.join(d, base)
  end
  if not t then return nil end
  if t == r then it.conflict = r .. ": the link would point to itself"; return nil end
  return path.relative(path.dirname(r), t)
end

local function plan_hard(p, it, ctx, r, i)
  local t_real = real(ctx, it, it.target, false)
  if not t_real then return end
  local m = moved_by(ctx, r) or moved_by(ctx, t_real)
  if m then
    it.conflict = string.format("%s: a hard link at or to what %s moves (%s to %s): the moved file is another one on "
      .. "another filesystem; declare it once the migration has run", it.path, m.name, m.real_from, m.real_to)
    return
  end
  local t = p:look(t_real)
  if not t or t.type ~= "file" then
    it.conflict = it.target .. " is " .. what(t) .. ": a hard link needs a file"
    return
  end
  if i and i.type == "file" and (i.same_as == t_real or (i.dev == t.dev and i.ino == t.ino)) then return end
  if i and is_link(i) and it.force then
    p:add("unlink", { path = r, target = i.target })
    it.changes[#it.changes + 1] = "- link " .. r .. " -> " .. tostring(i.target)
  elseif i then
    it.conflict = r .. " is " .. what(i) .. (is_link(i) and " (force = true replaces a link)" or ": real data is never replaced")
    return
  end
  local dev = device_at(r, p)
  if dev and t.dev and dev ~= t.dev then
    it.conflict = select(2, tether.fail("EXDEV", r, "is on another filesystem than " .. it.target .. ", and a hard link cannot cross one"))
    return
  end
  p:add("addhard", { path = r, existing = t_real })
  it.changes[#it.changes + 1] = "+ hard link " .. r .. " = " .. t_real
end

function planners.links(p, it, ctx)
  local kind = it.type or "symlink"
  if kind == "junction" and tether.platform ~= "windows" then
    it.conflict = select(2, tether.fail("ENOTSUP", it.path, "junctions are an NTFS feature, not available here"))
    return
  end
  local r = real(ctx, it, it.path, false)
  if not r or not claim(ctx, it, r, it.path, "link") then return end
  it.real = r
  local dir = path.dirname(r)
  local parent = p:look(dir)
  if not parent or parent.type ~= "dir" then
    it.conflict = not_a_dir(dir, parent) .. " (declare it in dirs)"
    return
  end
  local i = p:look(r)
  if kind == "hard" then return plan_hard(p, it, ctx, r, i) end
  local want = it.target
  if it.relative then
    want = relative_want(ctx, it, r, it.target)
    if not want then return end
  end
  it.want = want
  if path.normalize(path.join(dir, want)) == r then -- as tether.symlink refuses it
    it.conflict = r .. ": the link would point to itself"
    return
  end
  if not i then
    p:add(kind == "junction" and "junction" or "symlink", { path = r, target = want })
    it.changes[#it.changes + 1] = "+ " .. kind .. " " .. r .. " -> " .. want
  elseif is_link(i) and i.target == want and i.type == kind then
    return
  elseif is_link(i) and it.force then
    if i.type == kind then
      p:add("replace", { path = r, target = want, old = i.target })
    else
      p:add("unlink", { path = r, target = i.target })
      p:add(kind == "junction" and "junction" or "symlink", { path = r, target = want })
    end
    it.changes[#it.changes + 1] = "~ " .. kind .. " " .. r .. " -> " .. want .. " (was " .. tostring(i.target) .. ")"
  elseif is_link(i) then
    it.conflict = r .. " is " .. what(i) .. ", not " .. want .. " (force = true replaces a link)"
  else
    it.conflict = r .. " is " .. what(i) .. ": a link is never put over real data"
  end
end

function planners.farms(p, it, ctx)
  local dir, target = real(ctx, it, it.dir, true), real(ctx, it, it.target, true)
  if not dir or not target then return end
  local m, q = moved_by(ctx, dir, true)
  if not m then m, q = moved_by(ctx, target, true) end
  if m then
    it.conflict = string.format("its directories hold or are in %s, which %s moves; declare the farm once the migration has run",
      q, m.name)
    return
  end
  for _, d in ipairs({ dir, target }) do
    local i = p:look(d)
    if not i or i.type ~= "dir" then
      it.conflict = not_a_dir(d, i) .. (tether.info(d) and " once the run is done" or "")
      return
    end
  end
  local f, err = farm.new({ stow = dir, target = target, plan = p, dotfiles = it.dotfiles, no_folding = it.no_folding })
  if not f then it.conflict = err; return end
  -- The farm reads the machine as it is: its directories must be there already.
  for _, d in ipairs({ { dir, f.stow_dir }, { target, f.target } }) do
    if d[1] ~= d[2] then
      it.conflict = string.format("%s leads to %s now, not where it is once the run is done", d[1], d[2])
      return
    end
  end
  ctx.roots[#ctx.roots + 1] = f.target
  ctx.roots[#ctx.roots + 1] = f.stow_dir
  local before = #p.actions
  for _, pkg in ipairs(it.packages) do
    local at = path.join(f.stow_dir, tostring(pkg))
    local i = tether.info(at)
    if type(pkg) ~= "string" or pkg:find("/") or not i or i.type ~= "dir" then
      it.conflict = at .. ": no such package"
      return
    end
    -- The farm links a package as it is now: what another item would put in it is
    -- not seen (and the next run would link it).
    for _, c in ipairs(ctx.claimed) do
      if within(c.real, at) then
        it.conflict = string.format("%s (%s) is inside the package %s, which this farm links as it is before the run",
          c.as, c.item.name, pkg)
        return
      end
    end
    f:stow(pkg)
  end
  local problems = {}
  for _, e in ipairs(f.errors) do problems[#problems + 1] = e end
  for _, c in ipairs(f.conflicts) do problems[#problems + 1] = c.pkg .. ": " .. c.message end
  if #problems > 0 then it.conflict = table.concat(problems, "; "); return end
  for k = before + 1, #p.actions do it.changes[#it.changes + 1] = p:difference(p.actions[k]) end
end

-- Each link below dir (its path as the pending migrations leave it, and the walk's
-- entry): a moved folder's links are where it goes, not where it is; an unreadable
-- directory comes as an entry with error set.
local function links_below(ctx, dir)
  local out = {}
  local function walk(src, shown, inside)
    for e in tether.walk(src, { links_only = true, stat = true }) do
      local gone = false
      for _, m in ipairs(ctx.pending) do
        gone = gone or (m ~= inside and e.path ~= m.real_from and within(e.path, m.real_from))
      end
      if not gone then out[#out + 1] = { path = path.join(shown, path.below(e.path, src)), e = e } end
    end
  end
  local src, inside = dir, nil
  for _, m in ipairs(ctx.pending) do
    local rest = path.below(dir, m.real_to)
    if rest then src, inside = path.join(m.real_from, rest), m end
  end
  local i = tether.info(src)
  if i and i.type == "dir" then walk(src, dir, inside) end
  for _, m in ipairs(ctx.pending) do
    if m ~= inside and within(m.real_to, dir) then walk(m.real_from, m.real_to, m) end
  end
  return out
end

function planners.retarget(p, it, ctx)
  local from, to = it.from, it.to
  local under = real(ctx, it, it.under, true)
  if not under then return end
  for _, m in ipairs(ctx.pending) do
    for _, a in ipairs({ from, to }) do
      for _, b in ipairs({ m.real_from, m.real_to }) do
        if within(a, b) or within(b, a) then
          it.conflict = string.format("%s is at, in or above %s, which %s moves (and may rewrite links into); "
            .. "declare the retarget once the migration has run", a, b, m.name)
          return
        end
      end
    end
  end
  -- A link this declaration wants pointing into `from` (a migration's too) would be
  -- pointed elsewhere by the next run: the two cannot both hold.
  for _, c in ipairs(ctx.claimed) do
    local stored = c.role == "link" and c.item.want or c.role == "migration" and c.item.real_to
    if within(c.real, under) and retarget.moved(stored, from, to) then
      it.conflict = string.format("%s (%s) is declared to point to %s, which this retarget would move to %s",
        c.as, c.item.name, stored, retarget.moved(stored, from, to))
      return
    end
  end
  ctx.roots[#ctx.roots + 1] = under
  local i = p:look(under)
  if not i or i.type ~= "dir" then it.conflict = not_a_dir(under, i); return end
  local missing = {}
  for _, l in ipairs(links_below(ctx, under)) do
    local e = l.e
    if e.error and e.type == "dir" then
      missing[#missing + 1] = select(2, tether.fail(e.error, e.path, "cannot be read"))
    elseif not p:touches(l.path) then -- (a link another item changes or removes is that item's)
      -- Its target as the plan leaves it (what an earlier run of the plan assumed: the
      -- next run's check), else as the walk read it.
      local now = p:look(l.path)
      local target = now and now.type == "symlink" and now.target or e.target
      local new, why, would = retarget.new_target(l.path, target, from, to, { allow_broken = it.allow_broken })
      if new then
        p:add("replace", { path = l.path, target = new, old = target,
                           expect = { dev = e.dev, ino = e.ino, ctime = e.ctime, ctime_ns = e.ctime_ns } })
        it.changes[#it.changes + 1] = "~ symlink " .. l.path .. " -> " .. new .. " (was " .. target .. ")"
      elseif why == "missing" then
        missing[#missing + 1] = l.path .. ": new target " .. would .. " does not exist (allow_broken = true retargets it anyway)"
      end
    end
  end
  if #missing > 0 then it.conflict = table.concat(missing, "; ") end
end

-- Migrations are planned (and run) before everything else, on the machine as it is.
function planners.migrations(_, it, ctx)
  local from, to = real(ctx, it, it.from, false), real(ctx, it, it.to, false)
  if not from or not to then return end
  if not claim(ctx, it, from, it.from, "migration") or not claim(ctx, it, to, it.to, "destination") then return end
  it.real_from, it.real_to = from, to
  for _, m in ipairs(ctx.pending) do
    for _, a in ipairs({ from, to }) do
      for _, b in ipairs({ m.real_from, m.real_to }) do
        if within(a, b) or within(b, a) then
          it.conflict = string.format("%s is at, in or above %s, which %s moves first; one migration of a folder at a time",
            a, b, m.name)
          return
        end
      end
    end
  end
  local i = tether.info(from)
  if is_link(i) then
    local here, there = tether.realpath(from), tether.realpath(to)
    if not (here and there and here == there) then
      it.conflict = from .. " is " .. what(i) .. ", not a link to " .. to
    elseif it.ran then -- this run's: planned again after it
      it.changes[#it.changes + 1] = "> migrate " .. from .. " to " .. to .. ", a link left at " .. from
      ctx.roots[#ctx.roots + 1] = path.dirname(from) -- the apply's journal is kept there too
      ctx.roots[#ctx.roots + 1] = path.dirname(to)
    end
    return
  end
  local p, err, _, _, _, problems = tether.migrate(from, to, { dry = true, link = it.link, verify = it.verify })
  if not p then
    local texts = {}
    for _, pr in ipairs(problems or {}) do texts[#texts + 1] = type(pr) == "table" and pr.text or tostring(pr) end
    it.conflict = #texts > 0 and table.concat(texts, "; ") or err
    return
  end
  it.changes[#it.changes + 1] = "> migrate " .. from .. " to " .. to .. ", a link left at " .. from
  ctx.pending[#ctx.pending + 1] = it
end

-- Plans item it: its status, changes or conflict, and the actions it adds (none while
-- it waits for a later change, it.deferred).
local function plan_item(p, it, ctx)
  it.changes, it.conflict, it.status, it.deferred = {}, nil, nil, nil
  local before = #p.actions
  planners[it.kind](p, it, ctx)
  if it.deferred then
    for k = #p.actions, before + 1, -1 do p.actions[k] = nil end
    return
  end
  -- The roots of the run: where each item's changes lie.
  for k = before + 1, #p.actions do
    local a = p.actions[k]
    ctx.owner[a] = it
    ctx.roots[#ctx.roots + 1] = path.dirname(a.path)
    if a.existing then ctx.roots[#ctx.roots + 1] = path.dirname(a.existing) end
  end
  if it.conflict then
    it.status = "failed"
    for k = #p.actions, before + 1, -1 do p.actions[k] = nil end
  else
    it.status = #it.changes > 0 and "changed" or "ok"
  end
end

-- One planning pass over every item but the migrations, on the machine as the pending
-- migrations leave it; paths on the way are resolved through `via` (the previous
-- pass's plan: the state the run leaves), or on the first pass through this plan as
-- it grows.
local function pass(items, mctx, via)
  local ctx = new_ctx(nil, mctx.resolver.euid, mctx.pending, mctx.claimed)
  local p = plan.new("apply", { roots = ctx.roots })
  for _, m in ipairs(mctx.pending) do
    p:assume(m.real_from, { type = "symlink", target = m.real_to })
    p:assume(m.real_to, { type = "dir", contents = m.real_from })
  end
  ctx.resolver.view = via or p
  if via then ctx.now = new_resolver(p, ctx.resolver.euid) end
  local later = {}
  for _, it in ipairs(items) do
    if it.kind ~= "migrations" then
      plan_item(p, it, ctx)
      if it.deferred then later[#later + 1] = it end
    end
  end
  ctx.last = true
  for _, it in ipairs(later) do plan_item(p, it, ctx) end
  return p, ctx
end

local MAX_PASSES = 4

-- The migrations, planned on the machine as it is (they run first). Returns their
-- context: the pending ones, their claims and what their resolutions saw.
local function plan_migrations(items)
  local machine = plan.new("apply") -- no actions: its view is the machine as it is
  local mctx = new_ctx(machine, tether.euid())
  for _, it in ipairs(items) do
    if it.kind == "migrations" then plan_item(machine, it, mctx) end
  end
  -- A directory declared for a migration's destination would come too late: say so.
  for _, m in ipairs(items) do
    local parent = m.kind == "migrations" and m.conflict and path.dirname(m.to)
    for _, d in ipairs(parent and not tether.info(parent) and items or {}) do
      if d.kind == "dirs" and within(parent, d.path) then
        m.conflict = string.format("%s; %s would make it, but directories are made after the migrations: make it in a run before",
          m.conflict, d.name)
        break
      end
    end
  end
  return mctx
end

-- Every other item, planned until the paths on the way are where the plan leaves them.
local function plan_rest(items, mctx)
  local p, ctx, via
  for n = 1, MAX_PASSES do
    p, ctx = pass(items, mctx, via)
    local q, it = ctx.resolver:settled(p)
    if not q then break end
    if n == MAX_PASSES then
      it.conflict = string.format("%s goes through %s, which this declaration changes in turn; the paths do not settle",
        it.path or it.under or it.dir, q)
    end
    via = p
  end
  -- A migration's paths were resolved on the machine as it is: a link on the way that
  -- this declaration changes would move them for the next run.
  local q, it = mctx.resolver:settled(p)
  if q then
    it.conflict = string.format("%s goes through %s, which this declaration changes; migrations run first, so give the path it leads to",
      it.from, q)
  end
  return p, ctx
end

-- The state plan p leaves must be the declared one: planned again there, as the next
-- run will find the machine, every item holds (an absent link where a directory of the
-- same declaration is made would be real data there next time, and refused).
local function check_next_run(items, p, mctx)
  local next_run = new_ctx(p:after(), mctx.resolver.euid, mctx.pending, mctx.claimed)
  for _, it in ipairs(items) do
    if it.kind ~= "migrations" and not it.conflict then
      local again = setmetatable({}, { __index = it })
      plan_item(next_run.resolver.view, again, next_run)
      if again.status ~= "ok" then
        it.conflict = "would not hold once the run is done: " .. (again.conflict or table.concat(again.changes, "; "))
      end
    end
  end
end

-- Compares the items with the machine: each gets status "ok", "changed" (changes listed)
-- or "failed" (a conflict). Migrations come first: they are planned on the machine as
-- it is and run before anything else; every other item is planned on the state they
-- leave, at its real path as the run leaves the links on its way. Returns the plan, the
-- migrations to run, the number of conflicts, and which item each of the plan's
-- actions is for. A plan that assumes migrations is for checking: once they have run,
-- plan again (items[k].ran set) and apply that one.
function M.plan(items)
  local mctx = plan_migrations(items)
  local p, ctx = plan_rest(items, mctx)
  check_next_run(items, p, mctx)
  for _, r in ipairs(mctx.roots) do ctx.roots[#ctx.roots + 1] = r end
  local conflicts = 0
  for _, x in ipairs(items) do
    if x.conflict then x.status, conflicts = "failed", conflicts + 1 end
  end
  -- Conflicts among the plan's own actions (an earlier one makes a later one wrong).
  for _, c in ipairs(p:check()) do
    local owner = ctx.owner[c.action]
    if owner and not owner.conflict then
      owner.conflict, owner.status, conflicts = c.path .. ": " .. c.message, "failed", conflicts + 1
    end
  end
  -- The fewest roots that hold every change (a root inside another is dropped).
  table.sort(ctx.roots)
  local roots = {}
  for _, r in ipairs(ctx.roots) do
    local last = roots[#roots]
    if not last or not within(r, last) then roots[#roots + 1] = r end
  end
  p.header.roots = roots
  return p, mctx.pending, conflicts, ctx.owner
end

return M
