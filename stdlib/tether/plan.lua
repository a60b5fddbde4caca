-- tether.plan: bulk changes in two phases, as GNU Stow does. A script adds actions
-- (create, replace or remove a link, hard-link two files, move, make or remove a
-- directory); plan:check() reports every conflict before anything is touched;
-- plan:apply() runs the actions with a journal, each one re-checked right before it
-- acts (the tree can change under a long run); with dry = true it prints each action and
-- changes nothing. Every applied plan can be reversed by tether undo, which first checks
-- that nothing changed since and refuses, saying what, if something did.
--
-- A plan acts only inside its roots (header.roots, the paths the run was given): they
-- are held open for the whole run (tether.confine), every path below them is reached
-- without following a link, and each action says what it expects of the object it
-- changes (its device and inode, as the walk saw it), so a directory swapped for a link,
-- or a file swapped for another, is left alone.
local tether = require "tether"
local journal = require "tether.journal"
local path = require "tether.path"
local run = require "tether.run"
local optcheck = require "tether.opts"

local raw = tether.raw
-- A name in a description, quoted only when it holds a control character (tether.quote):
-- the description itself is printed as it is.
local q = tether.quote
local M = {}
local Plan = {}
Plan.__index = Plan

-- Preconditions ask a "view" what is at a path: the filesystem itself (REAL, right
-- before an action runs) or, while a plan is checked, what the earlier actions of the
-- plan will have made of it (View below). look(p) -> {type=, target=, ...} or nil;
-- target(p) -> the stored target of a link at p or nil; exists(p) -> boolean.
local REAL = {
  look = function(_, p) return tether.info(p) end,
  target = function(_, p) return (tether.readlink(p)) end,
  exists = function(_, p) return tether.exists(p) == true end,
  -- Why a new object cannot be made at p: it exists, or it cannot be looked at (a
  -- directory on the way that cannot be searched); nil when p is free. (info, not
  -- exists: it also reaches paths longer than PATH_MAX, from the confinement's handles.)
  free = function(_, p)
    local i, err, code = tether.info(p)
    if i then return "already exists" end
    if code ~= "ENOENT" and code ~= "ENOTDIR" then return "cannot be looked at: " .. err end
  end,
}

local function link_target(p, view) return (view or REAL):target(p) end

local function taken(p, view) return (view or REAL):free(p) end

local function exists(p, view) return (view or REAL):exists(p) end

-- The identity a journal keeps of an object: enough to know it is the same one later.
local function id_of(t) return t and { dev = t.dev, ino = t.ino } or nil end

-- What a change checks of an object it changes: its inode, and (but for a directory,
-- whose ctime every name added or removed in it changes, the plan's own actions too) its
-- ctime, which tells a new object that happens to get a freed inode number from the one
-- planned.
local function planned_of(t)
  if not t then return nil end
  if t.type == "dir" then return id_of(t) end
  return { dev = t.dev, ino = t.ino, ctime = t.ctime, ctime_ns = t.ctime_ns }
end

-- What a hard-link action checks of a regular file f (a walk entry or tether.info's)
-- before it is linked to another: its inode, content (size and times) and mode and
-- owner, which its own copy gets back on undo.
local function file_identity(f)
  return { dev = f.dev, ino = f.ino, size = f.size, mtime = f.mtime, mtime_ns = f.mtime_ns,
           ctime = f.ctime, ctime_ns = f.ctime_ns, mode = f.mode, uid = f.uid, gid = f.gid }
end

-- The same of the file that is kept, which others are linked to: without its ctime,
-- which each link made to it changes.
local function content_identity(f)
  return { dev = f.dev, ino = f.ino, size = f.size, mtime = f.mtime, mtime_ns = f.mtime_ns,
           mode = f.mode, uid = f.uid, gid = f.gid }
end

-- What undo must find at a hard-linked path: the kept file's inode, with its content
-- and mode as they were (an edit or a chmod since makes undo refuse).
local function shared_identity(a) return content_identity(a.expect_existing) end

-- The most a replaced file may hold to be kept in the journal (stow --adopt replaces a
-- package's file: its bytes go into the run's journal, so tether undo can give them back).
local KEEP_MAX = 1 << 20

-- What p holds, to be kept: {content =, mode =, uid =, gid =} and the identity of the
-- file read (what the action may replace), or nil, message, errno when it cannot be read
-- whole: read from its directory's handle, never through a link, never more than
-- KEEP_MAX bytes (what was checked when planning may have grown since).
local function keep(p)
  local i = tether.info(p)
  if not i or i.type ~= "file" then return {} end -- nothing there to keep
  local content, got, code = raw.read(p, { expect = { dev = i.dev, ino = i.ino }, max = KEEP_MAX })
  if not content then
    return tether.fail(code == "EFBIG" and "EFBIG" or "ECHANGED", p, "could not be kept for undo (" .. got .. ")")
  end
  return { content = content, mode = got.mode, uid = got.uid, gid = got.gid },
    { dev = got.dev, ino = got.ino, ctime = got.ctime, ctime_ns = got.ctime_ns }
end

-- Puts what keep() kept back at p, as a new file renamed into place (never written
-- through a link or over what is there now).
local function restore(p, kept)
  if not kept.content then return true end
  local tmp = path.join(path.dirname(p), tether.raw.temp_name())
  -- (given to its owner first: only so may it keep a set-user-ID bit)
  local f, made, code, e = raw.create(tmp, { mode = kept.mode, uid = kept.uid, gid = kept.uid and kept.gid })
  if not f then return nil, made, code, e end
  local ok, werr = f:write(kept.content)
  local closed, cerr = f:close()
  if not ok or not closed then
    raw.remove_file(tmp, { expect = { dev = made.dev, ino = made.ino } })
    return tether.fail("EIO", p, "its kept content could not be written back (" .. tostring(werr or cerr) .. ")")
  end
  local id = { dev = made.dev, ino = made.ino } -- (what was written changed its size and times)
  local done, rerr, rcode, re = raw.rename(tmp, p, { expect = id, noreplace = true })
  if not done then raw.remove_file(tmp, { expect = id }) end
  return done, rerr, rcode, re
end

-- Each kind of action: how to describe it, its precondition (nil when it holds, else
-- what is wrong), how to do it (returning what it made, for the journal), what must
-- hold afterwards (checked before an undo, with the identity the action made), and how
-- to undo it. The C primitives check each object against what was planned right before
-- they act; the preconditions here are for reporting conflicts up front.
local kinds = {
  symlink = {
    -- Makes a new name or fails, never replacing one (symlinkat, mkdir): its precondition
    -- is asked only when it failed, to tell "skipped" (the name was taken since the
    -- check) from "failed", instead of once more before every action.
    creates = true,
    describe = function(a) return "link " .. q(a.shown or a.path) .. " -> " .. q(a.target) end,
    pre = function(a, view) return taken(a.path, view) end,
    effect = function(a) return { type = "symlink", target = a.target } end,
    apply = function(a) return raw.symlink(a.target, a.shown, { dir = a.dir }) end,
    post = function(a) return link_target(a.path) == a.target end,
    -- A link is as the run left it when it stores the same target (it may have been made
    -- again since, by a later run and its undo): its directory is what must not change.
    undo = function(a) return raw.unlink(a.path, { old = a.target }) end,
  },
  replace = {
    checks_itself = true, -- tether.replace re-checks the old target and identity in C
    describe = function(a) return "relink " .. q(a.shown or a.path) .. " -> " .. q(a.target) .. " (was " .. q(a.old) .. ")" end,
    pre = function(a, view)
      local t = link_target(a.path, view)
      if not t then return "is not a link (any more)" end
      if t ~= a.old then return "now points to " .. t .. ", not " .. a.old end
    end,
    effect = function(a) return { type = "symlink", target = a.target } end,
    apply = function(a) return raw.replace(a.target, a.shown, { dir = a.dir, old = a.old, expect = a.expect }) end,
    post = function(a) return link_target(a.path) == a.target end,
    -- (what was there is put back as it was, a link that named itself too)
    undo = function(a) return raw.replace(a.old, a.path, { dir = a.dir, old = a.target, loop = true }) end,
  },
  unlink = {
    checks_itself = true, -- tether.unlink re-checks the target and identity in C
    describe = function(a) return "remove link " .. q(a.shown or a.path) .. " -> " .. q(a.target) end,
    pre = function(a, view)
      local t = link_target(a.path, view)
      if not t then return "is not a link (any more)" end
      if t ~= a.target then return "now points to " .. t .. ", not " .. a.target end
    end,
    effect = function() return false end,
    -- What was removed, with its owner (read through the handle it was removed from),
    -- is kept in the journal: undo gives the link back to its owner.
    apply = function(a)
      local gone, err, code, e = raw.unlink(a.shown, { old = a.target, expect = a.expect })
      if not gone then return nil, err, code, e end
      return { dev = gone.dev, ino = gone.ino, uid = gone.uid, gid = gone.gid }
    end,
    post = function(a) return not exists(a.path) end,
    -- (the owner is the journal's word: tether.symlink uses it only when root runs the
    -- undo, on the link it has just made and checked)
    undo = function(a, made)
      local owner = type(made) == "table" and made.uid and { uid = made.uid, gid = made.gid } or nil
      return raw.symlink(a.target, a.path, { loop = true, owner = owner })
    end,
  },
  hardlink = { -- path, a regular file identical to existing, becomes a hard link to it
    checks_itself = true, -- tether.link_over re-checks path and existing in C (ECHANGED)
    describe = function(a) return (a.clone and "clone " or "hard-link ") .. q(a.shown or a.path) .. " to " .. q(a.existing) end,
    pre = function() end,
    -- The old copy is removed on a second thread (freeing its blocks is the slow part);
    -- Plan:apply waits for it before the run is over.
    apply = function(a)
      local ok, err, code, e = raw.link_over(a.existing, a.shown, a.expect,
        { clone = a.clone, background = true, expect_existing = a.expect_existing })
      if not ok then return nil, err, code, e end
      return a.clone and true or shared_identity(a)
    end,
    finish = function() return raw.link_drain() end,
    effect = function(a) return { type = "file", same_as = a.existing } end,
    -- (and the shared file still as made: what unshare's expect asks, an edit since
    -- makes the undo refuse, so -n says so too; a copy keeps all of it but the inode)
    post = function(a, made)
      local i, x = tether.info(a.path), tether.info(a.existing)
      if not (i and x and i.type == "file" and (a.clone or i.ino == x.ino)) then return false end
      return not made or made.size == nil or (i.size == made.size and i.mtime == made.mtime and
        (made.mtime_ns == nil or i.mtime_ns == made.mtime_ns) and (made.mode == nil or i.mode == made.mode))
    end,
    undo = function(a, made)
      return raw.unshare(a.path, a.expect, { expect = type(made) == "table" and made or nil })
    end,
    -- What the journal needs to undo it: the file's mode, owner and time to give its copy
    -- back, and what the kept file was (the identity undo checks).
    record = function(a)
      local x = a.expect
      return { op = a.op, path = a.path, shown = a.shown, existing = a.existing, clone = a.clone,
               expect = { mode = x.mode, uid = x.uid, gid = x.gid, mtime = x.mtime, mtime_ns = x.mtime_ns },
               expect_existing = shared_identity(a) }
    end,
  },
  addhard = { -- a new name, path, for the file at existing (or for a link itself, as ln does)
    describe = function(a) return "hard-link " .. q(a.shown or a.path) .. " to " .. q(a.existing) end,
    pre = function(a, view)
      local why = taken(a.path, view)
      if why then return why end
      local x = (view or REAL):look(a.existing)
      if not x or (x.type ~= "file" and x.type ~= "symlink") then return a.existing .. " is not a file" end
    end,
    effect = function(a) return { type = "file", same_as = a.existing } end,
    apply = function(a) return raw.hardlink(a.existing, a.shown) end,
    post = function(a)
      local i, x = tether.info(a.path), tether.info(a.existing)
      return i and x and i.type == x.type and i.ino == x.ino and i.dev == x.dev
    end,
    -- Only while the file keeps another name (unlink {hard} refuses a last one).
    undo = function(a, made) return raw.unlink(a.path, { hard = true, expect = made }) end,
  },
  junction = { -- Windows: a junction to a directory (tether apply)
    describe = function(a) return "junction " .. q(a.shown or a.path) .. " -> " .. q(a.target) end,
    pre = function(a, view) return taken(a.path, view) end,
    effect = function(a) return { type = "junction", target = a.target } end,
    apply = function(a) return raw.junction(a.target, a.shown) end,
    post = function(a) return link_target(a.path) ~= nil end,
    undo = function(a) return raw.unlink(a.path) end,
  },
  drop = { -- path, another name of the file at existing (same inode), is removed; the data stays
    checks_itself = true, -- tether.unlink {hard} re-checks the identity, and refuses a last name
    describe = function(a) return "remove " .. q(a.shown or a.path) .. " (another name of " .. q(a.existing) .. ")" end,
    pre = function(a, view)
      local i = (view or REAL):look(a.path)
      if not i or i.type ~= "file" then return "is not a file (any more)" end
      if i.same_as == a.existing then return nil end
      local x = (view or REAL):look(a.existing)
      if not x or x.dev ~= i.dev or x.ino ~= i.ino then return "is not another name of " .. a.existing end
    end,
    effect = function() return false end,
    apply = function(a) return raw.unlink(a.shown, { hard = true, expect = a.expect }) end,
    post = function(a) return not exists(a.path) end,
    undo = function(a) return raw.hardlink(a.existing, a.path) end,
  },
  move = { -- with replace = true, a regular file at `to` is replaced (stow --adopt), and
            -- kept in the journal (run_actions) for undo to give back
    describe = function(a) return "move " .. q(a.shown or a.path) .. " to " .. q(a.to) .. (a.replace and " (replacing it)" or "") end,
    pre = function(a, view)
      if not exists(a.path, view) then return "does not exist" end
      local to = (view or REAL):look(a.to)
      if to and not (a.replace and to.type == "file") then return a.to .. " already exists" end
      if to and to.type == "file" and (to.size or 0) > KEEP_MAX then
        return a.to .. " is larger than " .. KEEP_MAX .. " bytes: it could not be kept for undo; move it away first"
      end
      if to and to.type == "file" and (to.nlink or 1) > 1 then
        return a.to .. " has other names (" .. to.nlink .. " links): replacing it could not be undone as it was; " ..
          "remove its other names first"
      end
    end,
    apply = function(a, replaced)
      return raw.rename(a.shown, a.to, { expect = a.expect, expect_to = replaced, noreplace = not a.replace })
    end,
    post = function(a) return exists(a.to) and not exists(a.path) end,
    post_from = function(a) return not exists(a.path) end,
    post_to = function(a) return exists(a.to) end,
    undo = function(a, made, kept)
      local ok, err, code, e = raw.rename(a.to, a.path, { expect = made, noreplace = true })
      if not ok or not kept then return ok, err, code, e end
      return restore(a.to, kept)
    end,
  },
  mkdir = {
    creates = true, -- as symlink's
    describe = function(a) return "make directory " .. q(a.shown or a.path) end,
    pre = function(a, view) return taken(a.path, view) end,
    effect = function() return { type = "dir" } end,
    apply = function(a) return raw.mkdir(a.shown) end,
    post = function(a) local i = tether.info(a.path); return i and i.type == "dir" end,
    undo = function(a, made) return raw.rmdir(a.path, { expect = made }) end,
  },
  rmdir = { -- an empty directory (after the plan's earlier actions)
    describe = function(a) return "remove empty directory " .. q(a.shown or a.path) end,
    pre = function(a, view)
      local i = (view or REAL):look(a.path)
      if not i or i.type ~= "dir" then return "is not a directory" end
    end,
    effect = function() return false end,
    apply = function(a) return raw.rmdir(a.shown, { expect = a.expect }) end,
    post = function(a) return not exists(a.path) end,
    undo = function(a) return raw.mkdir(a.path) end,
  },
}

-- What the plan will have made of the tree: path -> {type=, target=} for a path it
-- creates or changes, false for one it removes. Paths not in it are as the filesystem
-- says, unless an ancestor is in it (then the filesystem's answer is not what will be
-- there). Kept with an index of the names each directory gains or loses, and a memo of
-- which directories have no ancestor in the view (a plan looks up thousands of paths
-- in a few directories).
local View = {}
View.__index = View

local function new_view() return setmetatable({ entries = {}, children = {}, clear = {} }, View) end

local split = path.cut

-- Whether d or an ancestor of d is in the view.
function View:covers(d)
  local known = self.clear[d]
  if known ~= nil then return known end
  local up = split(d)
  local r = self.entries[d] ~= nil or (up ~= nil and up ~= "" and self:covers(up))
  self.clear[d] = r
  return r
end

function View:set(p, v)
  -- The memo holds d only with its ancestors, so a path that was never a memoized
  -- directory has no memoized descendant that this entry could change.
  if self.clear[p] == false then self.clear = {} end
  self.entries[p] = v
  local d, name = split(p)
  if d then
    local c = self.children[d]
    if not c then c = {}; self.children[d] = c end
    c[name] = v and true or false
  end
end

-- Where the filesystem answers for p when the view holds nothing at p itself: p, or
-- (below a directory the plan takes to hold another one's contents: tether apply's
-- migration destination) the same name below that other directory; nil when p lies
-- below something the plan makes, changes or removes.
function View:source(p)
  local d = split(p)
  if not (d and d ~= "" and self:covers(d)) then return p end
  while d and d ~= "" and self.entries[d] == nil do d = split(d) end
  local e = d and self.entries[d]
  if e and e.contents then return path.join(e.contents, path.below(p, d)) end
end

-- {type=, target=} or nil.
function View:look(p)
  local v = self.entries[p]
  if v ~= nil then return v or nil end
  local src = self:source(p)
  if not src then return nil end
  return tether.info(src)
end

function View:target(p)
  local v = self.entries[p]
  if v ~= nil then return v and v.target or nil end
  local src = self:source(p)
  return src and (tether.readlink(src)) or nil
end

function View:exists(p) return self:look(p) ~= nil end

-- As REAL.free, for the tree as the plan will have left it. A directory the check
-- listed (View:list) answers from its listing.
function View:free(p)
  local v = self.entries[p]
  if v ~= nil then return v and "already exists" or nil end
  local src = self:source(p)
  if src == p and self.listed then
    local d, name = split(p)
    local names = d and self.listed[d]
    if names then return names[name] and "already exists" or nil end
  end
  return src and REAL:free(src) or nil
end

-- A plan of thousands of links in one directory would ask the filesystem about each
-- name; a directory where the check asks about LIST_MIN names or more is listed once
-- instead (a name the listing lacks is free, as tether.info's ENOENT says). Only a
-- real directory (not a link, tether.info through the run's roots) that can be read
-- whole is listed, and one holding more than LIST_SPAN names per name asked about is
-- given up (asking name by name costs less); any other is asked name by name.
local LIST_MIN, LIST_SPAN = 32, 16
local ASKS_FREE = { symlink = true, junction = true, mkdir = true, addhard = true } -- pre: taken(a.path)
function View:list(actions)
  local asked = {}
  for _, a in ipairs(actions) do
    if ASKS_FREE[a.op] then
      local d = split(a.path)
      if d and d ~= "" then asked[d] = (asked[d] or 0) + 1 end
    end
  end
  self.listed = {}
  for d, n in pairs(asked) do
    local i = n >= LIST_MIN and tether.info(d)
    if i and i.type == "dir" then
      local names, left = {}, n * LIST_SPAN
      for e in tether.walk(d, { max_depth = 1 }) do
        if e.error or left == 0 then names = nil; break end
        if e.depth == 1 then names[e.name] = true; left = left - 1 end
      end
      self.listed[d] = names
    end
  end
end

-- Applies action a's effect on the view (what a later action will find).
function View:apply(a)
  local kind = kinds[a.op]
  if kind.effect then self:set(a.path, kind.effect(a)) end
  if a.op == "move" then
    self:set(a.to, self:look(a.path) or false)
    self:set(a.path, false)
  end
end

-- header.roots: the paths the run was given; every action must lie inside one of them.
-- plan.dry: whether it is a dry run's plan (tether.run says; its apply changes nothing).
function M.new(kind, header)
  return setmetatable({ kind = kind, header = header or {}, actions = {}, view = new_view(), absolute_dirs = {},
                        assumed = {}, touched = {}, dry = run.dry() }, Plan)
end

-- Takes what will be at p before the plan's first action as given: entry is
-- {type=, target=}, or {type = "dir", contents = q} for a directory that will hold what
-- q holds now (tether apply's migrations, run before its plan). Such a plan is for
-- checking only: it is planned again, on the real state, before it is applied.
function Plan:assume(p, entry)
  self.assumed[#self.assumed + 1] = { path = p, entry = entry }
  self.view:set(p, entry)
end

-- What an action that changes the object tether.info (or a walk with stat) described
-- should expect of it (nil for nil).
M.expect_of = planned_of
M.file_identity = file_identity
M.content_identity = content_identity

-- plan:add(op, fields) with op one of symlink, replace, unlink, hardlink, addhard, junction,
-- drop, move, mkdir, rmdir.
-- Paths may be given as the user typed them (shown so in messages); the plan keeps them
-- absolute, so the journal means the same from any directory. An action that changes
-- an existing object should say what it expects of it (expect = {dev=, ino=}, as a walk
-- with stat = true or tether.info gives it); when it does not, and the plan has not made
-- that object itself, the plan looks now. A symlink or replace action may say dir = true:
-- the target is a directory (Windows needs to know when the target does not exist yet).
-- p made absolute; a plan adds thousands of names in a few directories, so each
-- directory is made absolute once.
local function absolute_in(self, p)
  -- Already absolute and in normal form (the common case of a planner's own paths).
  if p == "/" or (p:byte(1) == 47 and not p:find("//", 1, true) and not p:find("/%.%.?/") and
                  not p:find("/%.?%.?$")) then
    return p
  end
  local d, name = split(p)
  if not d or d == "" or name == "" or name == "." or name == ".." then return assert(tether.absolute(p)) end
  local abs = self.absolute_dirs[d]
  if not abs then
    abs = assert(tether.absolute(d))
    self.absolute_dirs[d] = abs
  end
  return path.join(abs, name)
end

function Plan:add(op, a)
  if not kinds[op] then
    local names = {}
    for name in pairs(kinds) do names[#names + 1] = name end
    table.sort(names)
    local near = type(op) == "string" and require("tether.cli").closest(op, names)
    error(string.format("bad argument #1 to 'add' (no action '%s'%s; one of: %s)", tostring(op),
      near and string.format(", did you mean '%s'?", near) or "", table.concat(names, ", ")), 2)
  end
  optcheck.check_action(op, a)
  a.op = op
  a.shown = a.shown or a.path
  a.path = absolute_in(self, a.path)
  if a.to then a.to = absolute_in(self, a.to) end
  if a.existing then a.existing = absolute_in(self, a.existing) end
  if not a.expect and op ~= "symlink" and op ~= "mkdir" and op ~= "addhard" and op ~= "junction" and
     self.view.entries[a.path] == nil then
    a.expect = planned_of(tether.info(a.path))
  end
  self.actions[#self.actions + 1] = a
  self.view:apply(a)
  self.touched[a.path] = true
  if a.to then self.touched[a.to] = true end
  return a
end

-- A new plan that starts where this one ends: its view is the tree as this plan's
-- actions leave it (tether apply plans its declaration there again, as the next run
-- would find the machine, to know the state it makes holds).
function Plan:after()
  local q = M.new(self.kind)
  for p, e in pairs(self.view.entries) do q:assume(p, e) end
  return q
end

-- What is at p once the actions added so far are done: {type=, target=} or nil.
function Plan:look(p) return self.view:look(p) end

-- Whether the plan makes, changes or removes p itself.
-- (What it assumes is there before it, Plan:assume, it does not change itself.)
function Plan:touches(p) return self.touched[p] == true end

-- The names in directory d once the actions added so far are done.
function Plan:list(d)
  d = d:gsub("(.)/+$", "%1")
  local names = {}
  local v = self.view.entries[d]
  local src = v == nil and self.view:source(d) or (v and v.contents)
  local i = src and tether.info(src)
  if i and i.type == "dir" then
    for e in tether.walk(src, { max_depth = 1 }) do
      if e.depth == 1 then names[e.name] = true end
    end
  end
  for name, present in pairs(self.view.children[d] or {}) do names[name] = present or nil end
  local out = {}
  for n in pairs(names) do out[#out + 1] = n end
  table.sort(out)
  return out
end

function Plan:describe(a) return kinds[a.op].describe(a) end

-- The description of an action from a journal.
-- (absolute: with the absolute path, not the spelling the run was given: what an undo,
-- run from anywhere, says)
-- How a change reads in a list of differences (tether apply --check): "+" what an action
-- makes, "-" what it removes, "~" what it changes in place; then its description.
local SIGN = { symlink = "+", addhard = "+", junction = "+", mkdir = "+", unlink = "-", drop = "-", rmdir = "-" }
function Plan:difference(a) return (SIGN[a.op] or "~") .. " " .. kinds[a.op].describe(a) end

function M.describe_action(a, absolute)
  if absolute and a.shown then
    local copy = setmetatable({ shown = false }, { __index = a })
    return kinds[a.op].describe(copy)
  end
  return kinds[a.op].describe(a)
end

-- Every conflict, before anything is touched: each action's precondition is checked in
-- order against the state the earlier actions will have left. Returns a list of
-- {path=, message=} (empty when the plan can go).
function Plan:check()
  local conflicts, view = {}, new_view()
  for _, x in ipairs(self.assumed) do view:set(x.path, x.entry) end
  view:list(self.actions)
  for _, a in ipairs(self.actions) do
    local why = kinds[a.op].pre(a, view)
    if why then conflicts[#conflicts + 1] = { path = a.shown, message = why, action = a } end
    view:apply(a)
  end
  return conflicts
end

-- The roots of a run, as they were given (the confinement records them absolute; paths
-- given below a relative spelling are then matched without asking for the current
-- directory each time).
local function roots_of(header)
  local out = {}
  for i, r in ipairs(header.roots or {}) do out[i] = type(r) == "table" and r.path or r end
  return out
end


-- The roots of a plan that was given none (a script's plan.new("my-fix")): the nearest
-- existing directory above each path an action names, those inside another left out.
local function roots_of_actions(actions)
  local found, out = {}, {}
  local function add(p)
    local d = path.dirname(p)
    while not tether.exists(d) and path.dirname(d) ~= d do d = path.dirname(d) end
    if not found[d] then found[d] = true; out[#out + 1] = d end
  end
  for _, a in ipairs(actions) do
    add(a.path)
    if a.to then add(a.to) end
    if a.existing then add(a.existing) end
  end
  table.sort(out)
  local roots = {}
  for _, d in ipairs(out) do
    local inner = false
    for _, r in ipairs(roots) do inner = inner or path.inside(d, r) end
    if not inner then roots[#roots + 1] = d end
  end
  return roots
end

-- Runs the actions with the confinement c open and journal j; fills result.
local function run_actions(self, j, result, opts)
  for i, a in ipairs(self.actions) do
    local kind = kinds[a.op]
    local why = not kind.checks_itself and not kind.creates and kind.pre(a)
    local made, err, code, e, replaced
    if not why and a.op == "move" and a.replace then
      -- What it replaces goes into the journal first (on disk before the rename), and
      -- the rename replaces that file only.
      local kept, kerr = keep(a.to)
      if kept then j:record({ i = i, phase = "kept", kept = kept }); replaced = kerr else why = kerr end
    end
    if not why then
      made, err, code, e = kind.apply(a, replaced)
      -- Changed since it was planned (a link that is a real file now, too): left alone.
      if code == "ECHANGED" or (code == "ENOTLINK" and kind.checks_itself) then why = e and e.reason or err end
      -- A new name taken since the check: skipped for the reason the precondition gives.
      if not made and not why and kind.creates then why = kind.pre(a) end
    end
    if why then
      result.skipped = result.skipped + 1
      result.skipped_actions[#result.skipped_actions + 1] = { action = a, message = why }
      j:note({ i = i, phase = "skipped", why = why })
      if opts.on_action then opts.on_action(a, "skipped", (a.shown or a.path) .. ": " .. why) end
    elseif made then
      -- A link or directory is known by its device and inode; a hard-linked file also by
      -- the content and mode undo must find (kinds.hardlink.apply says which).
      local keep = type(made) == "table" and (a.op == "hardlink" and made or
        (a.op == "mkdir" or a.op == "move" or a.op == "addhard") and id_of(made) or
        a.op == "unlink" and made) or nil
      j:note({ i = i, phase = "done", made = keep })
      result.done = result.done + 1
      if opts.on_action then opts.on_action(a, "done") end
    else
      j:note({ i = i, phase = "failed", error = err, code = code })
      result.failed = result.failed + 1
      result.failed_actions[#result.failed_actions + 1] = { action = a, message = err, code = code }
      -- A failure that every later action would meet too (opts.stop says which, and why):
      -- the run stops here, the rest recorded as not tried.
      local stop = opts.stop and opts.stop(a, code, err, e)
      if stop then
        result.stopped = { action = a, message = stop, code = code, not_tried = #self.actions - i }
        for k = i + 1, #self.actions do j:note({ i = k, phase = "skipped", why = "not tried: " .. stop }) end
        break
      end
      if opts.on_action then opts.on_action(a, "failed", err) end
    end
  end
  -- Work an action left to finish in the background (see kinds.hardlink) ends here.
  local finished = {}
  for _, a in ipairs(self.actions) do
    local kind = kinds[a.op]
    if kind.finish and not finished[kind] then
      finished[kind] = true
      local ok, ferr, fcode = kind.finish()
      if not ok then
        result.failed = result.failed + 1
        result.failed_actions[#result.failed_actions + 1] = { action = { op = "cleanup", path = "", shown = "" }, message = ferr, code = fcode }
        j:note({ phase = "cleanup_failed", error = ferr, code = fcode })
        if opts.on_action then opts.on_action({ op = "cleanup", path = "", shown = "" }, "failed", ferr) end
      end
    end
  end
  j:record({ event = "finish", done = result.done, skipped = result.skipped, failed = result.failed })
end

-- Runs the plan. opts.dry: change nothing, return the actions it would take.
-- opts.on_action(a, status, err) is told about each action as it goes. opts.stop(a, code,
-- message, error), asked of a failed action, returns why the rest would fail too (then
-- they are not tried: result.stopped = {action, message, code, not_tried}), or nil.
-- Returns {id=, done=, skipped=, failed=} (skipped: the object changed since it was
-- planned), or nil, message, code when the roots cannot be held or the journal cannot
-- be written (and nothing was changed). A plan with no actions, or none that took
-- effect, keeps no journal (and no id), unless opts.journal: tether apply's, which
-- names the migrations it ran.
function Plan:apply(opts)
  opts = opts or {}
  local result = { done = 0, skipped = 0, failed = 0, skipped_actions = {}, failed_actions = {} }
  run.applied(self, result)
  local dry = opts.dry or self.dry or run.dry()
  if #self.actions == 0 and not opts.journal then
    result.dry, result.actions = dry or nil, dry and self.actions or nil
    if dry then run.planned(self, result) end
    return result
  end
  assert(#self.assumed == 0, "plan: a plan built on assumptions is for checking only")
  -- The roots held, then every conflict found before anything is touched (from their
  -- handles: a path longer than PATH_MAX is reached too), unless the caller checked.
  local roots = roots_of(self.header)
  if #roots == 0 then roots = roots_of_actions(self.actions) end
  local c <close>, cerr, ccode = raw.confine(roots)
  if not c then return nil, cerr, ccode end
  local conflicts = not opts.checked and self:check() or {}
  if #conflicts > 0 then
    local first = conflicts[1]
    local _, msg, code, e = tether.fail("EEXIST", first.path, first.message .. (#conflicts > 1 and
      string.format(" (and %d more conflicts)", #conflicts - 1) or ""), "nothing changed")
    result.error, result.conflicts = e, conflicts
    return nil, msg, code, nil, e
  end
  if dry then
    result.dry, result.actions = true, self.actions
    run.planned(self, result)
    return result
  end
  -- The whole plan is on disk before the first change; the outcome of each action is
  -- written as it happens and flushed with the final record (an action whose outcome a
  -- crash lost is recognised by undo from its postcondition: its precondition held when
  -- it was planned, so the state it leaves can only be its own doing).
  local header = self.header
  header.plan_kind, header.roots, header.actions = self.kind, c:roots(), {}
  for i, a in ipairs(self.actions) do
    header.actions[i] = kinds[a.op].record and kinds[a.op].record(a) or a
  end
  local j, err, code = run.start("plan", header)
  if not j then return nil, err, code end
  result.id = j.id
  local ok, jerr = pcall(run_actions, self, j, result, opts)
  j:close()
  if not ok then
    if type(jerr) == "table" and jerr.journal then return nil, jerr.message, jerr.code, result end
    error(jerr, 0)
  end
  -- Every action refused or skipped: nothing changed, so there is no run to keep (the
  -- journal was written first, as for any run, in case one had taken effect).
  if result.done == 0 and not opts.journal and journal.remove(j.id) then result.id = nil end
  run.planned(self, result)
  return result
end

-- What each action of a journaled plan came to: "done" (with what it made), "skipped",
-- "failed", "undone", or nil when a crash lost its record; and what a replacing action
-- kept of what it replaced.
local function outcomes(records)
  local state, made, undone, kept = {}, {}, {}, {}
  for _, r in ipairs(records) do
    if r.i and r.phase == "kept" then kept[r.i] = r.kept
    elseif r.i then state[r.i], made[r.i] = r.phase, r.made end
    if r.undo_i then undone[r.undo_i] = true end
  end
  return state, made, undone, kept
end

-- The actions of a journaled plan that took effect and are not undone yet: recorded as
-- done, or (when a crash lost their record) visibly done. Skipped and failed ones
-- changed nothing. Returns a list of {i=, a=, made=, kept=}.
local function applied(records)
  local actions = records[1].actions
  local state, made, undone, kept = outcomes(records)
  local out = {}
  for i, a in ipairs(actions) do
    if not undone[i] and (state[i] == "done" or (state[i] == nil and kinds[a.op].post(a))) then
      out[#out + 1] = { i = i, a = a, made = made[i], kept = kept[i] }
    end
  end
  return out
end

-- Whether a plan's own actions were undone completely (tether apply's migrations are its
-- kind's business: see run.kinds.plan below).
function M.undone(run)
  for _, r in ipairs(run.records) do
    if r.event == "undone" then return true end
  end
  return false
end

-- Whether p lies in (or is) one of the paths whose trees a newer run made again by
-- copying: what this run recorded of identities there no longer holds, through no
-- change of anyone's but tether's own (a migration to another filesystem and back).
local function recopied(p, paths)
  for _, q in ipairs(paths or {}) do
    if path.inside(p, q) then return true end
  end
  return false
end

-- What the run left is still there, path by path: the actions whose effect the last
-- word on a path says (a later action on the same path, or on a directory above it, has
-- the last word: a farm that folds a directory back hides the links it removed there).
-- Returns the paths that changed since, each with why.
local function changed_since(todo)
  local last = {}
  for _, t in ipairs(todo) do
    last[t.a.path] = t
    if t.a.op == "move" then last[t.a.to] = t end
  end
  local function hidden(k, p) -- a later action changed a directory above p
    for m = k + 1, #todo do
      local q = todo[m].a.path
      if q ~= p and path.inside(p, q) then return true end
    end
    return false
  end
  local changed = {}
  for k, t in ipairs(todo) do
    local a, kind = t.a, kinds[t.a.op]
    local ok = true
    if a.op == "move" then
      if last[a.path] == t and not hidden(k, a.path) then ok = ok and kind.post_from(a) end
      if last[a.to] == t and not hidden(k, a.to) then ok = ok and kind.post_to(a) end
    elseif last[a.path] == t and not hidden(k, a.path) then
      ok = kind.post(a, type(t.made) == "table" and t.made or nil)
    end
    if not ok then changed[#changed + 1] = a.path end -- (absolute: an undo runs from anywhere)
  end
  -- A directory the run made must be empty once the rest is undone: a name put in it
  -- since (a user's file in a folder a farm unfolded) would stop the undo half-way.
  local removed = {} -- (by normal form: on Windows a path may be spelled with either separator)
  for _, t in ipairs(todo) do
    local op = t.a.op
    if op == "symlink" or op == "mkdir" or op == "addhard" or op == "junction" then removed[path.normalize(t.a.path)] = true end
    if op == "move" then removed[path.normalize(t.a.to)] = true end
  end
  for k, t in ipairs(todo) do
    local i = t.a.op == "mkdir" and not hidden(k, t.a.path) and tether.info(t.a.path)
    if i and i.type == "dir" then
      for e in tether.walk(t.a.path, { max_depth = 1 }) do
        if e.depth == 1 and not removed[path.normalize(path.join(t.a.path, e.name))] then
          changed[#changed + 1] = t.a.path .. " (" .. e.name .. " was put in it since; move it out)"
          break
        end
      end
    end
  end
  return changed
end

-- The roots of run_, held again (tether.confine), each still the directory the run
-- recorded (but for a tree a newer run made again by copying: opts.recopied); else
-- tether.fail's values saying nothing was undone.
local function hold_roots(run_, opts)
  local paths, ids = {}, {}
  for i, r in ipairs(run_.header.roots) do
    paths[i], ids[i] = r.path, not recopied(r.path, opts.recopied) and { dev = r.dev, ino = r.ino } or { type = "dir" }
  end
  local c, cerr, ccode, ce = raw.confine(paths, { expect = ids })
  if not c then
    return tether.fail(ccode, ce and ce.path or paths[1], (ce and ce.reason or cerr) ..
      "; the run worked in directories that are not there as they were, so nothing was undone")
  end
  return c
end

-- Takes back the actions todo of run_, newest first, each recorded in its journal j as
-- it goes. Returns their number and them, or nil, message, code and "partial" when one
-- fails after others were taken back (the next undo goes on from there). Raises what
-- the journal raises when it cannot be written.
local function take_back(j, run_, todo, opts)
  j:record({ event = "undo" })
  for k = #todo, 1, -1 do
    local t = todo[k]
    -- What the action made, as the undo may still expect it: its identity, but for a
    -- tree a newer run made again by copying, only what a copy keeps.
    local made = t.made
    if type(made) == "table" and (recopied(t.a.path, opts.recopied) or (t.a.to and recopied(t.a.to, opts.recopied))) then
      made = { type = made.type, uid = t.a.op == "unlink" and made.uid or nil, gid = t.a.op == "unlink" and made.gid or nil }
    end
    local done, uerr, ucode = kinds[t.a.op].undo(t.a, made, t.kept)
    if not done then
      j:record({ event = "undo_failed", path = t.a.path, error = uerr })
      if k == #todo then return nil, uerr .. "; nothing was undone", ucode end
      return nil, uerr .. string.format(" (undo stopped after %d of %d actions; fix this and run tether undo %s again to finish)",
        #todo - k, #todo, run_.id), ucode, "partial"
    end
    j:note({ undo_i = t.i, phase = "done" })
  end
  j:record({ event = "undone", count = #todo })
  return #todo, todo
end

-- Reverses an applied plan, from inside the same roots, which must still be the same
-- directories. Refuses, changing nothing, when any change it made is no longer as it
-- left it. Returns the number of actions undone and them ({i=, a=, made=}); on a failure
-- part-way, nil, message, code and "partial": then `tether undo ID` again goes on from
-- there. opts.dry: check and return the actions it would undo. opts.recopied: paths whose
-- trees a newer run made again by copying (run.recopied_after): identities this run
-- recorded there are not asked for, only what a verified copy keeps.
function M.undo(run_, opts)
  opts = opts or {}
  local dry = opts.dry
  if dry == nil then dry = run.dry() end
  if M.undone(run_) then return tether.fail("EINVAL", run_.id, "already undone") end
  local c <close>, cerr, ccode, ce = hold_roots(run_, opts)
  if not c then return nil, cerr, ccode, ce end
  local todo = applied(run_.records)
  local changed = changed_since(todo)
  if #changed > 0 then
    return tether.fail("ECHANGED", run_.id, string.format("%d path%s changed since the run, so nothing was undone: %s",
      #changed, #changed == 1 and "" or "s", table.concat(changed, ", ", 1, math.min(#changed, 5)) .. (#changed > 5 and ", ..." or "")))
  end
  if dry then return #todo, todo end
  local j, jerr, jcode = journal.reopen(run_.id)
  if not j then return nil, jerr, jcode end
  local ok, result, err, code, how = pcall(take_back, j, run_, todo, opts)
  j:close()
  if not ok then
    if type(result) == "table" and result.journal then return nil, result.message, result.code end
    error(result, 0)
  end
  if not result then return nil, err, code, how end
  return result, err
end

-- A one-line account of a run for tether history.
function M.summary(run)
  local done, skipped, failed, undone, undo_failed = 0, 0, 0, false, false
  -- Undos refused at their first step, with nothing taken back yet, left the run as it was
  -- (one killed part-way, with no failure recorded, did not: it is finished).
  local undo_steps, refused = 0, false
  for _, r in ipairs(run.records) do
    if r.i and r.phase == "done" then done = done + 1 end
    if r.i and r.phase == "skipped" then skipped = skipped + 1 end
    if r.i and r.phase == "failed" then failed = failed + 1 end
    if r.event == "undone" then undone = true end
    if r.undo_i and r.phase == "done" then undo_steps = undo_steps + 1 end
    if r.event == "undone" or r.event == "undo" then undo_failed, refused = r.event == "undo", false end
    if r.event == "undo_failed" then refused = true end
  end
  undo_failed = undo_failed and not (refused and undo_steps == 0)
  local roots = {}
  for i, r in ipairs(run.header.roots or {}) do roots[i] = r.path end
  return { id = run.id, kind = run.header.plan_kind, done = done, skipped = skipped, failed = failed,
           undone = undone, undo_failed = undo_failed and not undone, started = run.header.time, roots = roots }
end

-- How a plan's run is undone (tether.run's undo stack). tether apply names the
-- migrations it ran (header.migrations, each a run of its own): undoing the apply takes
-- its actions back, then those migrations, newest first; once all are undone its
-- journal says so (migrations_undone), and none of their journals is read again.
local function migrations_undone(r)
  for _, rec in ipairs(r.records) do
    if rec.event == "migrations_undone" then return true end
  end
  local names = r.header.migrations or {}
  if #names == 0 then return true end
  -- Without the record (its journal could not take it), what their journals say.
  if not M.undone(r) then return false end
  local migrate = run.kind("migrate")
  for _, id in ipairs(names) do
    local m = journal.find(id)
    if not m or not migrate.undone(m) then return false end
  end
  return true
end

-- The migrations of an apply still to undo (ids), or nil, message, errno, error when one
-- of their journals cannot be read: then what is left of the apply is not known, and
-- undoing only the rest would leave a folder migrated without a word.
local function pending_migrations(r)
  if migrations_undone(r) then return {} end
  local migrate = run.kind("migrate")
  local out = {}
  for _, id in ipairs(r.header.migrations or {}) do
    local m, err, code = journal.find(id)
    if m and m.kind ~= "migrate" then m, err, code = tether.fail("EINVAL", journal.file_of(id), "is a " .. m.kind .. " run, not a migration") end
    if not m then
      return tether.fail(code or "EINVAL", journal.file_of(id), string.format("the journal of the migration %s that %s made cannot be read (%s); " ..
        "undoing only the rest would leave that folder migrated, so nothing was undone", id, r.id, err),
        "put that journal back, or give up this undo by moving " .. journal.file_of(r.id) .. " away")
    end
    if migrate.undoable(m) then out[#out + 1] = id end
  end
  return out
end

run.kinds.plan = {
  names = function(r) return r.header.migrations or {} end,
  -- (what its actions changed, so that --yes is asked only where runs really touch the
  -- same paths; its roots when it has none of its own: an apply of migrations only)
  paths = function(r)
    local out = {}
    for _, a in ipairs(r.header.actions or {}) do
      out[#out + 1] = a.path
      if a.to then out[#out + 1] = a.to end
    end
    if #out == 0 then for i, root in ipairs(r.header.roots or {}) do out[i] = root.path end end
    return out
  end,
  undone = function(r) return M.undone(r) and migrations_undone(r) end,
  -- "undoing" when its undo stopped part-way, "done" when something of it is left to
  -- undo, false when it changed nothing.
  -- (an undo refused at its first step changed nothing: the run stays as it was)
  undoable = function(r)
    local s = M.summary(r)
    if s.undo_failed or s.undone then return "undoing" end -- (undone: its migrations not yet)
    if s.done > 0 or #(r.header.migrations or {}) > 0 then return "done" end
    return false
  end,
  -- What its undo made again, new on disk with what it had before: a link removed and
  -- put back, a directory removed and made again, a file that was a hard link given its
  -- own copy again. An older run's record of their identity no longer holds there.
  recopied = function(r)
    local undone, out = {}, {}
    for _, rec in ipairs(r.records) do
      if rec.undo_i and rec.phase == "done" then undone[rec.undo_i] = true end
    end
    local REMADE = { unlink = true, rmdir = true, hardlink = true }
    for i, a in ipairs(r.header.actions or {}) do
      if undone[i] and REMADE[a.op] then out[#out + 1] = a.path end
    end
    return out
  end,
  -- Returns {changed =, actions = {the actions taken back}, migrations = {ids}} or nil,
  -- message, errno, outcome.
  undo = function(r, opts)
    local migrations, merr, mcode, me = pending_migrations(r)
    if not migrations then return nil, merr, mcode, "refused", me end
    local n, todo = 0, {}
    if not M.undone(r) then
      local err, code, how
      n, err, code, how = M.undo(r, opts)
      if not n then return nil, err, code, how == "partial" and "partial" or "refused" end
      todo = err
    end
    local result = { changed = not opts.dry and n > 0, dry = opts.dry, actions = todo, migrations = migrations, count = n }
    if opts.dry then return result end
    local migrate = run.kind("migrate")
    for k = #migrations, 1, -1 do
      local p, err, code, outcome, sig = migrate.undo(assert(journal.find(migrations[k])), { force = opts.force, recopied = opts.recopied })
      if not p then
        return nil, string.format("%s: the migration %s: %s; tether undo %s goes on from there", r.id, migrations[k], err, r.id),
          code, (n > 0 or k < #migrations) and "partial" or outcome, sig
      end
      result.changed = true
    end
    if #(r.header.migrations or {}) > 0 then -- said once, never read again
      local j, jerr = journal.reopen(r.id)
      local ok, werr = false, nil
      if j then
        ok, werr = pcall(j.record, j, { event = "migrations_undone" })
        j:close()
      end
      if not ok then
        result.warning = string.format("%s: undone, but its journal could not say so: %s", r.id, jerr or (type(werr) == "table" and werr.message or tostring(werr)))
      end
    end
    return result
  end,
}

-- The command a journal older than its command's record was made by, from its kind.
local COMMAND_OF_KIND = { absolutize = "relativize", ["dedupe-reflink"] = "dedupe" }
journal.summaries.plan = function(run)
  local s = M.summary(run)
  local state = s.undone and "undone" or (s.failed > 0 or s.undo_failed) and "partial" or "applied"
  local h = run.header
  return { recipe = h.recipe or COMMAND_OF_KIND[s.kind] or s.kind, command = h.command, state = state, roots = s.roots,
           done = s.done, skipped = s.skipped, failed = s.failed }, false
end

-- Prints the plan's actions (for --dry-run) through say(fmt, ...).
function Plan:print(say)
  for _, a in ipairs(self.actions) do say("would %s", kinds[a.op].describe(a)) end
end

-- The schema of a plan's journal (tether.journal checks it before believing one).
local check = journal.check
-- Each kind of action and the strings its record must have: the required ones of
-- stdlib/tether/api.lua's actions but its path (checked as a path below).
local FIELDS = {}
for op in pairs(kinds) do
  local types, required = optcheck.action_fields(op)
  FIELDS[op] = {}
  for f in pairs(required) do
    if f ~= "path" and types[f] == "string" then FIELDS[op][#FIELDS[op] + 1] = f end
  end
  table.sort(FIELDS[op])
end
-- Whether p lies in one of the roots. Every action of a plan is checked when its journal
-- starts, so the common spelling (r's bytes, then "/" or the end) is tested by bytes
-- first; path.inside answers the rest (either separator on Windows).
local function inside(p, roots)
  for _, r in ipairs(roots) do
    local d = r.path
    local n = #d
    if p:sub(1, n) == d then
      local c = p:byte(n + 1)
      if c == nil or c == 47 or d:byte(n) == 47 then return true end
    end
    if path.inside(p, d) then return true end
  end
  return false
end
-- Whether p is an absolute path in normal form inside one of the roots. Actions come by
-- the thousand in a few directories, so what holds of a directory is found once (memo:
-- directory -> boolean); a name in it then only has to be a name. Windows' spellings
-- (either separator) take the whole check.
local WINDOWS = tether.platform == "windows"
local function placed(p, roots, memo)
  local d, name = path.cut(p)
  if d and #d > 1 and d:sub(1, 1) == "/" and not WINDOWS and name ~= "" and name ~= "." and name ~= ".." then
    local ok = memo[d]
    if ok == nil then
      ok = check.abs(d) and inside(d, roots)
      memo[d] = ok
    end
    if ok then return true end
  end
  return check.abs(p) and inside(p, roots) -- a root itself, or not placed
end

journal.schemas.plan = function(records)
  local h = records[1]
  if type(h.plan_kind) ~= "string" then return 1, "no kind of plan" end
  if type(h.roots) ~= "table" or #h.roots == 0 then return 1, "no roots" end
  for _, r in ipairs(h.roots) do
    if type(r) == "string" then
      return 1, "written by an older tether, with paths as they were typed and no identity of its roots; " ..
        "what they meant depends on a directory it did not record, so it is not undone (move it out of the journal directory)"
    end
    if not check.abs(r.path) or not check.id(r) then return 1, "a root is not an absolute path with its identity" end
  end
  if type(h.actions) ~= "table" then return 1, "no actions" end
  local bad = run.command_problem(h) -- what the user ran (history shows it)
  if bad then return 1, bad end
  if h.migrations ~= nil then -- tether apply's: the ids of the migration runs it made
    if type(h.migrations) ~= "table" then return 1, "malformed migrations" end
    for _, id in ipairs(h.migrations) do
      if type(id) ~= "string" or not id:match("^[%w%-]+$") then return 1, "a migration that is not a run id" end
    end
  end
  local memo = {}
  for i, a in ipairs(h.actions) do
    if not FIELDS[a.op] then return 1, "action " .. i .. " is of an unknown kind" end
    if not placed(a.path, h.roots, memo) then
      return 1, "action " .. i .. " names a path outside the run's roots"
    end
    for _, f in ipairs(FIELDS[a.op]) do
      if type(a[f]) ~= "string" then return 1, "action " .. i .. " has no " .. f end
    end
    if (a.op == "move" or a.op == "hardlink" or a.op == "drop" or a.op == "addhard") and
       not inside(a.to or a.existing, h.roots) then
      return 1, "action " .. i .. " names a path outside the run's roots"
    end
  end
  for n, r in ipairs(records) do
    if n > 1 then
      local i = r.i or r.undo_i
      if i ~= nil and (not check.int(i) or not h.actions[i]) then return n, "a record about no action" end
      if r.made ~= nil and (not check.id(r.made) or (r.made.uid ~= nil and not check.int(r.made.uid))
         or (r.made.gid ~= nil and not check.int(r.made.gid))) then
        return n, "a malformed identity"
      end
      if r.phase == "kept" and (type(r.kept) ~= "table" or (r.kept.content ~= nil and type(r.kept.content) ~= "string")
         or (r.kept.mode ~= nil and not check.int(r.kept.mode))
         or (r.kept.uid ~= nil and not check.int(r.kept.uid)) or (r.kept.gid ~= nil and not check.int(r.kept.gid))) then
        return n, "a malformed record of what was kept"
      end
      if not i and r.event == nil and r.phase ~= "cleanup_failed" then return n, "a record of no known kind" end
    end
  end
end

return M
