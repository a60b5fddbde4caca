-- tether.plan: bulk changes in two phases, as GNU Stow does. A script adds actions
-- (create, replace or remove a link, hard-link two files, move, make a directory);
-- plan:check() reports every conflict before anything is touched; plan:apply() runs
-- the actions with a journal, re-checking each one's precondition right before it acts
-- (the tree can change under a long run); with dry = true it prints each action and
-- changes nothing. Every applied plan can be reversed by tether undo, which first checks
-- that nothing changed since and refuses, saying what, if something did.
local tether = require "tether"
local journal = require "tether.journal"
local path = require "tether.path"

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
}

local function link_target(p, view) return (view or REAL):target(p) end

local function exists(p, view) return (view or REAL):exists(p) end

local function same_file(info, want)
  return info and info.type == "file" and info.dev == want.dev and info.ino == want.ino
    and info.size == want.size and info.mtime == want.mtime and info.mtime_ns == want.mtime_ns
end

-- Each kind of action: how to describe it, its precondition (nil when it holds, else
-- what is wrong), how to do it, what must hold afterwards (checked before an undo), and
-- how to undo it.
local kinds = {
  symlink = {
    describe = function(a) return "link " .. a.path .. " -> " .. a.target end,
    pre = function(a, view) return exists(a.path, view) and "already exists" or nil end,
    effect = function(a) return { type = "symlink", target = a.target } end,
    apply = function(a) return tether.symlink(a.target, a.path, { dir = a.dir, dry = false }) end,
    post = function(a) return link_target(a.path) == a.target end,
    undo = function(a) return tether.unlink(a.path, { dry = false }) end,
  },
  replace = {
    describe = function(a) return "relink " .. a.path .. " -> " .. a.target .. " (was " .. a.old .. ")" end,
    pre = function(a, view)
      local t = link_target(a.path, view)
      if not t then return "is not a link (any more)" end
      if t ~= a.old then return "now points to " .. t .. ", not " .. a.old end
    end,
    effect = function(a) return { type = "symlink", target = a.target } end,
    apply = function(a) return tether.replace(a.target, a.path, { dir = a.dir, dry = false }) end,
    post = function(a) return link_target(a.path) == a.target end,
    undo = function(a) return tether.replace(a.old, a.path, { dry = false }) end,
  },
  unlink = {
    describe = function(a) return "remove link " .. a.path .. " -> " .. a.target end,
    pre = function(a, view)
      local t = link_target(a.path, view)
      if not t then return "is not a link (any more)" end
      if t ~= a.target then return "now points to " .. t .. ", not " .. a.target end
    end,
    effect = function() return false end,
    apply = function(a) return tether.unlink(a.path, { dry = false }) end,
    post = function(a) return not exists(a.path) end,
    undo = function(a) return tether.symlink(a.target, a.path, { dry = false }) end,
  },
  hardlink = { -- path, a regular file identical to existing, becomes a hard link to it
    checks_itself = true, -- tether.link_over re-checks path and existing in C (ECHANGED)
    describe = function(a) return (a.clone and "clone " or "hard-link ") .. a.path .. " to " .. a.existing end,
    pre = function(a)
      if not same_file(tether.info(a.path), a.expect) then return "changed since it was planned" end
      if not same_file(tether.info(a.existing), a.expect_existing) then return a.existing .. " changed since it was planned" end
    end,
    -- The old copy is removed on a second thread (freeing its blocks is the slow part);
    -- Plan:apply waits for it before the run is over.
    apply = function(a)
      return tether.link_over(a.existing, a.path, a.expect, { clone = a.clone, background = true, dry = false })
    end,
    finish = function() return tether.link_drain() end,
    post = function(a)
      local i, x = tether.info(a.path), tether.info(a.existing)
      return i and x and i.type == "file" and (a.clone or i.ino == x.ino)
    end,
    undo = function(a) return tether.unshare(a.path, a.expect, { dry = false }) end,
    -- What the journal needs to undo it: not the identity of `existing` (only checked
    -- before acting), and a file's mode, owner and time to give its copy back.
    record = function(a)
      local x = a.expect
      return { op = a.op, path = a.path, existing = a.existing, clone = a.clone,
               expect = { mode = x.mode, uid = x.uid, gid = x.gid, mtime = x.mtime, mtime_ns = x.mtime_ns } }
    end,
  },
  move = { -- with replace = true, a regular file at `to` is replaced (stow --adopt)
    describe = function(a) return "move " .. a.path .. " to " .. a.to .. (a.replace and " (replacing it)" or "") end,
    pre = function(a, view)
      if not exists(a.path, view) then return "does not exist" end
      local to = (view or REAL):look(a.to)
      if to and not (a.replace and to.type == "file") then return a.to .. " already exists" end
    end,
    apply = function(a) return tether.rename(a.path, a.to, { dry = false }) end,
    post = function(a) return exists(a.to) and not exists(a.path) end,
    undo = function(a) return tether.rename(a.to, a.path, { dry = false }) end,
  },
  mkdir = {
    describe = function(a) return "make directory " .. a.path end,
    pre = function(a, view) return exists(a.path, view) and "already exists" or nil end,
    effect = function() return { type = "dir" } end,
    apply = function(a) return tether.mkdir(a.path, { dry = false }) end,
    post = function(a) local i = tether.info(a.path); return i and i.type == "dir" end,
    undo = function(a) return M.rmdir(a.path) end,
  },
  rmdir = { -- an empty directory (after the plan's earlier actions)
    describe = function(a) return "remove empty directory " .. a.path end,
    pre = function(a, view)
      local i = (view or REAL):look(a.path)
      if not i or i.type ~= "dir" then return "is not a directory" end
    end,
    effect = function() return false end,
    apply = function(a) return M.rmdir(a.path) end,
    post = function(a) return not exists(a.path) end,
    undo = function(a) return tether.mkdir(a.path, { dry = false }) end,
  },
}

-- rmdir(2): only an empty directory goes.
function M.rmdir(p)
  local i = tether.info(p)
  if not i or i.type ~= "dir" then return nil, p .. ": is not a directory (ENOTDIR)", "ENOTDIR" end
  local r, err = os.remove(p)
  if r then return true end
  return nil, err .. " (ENOTEMPTY)", "ENOTEMPTY"
end

-- What the plan will have made of the tree: path -> {type=, target=} for a path it
-- creates or changes, false for one it removes. Paths not in it are as the filesystem
-- says, unless an ancestor is in it (then the filesystem's answer is not what will be
-- there). Kept with an index of the names each directory gains or loses, and a memo of
-- which directories have no ancestor in the view (a plan looks up thousands of paths
-- in a few directories).
local View = {}
View.__index = View

local function new_view() return setmetatable({ entries = {}, children = {}, clear = {} }, View) end

local function split(p) return p:match("^(.*)/([^/]*)$") end

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

-- {type=, target=} or nil.
function View:look(p)
  local v = self.entries[p]
  if v ~= nil then return v or nil end
  local d = split(p)
  if d and d ~= "" and self:covers(d) then return nil end
  return tether.info(p)
end

function View:target(p)
  local v = self.entries[p]
  if v ~= nil then return v and v.target or nil end
  local d = split(p)
  if d and d ~= "" and self:covers(d) then return nil end
  return (tether.readlink(p))
end

function View:exists(p) return self:look(p) ~= nil end

-- Applies action a's effect on the view (what a later action will find).
function View:apply(a)
  local kind = kinds[a.op]
  if kind.effect then self:set(a.path, kind.effect(a)) end
  if a.op == "move" then
    self:set(a.to, self:look(a.path) or false)
    self:set(a.path, false)
  end
end

function M.new(kind, header)
  return setmetatable({ kind = kind, header = header or {}, actions = {}, view = new_view() }, Plan)
end

-- plan:add(op, fields) with op one of symlink, replace, unlink, hardlink, move, mkdir, rmdir.
-- A symlink or replace action may say dir = true: the target is a directory (Windows
-- needs to know when the target does not exist yet).
function Plan:add(op, a)
  assert(kinds[op], "plan: unknown action '" .. tostring(op) .. "'")
  a.op = op
  self.actions[#self.actions + 1] = a
  self.view:apply(a)
  return a
end

-- What is at p once the actions added so far are done: {type=, target=} or nil.
function Plan:look(p) return self.view:look(p) end

-- Whether the plan makes, changes or removes p itself.
function Plan:touches(p) return self.view.entries[p] ~= nil end

-- The names in directory d once the actions added so far are done.
function Plan:list(d)
  d = d:gsub("(.)/+$", "%1")
  local names = {}
  local i = not self.view:covers(d) and tether.info(d)
  if i and i.type == "dir" then
    for e in tether.walk(d, { max_depth = 1 }) do
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

-- Every conflict, before anything is touched: each action's precondition is checked in
-- order against the state the earlier actions will have left. Returns a list of
-- {path=, message=} (empty when the plan can go).
function Plan:check()
  local conflicts, view = {}, new_view()
  for _, a in ipairs(self.actions) do
    local why = kinds[a.op].pre(a, view)
    if why then conflicts[#conflicts + 1] = { path = a.path, message = why, action = a } end
    view:apply(a)
  end
  return conflicts
end

-- Runs the plan. opts.dry: print nothing, change nothing, return the actions it would
-- take. opts.on_action(a, status, err) is told about each action as it goes.
-- Returns {id=, done=, skipped=, failed=} (skipped: precondition no longer held), or
-- nil, message, code when the journal cannot be written (and nothing was changed).
function Plan:apply(opts)
  opts = opts or {}
  local result = { done = 0, skipped = 0, failed = 0, skipped_actions = {}, failed_actions = {} }
  if opts.dry or tether.dryrun() then
    result.dry, result.actions = true, self.actions
    return result
  end
  -- The whole plan is on disk before the first change; the outcome of each action is
  -- written as it happens and flushed with the final record (an action whose outcome a
  -- crash lost is recognised by undo from its postcondition: its precondition held when
  -- it was planned, so the state it leaves can only be its own doing).
  local header = self.header
  header.plan_kind, header.actions = self.kind, {}
  for i, a in ipairs(self.actions) do
    header.actions[i] = kinds[a.op].record and kinds[a.op].record(a) or a
  end
  local j, err, code = journal.create("plan", header)
  if not j then return nil, err, code end
  result.id = j.id
  for i, a in ipairs(self.actions) do
    local kind = kinds[a.op]
    local why = not kind.checks_itself and kind.pre(a)
    local ok, err, code
    if not why then
      ok, err, code = kind.apply(a)
      if code == "ECHANGED" then why = err:match("^.-: (.*) %(ECHANGED%)$") or err end
    end
    if why then
      result.skipped = result.skipped + 1
      result.skipped_actions[#result.skipped_actions + 1] = { action = a, message = why }
      j:note({ i = i, phase = "skipped", why = why })
      if opts.on_action then opts.on_action(a, "skipped", a.path .. ": " .. why) end
    else
      if ok then
        j:note({ i = i, phase = "done" })
        result.done = result.done + 1
        if opts.on_action then opts.on_action(a, "done") end
      else
        j:note({ i = i, phase = "failed", error = err, code = code })
        result.failed = result.failed + 1
        result.failed_actions[#result.failed_actions + 1] = { action = a, message = err, code = code }
        if opts.on_action then opts.on_action(a, "failed", err) end
      end
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
        result.failed_actions[#result.failed_actions + 1] = { action = { op = "cleanup", path = "" }, message = ferr, code = fcode }
        j:note({ phase = "cleanup_failed", error = ferr, code = fcode })
        if opts.on_action then opts.on_action({ op = "cleanup", path = "" }, "failed", ferr) end
      end
    end
  end
  j:record({ event = "finish", done = result.done, skipped = result.skipped, failed = result.failed })
  j:close()
  return result
end

-- The actions of a journaled plan that took effect: recorded as done, or (when a crash
-- lost their record) visibly done. Skipped and failed ones changed nothing.
local function applied(records)
  local actions, state = records[1].actions, {}
  for _, r in ipairs(records) do
    if r.i then state[r.i] = r.phase end
  end
  local out = {}
  for i, a in ipairs(actions) do
    if state[i] == "done" or (state[i] == nil and kinds[a.op].post(a)) then out[#out + 1] = a end
  end
  return out
end

-- Reverses an applied plan. Refuses, changing nothing, when any change it made is no
-- longer as it left it. Returns the number of actions undone.
function M.undo(run)
  for _, r in ipairs(run.records) do
    if r.event == "undone" then return nil, run.id .. ": already undone (EINVAL)", "EINVAL" end
  end
  local actions = applied(run.records)
  -- Only the last action on each path says what the run left there.
  local last = {}
  for _, a in ipairs(actions) do
    last[a.path] = a
    if a.op == "move" then last[a.to] = a end
  end
  local changed = {}
  for _, a in ipairs(actions) do
    if (last[a.path] == a or (a.op == "move" and last[a.to] == a)) and not kinds[a.op].post(a) then
      changed[#changed + 1] = a.path
    end
  end
  if #changed > 0 then
    return nil, string.format("%s: %d path(s) changed since the run, so nothing was undone: %s (ECHANGED)",
      run.id, #changed, table.concat(changed, ", ", 1, math.min(#changed, 5)) .. (#changed > 5 and ", ..." or "")), "ECHANGED"
  end
  local j = assert(journal.reopen(run.id))
  j:record({ event = "undo" })
  for i = #actions, 1, -1 do
    local a = actions[i]
    local ok, err, code = kinds[a.op].undo(a)
    if not ok then
      j:record({ event = "undo_failed", path = a.path, error = err })
      j:close()
      return nil, err .. string.format(" (undo stopped after %d of %d actions; see tether history)", #actions - i, #actions), code
    end
  end
  j:record({ event = "undone", count = #actions })
  j:close()
  return #actions
end

-- A one-line account of a run for tether history.
function M.summary(run)
  local done, skipped, failed, undone = 0, 0, 0, false
  for _, r in ipairs(run.records) do
    if r.i and r.phase == "done" then done = done + 1 end
    if r.i and r.phase == "skipped" then skipped = skipped + 1 end
    if r.i and r.phase == "failed" then failed = failed + 1 end
    if r.event == "undone" then undone = true end
  end
  return { id = run.id, kind = run.header.plan_kind, done = done, skipped = skipped, failed = failed,
           undone = undone, started = run.header.time, roots = run.header.roots }
end

-- Prints the plan's actions (for --dry-run) through say(fmt, ...).
function Plan:print(say)
  for _, a in ipairs(self.actions) do say("would %s", kinds[a.op].describe(a)) end
end

return M
