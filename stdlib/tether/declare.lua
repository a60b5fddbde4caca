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
-- declaration that cannot be reached as a whole changes nothing.
local tether = require "tether"
local json = require "tether.json"
local path = require "tether.path"
local cli = require "tether.cli"
local plan = require "tether.plan"
local farm = require "tether.farm"

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
M.ORDER = { "dirs", "absent", "links", "farms", "retarget", "migrations" }
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

-- Reads FILE ("-": standard input): JSON when it is named .json or starts with { , else
-- Lua. Returns the declaration and the directory relative paths are taken from, or nil,
-- a message and (when the file could not be read at all) true.
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
  local home = os.getenv("HOME") or os.getenv("USERPROFILE")
  local function abs(p)
    if home and (p == "~" or p:match("^~[/\\]")) then p = home .. p:sub(2) end
    p = path.is_absolute(p) and p or path.join(base, p)
    return tether.absolute(p) or path.normalize(p) -- in the system's own spelling
  end
  for _, kind in ipairs(M.ORDER) do
    local list = decl[kind]
    if list ~= nil and not is_list(list) then
      bad(kind .. ": must be a list")
    elseif list then
      for i, raw in ipairs(list) do
        local name = string.format("%s[%d]", kind, i)
        local item = type(raw) == "string" and SHORT[kind] and { [SHORT[kind]] = raw } or raw
        if type(item) ~= "table" then
          bad(name .. ": must be a table" .. (SHORT[kind] and " or a path" or ""))
        else
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
          for _, f in ipairs({ "path", "from", "to", "under", "dir" }) do
            if type(it[f]) == "string" and it[f] ~= "" then it[f] = abs(it[f]) end
          end
          if kind == "farms" and type(it.target) == "string" then it.target = abs(it.target) end
          if kind == "links" and type(it.target) == "string" and (it.relative or it.type == "hard") then
            it.target = abs(it.target)
          end
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

-- The planners of each kind: fill item.status ("ok" or "changed"), item.changes (what
-- would be done, in words) or item.conflict; add the plan's actions.
local planners = {}

function planners.dirs(p, it)
  local missing, d = {}, it.path
  while true do
    local i = p:look(d)
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

function planners.absent(p, it)
  local i = p:look(it.path)
  if not i then return end
  if i.type ~= "symlink" and i.type ~= "junction" then
    it.conflict = it.path .. " is " .. what(i) .. ": absent applies to links only, real data is never removed"
    return
  end
  p:add("unlink", { path = it.path, target = i.target })
  it.changes[#it.changes + 1] = "- link " .. it.path .. " -> " .. tostring(i.target)
end

function planners.links(p, it)
  local kind = it.type or "symlink"
  if kind == "junction" and tether.platform ~= "windows" then
    it.conflict = it.path .. ": junctions are an NTFS feature, not available here (ENOTSUP)"
    return
  end
  local parent = p:look(path.dirname(it.path))
  if not parent or parent.type ~= "dir" then
    it.conflict = path.dirname(it.path) .. (parent and (" is " .. what(parent) .. ", not a directory") or " does not exist")
      .. " (declare it in dirs)"
    return
  end
  local want = it.target
  if kind ~= "hard" and it.relative then
    local rel, err = tether.relative_target(it.target, it.path)
    if not rel then it.conflict = err; return end
    want = rel
  end
  local i = p:look(it.path)
  if kind == "hard" then
    local t = tether.info(it.target)
    if not t or t.type ~= "file" then
      it.conflict = it.target .. " is " .. what(t) .. ": a hard link needs a file"
      return
    end
    if i and i.type == "file" and i.dev == t.dev and i.ino == t.ino then return end
    if i and i.type == "symlink" and it.force then
      p:add("unlink", { path = it.path, target = i.target })
      it.changes[#it.changes + 1] = "- link " .. it.path .. " -> " .. tostring(i.target)
    elseif i then
      it.conflict = it.path .. " is " .. what(i) .. (i.type == "symlink" and " (force = true replaces a link)" or ": real data is never replaced")
      return
    end
    p:add("addhard", { path = it.path, existing = it.target })
    it.changes[#it.changes + 1] = "+ hard link " .. it.path .. " = " .. it.target
    return
  end
  if not i then
    p:add(kind == "junction" and "junction" or "symlink", { path = it.path, target = want })
    it.changes[#it.changes + 1] = "+ " .. kind .. " " .. it.path .. " -> " .. want
  elseif (i.type == "symlink" or i.type == "junction") and i.target == want and (i.type == kind) then
    return
  elseif (i.type == "symlink" or i.type == "junction") and it.force then
    if i.type == kind then
      p:add("replace", { path = it.path, target = want, old = i.target })
    else
      p:add("unlink", { path = it.path, target = i.target })
      p:add(kind == "junction" and "junction" or "symlink", { path = it.path, target = want })
    end
    it.changes[#it.changes + 1] = "~ " .. kind .. " " .. it.path .. " -> " .. want .. " (was " .. tostring(i.target) .. ")"
  elseif i.type == "symlink" or i.type == "junction" then
    it.conflict = it.path .. " is " .. what(i) .. ", not " .. want .. " (force = true replaces a link)"
  else
    it.conflict = it.path .. " is " .. what(i) .. ": a link is never put over real data"
  end
end

function planners.farms(p, it, ctx)
  local f, err = farm.new({ stow = it.dir, target = it.target, plan = p, dotfiles = it.dotfiles,
                            no_folding = it.no_folding })
  if not f then it.conflict = err; return end
  ctx.roots[#ctx.roots + 1] = f.target
  ctx.roots[#ctx.roots + 1] = f.stow_dir
  local before = #p.actions
  for _, pkg in ipairs(it.packages) do
    local i = tether.info(f.stow_dir .. "/" .. tostring(pkg))
    if type(pkg) ~= "string" or pkg:find("/") or not i or i.type ~= "dir" then
      it.conflict = f.stow_dir .. "/" .. tostring(pkg) .. ": no such package"
      return
    end
    f:stow(pkg)
  end
  local problems = {}
  for _, e in ipairs(f.errors) do problems[#problems + 1] = e end
  for _, c in ipairs(f.conflicts) do problems[#problems + 1] = c.pkg .. ": " .. c.message end
  if #problems > 0 then it.conflict = table.concat(problems, "; "); return end
  for k = before + 1, #p.actions do it.changes[#it.changes + 1] = "+ " .. p:describe(p.actions[k]) end
end

function planners.retarget(p, it, ctx)
  local from, to = it.from, it.to
  ctx.roots[#ctx.roots + 1] = it.under
  local i = tether.info(it.under)
  if not i or i.type ~= "dir" then it.conflict = it.under .. " is " .. what(i) .. ", not a directory"; return end
  local missing = {}
  for e in tether.walk(it.under, { links_only = true, stat = true }) do
    if e.error and e.type == "dir" then
      missing[#missing + 1] = e.path .. ": cannot be read (" .. e.error .. ")"
    elseif e.target and path.is_absolute(e.target) then
      local t = path.normalize(e.target)
      local rest = t == from and "" or (t:sub(1, #from + 1) == from .. "/" and t:sub(#from + 2))
      if rest then
        local new = rest == "" and to or path.join(to, rest)
        if it.allow_broken or tether.exists(new, { follow = true }) then
          p:add("replace", { path = e.path, target = new, old = e.target,
                             expect = { dev = e.dev, ino = e.ino, ctime = e.ctime, ctime_ns = e.ctime_ns } })
          it.changes[#it.changes + 1] = "~ symlink " .. e.path .. " -> " .. new .. " (was " .. e.target .. ")"
        else
          missing[#missing + 1] = e.path .. ": new target " .. new .. " does not exist (allow_broken = true retargets it anyway)"
        end
      end
    end
  end
  if #missing > 0 then it.conflict = table.concat(missing, "; ") end
end

function planners.migrations(_, it, ctx)
  local i = tether.info(it.from)
  if i and (i.type == "symlink" or i.type == "junction") then
    local here, there = tether.realpath(it.from), tether.realpath(it.to)
    if here and there and here == there then return end
    it.conflict = it.from .. " is " .. what(i) .. ", not a link to " .. it.to
    return
  end
  local p, err, _, _, _, problems = tether.migrate(it.from, it.to, { dry = true, link = it.link, verify = it.verify })
  if not p then
    local texts = {}
    for _, pr in ipairs(problems or {}) do texts[#texts + 1] = type(pr) == "table" and pr.text or tostring(pr) end
    it.conflict = #texts > 0 and table.concat(texts, "; ") or err
    return
  end
  it.changes[#it.changes + 1] = "> migrate " .. it.from .. " to " .. it.to .. ", a link left at " .. it.from
  ctx.migrations[#ctx.migrations + 1] = it
  ctx.roots[#ctx.roots + 1] = path.dirname(it.from) -- the apply's journal is kept there too
  ctx.roots[#ctx.roots + 1] = path.dirname(it.to)
end

-- Compares the items with the machine: each gets status "ok", "changed" (changes listed)
-- or "failed" (a conflict). Returns the plan, the migrations to run, the number of
-- conflicts, and which item each of the plan's actions is for.
function M.plan(items)
  local ctx = { roots = {}, migrations = {}, owner = {} }
  local p = plan.new("apply", { roots = ctx.roots })
  local conflicts = 0
  for _, it in ipairs(items) do
    it.changes = {}
    local before = #p.actions
    local ok, err = pcall(planners[it.kind], p, it, ctx)
    if not ok then it.conflict = tostring(err) end
    -- The roots of the run: where each item's changes lie.
    for k = before + 1, #p.actions do
      local a = p.actions[k]
      ctx.owner[a] = it
      ctx.roots[#ctx.roots + 1] = path.dirname(a.path)
      if a.existing then ctx.roots[#ctx.roots + 1] = path.dirname(a.existing) end
    end
    if it.conflict then
      it.status, conflicts = "failed", conflicts + 1
      for k = #p.actions, before + 1, -1 do p.actions[k] = nil end
    else
      it.status = #it.changes > 0 and "changed" or "ok"
    end
  end
  -- Conflicts among the plan's own actions (an earlier one makes a later one wrong).
  for _, c in ipairs(p:check()) do
    local it = ctx.owner[c.action]
    if it and not it.conflict then
      it.conflict, it.status, conflicts = c.path .. ": " .. c.message, "failed", conflicts + 1
    end
  end
  -- The fewest roots that hold every change (a root inside another is dropped).
  table.sort(ctx.roots)
  local roots = {}
  local function within(r, top) -- r is top or below it (either separator on Windows)
    return r == top or (r:sub(1, #top) == top and (top:match("[/\\]$") or r:sub(#top + 1, #top + 1):match("[/\\]")))
  end
  for _, r in ipairs(ctx.roots) do
    local last = roots[#roots]
    if not last or not within(r, last) then roots[#roots + 1] = r end
  end
  p.header.roots = roots
  return p, ctx.migrations, conflicts, ctx.owner
end

return M
