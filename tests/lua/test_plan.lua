-- tether.plan on real trees: every conflict before anything is touched, actions checked
-- again right before each acts, a journal for every applied plan, an undo that gives
-- back exactly what was there (and refuses, changing nothing, when something changed).
local plan = require "tether.plan"
local journal = require "tether.journal"
local run = require "tether.run"
local path = require "tether.path"
local T = {}

local function write(p, text) local f = assert(io.open(p, "w")); f:write(text); f:close() end
local function read(p) local f = io.open(p); if not f then return nil end local s = f:read("a"); f:close(); return s end

-- A small tree: d/file, d/dir/, d/link -> file, d/empty/.
local function tree()
  need_symlinks()
  local d = tether.realpath(tmpdir())
  write(path.join(d, "file"), "content\n")
  assert(tether.mkdir(path.join(d, "dir")))
  assert(tether.mkdir(path.join(d, "empty")))
  assert(tether.symlink("file", path.join(d, "link")))
  return d
end

-- What the tree is: each entry, its type and target, in order.
local function snapshot(d)
  local out = {}
  for e in tether.walk(d) do
    if e.depth > 0 then out[#out + 1] = e.path:sub(#d + 2) .. ":" .. e.type .. (e.target and ("->" .. e.target) or "") end
  end
  table.sort(out)
  return table.concat(out, " ")
end

function T.a_plan_applies_with_a_journal_and_undo_gives_everything_back()
  local d = tree()
  local before = snapshot(d)
  local p = plan.new("test", { roots = { d } })
  p:add("mkdir", { path = path.join(d, "new") })
  p:add("symlink", { path = path.join(d, "new/to-file"), target = "../file" })
  p:add("replace", { path = path.join(d, "link"), target = "dir", old = "file" })
  p:add("move", { path = path.join(d, "file"), to = path.join(d, "dir/file") })
  p:add("rmdir", { path = path.join(d, "empty") })
  eq(#p:check(), 0)
  local result = assert(p:apply())
  eq(result.done, 5)
  eq(result.skipped + result.failed, 0)
  assert(journal.valid_id(result.id))
  eq(snapshot(d), "dir/file:file dir:dir link:symlink->dir new/to-file:symlink->../file new:dir")
  eq(read(path.join(d, "dir/file")), "content\n")
  local r = assert(journal.find(result.id))
  eq(r.header.plan_kind, "test")
  eq(#r.header.actions, 5)
  eq(plan.summary(r).done, 5)
  local n = assert(plan.undo(r))
  eq(n, 5)
  eq(snapshot(d), before)
  eq(read(path.join(d, "file")), "content\n")
  eq(plan.undone(assert(journal.find(result.id))), true)
  local again, msg, code = plan.undo(assert(journal.find(result.id)))
  eq(again, nil); eq(code, "EINVAL"); assert(msg:find("already undone", 1, true), msg)
end

function T.every_conflict_is_found_before_anything_is_touched()
  local d = tree()
  local before = snapshot(d)
  local p = plan.new("test", { roots = { d } })
  p:add("mkdir", { path = path.join(d, "fine") })
  p:add("symlink", { path = path.join(d, "file"), target = "x" })             -- taken
  p:add("unlink", { path = path.join(d, "dir"), target = "x" })               -- not a link
  p:add("replace", { path = path.join(d, "link"), target = "dir", old = "nope" }) -- points elsewhere
  p:add("rmdir", { path = path.join(d, "file") })                             -- not a directory
  local conflicts = p:check()
  eq(#conflicts, 4)
  eq(conflicts[1].path, path.join(d, "file"))
  eq(conflicts[1].message, "already exists")
  eq(conflicts[2].message, "is not a link (any more)")
  eq(conflicts[3].message, "now points to file, not nope")
  eq(conflicts[4].message, "is not a directory")
  local ok, msg, code = p:apply()
  eq(ok, nil); eq(code, "EEXIST")
  assert(msg:find("(and 3 more conflicts)", 1, true), msg)
  eq(snapshot(d), before)
  eq(#journal.list(), 0)
end

function T.later_actions_are_checked_against_what_earlier_ones_leave()
  local d = tree()
  local p = plan.new("test", { roots = { d } })
  p:add("unlink", { path = path.join(d, "link"), target = "file" })
  p:add("symlink", { path = path.join(d, "link"), target = "dir" }) -- free once unlinked
  p:add("mkdir", { path = path.join(d, "a") })
  p:add("mkdir", { path = path.join(d, "a/b") })                   -- inside the new one
  eq(#p:check(), 0)
  eq(p:look(path.join(d, "link")).target, "dir")
  eq(p:touches(path.join(d, "link")), true)
  eq(p:touches(path.join(d, "file")), false)
  assert(p:apply())
  eq(tether.readlink(path.join(d, "link")), "dir")
  eq(tether.info(path.join(d, "a/b")).type, "dir")
end

function T.an_object_changed_since_it_was_planned_is_skipped()
  local d = tree()
  local p = plan.new("test", { roots = { d } })
  p:add("unlink", { path = path.join(d, "link"), target = "file" })
  p:add("mkdir", { path = path.join(d, "other") })
  -- Between planning and applying, the link is made again (another inode, same target).
  assert(tether.unlink(path.join(d, "link")))
  assert(tether.symlink("file", path.join(d, "link")))
  local result = assert(p:apply())
  eq(result.done, 1)
  eq(result.skipped, 1)
  eq(result.skipped_actions[1].action.path, path.join(d, "link"))
  eq(tether.readlink(path.join(d, "link")), "file") -- left alone
end

function T.undo_refuses_when_what_it_made_changed_and_changes_nothing()
  local d = tree()
  local p = plan.new("test", { roots = { d } })
  p:add("symlink", { path = path.join(d, "made"), target = "file" })
  p:add("mkdir", { path = path.join(d, "newdir") })
  local result = assert(p:apply())
  assert(tether.unlink(path.join(d, "made")))
  assert(tether.symlink("dir", path.join(d, "made"))) -- someone's own link now
  local after = snapshot(d)
  local ok, msg, code = plan.undo(assert(journal.find(result.id)))
  eq(ok, nil); eq(code, "ECHANGED")
  assert(msg:find("changed since the run, so nothing was undone", 1, true), msg)
  eq(snapshot(d), after)
end

function T.a_dry_run_plan_says_so_and_changes_nothing()
  local d = tree()
  local before = snapshot(d)
  run.dryrun(true)
  local p = plan.new("test", { roots = { d } })
  run.dryrun(false)
  eq(p.dry, true)
  p:add("mkdir", { path = path.join(d, "new") })
  local result = assert(p:apply())
  eq(result.dry, true)
  eq(#result.actions, 1)
  eq(result.id, nil)
  eq(snapshot(d), before)
  eq(plan.new("test", { roots = { d } }).dry, false)
  local lines = {}
  p:print(function(fmt, s) lines[#lines + 1] = string.format(fmt, s) end)
  eq(lines[1], "would make directory " .. path.join(d, "new"))
end

function T.a_plan_of_nothing_keeps_no_journal()
  local d = tree()
  local result = assert(plan.new("test", { roots = { d } }):apply())
  eq(result.done, 0)
  eq(result.id, nil)
  eq(tether.exists(journal.dir()) and #journal.list() or 0, 0)
end

function T.a_plan_with_an_action_outside_its_roots_is_refused_at_its_start()
  local d = tree()
  local outside = tether.realpath(tmpdir())
  local p = plan.new("test", { roots = { path.join(d, "dir") } })
  p:add("mkdir", { path = path.join(outside, "x") })
  local ok, msg, code = p:apply()
  eq(ok, nil); eq(code, "EINVAL")
  assert(msg:find("action 1 names a path outside the run's roots", 1, true), msg)
  eq(tether.exists(path.join(outside, "x")), false)
  eq(tether.exists(journal.dir()) and #journal.list() or 0, 0)
end

function T.identities_of_a_file_to_link_and_of_the_one_kept()
  local d = tree()
  local i = assert(tether.info(path.join(d, "file")))
  local x, k = plan.file_identity(i), plan.content_identity(i)
  for _, f in ipairs({ "dev", "ino", "size", "mtime", "mtime_ns", "mode", "uid", "gid" }) do
    eq(x[f], i[f], f); eq(k[f], i[f], f)
  end
  eq(x.ctime, i.ctime); eq(k.ctime, nil)
  eq(plan.expect_of(i).ctime, i.ctime)
  eq(plan.expect_of(tether.info(path.join(d, "dir"))).ctime, nil) -- a directory: its inode only
end

return T
