-- tether.migration: move a folder to another place and leave a link behind, so that
-- nothing is ever lost. A migration is data (the steps table below and the sequences
-- made of its steps) run by one step runner, forwards or backwards, with every step
-- journaled (on disk) before it is taken:
--   migrate  copy SRC beside DEST, verify, place it at DEST, set SRC aside, check nothing
--            changed, link SRC -> DEST (the commit point), delete the original
--   undo     the same the other way: copy DEST back beside SRC, verify, set DEST aside,
--            check, remove the link, place the copy at SRC (the commit point), delete
--   rollback the steps a migration took, each taken back, in reverse
-- Before its commit point a failing or interrupted sequence is taken back by itself;
-- after it, it stops and says how to finish (nothing rolls back once the link is in
-- place). Every object a step touches is checked against the identity the journal holds
-- (device and inode) before it is renamed or deleted, and every path is reached from the
-- handles of SRC's and DEST's parents (checked to be the same directories on resume).
-- docs/migration.md has the state table.
local tether = require "tether"
local journal = require "tether.journal"
local path = require "tether.path"
local tempname = require "tether.tempname"
local preflight = require "tether.preflight"
local progress = require "tether.progress"
local testhook = require "tether.testhook"
local writers = require "tether.writers"

local raw = tether.raw
local M = {}

local function fail(msg, code) return nil, msg, code end

local function info(p) return tether.info(p) end
local function id_of(t) return t and { dev = t.dev, ino = t.ino } or nil end
local function is(t, id) return t ~= nil and id ~= nil and t.dev == id.dev and t.ino == id.ino end

-- The sequences of steps, and the step of each that is its point of no return.
M.sequences = {
  migrate = { "copy", "verify", "place", "aside", "check", "link", "cleanup" },
  migrate_kept = { "copy", "verify", "place", "aside", "check", "link" },
  migrate_same_fs = { "move", "link" },
  undo = { "copy", "verify", "aside", "check", "unlink", "place", "cleanup", "restore" },
  undo_same_fs = { "unlink", "move", "restore" },
  finish = { "cleanup" },
}
M.commit = {
  migrate = "link", migrate_kept = "link", migrate_same_fs = "link",
  undo = "place", undo_same_fs = "move", finish = "cleanup",
}

-- Removes the temporary copy of this run, only when the journal shows the run made it:
-- by the identity it holds, after checking the copy holds nothing that is not a copy of
-- the source (another process may have written into it); or, when a crash came between
-- making it and recording it, only while it is still empty. Anything else at that name
-- is not this run's to delete: it stays, and the step fails saying so.
local function remove_copy(x, rt, partial)
  local id, i = x.id.tmp, info(x.tmp)
  if not id or not i then return true end
  if id.pending then
    if i.type == "dir" and raw.rmdir(x.tmp) then return true end
    return fail(x.tmp .. ": not known to be this run's copy (it is not empty); left alone: move it away, then run the command again (EEXIST)", "EEXIST")
  end
  if not is(i, id) then
    return fail(x.tmp .. ": is not the copy this run made (a mount, or another process's directory?); left alone: " ..
      "move it away, then run the command again (ECHANGED)", "ECHANGED")
  end
  local source = info(x.from) and x.from or x.bak
  local ok, err = raw.verifytree(x.tmp, source, { names_only = true })
  if not ok then
    return fail(x.tmp .. ": holds what is not a copy of " .. source .. " (" .. err .. "); another process wrote there, so it is left alone (EEXIST)", "EEXIST")
  end
  return raw.rmtree(x.tmp, { expect = id, chmod = true, progress = rt.report(partial and "discard_partial" or "discard") })
end

-- Takes an object of the run back from `there` to `here` (the identity says which one it
-- is): done when it is at `here` already; renamed when it is at `there`; and when it is
-- at neither (hidden under a mount, moved by someone), a failure that says so, for the
-- user to mend before running the command again; nothing is moved that is not it.
local function move_back(id, there, here, what)
  if is(info(here), id) then return true end
  if is(info(there), id) then return raw.rename(there, here, { expect = id, noreplace = true }) end
  return fail(string.format("%s: %s is neither here nor at %s (moved, or hidden under a mount?); left as it is (ENOENT)",
    here, what, there), "ENOENT")
end

-- Each step: what it does (describe), how (run), whether a begun step already took
-- effect (is_done, for a crash between the step and its record), and how it is taken
-- back (undo(x, rt, prior), prior its last record; none after a commit point). x is the
-- direction's context (see context()), rt the runner's services: rt.made(key, value)
-- journals an identity the moment it exists, rt.report(what) gives a progress function,
-- rt.warn(msg).
M.steps = {
  copy = {
    describe = function(x) return string.format("copy %s to %s (%s in %d files)", x.from, x.tmp,
      progress.bytes(x.size.bytes), x.size.files) end,
    run = function(x, rt)
      local ok, err, code = remove_copy(x, rt, true) -- a partial copy from an earlier attempt
      if not ok then return nil, err, code end
      -- What changes in the source from now on is caught by the check before the link.
      local sec, nsec = tether.fs_now()
      rt.made("since", { sec = sec, nsec = nsec })
      rt.made("tmp", { pending = true }) -- a crash right after the mkdir leaves it empty
      local made, merr, mcode = raw.mkdir(x.tmp, { private = true })
      if not made then return nil, merr, mcode end
      rt.made("tmp", id_of(made))
      return raw.copytree(x.from, x.tmp, { into = true, final = x.to, expect = x.id.from,
        expect_dst = x.id.tmp, progress = rt.report("copy") })
    end,
    -- prior: how the copy stood before it was taken back (cut short, or done).
    undo = function(x, rt, prior) return remove_copy(x, rt, not (prior and prior.phase == "done")) end,
  },
  verify = {
    describe = function(x) return "verify the copy (" .. (x.verify == "hash" and
      "types, sizes, modes, owners, times, link targets and the xxHash of every file" or
      "types, sizes, modes, owners, times and link targets") .. ")" end,
    run = function(x, rt)
      return raw.verifytree(x.from, x.tmp, { final = x.to, hash = x.verify == "hash", progress = rt.report("verify") })
    end,
    undo = function() return true end,
  },
  place = {
    describe = function(x) return "rename " .. x.tmp .. " to " .. x.to end,
    is_done = function(x) return is(info(x.to), x.id.tmp) and not info(x.tmp) end,
    run = function(x)
      return raw.rename(x.tmp, x.to, { expect = x.id.tmp, noreplace = not x.to_existed, expect_to = x.id.to })
    end,
    undo = function(x)
      if x.id.tmp and not x.id.tmp.pending then
        local ok, err, code = move_back(x.id.tmp, x.to, x.tmp, "the copy this run made")
        if not ok then return nil, err, code end
      end
      if x.to_existed and not info(x.to) then return raw.mkdir(x.to) end
      return true
    end,
  },
  aside = {
    describe = function(x) return "rename " .. x.from .. " aside to " .. x.bak end,
    is_done = function(x)
      local f = info(x.from)
      return is(info(x.bak), x.id.from) and (not f or f.type == "symlink" or f.type == "junction")
    end,
    run = function(x) return raw.rename(x.from, x.bak, { expect = x.id.from, noreplace = true }) end,
    undo = function(x) return move_back(x.id.from, x.bak, x.from, "the original") end,
  },
  check = {
    describe = function(x) return "check that nothing wrote into " .. x.from ..
      " since the copy began (open files, and the change time of every entry)" end,
    run = function(x, rt)
      if x.force then
        rt.warn("--force: " .. x.from .. " is not checked for changes made during the copy; they would be lost")
        return true
      end
      local open = writers.scan({ tether.realpath(x.bak) or x.bak })
      if #open > 0 then
        return fail(x.from .. ": written to while it was copied: " .. table.concat(open, "; ") ..
          " (EBUSY); close it, then migrate again", "EBUSY")
      end
      local _, found, scode = tether.treesize(x.bak, { since = { x.id.since.sec, x.id.since.nsec }, expect = x.id.from })
      if not _ then return nil, found, scode end
      local changed, other = {}, {}
      for _, f in ipairs(found) do
        if f.kind == "changed" then changed[#changed + 1] = f.path
        elseif f.kind ~= "hardlink_out" and f.kind ~= "link_out" then other[#other + 1] = f.path .. " (" .. f.kind .. ")" end
      end
      if #other > 0 then
        return fail(x.from .. ": cannot be checked for changes: " .. table.concat(other, ", ", 1, math.min(#other, 5)) ..
          " (EACCES)", "EACCES")
      end
      if #changed > 0 then
        return fail(string.format("%s: %d entr%s changed while it was copied (%s%s) (ECHANGED); the copy would miss that; run again when nothing writes there",
          x.from, #changed, #changed == 1 and "y" or "ies", table.concat(changed, ", ", 1, math.min(#changed, 5)),
          #changed > 5 and ", ..." or ""), "ECHANGED")
      end
      return true
    end,
    undo = function() return true end,
  },
  link = {
    describe = function(x) return "make " .. x.link_at .. " a " .. x.link .. " to " .. x.to ..
      " and check it leads there" end,
    is_done = function(x)
      local i = info(x.link_at)
      return i ~= nil and i.target == x.to
    end,
    run = function(x, rt)
      local made, err, code = (x.link == "junction" and raw.junction or raw.symlink)(x.to, x.link_at)
      if not made then return nil, err, code end
      rt.made("link", id_of(made))
      -- Followed from the handle of the directory it was made in: it must reach the copy.
      local l, t = info(x.link_at), info(x.to)
      if not (l and t and l.target_dev == t.dev and l.target_ino == t.ino) then
        return fail(x.link_at .. ": the new link does not lead to " .. x.to .. " (EVERIFY)", "EVERIFY")
      end
      return true
    end,
    undo = function(x)
      local i = info(x.link_at)
      if not i or (i.type ~= "symlink" and i.type ~= "junction") then return true end
      return raw.unlink(x.link_at, { old = x.to, expect = x.id.link })
    end,
  },
  unlink = { -- undo: the link SRC -> DEST goes, so the copy can take its place
    describe = function(x) return "remove the link " .. x.link_at .. " -> " .. x.from end,
    is_done = function(x)
      local i = info(x.link_at)
      return not i or i.type == "dir"
    end,
    -- Any link there that leads to DEST will do: the user may have made it again by hand.
    run = function(x) return raw.unlink(x.link_at, { old = x.from }) end,
    undo = function(x, rt)
      if info(x.link_at) then return true end
      local made, err, code = (x.link == "junction" and raw.junction or raw.symlink)(x.from, x.link_at)
      if not made then return nil, err, code end
      rt.made("link", id_of(made))
      return true
    end,
  },
  cleanup = {
    describe = function(x) return "delete the original, set aside at " .. x.bak end,
    is_done = function(x) return not info(x.bak) end,
    run = function(x, rt)
      for _, old in ipairs(x.remove) do
        if is(info(old.path), old.id) then
          local ok, err, code = raw.rmtree(old.path, { expect = old.id, chmod = true, progress = rt.report("delete") })
          if not ok then return nil, err, code end
        end
      end
      return true
    end,
  },
  restore = { -- undo: DEST was an empty directory before the migration
    describe = function(x) return x.restore and ("make the empty directory " .. x.restore .. " again") or "nothing to restore" end,
    run = function(x)
      if x.restore and not info(x.restore) then return raw.mkdir(x.restore) end
      return true
    end,
    undo = function() return true end,
  },
  move = { -- one filesystem: a rename is the whole copy
    describe = function(x) return "rename " .. x.from .. " to " .. x.to .. " (same filesystem)" end,
    is_done = function(x) return is(info(x.to), x.id.from) and not is(info(x.from), x.id.from) end,
    run = function(x)
      return raw.rename(x.from, x.to, { expect = x.id.from, noreplace = not x.to_existed, expect_to = x.id.to })
    end,
    undo = function(x)
      local ok, err, code = move_back(x.id.from, x.to, x.from, "the original")
      if ok and x.to_existed and not info(x.to) then return raw.mkdir(x.to) end
      return ok, err, code
    end,
  },
}

-- What the journal says: the plan, and for each sequence the last record of each step
-- ({dir = "do"|"back", phase = "begin"|"done"|"failed"}), the identities recorded, the
-- direction the run is going (mode) and how it ended, if it did.
function M.state(records)
  local st = { plan = records[1].plan, steps = {}, made = {}, modes = {}, ended = nil }
  for _, r in ipairs(records) do
    if r.event == "step" then
      st.steps[r.seq] = st.steps[r.seq] or {}
      st.steps[r.seq][r.step] = { dir = r.dir, phase = r.phase, error = r.error }
      st.last = r
    elseif r.event == "made" then
      st.made[r.seq] = st.made[r.seq] or {}
      st.made[r.seq][r.key] = r.value
      if r.key == "probe" and r.value.link then st.plan.link = r.value.link end -- the kind that could be made
    elseif r.event == "mode" then
      -- How the run had ended before this command (an undo taken back returns there).
      st.prior_end = st.ended or st.prior_end
      st.mode = r.mode
      st.modes[#st.modes + 1] = r.mode
      st.ended = nil
    elseif r.event == "end" then
      st.ended = r.state
    end
  end
  return st
end

local function step_state(st, seq, name) return (st.steps[seq] or {})[name] end
local function done(st, seq, name)
  local s = step_state(st, seq, name)
  return s and s.dir == "do" and s.phase == "done"
end
-- Whether a step may have had an effect that is not taken back yet.
local function touched(st, seq, name)
  local s = step_state(st, seq, name)
  return s and not (s.dir == "back" and s.phase == "done")
end

local function seq_of(p, which)
  if which == "migrate" then return p.same_fs and "migrate_same_fs" or p.keep_backup and "migrate_kept" or "migrate" end
  if which == "undo" then return p.same_fs and "undo_same_fs" or "undo" end
  return which
end

-- The context of a direction: which folder is moved where, and what is known of each
-- object on the way.
local function context(p, st, which)
  local made = st.made
  local mig = made.migrate or {}
  if which == "undo" then
    local um = made.undo or {}
    local moved = p.same_fs and p.ids.src or mig.tmp
    return {
      seq = seq_of(p, "undo"), from = p.dest, to = p.src, tmp = p.back_tmp, bak = p.back_aside, link_at = p.src,
      link = p.link, verify = p.verify, force = p.force, to_existed = false, size = p.size,
      restore = p.dest_existed and p.dest or nil,
      id = { from = moved, tmp = um.tmp, link = um.link or mig.link, since = um.since },
      remove = { { path = p.back_aside, id = moved }, { path = p.backup, id = p.ids.src } },
      removed = "the migrated copy",
    }
  end
  return {
    seq = seq_of(p, which), from = p.src, to = p.dest, tmp = p.tmp, bak = p.backup, link_at = p.src,
    link = p.link, verify = p.verify, force = p.force, to_existed = p.dest_existed, size = p.size,
    id = { from = p.ids.src, to = p.ids.dest, tmp = mig.tmp, link = mig.link, since = mig.since },
    remove = { { path = p.backup, id = p.ids.src } }, removed = "the original",
  }
end

-- The journal's name for the direction a context's steps belong to.
local function family(seq) return seq:match("^undo") and "undo" or "migrate" end

-- What each removal is shown as: the original (or in an undo the migrated copy) after
-- the commit point, and the run's own copy when a run is taken back.
local REMOVING = {
  delete = function(x) return "deleting " .. x.removed end,
  discard = function() return "removing the copy" end,
  discard_partial = function() return "removing the partial copy" end,
}

-- A progress reporter for the long steps: bytes, files, rate, ETA.
local function reporter(x, label, user_fn)
  local line = progress.line()
  return function(what)
    local size = x.size or {}
    local files = size.files or 0
    local show
    if REMOVING[what] then -- entries removed of those the source holds
      local entries = files + (size.dirs or 0) + (size.links or 0)
      show = progress.meter(REMOVING[what](x), entries, "entries", line)
    else
      show = progress.meter(what == "verify" and "verifying" or "copying", size.bytes or 0, nil, line)
    end
    return function(s)
      testhook.point(label .. what .. ":" .. s.files)
      if user_fn then user_fn(s) end
      if REMOVING[what] then show(s.files)
      elseif s.sync then line:show(string.format("syncing: writing %s to disk", progress.bytes(s.bytes)))
      else show(s.bytes, string.format("%d of %d files", s.files, files)) end
    end
  end, line
end

-- The runner: one direction of one sequence, each step journaled before and after.
local Runner = {}
Runner.__index = Runner

local function new_runner(j, p, st, which, opts)
  local x = context(p, st, which)
  local label = which == "undo" and "undo-" or ""
  local report, line = reporter(x, label, opts.progress)
  local rt = setmetatable({ j = j, p = p, st = st, x = x, which = which, label = label, opts = opts,
                            line = line, warnings = {} }, Runner)
  rt.report = report
  rt.made = function(key, value)
    j:record({ event = "made", seq = family(x.seq), key = key, value = value })
    x.id[key] = value
    st.made[family(x.seq)] = st.made[family(x.seq)] or {}
    st.made[family(x.seq)][key] = value
  end
  rt.warn = function(msg) rt.warnings[#rt.warnings + 1] = msg end
  return rt
end

function Runner:record(step, dir, phase, err, code)
  self.j:record({ event = "step", seq = family(self.x.seq), step = step, dir = dir, phase = phase, error = err, code = code })
  local s = self.st.steps
  s[family(self.x.seq)] = s[family(self.x.seq)] or {}
  s[family(self.x.seq)][step] = { dir = dir, phase = phase, error = err }
end

-- Runs step `name` forwards; a step that began before a crash and visibly took effect
-- is only recorded.
function Runner:forward_step(name)
  local step = M.steps[name]
  local seq = family(self.x.seq)
  local prior = step_state(self.st, seq, name)
  self:record(name, "do", "begin")
  testhook.point(self.label .. name .. ":begin")
  local ok, err, code
  if prior and prior.dir == "do" and step.is_done and step.is_done(self.x) then
    ok = true
  else
    ok, err, code = step.run(self.x, self)
  end
  self.line:done()
  if not ok then
    self:record(name, "do", "failed", err, code)
    return nil, err, code
  end
  self:record(name, "do", "done")
  testhook.point(self.label .. name .. ":done")
  return true
end


-- Runs the sequence forwards from where the journal stands. Returns true, or nil,
-- message, code, the failed step and whether the commit point was passed.
function Runner:forward()
  local seq = M.sequences[self.x.seq]
  local commit = M.commit[self.x.seq]
  local family_ = family(self.x.seq)
  local committed = done(self.st, family_, commit)
  for _, name in ipairs(seq) do
    if not done(self.st, family_, name) then
      local sig = tether.interrupted()
      if sig then return nil, self.x.from .. ": interrupted", "EINTR", name, committed, sig end
      local ok, err, code = self:forward_step(name)
      if not ok then
        sig = tether.interrupted()
        return nil, err, code, name, committed, sig
      end
      if name == commit then committed = true end
    end
  end
  return true
end

-- Takes back, in reverse, every step of the sequence that may have had an effect.
function Runner:backward()
  local seq = M.sequences[self.x.seq]
  local family_ = family(self.x.seq)
  for i = #seq, 1, -1 do
    local name = seq[i]
    if touched(self.st, family_, name) then
      local step = M.steps[name]
      if not step.undo then
        return fail(string.format("%s: the step '%s' cannot be taken back (EINVAL)", self.x.from, name), "EINVAL")
      end
      local prior = step_state(self.st, family_, name)
      self:record(name, "back", "begin")
      testhook.point("rollback-" .. self.label .. name .. ":begin")
      local ok, err, code = step.undo(self.x, self, prior)
      self.line:done()
      if not ok then
        self:record(name, "back", "failed", err, code)
        return nil, err, code, name
      end
      self:record(name, "back", "done")
      testhook.point("rollback-" .. self.label .. name .. ":done")
    end
  end
  return true
end

-- The locks of a run, held while it works, for each key (the real paths of SRC and
-- DEST): a file in the journal directory, named after it (nothing is written beside
-- SRC or DEST), and a lock on the directory itself where there is one, which keeps runs
-- of other users off it too (where directories cannot be locked, the file does alone).
local function take_locks(keys, holder)
  local locks = setmetatable({}, { __close = function(t) for _, h in ipairs(t) do h:close() end end })
  local ok, err, code = journal.ensure_dir()
  if not ok then return nil, err, code end
  for _, key in ipairs(keys) do
    local l, lerr, lcode = raw.lock(journal.dir(), key, holder)
    local i = l and info(key)
    local d, derr, dcode
    if i and i.type == "dir" then d, derr, dcode = raw.lock_dir(key) end
    if not l or dcode == "EBUSY" then
      if l then l:close() end
      getmetatable(locks).__close(locks)
      return nil, lerr or derr, lcode or dcode
    end
    locks[#locks + 1] = l
    locks[#locks + 1] = d or nil
  end
  return locks
end

local function keys_of(p) return preflight.lock_keys(p.src_real or p.src, p.dest) end

-- The roots of a run: SRC's and DEST's parents, as they were when it was planned.
local function confine(p)
  local parents = { path.dirname(p.src), path.dirname(p.dest) }
  return raw.confine(parents, { expect = { p.ids.src_parent, p.ids.dest_parent } })
end

-- The commands that take a run further from where it stands.
local function commands(id)
  return {
    resume = "tether migrate --resume " .. id, rollback = "tether migrate --rollback " .. id,
    undo = "tether undo " .. id, finish = "tether migrate --finish " .. id,
  }
end

-- Turns an error raised while journaling into the usual (nil, message, code).
local function protected(fn, ...)
  local ok, a, b, c, d, e, f = pcall(fn, ...)
  if ok then return a, b, c, d, e, f end
  if type(a) == "table" and a.journal then
    return nil, a.message .. "; the journal could not be written, so the run stopped there", a.code, nil, true
  end
  error(a, 0)
end

-- How a sequence that stopped ends: taken back (before its commit point), or left for
-- a command named in the message. Returns nil, message, code, outcome.
local SIGNALS = { [1] = "SIGHUP", [2] = "SIGINT", [15] = "SIGTERM" }

local function settle(rt, err, code, step, committed, sig, j)
  local cmd = commands(j.id)
  local where = step and (" (step " .. step .. ")") or ""
  if sig then -- one line that says what happened, whatever the step was doing then
    err = string.format("%s: interrupted by %s", rt.x.from, SIGNALS[sig] or ("signal " .. sig))
    code = "EINTR"
  end
  if committed then
    local how = rt.which == "undo" and cmd.undo or cmd.resume
    return nil, string.format("%s%s; the %s is in place, so nothing was rolled back; finish with: %s",
      err, where, rt.which == "undo" and "data is back in " .. rt.x.to .. " and" or "link", how), code,
      sig and "interrupted" or "partial", sig
  end
  tether.interrupted(false) -- the way back must run to its end
  j:record({ event = "mode", mode = rt.which == "undo" and "unundo" or "rollback" })
  local bok, berr, bcode, bstep = rt:backward()
  if bok then
    local prior = rt.which == "undo" and (rt.st.prior_end or "finished") or "rolled back"
    j:record({ event = "end", state = prior })
    return nil, string.format("%s%s; everything was put back as it was", err, where), code,
      sig and "interrupted" or "rolled back", sig
  end
  return nil, string.format("%s%s; putting it back failed too (%s, step %s); see %s, then: %s", err, where, berr,
    tostring(bstep), "tether migrate --status " .. j.id, cmd.rollback), bcode, sig and "interrupted" or "partial", sig
end

-- Runs `which` ("migrate" or "undo") forwards on journal j; on a failure before the
-- commit point, takes it back. Returns true, or nil, message, code, outcome, signal.
local function drive(j, p, st, which, opts)
  local rt = new_runner(j, p, st, which, opts)
  local ok, err, code, step, committed, sig = rt:forward()
  if ok then
    local ended = which == "undo" and "undone" or (which == "migrate" and p.keep_backup) and "kept" or "finished"
    j:record({ event = "end", state = ended })
    return true, rt.warnings
  end
  return settle(rt, err, code, step, committed, sig, j)
end

-- Whether a link can be made where SRC is, when the filesystem cannot tell without
-- trying (p.probe): one is made beside SRC and removed, journaled first, so a kill in
-- between leaves a name the run's next command removes (clear_probe). p.link becomes
-- the kind that worked (a junction where symbolic links are not permitted, for auto on
-- Windows). Returns true, or nil, message, code, and true when the probe is still there.
local function probe_link(j, p)
  j:record({ event = "made", seq = "migrate", key = "probe", value = { pending = true } })
  testhook.point("probe:begin")
  local ok, err, code, left = preflight.try_link(p.link, p.probe, p.dest)
  if not ok and not left and p.link_fallback and (code == "EPERM" or code == "EVERIFY")
     and not p.dest:find("^[\\/][\\/]") then -- a junction cannot lead to a network path
    local jok, jerr, _, jleft = preflight.try_link(p.link_fallback, p.probe, p.dest)
    if jok then ok, p.link = true, p.link_fallback else err, left = err .. "; a junction cannot be made either: " .. jerr, jleft end
  end
  if left then return nil, err, code, true end
  j:record({ event = "made", seq = "migrate", key = "probe", value = { gone = true, link = ok and p.link or nil } })
  if not ok then return nil, err .. "; a link must be made here in place of " .. p.src, code end
  return true
end

-- Removes the probe link a run killed while probing left beside SRC (its journal says
-- it may be there), only if it is one: a link leading to DEST.
local function clear_probe(j, p, st)
  local pr = (st.made.migrate or {}).probe
  if not (pr and pr.pending) then return true end
  local i = info(p.probe)
  if i and (i.type == "symlink" or i.type == "junction") then
    local ok, err, code = raw.unlink(p.probe, { old = p.dest })
    if not ok then return nil, err, code end
  end
  j:record({ event = "made", seq = "migrate", key = "probe", value = { gone = true } })
  st.made.migrate.probe = { gone = true }
  return true
end

-- Opens the journal and the roots of an earlier run and takes its locks; runs fn.
local function with_run(r, mode, fn, opts)
  local st = M.state(r.records)
  local p = st.plan
  local locks <close>, lerr, lcode = take_locks(keys_of(p), string.format("pid %d, run %s, %s", tether.pid(), r.id, mode))
  if not locks then return nil, lerr, lcode end
  local c <close>, cerr, ccode = confine(p)
  if not c then
    return nil, cerr .. "; the run's folders are not there as they were, so nothing was done", ccode
  end
  local j, jerr, jcode = journal.reopen(r.id)
  if not j then return nil, jerr, jcode end
  tether.defer_interrupts(true)
  local res = table.pack(protected(function()
    j:record({ event = "mode", mode = mode })
    local ok, err, code = clear_probe(j, p, st)
    if not ok then return nil, err, code, "partial" end
    return fn(j, p, st)
  end))
  tether.defer_interrupts(false)
  j:close()
  return table.unpack(res, 1, res.n)
end

-- Whether a run that has not ended is at work now (it holds its locks): what it says.
local function running(st)
  if st.ended then return nil end
  local lock, holder = raw.lock_state(journal.dir(), keys_of(st.plan)[1])
  return lock == "held" and holder or nil
end
-- Who is at work on a run now (what its lock says), or nil: for doctor.
function M.running(records) return running(M.state(records)) end

-- Where a run that is not at work stands, in words, with the command that takes it
-- further (or nil).
local function standing(r, st)
  local p, cmd = st.plan, commands(r.id)
  local linked = done(st, "migrate", "link")
  local last = st.last and st.last.step
  if st.ended == "finished" then return "finished", cmd.undo .. " (to move the data back)" end
  if st.ended == "kept" then return "finished, the original kept at " .. p.backup, cmd.finish .. " (to delete it)" end
  if st.ended == "rolled back" then return "rolled back", nil end
  if st.ended == "undone" then return "undone", nil end
  if not st.last then
    return "stopped before its first step (" .. p.src .. " is untouched)", cmd.resume .. " (or " .. cmd.rollback .. ")"
  end
  if st.mode == "rollback" then return "rollback interrupted at " .. tostring(last), cmd.rollback end
  if st.mode == "unundo" then return "taking back an undo, interrupted at " .. tostring(last), cmd.rollback end
  if st.mode == "undo" then
    if done(st, "undo", M.commit[seq_of(p, "undo")]) then
      return "undo interrupted at " .. tostring(last) .. " (the data is back in " .. p.src .. ")", cmd.undo
    end
    return "undo interrupted at " .. tostring(last), cmd.undo .. " (or " .. cmd.rollback .. " to keep the migration)"
  end
  if st.mode == "finish" then return "deleting the kept original, interrupted", cmd.finish end
  if linked then
    return "link in place, the original not yet deleted (" .. tostring(last) .. ")", cmd.resume
  end
  return "interrupted at " .. tostring(last) .. (done(st, "migrate", tostring(last)) and " (done)" or ""),
    cmd.resume .. " (or " .. cmd.rollback .. ")"
end

-- Where a run stands, in words, with the command that takes it further (or nil).
function M.describe_state(r)
  local st = M.state(r.records)
  local holder = running(st)
  if holder then return "running (" .. holder .. ")", nil end
  return standing(r, st)
end

-- A run recorded in the journal that stopped part-way where at (places() of a new run)
-- would work, on its SRC or DEST: what to say, naming the command that takes it further.
-- A new migration there would leave that run's copy or original out of its reach. (A run
-- killed before its journal was written had changed nothing: there is none to find.)
-- locked: the caller holds the locks of at, so no run there is at work; otherwise a run
-- at work is left to the lock's check to name.
local function stopped_on(at, locked)
  local runs = journal.list()
  for i = #runs, 1, -1 do
    local r = runs[i]
    local st = r.kind == "migrate" and M.state(r.records)
    local p = st and not st.ended and (locked or not running(st)) and st.plan
    local theirs = p and { [p.src] = true, [p.src_real or p.src] = true, [p.dest] = true } or {}
    for _, mine in ipairs({ { at.src, at.src_real }, { at.dest } }) do
      if theirs[mine[1]] or theirs[mine[2] or mine[1]] then
        local what, command = standing(r, st)
        return string.format("%s: run %s stopped part-way here (%s); take it further first: %s",
          mine[1], r.id, what, command or "see tether migrate --status")
      end
    end
  end
end
preflight.stopped_on = stopped_on

-- The public entry: tether.migrate(src, dest, opts) -> plan | nil, msg, code, outcome,
-- signal, problems.
-- opts: verify = "size"|"hash", link = "symlink"|"junction"|"auto", keep_backup,
-- scan = {paths}, force, min_free (bytes), progress = function({bytes, files, path | sync = true}), dry.
-- outcome: "rolled back" (nothing changed), "partial" (see the journal), "interrupted".
function M.migrate(src, dest, opts)
  opts = opts or {}
  if opts.dry or tether.dryrun() then
    local p, err, code, problems = preflight.plan(src, dest, opts)
    if not p then return nil, err, code, nil, nil, problems end
    p.dry, p.steps = true, M.sequences[seq_of(p, "migrate")]
    return p
  end
  -- What needs no lock is checked before anything is written anywhere: a refusal there
  -- (DEST inside SRC, SRC not a folder, DEST not empty) leaves every directory as it was.
  local at, aerr, acode = preflight.places(src, dest)
  if not at then return nil, aerr, acode end
  if preflight.journal_problem(at) then -- no lock can be kept there: the checks say why
    local _, perr, pcode, problems = preflight.plan(src, dest, opts)
    return nil, perr or "the journal directory changed while it was looked at (EAGAIN)", pcode or "EAGAIN", nil, nil, problems
  end
  -- Then the locks: of two runs started together, one gets them, the other says who.
  local locks <close>, lerr, lcode = take_locks(preflight.lock_keys(at.src_real, at.dest),
    string.format("pid %d, tether migrate %s %s", tether.pid(), at.src, at.dest))
  if not locks then
    -- A lock that cannot even be kept (no journal directory can be made) says less than
    -- the checks do about why this migration cannot run.
    if lcode ~= "EBUSY" then
      local _, perr, pcode, problems = preflight.plan(src, dest, opts)
      if perr then return nil, perr, pcode, nil, nil, problems end
    end
    return nil, lerr .. "; nothing was changed", lcode
  end
  local stopped = stopped_on(at, true)
  if stopped then return nil, stopped .. "; nothing was changed", "EBUSY" end
  local popts = setmetatable({ locked = true }, { __index = opts })
  local p, err, code, problems = preflight.plan(src, dest, popts)
  if not p then return nil, err, code, nil, nil, problems end
  local c <close>, cerr, ccode = confine(p)
  if not c then return nil, cerr .. "; nothing was changed", ccode end
  local j, jerr, jcode = journal.create("migrate", { plan = p, roots = c:roots() })
  if not j then return nil, jerr, jcode end
  p.id = j.id
  for _, l in ipairs(locks) do l:say(string.format("pid %d, run %s, migrate", tether.pid(), j.id)) end
  tether.defer_interrupts(true)
  local st = M.state({ { plan = p } })
  local ok, a, b, c2, d = protected(function()
    j:record({ event = "mode", mode = "migrate" })
    if p.probe then
      local pok, perr, pcode, left = probe_link(j, p)
      if left then
        return nil, string.format("%s; the probe link %s is still there: remove it with %s", perr, p.probe,
          commands(j.id).rollback), pcode, "partial"
      end
      if not pok then return nil, perr .. "; nothing was changed", pcode, "refused" end
    end
    return drive(j, p, st, "migrate", opts)
  end)
  tether.defer_interrupts(false)
  j:close()
  if ok then
    p.warnings = a
    return p
  end
  if c2 == "refused" then -- the run never began: its journal goes, as if never made
    journal.remove(j.id)
    return nil, a, b
  end
  return nil, a, b, c2 or "partial", d
end

local function open_run(which)
  local r, err, code = journal.find(which, function(run) return run.kind == "migrate" end)
  if not r then
    return nil, err or ((which and which ~= "last") and ("no migration with id " .. which .. " (ENOENT)")
      or "no migration recorded (ENOENT)"), code or "ENOENT"
  end
  if r.kind ~= "migrate" then return nil, r.id .. ": is a " .. r.kind .. " run, not a migration (EINVAL)", "EINVAL" end
  return r
end

-- Where the one complete copy of the data is now.
function M.where(p)
  local s = info(p.src)
  if s and s.type == "dir" then return p.src end
  if s and (s.type == "symlink" or s.type == "junction") and info(p.dest) then return p.dest .. " (" .. p.src .. " links to it)" end
  if info(p.backup) then return p.backup .. " (the original, set aside)" end
  if info(p.back_aside) then return p.back_aside .. " (set aside by the undo)" end
  if info(p.dest) then return p.dest end
  return "?"
end

-- The steps a command would take on run r, described (for -n).
function M.would(r, what)
  local st = M.state(r.records)
  local p = st.plan
  local out = {}
  local function list(which, backwards)
    local x = context(p, st, which)
    local seq = M.sequences[x.seq]
    local fam = family(x.seq)
    if backwards then
      for i = #seq, 1, -1 do
        if touched(st, fam, seq[i]) then out[#out + 1] = "take back: " .. M.steps[seq[i]].describe(x) end
      end
    else
      for _, name in ipairs(seq) do
        if not done(st, fam, name) then out[#out + 1] = M.steps[name].describe(x) end
      end
    end
  end
  if what == "resume" then list("migrate") end
  if what == "rollback" then list((st.mode == "undo" or st.mode == "unundo") and "undo" or "migrate", true) end
  if what == "undo" then list("undo") end
  if what == "finish" then
    local x = context(p, st, "migrate")
    out[1] = M.steps.cleanup.describe(x)
  end
  return out
end

-- Why a command cannot apply to a run as it stands (nil when it can).
local function refuse(r, st, what)
  local cmd = commands(r.id)
  local p = st.plan
  local ended = st.ended
  if what == "resume" then
    if ended then return r.id .. ": already " .. ended .. "; nothing to resume (EINVAL)" end
    if st.mode == "rollback" then return r.id .. ": its rollback began; finish the rollback with: " .. cmd.rollback .. " (EINVAL)" end
    if st.mode == "undo" or st.mode == "unundo" then return r.id .. ": its undo began; finish it with: " .. cmd.undo .. " (EINVAL)" end
    if st.mode == "finish" then return nil end
  elseif what == "rollback" then
    if st.mode == "unundo" and not ended then return nil end
    if ended == "finished" or ended == "kept" then return r.id .. ": is finished; move the data back with: " .. cmd.undo .. " (EINVAL)" end
    if ended then return r.id .. ": already " .. ended .. "; nothing to roll back (EINVAL)" end
    if (st.mode == "migrate" or st.mode == "resume" or st.mode == "finish") and done(st, "migrate", "link") then
      return r.id .. ": the link is in place, and nothing rolls back once it is; finish with " .. cmd.resume ..
        ", then move the data back with " .. cmd.undo .. " (EINVAL)"
    end
    if st.mode == "undo" and done(st, "undo", M.commit[seq_of(p, "undo")]) then
      return r.id .. ": the undo has put the data back in " .. p.src .. "; finish it with " .. cmd.undo .. " (EINVAL)"
    end
  elseif what == "undo" then
    if ended == "finished" or ended == "kept" then return nil end
    if ended == "undone" or ended == "rolled back" then return r.id .. ": already " .. ended .. " (EINVAL)" end
    if st.mode == "rollback" then return r.id .. ": its rollback began; finish it with " .. cmd.rollback .. " (EINVAL)" end
    if st.mode == "unundo" then return r.id .. ": its undo is being taken back; finish that with " .. cmd.rollback .. " (EINVAL)" end
    if not ended and st.mode ~= "undo" and not done(st, "migrate", "link") then
      return r.id .. ": is not finished; finish it with " .. cmd.resume .. " or put it back with " .. cmd.rollback .. " (EINVAL)"
    end
  elseif what == "finish" then
    if ended ~= "kept" and not ((st.mode == "finish" or st.mode == "migrate" or st.mode == "resume") and done(st, "migrate", "link") and not ended) then
      return r.id .. ": has no kept original to delete (EINVAL)"
    end
  end
  return nil
end

-- Why there is no run for `what` to act on, when none was named.
local function nothing_to(what)
  local none = {
    resume = "nothing to resume: no migration recorded in %s stopped part-way",
    rollback = "nothing to roll back: no migration recorded in %s stopped part-way",
    undo = "nothing to undo: no migration recorded in %s is finished",
    finish = "nothing to finish: no migration recorded in %s kept its original",
  }
  local msg = string.format(none[what], journal.dir())
  if what ~= "finish" then -- a kill before the journal was written left nothing behind
    msg = msg .. "; a migration stopped before it wrote its journal had changed nothing, its SRC is untouched"
  end
  return msg .. " (ENOENT)"
end

-- resume / rollback / undo / finish of an earlier run (the newest that fits, or `which`).
-- Returns the plan, or nil, message, code, outcome, signal. With opts.dry (or -n), the
-- plan with `steps`, the descriptions of what it would do, and nothing done.
function M.continue(what, which, opts)
  opts = opts or {}
  local accept = {
    resume = function(st) -- (a run killed before its mode record has none)
      return not st.ended and (st.mode == nil or st.mode == "migrate" or st.mode == "resume" or st.mode == "finish")
    end,
    rollback = function(st) return not st.ended end,
    undo = function(st) return st.ended == "finished" or st.ended == "kept" or st.mode == "undo" end,
    finish = function(st) return st.ended == "kept" or st.mode == "finish" end,
  }
  local r, err, code
  if which and which ~= "last" then
    r, err, code = open_run(which)
  else
    r, err, code = journal.find(nil, function(run) return run.kind == "migrate" and accept[what](M.state(run.records)) end)
    if not r and not err then err, code = nothing_to(what), "ENOENT" end
  end
  if not r then return nil, err, code end
  local st = M.state(r.records)
  local why = refuse(r, st, what)
  if why then return nil, why, "EINVAL" end
  local p = st.plan
  p.id = r.id
  if opts.dry or tether.dryrun() then
    p.dry, p.steps = true, M.would(r, what)
    return p
  end
  if what == "undo" and st.mode ~= "undo" then
    local size, perr, pcode, problems = preflight.undo(p, opts)
    if not size then return nil, perr, pcode, nil, nil, problems end
    p.force = opts.force or false
  end
  -- The direction the journal will say this command takes.
  local mode = what
  if what == "rollback" and (st.mode == "undo" or st.mode == "unundo") then mode = "unundo" end
  if what == "resume" and st.mode == "finish" then mode = "finish" end
  local ok, a, b, c, d = with_run(r, mode, function(j, p2, st2)
    p2.id = r.id
    if what == "resume" then
      if p2.probe and not st2.steps.migrate and not ((st2.made.migrate or {}).probe or {}).link then
        -- killed while it tried whether a link can be made: it tries again first
        local pok, perr, pcode, left = probe_link(j, p2)
        if not pok then
          if not left then j:record({ event = "end", state = "rolled back" }) end
          return nil, perr .. (left and ("; remove it with " .. commands(r.id).rollback) or "; nothing was changed"),
            pcode, left and "partial" or "rolled back"
        end
      end
      return drive(j, p2, st2, st2.mode == "finish" and "finish" or "migrate", opts)
    elseif what == "undo" then
      return drive(j, p2, st2, "undo", opts)
    elseif what == "finish" then
      local rt = new_runner(j, p2, st2, "migrate", opts)
      local fok, ferr, fcode = rt:forward_step("cleanup")
      if not fok then return nil, ferr .. "; finish with: " .. commands(r.id).finish, fcode, "partial" end
      j:record({ event = "end", state = "finished" })
      return true
    else -- rollback: the direction under way is taken back
      local back = (st2.mode == "undo" or st2.mode == "unundo") and "undo" or "migrate"
      local rt = new_runner(j, p2, st2, back, opts)
      tether.interrupted(false)
      local bok, berr, bcode, bstep = rt:backward()
      if not bok then
        return nil, string.format("%s%s; run %s again once that is mended", berr,
          bstep and (" (step " .. bstep .. ")") or "", commands(r.id).rollback), bcode, "partial"
      end
      j:record({ event = "end", state = back == "undo" and (st2.prior_end or "finished") or "rolled back" })
      return true
    end
  end, opts)
  if ok then
    p.warnings = type(a) == "table" and a or nil
    return p
  end
  return nil, a, b, c or "partial", d
end

-- Every migration run with its state, oldest first, and the journals that cannot be
-- read (the rest are listed all the same). runs, broken: what journal.list() gave, when
-- the caller has read the journals already.
function M.status(runs, broken)
  local out = {}
  if not runs then runs, broken = journal.list() end
  for _, r in ipairs(runs) do
    if r.kind == "migrate" then
      local state, command = M.describe_state(r)
      local st = M.state(r.records)
      out[#out + 1] = { id = r.id, src = st.plan.src, dest = st.plan.dest, state = state, command = command,
                        ended = st.ended ~= nil, data = M.where(st.plan), started = r.header.time }
    end
  end
  return out, broken
end

-- The schema of a migration's journal (tether.journal checks it before believing one):
-- the plan's paths must be absolute, the temporary names beside SRC and DEST with the
-- run's own hint, the identities integers, and every later record one this module writes.
local check = journal.check
local STEPS, EVENTS = {}, { start = true, step = true, made = true, mode = true, ["end"] = true }
for name in pairs(M.steps) do STEPS[name] = true end
local MODES = { migrate = true, resume = true, rollback = true, undo = true, unundo = true, finish = true }
local ENDS = { finished = true, kept = true, ["rolled back"] = true, undone = true }
journal.summaries.migrate = function(run)
  local st = M.state(run.records)
  local p = st.plan or {}
  return { recipe = "migrate", state = st.ended or "unfinished", roots = { p.src, p.dest }, src = p.src, dest = p.dest },
    st.ended == nil
end

journal.schemas.migrate = function(records)
  local p = records[1].plan
  if type(p) ~= "table" then return 1, "no plan" end
  if not check.abs(p.src) or not check.abs(p.dest) then return 1, "SRC and DEST must be absolute paths" end
  if type(p.hint) ~= "string" or not p.hint:find("^%x+$") then return 1, "no run hint" end
  -- Parsed, not made: a hostile journal's fields must not make tempname.make raise.
  local function beside(v, dir, what, name)
    local t = type(v) == "string" and tempname.parse(path.basename(v))
    return t and t.kind == "migration" and t.role == what and t.hint == p.hint and t.name == path.basename(name)
      and path.dirname(v) == path.dirname(dir) or false
  end
  if not beside(p.tmp, p.dest, "tmp", p.dest) then return 1, "the copy is not beside DEST" end
  if not beside(p.backup, p.src, "backup", p.src) then return 1, "the backup is not beside SRC" end
  if not beside(p.back_tmp, p.src, "undo", p.src) then return 1, "the undo's copy is not beside SRC" end
  if not beside(p.back_aside, p.dest, "backup", p.dest) then return 1, "the undo's backup is not beside DEST" end
  if p.probe ~= nil and not beside(p.probe, p.src, "probe", p.src) then return 1, "the probe link is not beside SRC" end
  if p.link_fallback ~= nil and p.link_fallback ~= "junction" then return 1, "an unknown kind of link to fall back to" end
  if type(p.ids) ~= "table" or not check.id(p.ids.src) or not check.id(p.ids.src_parent)
     or not check.id(p.ids.dest_parent) or (p.ids.dest ~= nil and not check.id(p.ids.dest)) then
    return 1, "the identities of SRC, DEST and their parents are missing"
  end
  if p.link ~= "symlink" and p.link ~= "junction" then return 1, "an unknown kind of link" end
  if type(p.size) ~= "table" or not check.int(p.size.bytes) or not check.int(p.size.files) then return 1, "no size" end
  for n, r in ipairs(records) do
    if not EVENTS[r.event] then return n, "a record of no known kind" end
    if r.event == "step" and (not STEPS[r.step] or (r.seq ~= "migrate" and r.seq ~= "undo")
       or (r.dir ~= "do" and r.dir ~= "back") or (r.phase ~= "begin" and r.phase ~= "done" and r.phase ~= "failed")) then
      return n, "a malformed step"
    end
    if r.event == "made" and ((r.seq ~= "migrate" and r.seq ~= "undo") or
       not ((r.key == "since" and type(r.value) == "table" and check.int(r.value.sec)) or
            ((r.key == "tmp" or r.key == "link") and (check.id(r.value) or
              (type(r.value) == "table" and r.value.pending == true))) or
            (r.key == "probe" and p.probe and type(r.value) == "table" and
              (r.value.pending == true or (r.value.gone == true and (r.value.link == nil or
                r.value.link == p.link or r.value.link == p.link_fallback)))))) then
      return n, "a malformed identity"
    end
    if r.event == "mode" and not MODES[r.mode] then return n, "an unknown mode" end
    if r.event == "end" and not ENDS[r.state] then return n, "an unknown end" end
  end
end

return M
