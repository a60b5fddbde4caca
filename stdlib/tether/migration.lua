-- tether.migration: move a folder to another place and leave a link behind, so that
-- nothing is ever lost. A migration is data: the steps table, the sequences made of its
-- steps, the ways a command takes a run (WAYS) and the states a run can stand in
-- (M.states, docs/migration.md's state table), run by one function that walks a
-- sequence forwards or back, every step journaled (on disk) before it is taken:
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
local tether = require "tether"
local journal = require "tether.journal"
local path = require "tether.path"
local tempname = require "tether.tempname"
local preflight = require "tether.preflight"
local run = require "tether.run"
local trial = require "tether.probe" -- (probe: the journaled step that uses it)
local progress = require "tether.progress"
local units = require "tether.units"
local testhook = require "tether.testhook"
local writers = require "tether.writers"

local raw = tether.raw
local M = {}
local q = tether.quote -- (step descriptions name each path quoted, never the line whole)

local function info(p) return tether.info(p) end
local function id_of(t) return t and { dev = t.dev, ino = t.ino } or nil end
local function is(t, id) return t ~= nil and id ~= nil and t.dev == id.dev and t.ino == id.ino end

-- A failure (tether.fail's four values, or a message and a code alone, as a journal that
-- cannot be written gives them) said again with `hint` after what it said.
local function with_hint(hint, _, msg, code, e)
  if type(e) == "table" and e.path and e.reason then
    return tether.fail(code, e.path, e.reason, e.hint and (e.hint .. "; " .. hint) or hint)
  end
  msg = msg .. "; " .. hint
  return nil, msg, code, { errno = code, message = msg }
end

-- Runs f when the value goes out of scope (a to-be-closed variable), however the scope is
-- left: returned, failed, or an error raised.
local function on_close(f) return setmetatable({}, { __close = f }) end

-- The commands that take a run further from where it stands.
function M.commands(id)
  return {
    resume = "tether migrate --resume " .. id, rollback = "tether migrate --rollback " .. id,
    undo = "tether undo " .. id, finish = "tether migrate --finish " .. id,
  }
end

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
  local again = "move it away, then run the command again"
  if id.pending then
    if i.type == "dir" and raw.rmdir(x.tmp) then return true end
    return tether.fail("EEXIST", x.tmp, "not known to be this run's copy (it is not empty); left alone", again)
  end
  if not is(i, id) then
    return tether.fail("ECHANGED", x.tmp, "is not the copy this run made (a mount, or another process's directory?); left alone", again)
  end
  local source = info(x.from) and x.from or x.bak
  local ok, err, _, e = raw.verifytree(x.tmp, source, { names_only = true })
  if not ok then
    return tether.fail("EEXIST", x.tmp, "holds what is not a copy of " .. source .. " (" ..
      (type(e) == "table" and e.path and (e.path .. ": " .. e.reason) or err) ..
      "); another process wrote there, so it is left alone")
  end
  return raw.rmtree(x.tmp, { expect = id, chmod = true, progress = rt.report(partial and "discard_partial" or "discard") })
end

-- The files the earlier attempts of this run's copy finished (the journal's records of
-- the copy it made, the newest of each path last), when that copy is still there as
-- made; nil when there is nothing to keep.
local function resumable(x, rt)
  local id, files = x.id.tmp, rt.copied_before()
  if not id or id.pending or not files or #files == 0 then return nil end
  local i = info(x.tmp)
  return i and i.type == "dir" and is(i, id) and files or nil
end

-- Takes an object of the run back from `there` to `here` (the identity says which one it
-- is): done when it is at `here` already; renamed when it is at `there`; and when it is
-- at neither (hidden under a mount, moved by someone), a failure that says so, for the
-- user to mend before running the command again; nothing is moved that is not it.
local function move_back(id, there, here, what)
  if is(info(here), id) then return true end
  if is(info(there), id) then return raw.rename(there, here, { expect = id, noreplace = true }) end
  return tether.fail("ENOENT", here, what .. " is neither here nor at " .. there .. " (moved, or hidden under a mount?)",
    "left as it is")
end

local function make_link(x, target)
  return (x.link == "junction" and raw.junction or raw.symlink)(target, x.link_at)
end

-- Each step: what it does (describe), how (run), whether a begun step already took
-- effect (is_done, for a crash between the step and its record), and how it is taken
-- back (undo(x, rt, prior), prior its last record; none after a commit point). x is the
-- direction's context (see context()), rt the runner's services: rt.made(key, value)
-- journals an identity the moment it exists, rt.report(what) gives a progress function,
-- rt.warn(msg).
M.steps = {
  copy = {
    describe = function(x) return string.format("copy %s to %s (%s in %d files)", q(x.from), q(x.tmp),
      units.bytes(x.size.bytes), x.size.files) end,
    run = function(x, rt)
      local opts = { into = true, final = x.to, expect = x.id.from, progress = rt.report("copy"),
                     copied = rt.copied, batch_files = testhook.copy_batch() }
      -- The partial copy of an earlier attempt, when there are files it finished: what
      -- is still the copy of an unchanged source is kept, the rest removed and copied.
      local keep = resumable(x, rt)
      if not keep then
        local ok, err, code, e = remove_copy(x, rt, true)
        if not ok then return nil, err, code, e end
      end
      -- What changes in the source from now on is caught by the check before the link.
      local sec, nsec = tether.fs_now()
      rt.made("since", { sec = sec, nsec = nsec })
      if keep then
        opts.resume, opts.keep, opts.expect_dst = true, keep, x.id.tmp
        local n, err, code, e = raw.copytree(x.from, x.tmp, opts)
        if not n then return nil, err, code, e end
        rt.p.copy = { kept = n.kept, copied = n.files - n.kept } -- (what --resume reports)
        return true
      end
      rt.made("tmp", { pending = true }) -- a crash right after the mkdir leaves it empty
      local made, merr, mcode, me = raw.mkdir(x.tmp, { private = true })
      if not made then return nil, merr, mcode, me end
      rt.made("tmp", id_of(made))
      opts.expect_dst = x.id.tmp
      return raw.copytree(x.from, x.tmp, opts)
    end,
    -- prior: how the copy stood before it was taken back (cut short, or done).
    undo = function(x, rt, prior) return remove_copy(x, rt, not (prior and prior.phase == "done")) end,
    -- What taking it back does (for -n): the copy goes, nothing is copied.
    describe_back = function(x, prior)
      return string.format("remove the %s %s", (prior and prior.phase == "done") and "copy" or "partial copy", q(x.tmp))
    end,
    -- What a resume of a copy cut short does (for -n): records, the files the journal
    -- says the earlier attempt finished (each is checked when the resume runs).
    describe_resume = function(x, records)
      return string.format("go on with the copy of %s into the partial copy %s (%s in %d files in all): " ..
        "of the %d files recorded finished, each is kept when it and its source are unchanged, the rest removed and copied",
        q(x.from), q(x.tmp), units.bytes(x.size.bytes), x.size.files, records)
    end,
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
    describe = function(x) return "rename " .. q(x.tmp) .. " to " .. q(x.to) end,
    is_done = function(x) return is(info(x.to), x.id.tmp) and not info(x.tmp) end,
    run = function(x)
      return raw.rename(x.tmp, x.to, { expect = x.id.tmp, noreplace = not x.to_existed, expect_to = x.id.to })
    end,
    undo = function(x)
      if x.id.tmp and not x.id.tmp.pending then
        local ok, err, code, e = move_back(x.id.tmp, x.to, x.tmp, "the copy this run made")
        if not ok then return nil, err, code, e end
      end
      if x.to_existed and not info(x.to) then return raw.mkdir(x.to) end
      return true
    end,
  },
  aside = {
    describe = function(x) return "rename " .. q(x.from) .. " aside to " .. q(x.bak) end,
    is_done = function(x)
      local f = info(x.from)
      return is(info(x.bak), x.id.from) and (not f or f.type == "symlink" or f.type == "junction")
    end,
    run = function(x) return raw.rename(x.from, x.bak, { expect = x.id.from, noreplace = true }) end,
    undo = function(x) return move_back(x.id.from, x.bak, x.from, "the original") end,
  },
  check = {
    describe = function(x) return "check that nothing wrote into " .. q(x.from) ..
      " since the copy began (open files, and the change time of every entry)" end,
    run = function(x, rt)
      if x.force then
        rt.warn("--force: " .. x.from .. " is not checked for changes made during the copy; they would be lost")
        return true
      end
      local open = writers.scan({ tether.realpath(x.bak) or x.bak })
      if #open > 0 then
        return tether.fail("EBUSY", x.from, "written to while it was copied: " .. table.concat(open, "; "),
          "close it, then run the command again")
      end
      local ok, found, scode, se = tether.treesize(x.bak, { since = { x.id.since.sec, x.id.since.nsec }, expect = x.id.from })
      if not ok then return nil, found, scode, se end
      local changed, other = {}, {}
      for _, f in ipairs(found) do
        if f.kind == "changed" then changed[#changed + 1] = f.path
        elseif f.kind ~= "hardlink_out" and f.kind ~= "link_out" then other[#other + 1] = f.path .. " (" .. f.kind .. ")" end
      end
      if #other > 0 then
        return tether.fail("EACCES", x.from, "cannot be checked for changes: " ..
          table.concat(other, ", ", 1, math.min(#other, 5)))
      end
      if #changed > 0 then
        return tether.fail("ECHANGED", x.from, string.format("%d entr%s changed while it was copied (%s%s)",
          #changed, #changed == 1 and "y" or "ies", table.concat(changed, ", ", 1, math.min(#changed, 5)),
          #changed > 5 and ", ..." or ""), "the copy would miss that; run again when nothing writes there")
      end
      return true
    end,
    undo = function() return true end,
  },
  link = {
    describe = function(x) return "make " .. q(x.link_at) .. " a " .. x.link .. " to " .. q(x.to) ..
      " and check it leads there" end,
    is_done = function(x)
      local i = info(x.link_at)
      return i ~= nil and i.target == x.to
    end,
    run = function(x, rt)
      local made, err, code, e = make_link(x, x.to)
      if not made then return nil, err, code, e end
      rt.made("link", id_of(made))
      -- Followed from the handle of the directory it was made in: it must reach the copy.
      local l, t = info(x.link_at), info(x.to)
      if not (l and t and l.target_dev == t.dev and l.target_ino == t.ino) then
        return tether.fail("EVERIFY", x.link_at, "the new link does not lead to " .. x.to)
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
    describe = function(x) return "remove the link " .. q(x.link_at) .. " -> " .. q(x.from) end,
    is_done = function(x)
      local i = info(x.link_at)
      return not i or i.type == "dir"
    end,
    -- Any link there that leads to DEST will do: the user may have made it again by hand.
    run = function(x) return raw.unlink(x.link_at, { old = x.from }) end,
    undo = function(x, rt)
      if info(x.link_at) then return true end
      local made, err, code, e = make_link(x, x.from)
      if not made then return nil, err, code, e end
      rt.made("link", id_of(made))
      return true
    end,
  },
  cleanup = {
    describe = function(x) return "delete the original, set aside at " .. q(x.bak) end,
    is_done = function(x) return not info(x.bak) end,
    run = function(x, rt)
      for _, old in ipairs(x.remove) do
        if is(info(old.path), old.id) then
          local ok, err, code, e = raw.rmtree(old.path, { expect = old.id, chmod = true, progress = rt.report("delete") })
          if not ok then return nil, err, code, e end
        end
      end
      return true
    end,
  },
  restore = { -- undo: DEST was an empty directory before the migration
    describe = function(x) return x.restore and ("make the empty directory " .. q(x.restore) .. " again") or "nothing to restore" end,
    run = function(x)
      if x.restore and not info(x.restore) then return raw.mkdir(x.restore) end
      return true
    end,
    undo = function() return true end,
  },
  move = { -- one filesystem: a rename is the whole copy
    describe = function(x) return "rename " .. q(x.from) .. " to " .. q(x.to) .. " (same filesystem)" end,
    is_done = function(x) return is(info(x.to), x.id.from) and not is(info(x.from), x.id.from) end,
    run = function(x)
      return raw.rename(x.from, x.to, { expect = x.id.from, noreplace = not x.to_existed, expect_to = x.id.to })
    end,
    undo = function(x)
      local ok, err, code, e = move_back(x.id.from, x.to, x.from, "the original")
      if ok and x.to_existed and not info(x.to) then return raw.mkdir(x.to) end
      return ok, err, code, e
    end,
  },
}

-- What the journal says: the plan, and for each sequence the last record of each step
-- ({dir = "do"|"back", phase = "begin"|"done"|"failed"}) and the steps ever done
-- (ever), the identities recorded, the direction the run is going (mode) and how it
-- ended, if it did.
function M.state(records)
  local st = { plan = records[1].plan, steps = {}, ever = {}, made = {}, modes = {}, copied = {}, ended = nil }
  for _, r in ipairs(records) do
    if r.event == "step" then
      st.steps[r.seq] = st.steps[r.seq] or {}
      st.steps[r.seq][r.step] = { dir = r.dir, phase = r.phase, error = r.error }
      if r.dir == "do" and r.phase == "done" then
        st.ever[r.seq] = st.ever[r.seq] or {}
        st.ever[r.seq][r.step] = true
      end
      st.last = r
    elseif r.event == "copied" then -- files of the copy, finished and on disk: a text a batch
      local list = st.copied[r.seq] or {}
      st.copied[r.seq] = list
      list[#list + 1] = r.files
    elseif r.event == "made" then
      st.made[r.seq] = st.made[r.seq] or {}
      st.made[r.seq][r.key] = r.value
      if r.key == "tmp" then st.copied[r.seq] = nil end -- a new copy: nothing of the old one is
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

-- How many files the journal says a copy of family fam finished (its records).
local function copied_count(st, fam)
  local n = 0
  for _, text in ipairs(st.copied[fam] or {}) do n = n + (raw.copied_records(text) or 0) end
  return n
end

-- What step `name` does walked in direction dir (for -n, and --json's steps of what was
-- done), described before it runs: taking back, or going on from a partial copy, reads
-- as what it is.
local function step_line(name, x, dir, st, fam)
  local step = M.steps[name]
  if dir == "back" then
    return step.describe_back and step.describe_back(x, step_state(st, fam, name)) or "take back: " .. step.describe(x)
  end
  local records = step.describe_resume and x.id.tmp and not x.id.tmp.pending and copied_count(st, fam)
  return records and records > 0 and step.describe_resume(x, records) or step.describe(x)
end

local function seq_of(p, which)
  if which == "migrate" then return p.same_fs and "migrate_same_fs" or p.keep_backup and "migrate_kept" or "migrate" end
  if which == "undo" then return p.same_fs and "undo_same_fs" or "undo" end
  return which
end

-- The journal's name for the direction a sequence belongs to.
local function family(seq) return seq:match("^undo") and "undo" or "migrate" end

-- The identities a run's steps expect of what it did not make in this command: SRC's and
-- DEST's parents (its roots), what the migration put at DEST (the original moved there,
-- or its copy) and the original a kept run set aside. An undo that found some of them
-- re-created by a newer run's copy took what is there now (adopted, see adopt()).
local function ids_of(st)
  local p, mig = st.plan, st.made.migrate or {}
  local adopted = (st.made.undo or {}).adopted or {}
  return {
    src_parent = adopted.src_parent or p.ids.src_parent, dest_parent = adopted.dest_parent or p.ids.dest_parent,
    at_dest = adopted.at_dest or (p.same_fs and p.ids.src or mig.tmp), backup = adopted.backup or p.ids.src,
  }
end

-- The context of a direction: which folder is moved where, and what is known of each
-- object on the way.
local function context(p, st, which)
  local mig, ids = st.made.migrate or {}, ids_of(st)
  if which == "undo" then
    local um = st.made.undo or {}
    return {
      seq = seq_of(p, "undo"), from = p.dest, to = p.src, tmp = p.back_tmp, bak = p.back_aside, link_at = p.src,
      link = p.link, verify = p.verify, force = p.force, to_existed = false, size = p.size,
      restore = p.dest_existed and p.dest or nil,
      id = { from = ids.at_dest, tmp = um.tmp, link = um.link or mig.link, since = um.since },
      remove = { { path = p.back_aside, id = ids.at_dest }, { path = p.backup, id = ids.backup } },
      removed = "the migrated copy",
    }
  end
  return {
    seq = seq_of(p, which), from = p.src, to = p.dest, tmp = p.tmp, bak = p.backup, link_at = p.src,
    link = p.link, verify = p.verify, force = p.force, to_existed = p.dest_existed, size = p.size,
    id = { from = p.ids.src, to = p.ids.dest, tmp = mig.tmp, link = mig.link, since = mig.since },
    remove = { { path = p.backup, id = ids.backup } }, removed = "the original",
  }
end

-- The ways a command takes a run: the direction whose sequence it walks (by the plan),
-- forwards ("do") or back, the mode the journal says, how the run ends once the way is
-- walked, and the way that takes a forward walk back when it fails before its commit
-- point (none: finish comes after the link).
local WAYS = {
  migrate = { which = "migrate", dir = "do", mode = "migrate", back = "rollback",
              ends = function(p) return p.keep_backup and "kept" or "finished" end },
  finish = { which = "finish", dir = "do", mode = "finish", ends = function() return "finished" end },
  undo = { which = "undo", dir = "do", mode = "undo", back = "unundo", ends = function() return "undone" end },
  rollback = { which = "migrate", dir = "back", mode = "rollback", ends = function() return "rolled back" end },
  unundo = { which = "undo", dir = "back", mode = "unundo", ends = function(_, st) return st.prior_end or "finished" end },
}

-- The states a run can stand in: docs/migration.md's state table is this one (a test
-- holds them equal). Each says how it is told from the journal (when; live: a process
-- holds the run's locks), what --status says (says: STEP is the step the journal names
-- last), where the one complete copy of the data is (data), the command that takes it
-- further (next, with a note), why doctor --fix takes it that way (why), and for each
-- command (resume, rollback, undo, finish) the way it takes the run (go), or why it does
-- not apply (refuse: the reason and a hint). In the words RESUME, ROLLBACK, UNDO and
-- FINISH stand for the commands of the run, SRC and BACKUP for its paths.
local LINK_IN_PLACE = { "the link is in place, and nothing rolls back once it is",
                        "finish with RESUME, then move the data back with UNDO" }
local NOT_KEPT = { "has no kept original to delete" }
local BEING_UNDONE = { "is being undone", "finish the undo with: UNDO" }
local function over(how)
  return { resume = { how, "nothing to resume" }, rollback = { how, "nothing to roll back" },
           undo = { how, "nothing to undo" }, finish = { how, "nothing to finish" } }
end
local MIGRATING_WHY = "it stopped while migrating (at STEP): resumed, to complete the move it was started for (UNDO takes it back)"
local UNDOING_WHY = "it stopped while it was being undone: the undo is finished"

M.states = {
  { name = "running", when = function(_, live) return live end,
    says = "running (HOLDER)", data = "as the live run's step says", note = "none: it holds the locks",
    go = {}, refuse = {} },
  { name = "finished", when = function(st) return st.ended == "finished" end,
    says = "finished", data = "DEST (SRC links to it)", next = "undo", note = "(to move the data back)",
    go = { undo = "undo" },
    refuse = { resume = { "is finished", "nothing to resume" }, rollback = { "is finished", "move the data back with: UNDO" },
               finish = NOT_KEPT } },
  { name = "kept", when = function(st) return st.ended == "kept" end,
    says = "finished, the original kept at BACKUP", data = "DEST, and the original at BACKUP", next = "finish",
    note = "(to delete it)",
    go = { undo = "undo", finish = "finish" },
    refuse = { resume = { "is finished", "nothing to resume; delete the kept original with: FINISH" },
               rollback = { "is finished", "move the data back with: UNDO" } } },
  { name = "rolled back", when = function(st) return st.ended == "rolled back" end,
    says = "rolled back", data = "SRC", note = "none", go = {}, refuse = over("was rolled back") },
  { name = "undone", when = function(st) return st.ended == "undone" end,
    says = "undone", data = "SRC", note = "none", go = {}, refuse = over("was undone") },
  { name = "rolling back", when = function(st) return st.mode == "rollback" end,
    says = "rollback interrupted at STEP", data = "SRC, or BACKUP (the original, set aside)", next = "rollback",
    why = "it stopped while it was being rolled back: the rollback is finished",
    go = { rollback = "rollback", undo = "rollback" },
    refuse = { resume = { "is being rolled back", "finish the rollback with: ROLLBACK" },
               finish = { "is being rolled back", "finish the rollback with: ROLLBACK" } } },
  { name = "taking back an undo", when = function(st) return st.mode == "unundo" end,
    says = "taking back an undo, interrupted at STEP", data = "DEST, or beside it (set aside by the undo)",
    next = "rollback", why = "it stopped while its undo was being taken back: that is finished",
    go = { rollback = "unundo" },
    refuse = { resume = { "its undo is being taken back", "finish that with: ROLLBACK" },
               undo = { "its undo is being taken back", "finish that with: ROLLBACK, then undo it again" },
               finish = { "its undo is being taken back", "finish that with: ROLLBACK" } } },
  { name = "undone past its commit point",
    when = function(st) return st.mode == "undo" and done(st, "undo", M.commit[seq_of(st.plan, "undo")]) end,
    says = "undo interrupted at STEP (the data is back in SRC)", data = "SRC", next = "undo", why = UNDOING_WHY,
    go = { undo = "undo" },
    refuse = { rollback = { "its undo has put the data back in SRC", "finish it with: UNDO" },
               resume = BEING_UNDONE, finish = BEING_UNDONE } },
  { name = "undoing", when = function(st) return st.mode == "undo" end,
    says = "undo interrupted at STEP", data = "DEST (SRC links to it), or a copy on its way back", next = "undo",
    note = "(or ROLLBACK to keep the migration)", why = UNDOING_WHY,
    go = { undo = "undo", rollback = "unundo" }, refuse = { resume = BEING_UNDONE, finish = BEING_UNDONE } },
  { name = "finishing", when = function(st) return st.mode == "finish" end,
    says = "deleting the kept original, interrupted", data = "DEST", next = "finish",
    why = "it stopped while it was deleting the kept original: that is finished",
    go = { finish = "finish", resume = "finish", undo = "undo" }, refuse = { rollback = LINK_IN_PLACE } },
  { name = "not begun", when = function(st) return not st.last end,
    says = "stopped before its first step (SRC is untouched)", data = "SRC", next = "resume",
    note = "(or ROLLBACK; either removes a link it was trying beside SRC)", why = MIGRATING_WHY,
    go = { resume = "migrate", rollback = "rollback", undo = "rollback" }, refuse = { finish = NOT_KEPT } },
  { name = "linked", when = function(st) return done(st, "migrate", "link") end,
    says = "link in place, the original not yet deleted (at STEP)", data = "DEST (SRC links to it); the original also aside",
    next = "resume", note = "(deletes the original)", why = MIGRATING_WHY,
    go = { resume = "migrate", finish = "finish", undo = "undo" }, refuse = { rollback = LINK_IN_PLACE } },
  { name = "migrating", when = function() return true end,
    says = "interrupted at STEP", data = "SRC, or BACKUP (the original, set aside)", next = "resume",
    note = "(or ROLLBACK)", why = MIGRATING_WHY,
    go = { resume = "migrate", rollback = "rollback", undo = "rollback" }, refuse = { finish = NOT_KEPT } },
}

local function state_of(st, live)
  for _, s in ipairs(M.states) do
    if s.when(st, live) then return s end
  end
end

-- A text of the state table with the run's own words in: its commands, paths, last step
-- and the holder of its locks.
local function fill(text, id, st, holder)
  local cmd, p, last = M.commands(id), st.plan, st.last
  local words = { RESUME = cmd.resume, ROLLBACK = cmd.rollback, UNDO = cmd.undo, FINISH = cmd.finish,
                  SRC = p.src, BACKUP = p.backup, HOLDER = holder,
                  STEP = last and (last.step .. (last.phase == "done" and " (done)" or "")) or "?" }
  return (text:gsub("%u%u+", words))
end

-- A state's words for a run: what --status says, the command that takes it further, and
-- the state's name.
local function describe(s, id, st, holder)
  return fill(s.says, id, st, holder),
    s.next and (M.commands(id)[s.next] .. (s.note and (" " .. fill(s.note, id, st)) or "")) or nil, s.name
end

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
      elseif s.sync then line:show({ label = "syncing", "writing " .. units.bytes(s.bytes) .. " to disk" })
      else show(s.bytes, string.format("%d of %d files", s.files, files), s.path) end
    end
  end, line
end

-- The runner: the sequence of one direction, each step journaled before and after.
local Runner = {}
Runner.__index = Runner

local function new_runner(j, p, st, which, opts)
  local x = context(p, st, which)
  local label = which == "undo" and "undo-" or ""
  local report, line = reporter(x, label, opts.progress)
  local rt = setmetatable({ j = j, p = p, st = st, x = x, family = family(x.seq), label = label, line = line,
                            warnings = {} }, Runner)
  rt.report = report
  rt.made = function(key, value)
    j:record({ event = "made", seq = rt.family, key = key, value = value })
    if key == "tmp" then st.copied[rt.family] = nil end -- (as M.state reads it)
    x.id[key] = value
    st.made[rt.family] = st.made[rt.family] or {}
    st.made[rt.family][key] = value
  end
  rt.warn = function(msg) rt.warnings[#rt.warnings + 1] = msg end
  -- A batch of files the copy finished, their data on disk: journaled with no sync of
  -- its own (a record lost to a crash only means those files are copied again).
  rt.copied = function(files)
    j:note({ event = "copied", seq = rt.family, files = files })
    local list = st.copied[rt.family] or {}
    st.copied[rt.family] = list
    list[#list + 1] = files
  end
  rt.copied_before = function() return st.copied[rt.family] end
  return rt
end

function Runner:record(step, dir, phase, err, code)
  self.j:record({ event = "step", seq = self.family, step = step, dir = dir, phase = phase, error = err, code = code })
  local s = self.st.steps
  s[self.family] = s[self.family] or {}
  s[self.family][step] = { dir = dir, phase = phase, error = err }
  if dir == "do" and phase == "done" then
    self.st.ever[self.family] = self.st.ever[self.family] or {}
    self.st.ever[self.family][step] = true
  end
end

-- Walks the sequence one way, from where the journal stands: "do" takes, in order, every
-- step not done (one that began before a crash and visibly took effect is only
-- recorded); "back" takes back, in reverse, every step that may have had an effect.
-- Returns true, or nil, message, code, error, the step it stopped at and the signal that
-- stopped it (a forward walk stops between steps when asked to).
function Runner:walk(dir)
  local seq = M.sequences[self.x.seq]
  local first, last, by = 1, #seq, 1
  if dir == "back" then first, last, by = #seq, 1, -1 end
  local label = (dir == "back" and "rollback-" or "") .. self.label
  for i = first, last, by do
    local name = seq[i]
    local step, prior = M.steps[name], step_state(self.st, self.family, name)
    if (dir == "do" and not done(self.st, self.family, name)) or (dir == "back" and touched(self.st, self.family, name)) then
      local sig = dir == "do" and tether.interrupted()
      if sig then return nil, nil, "EINTR", nil, name, sig end
      if dir == "back" and not step.undo then
        local _, err, code, e = tether.fail("EINVAL", self.x.from, "the step '" .. name .. "' cannot be taken back")
        return nil, err, code, e, name
      end
      local line = step_line(name, self.x, dir, self.st, self.family) -- (before the step changes the state)
      self:record(name, dir, "begin")
      testhook.point(label .. name .. ":begin")
      local ok, err, code, e
      if dir == "back" then
        ok, err, code, e = step.undo(self.x, self, prior)
      elseif prior and prior.dir == "do" and step.is_done and step.is_done(self.x) then
        ok = true
      else
        ok, err, code, e = step.run(self.x, self)
      end
      self.line:done()
      if not ok then
        self:record(name, dir, "failed", err, code)
        return nil, err, code, e, name, dir == "do" and tether.interrupted() or nil
      end
      self:record(name, dir, "done")
      self.p.did = self.p.did or {} -- what the command did (--json's steps)
      self.p.did[#self.p.did + 1] = line
      testhook.point(label .. name .. ":done")
    end
  end
  return true
end

-- How a command left a run: ended, the state its journal ends in (nil: the run goes on
-- later); on a failure err, code, e (tether.fail's), outcome ("refused": nothing was
-- done; "rolled back": everything put back; "partial": stopped part-way; "interrupted"
-- with sig, the signal) and problems; warnings.
local function failure(outcome, hint, _, err, code, e)
  if hint then _, err, code, e = with_hint(hint, nil, err, code, e) end
  return { outcome = outcome, err = err, code = code, e = e }
end

local SIGNALS = { [1] = "SIGHUP", [2] = "SIGINT", [15] = "SIGTERM" }

-- Once a way's commit point is passed, what a failure says instead of taking it back.
local PAST = {
  migrate = function(_, cmd) return "the link is in place, so nothing was rolled back; finish with: " .. cmd.resume end,
  undo = function(p, cmd) return "the data is back in " .. p.src .. ", so nothing was rolled back; finish with: " .. cmd.undo end,
  finish = function(_, cmd) return "finish with: " .. cmd.finish end,
}

-- Takes run j the way `way` goes (WAYS), to its end. A forward walk that fails before
-- its commit point is taken back by the way back (journaled as its mode first); one past
-- it, or a way back that fails, stops and names the command that goes on. Returns the
-- result (see failure()).
local function go(j, p, st, way, opts)
  local w = WAYS[way]
  local rt = new_runner(j, p, st, w.which, opts)
  if w.dir == "back" then tether.interrupted(false) end -- a way back runs to its end
  local ok, err, code, e, step, sig = rt:walk(w.dir)
  if ok then return { ended = w.ends(p, st), warnings = rt.warnings } end
  if sig then -- one line that says what happened, whatever the step was doing then
    err, code, e = select(2, tether.fail("EINTR", rt.x.from, "interrupted by " .. (SIGNALS[sig] or ("signal " .. sig))))
  end
  local cmd, at = M.commands(j.id), "stopped at step " .. step .. "; "
  local stopped = sig and "interrupted" or "partial"
  local function result(outcome, hint, ended)
    local r = failure(outcome, at .. hint, nil, err, code, e)
    r.sig, r.ended, r.warnings = sig, ended, rt.warnings
    return r
  end
  if w.dir == "back" then return result(stopped, "run " .. cmd.rollback .. " again once that is mended") end
  if not w.back or done(st, rt.family, M.commit[rt.x.seq]) then return result(stopped, PAST[way](p, cmd)) end
  local back = WAYS[w.back]
  j:record({ event = "mode", mode = back.mode })
  tether.interrupted(false) -- the way back must run to its end
  local bok, berr, _, _, bstep = rt:walk("back")
  if bok then return result(sig and "interrupted" or "rolled back", "everything was put back as it was", back.ends(p, st)) end
  return result(stopped, string.format("putting it back failed too (%s, step %s); see tether migrate --status %s, then: %s",
    berr, bstep, j.id, cmd.rollback))
end

-- The locks of a run, held while it works, for each key (the real paths of SRC and
-- DEST): a file in the journal directory, named after it (nothing is written beside
-- SRC or DEST), and a lock on the directory itself where there is one, which keeps runs
-- of other users off it too (where directories cannot be locked, the file does alone).
local function take_locks(keys, holder)
  local locks = setmetatable({}, { __close = function(t) for _, h in ipairs(t) do h:close() end end })
  local ok, err, code, e = journal.ensure_dir()
  if not ok then return nil, err, code, e end
  for _, key in ipairs(keys) do
    local l, lerr, lcode, le = raw.lock(journal.dir(), key, holder)
    local i = l and info(key)
    local d, derr, dcode, de
    if i and i.type == "dir" then d, derr, dcode, de = raw.lock_dir(key) end
    if not l or dcode == "EBUSY" then
      if l then l:close() end
      getmetatable(locks).__close(locks)
      if l then return nil, derr, dcode, de end
      return nil, lerr, lcode, le
    end
    locks[#locks + 1] = l
    locks[#locks + 1] = d or nil
  end
  return locks
end

local function keys_of(p) return preflight.lock_keys(p.src_real or p.src, p.dest) end

-- The roots of a run: SRC's and DEST's parents, the directories the journal names.
local function confine(p, st)
  local ids = ids_of(st)
  return raw.confine({ path.dirname(p.src), path.dirname(p.dest) }, { expect = { ids.src_parent, ids.dest_parent } })
end

-- The objects of an undo that a newer run re-created by copying (they are under a path
-- of `recopied`): a verified copy keeps a directory's type, not its device and inode, so
-- the undo takes what is there now as the run's own when it is a directory. Returns the
-- identities taken that differ from those the journal holds ({src_parent =,
-- dest_parent =, at_dest =, backup =}), or nil when there are none.
local function adopt(p, st, recopied)
  local function under_copy(x)
    for _, r in ipairs(recopied) do
      if path.inside(x, r) then return true end
    end
  end
  local ids, src_dir = ids_of(st), path.dirname(p.src_real or p.src)
  local where = { -- the path of each, as the run spells it, and as a newer run would name it (real)
    src_parent = { path.dirname(p.src), src_dir }, dest_parent = { path.dirname(p.dest) },
    at_dest = { p.dest }, backup = { p.backup, path.join(src_dir, path.basename(p.backup)) },
  }
  local taken
  for key, at in pairs(where) do
    local i = under_copy(at[2] or at[1]) and info(at[1])
    if i and i.type == "dir" and not is(i, ids[key]) then
      taken = taken or {}
      taken[key] = id_of(i)
    end
  end
  return taken
end

-- Whether every step of an undo can be taken, checked before the first is: DEST holds
-- what the migration put there, and the names the undo works under are free. Returns
-- true, or tether.fail's values, saying that nothing was changed.
local function undo_ready(p, st)
  local at = info(p.dest)
  if not is(at, ids_of(st).at_dest) then
    return tether.fail("ECHANGED", p.dest, at and "is not the folder this migration put here (it was replaced since)"
      or "is not there any more", "nothing was changed")
  end
  if not p.same_fs then
    for _, name in ipairs({ p.back_tmp, p.back_aside }) do
      if info(name) then
        return tether.fail("EEXIST", name, "is in the way of the undo", "move it away, then undo again; nothing was changed")
      end
    end
  end
  return true
end

-- Whether a link can be made where SRC is, when the filesystem cannot tell without
-- trying (p.probe): one is made beside SRC and removed, journaled first, so a kill in
-- between leaves a name the run's next command removes (clear_probe). p.link becomes
-- the kind that worked (a junction where symbolic links are not permitted, for auto on
-- Windows). Returns nil when one can be made, else the result that ends the command:
-- refused (nothing changed), or partial when the probe is still there.
local function probe(j, p)
  j:record({ event = "made", seq = "migrate", key = "probe", value = { pending = true } })
  testhook.point("probe:begin")
  local ok, err, code, e, left = trial.try_link(p.link, p.probe, p.dest)
  if not ok and not left and p.link_fallback and (code == "EPERM" or code == "EVERIFY")
     and not p.dest:find("^[\\/][\\/]") then -- a junction cannot lead to a network path
    local jok, jerr, _, _, jleft = trial.try_link(p.link_fallback, p.probe, p.dest)
    if jok then
      ok, p.link = true, p.link_fallback
    else
      _, err, code, e = with_hint("a junction cannot be made either: " .. jerr, nil, err, code, e)
      left = jleft
    end
  end
  if left then
    return failure("partial", "the probe link " .. p.probe .. " is still there: remove it with " ..
      M.commands(j.id).rollback, nil, err, code, e)
  end
  j:record({ event = "made", seq = "migrate", key = "probe", value = { gone = true, link = ok and p.link or nil } })
  if not ok then return failure("refused", "a link must be made here in place of " .. p.src .. "; nothing was changed",
    nil, err, code, e) end
end

-- Removes the probe link a run killed while probing left beside SRC (its journal says
-- it may be there), only if it is one: a link leading to DEST.
local function clear_probe(j, p, st)
  local pr = (st.made.migrate or {}).probe
  if not (pr and pr.pending) then return true end
  local i = info(p.probe)
  if i and (i.type == "symlink" or i.type == "junction") then
    local ok, err, code, e = raw.unlink(p.probe, { old = p.dest })
    if not ok then return nil, err, code, e end
  end
  j:record({ event = "made", seq = "migrate", key = "probe", value = { gone = true } })
  st.made.migrate.probe = { gone = true }
  return true
end

-- The one place a command works on a run's journal j: the mode it goes journaled first,
-- interrupts deferred, the end record written when the work says how the run ended, and
-- the journal closed and interrupts let through again however it ends, an error raised
-- too. work(j) returns a result (see failure()); so does session. A journal that cannot
-- be written stops the run there.
local function session(j, mode, work)
  local closing <close> = on_close(function() j:close() end) -- luacheck: ignore closing
  tether.defer_interrupts(true)
  local deferred <close> = on_close(function() tether.defer_interrupts(false) end) -- luacheck: ignore deferred
  local ok, res = pcall(function()
    j:record({ event = "mode", mode = mode })
    local r = work(j)
    if r.ended then j:record({ event = "end", state = r.ended }) end
    return r
  end)
  if ok then return res end
  if type(res) == "table" and res.journal then
    return failure("partial", "the journal could not be written, so the run stopped there", nil, res.message, res.code)
  end
  error(res, 0)
end

-- Whether a run that has not ended is at work now (it holds its locks): what it says.
local function running(st)
  if st.ended then return nil end
  local lock, holder = raw.lock_state(journal.dir(), keys_of(st.plan)[1])
  return lock == "held" and holder or nil
end
-- Who is at work on a run now (what its lock says), or nil: for doctor.
function M.running(records) return running(M.state(records)) end

-- Where a run stands, in words, with the command that takes it further (or nil), and the
-- name of its state (M.states).
function M.describe_state(r)
  local st = M.state(r.records)
  local holder = running(st)
  return describe(state_of(st, holder ~= nil), r.id, st, holder)
end

-- What takes a run that stopped part-way further, on the way it was going, and why:
-- {op = "resume"|"rollback"|"undo"|"finish", why = "..."} (doctor --fix runs it), or
-- nil for a run that has ended.
function M.next_step(records)
  local st = M.state(records)
  local s = state_of(st, false)
  if st.ended or not s.next then return nil end
  return { op = s.next, why = fill(s.why, records[1].id, st) }
end

-- A run recorded in the journal that stopped part-way where at (places() of a new run)
-- would work, on its SRC or DEST: the path, what stopped there, and the command that
-- takes it further (or nil). A new migration there would leave that run's copy or
-- original out of its reach. (A run killed before its journal was written had changed
-- nothing: there is none to find.) locked: the caller holds the locks of at, so no run
-- there is at work; otherwise a run at work is left to the lock's check to name.
local function stopped_on(at, locked)
  local runs = journal.list()
  for i = #runs, 1, -1 do
    local r = runs[i]
    local st = r.kind == "migrate" and M.state(r.records)
    local p = st and not st.ended and (locked or not running(st)) and st.plan
    local theirs = p and { [p.src] = true, [p.src_real or p.src] = true, [p.dest] = true } or {}
    for _, mine in ipairs({ { at.src, at.src_real }, { at.dest } }) do
      if theirs[mine[1]] or theirs[mine[2] or mine[1]] then
        local what, command = describe(state_of(st, false), r.id, st)
        return mine[1], string.format("run %s stopped part-way here (%s)", r.id, what),
          "take it further first: " .. (command or "see tether migrate --status")
      end
    end
  end
end
preflight.stopped_on = stopped_on

-- The public values of a result: the plan (with its warnings), or nil, message, code,
-- outcome, signal, problems, and the failure as tether.fail's table (docs/json.md's
-- error).
local function answer(p, res)
  if not res.err then
    p.warnings = res.warnings
    return p
  end
  local e = type(res.e) == "table" and res.e or { errno = res.code, message = res.err }
  return nil, res.err, res.code, res.outcome, res.sig, res.problems, e
end

-- A command refused before it changed anything: tether.fail's values (and the problems
-- a check found), as answer() gives them.
local function refuse(_, err, code, e, problems)
  return answer(nil, { outcome = "refused", err = err, code = code, e = e, problems = problems })
end

-- The public entry: tether.migrate(src, dest, opts) -> plan | nil, msg, code, outcome,
-- signal, problems, error.
-- opts: verify = "size"|"hash", link = "symlink"|"junction"|"auto", keep_backup,
-- scan = {paths}, force, min_free (bytes), progress = function({bytes, files, path | sync = true}), dry.
-- outcome: "refused" or "rolled back" (nothing changed), "partial" (see the journal),
-- "interrupted"; problems: every offending path a refusal found; error: tether.fail's table.
function M.migrate(src, dest, opts)
  opts = require("tether.opts").check("migrate", opts)
  if opts.dry or run.dry() then
    local p, err, code, e, problems = preflight.plan(src, dest, opts)
    if not p then return refuse(nil, err, code, e, problems) end
    p.dry, p.steps = true, M.sequences[seq_of(p, "migrate")]
    return p
  end
  -- What needs no lock is checked before anything is written anywhere: a refusal there
  -- (DEST inside SRC, SRC not a folder, DEST not empty) leaves every directory as it was.
  local at, aerr, acode, ae = preflight.places(src, dest)
  if not at then return refuse(nil, aerr, acode, ae) end
  if preflight.journal_problem(at) then -- no lock can be kept there: the checks say why
    local _, perr, pcode, pe, problems = preflight.plan(src, dest, opts)
    if not perr then _, perr, pcode, pe = tether.fail("EAGAIN", journal.dir(), "changed while it was looked at") end
    return refuse(nil, perr, pcode, pe, problems)
  end
  -- Then the locks: of two runs started together, one gets them, the other says who.
  local locks <close>, lerr, lcode, le = take_locks(preflight.lock_keys(at.src_real, at.dest),
    string.format("pid %d, tether migrate %s %s", tether.pid(), at.src, at.dest))
  if not locks then
    -- A lock that cannot even be kept (no journal directory can be made) says less than
    -- the checks do about why this migration cannot run.
    if lcode ~= "EBUSY" then
      local _, perr, pcode, pe, problems = preflight.plan(src, dest, opts)
      if perr then return refuse(nil, perr, pcode, pe, problems) end
    end
    return answer(nil, failure("refused", "nothing was changed", nil, lerr, lcode, le))
  end
  local where, stopped, further = stopped_on(at, true)
  if where then
    return refuse(tether.fail("EBUSY", where, stopped, further .. "; nothing was changed"))
  end
  local popts = setmetatable({ locked = true }, { __index = opts })
  local p, err, code, e, problems = preflight.plan(src, dest, popts)
  if not p then return refuse(nil, err, code, e, problems) end
  local st = M.state({ { plan = p } })
  local c <close>, cerr, ccode, ce = confine(p, st)
  if not c then return answer(nil, failure("refused", "nothing was changed", nil, cerr, ccode, ce)) end
  local j, jerr, jcode, je = run.start("migrate", { plan = p, roots = c:roots() }) -- (with what the user ran)
  if not j then return refuse(nil, jerr, jcode, je) end
  p.id = j.id
  for _, l in ipairs(locks) do l:say(string.format("pid %d, run %s, migrate", tether.pid(), j.id)) end
  local res = session(j, "migrate", function()
    return p.probe and probe(j, p) or go(j, p, st, "migrate", opts)
  end)
  if res.outcome == "refused" then journal.remove(j.id) end -- the run never began: as if never made
  return answer(p, res)
end

-- Where the original of a migration stopped before its link can be, by its steps: SRC
-- until it was set aside (or moved, on one filesystem), the backup once that began, DEST
-- once a same-filesystem move began. None once the link is in place (from then on the
-- data is the copy at DEST).
local function original_places(p, st)
  if done(st, "migrate", "link") then return {} end
  local out = {}
  if not done(st, "migrate", "aside") then out[#out + 1] = { path = p.src, name = "SRC" } end
  if touched(st, "migrate", "aside") then out[#out + 1] = { path = p.backup, name = "the original set aside at " .. q(p.backup) } end
  if touched(st, "migrate", "move") then out[#out + 1] = { path = p.dest, name = "DEST" } end
  return out
end

-- Before a resume or rollback compares or moves anything: the original is still the
-- directory this run copied (its identity as recorded), where its steps left it. One
-- moved or replaced since is no partial copy's fault: the user is told to put it back.
-- The place the original of a run stopped before its link was last known to be, and its
-- name, when it is at none of the places its steps left it at (nil when it is, or need
-- not be).
local function original_lost(p, st)
  local places = original_places(p, st)
  if #places == 0 then return nil end
  for _, at in ipairs(places) do
    if is(info(at.path), p.ids.src) then return nil end
  end
  return places[#places].path, places[#places].name
end

local function original_there(p, st, id, what)
  local lost, name = original_lost(p, st)
  if not lost then return true end
  local at = { path = lost, name = name }
  local now = info(at.path)
  return tether.fail(now and "ECHANGED" or "ENOENT", at.path, at.name .. " is not the directory this run copied (" ..
    (now and "replaced" or "moved") .. " since it stopped)", "put the original back at " .. q(at.path) ..
    ", then run " .. M.commands(id)[what] .. " again; nothing was changed")
end

-- Where the one complete copy of the data is now, as the paths this run knew show it,
-- and whether they tell: when they no longer do (SRC made a link by a later run, or moved
-- or deleted since), where SRC leads now, or why it cannot tell. quote (tether.quote for
-- a terminal; none for JSON) shows each name.
function M.where(p, quote, st)
  local q = quote or function(x) return x end
  local lost = st and not st.ended and original_lost(p, st)
  if lost then
    return "the original was at " .. q(lost) .. ", and is not there now (moved or replaced since the run stopped)", false
  end
  local s = info(p.src)
  if s and s.type == "dir" then return q(p.src), true end
  local linked = s and (s.type == "symlink" or s.type == "junction")
  local leads = linked and tether.realpath(p.src)
  local dest = info(p.dest) and tether.realpath(p.dest)
  if leads and dest and leads == dest then return q(p.dest) .. " (" .. q(p.src) .. " links to it)", true end
  if info(p.backup) then return q(p.backup) .. " (the original, set aside)", true end
  if info(p.back_aside) then return q(p.back_aside) .. " (set aside by the undo)", true end
  if dest then return q(p.dest), true end
  if leads then
    return q(leads) .. " (" .. q(p.src) .. " links there now: it was made a link since, by a later run or by hand)", true
  end
  if linked then
    return q(p.src) .. " is a link to " .. q(s.target) .. " now, which leads nowhere, and " .. q(p.dest) ..
      " is not there", false
  end
  if s then return q(p.src) .. " is a " .. s.type .. " now, and " .. q(p.dest) .. " is not there", false end
  return "neither " .. q(p.src) .. " nor " .. q(p.dest) .. " is there (moved or deleted since)", false
end

-- The steps a way would take on a run, described (for -n).
local function would(p, st, way)
  local w = WAYS[way]
  local x = context(p, st, w.which)
  local seq, fam, out = M.sequences[x.seq], family(x.seq), {}
  for i = 1, #seq do
    local name = w.dir == "back" and seq[#seq + 1 - i] or seq[i]
    if (w.dir == "back" and touched(st, fam, name)) or (w.dir == "do" and not done(st, fam, name)) then
      out[#out + 1] = step_line(name, x, w.dir, st, fam)
    end
  end
  return out
end

-- The steps a command ("resume", "rollback", "undo", "finish") would take on run r,
-- described (for -n); none when it does not apply.
function M.would(r, what)
  local st = M.state(r.records)
  local way = state_of(st, false).go[what]
  return way and would(st.plan, st, way) or {}
end

-- Why there is no run for `what` to act on, when none was named.
local function nothing_to(what)
  local none = {
    resume = "nothing to resume: no migration recorded here stopped part-way",
    rollback = "nothing to roll back: no migration recorded here stopped part-way",
    undo = "nothing to undo: no migration recorded here is finished",
    finish = "nothing to finish: no migration recorded here kept its original",
  }
  -- (a kill before the journal was written left nothing behind)
  return tether.fail("ENOENT", journal.dir(), none[what], what ~= "finish" and
    "a migration stopped before it wrote its journal had changed nothing, its SRC is untouched" or nil)
end

-- The run a command acts on: the one named, or else the newest the command applies to
-- (for a rollback or a resume, the newest that has not ended, whatever its mode: one the
-- command cannot apply to says why and what finishes it, as when named). Returns it, or
-- tether.fail's values.
local function find_run(what, which)
  if which and which ~= "last" then
    local r, err, code, e = journal.find(which)
    if not r then return nil, err, code, e end
    if r.kind ~= "migrate" then return tether.fail("EINVAL", r.id, "is a " .. r.kind .. " run, not a migration") end
    return r
  end
  local r, err, code, e = journal.find(nil, function(run)
    if run.kind ~= "migrate" then return false end
    local st = M.state(run.records)
    if what == "rollback" or what == "resume" then return not st.ended end
    return state_of(st, false).go[what] ~= nil
  end)
  if r then return r end
  if err then return nil, err, code, e end
  return nothing_to(what)
end

-- What the migrations recorded after run id re-created by copying (M.recopied): what an
-- undo of it goes by when its caller does not say (tether.run says, for runs of every
-- kind).
local function recopied_after(id)
  local out = {}
  for _, r in ipairs(journal.list()) do
    if r.kind == "migrate" and r.id > id then
      for _, x in ipairs(M.recopied(r.records)) do out[#out + 1] = x end
    end
  end
  return out
end

-- Takes an earlier run further the way `way` goes, journaling `mode`: its locks taken,
-- its roots opened as the journal names them and, for an undo, every step checked to be
-- possible before the first is taken; then the work, in a session. Returns a result.
local function with_run(r, st, way, mode, opts)
  local p = st.plan
  local locks <close>, lerr, lcode, le = take_locks(keys_of(p), string.format("pid %d, run %s, %s", tether.pid(), r.id, mode))
  if not locks then return failure("refused", "nothing was done", nil, lerr, lcode, le) end
  local adopted = WAYS[way].which == "undo" and adopt(p, st, opts.recopied or recopied_after(r.id))
  if adopted then -- added to what the journal holds, and journaled with it below
    st.made.undo = st.made.undo or {}
    for k, v in pairs(st.made.undo.adopted or {}) do adopted[k] = adopted[k] or v end
    st.made.undo.adopted = adopted
  end
  local c <close>, cerr, ccode, ce = confine(p, st)
  if not c then return failure("refused", "the run's folders are not there as they were, so nothing was done", nil, cerr, ccode, ce) end
  if way == "undo" and st.mode ~= "undo" then
    local ok, uerr, ucode, ue = undo_ready(p, st)
    if not ok then return failure("refused", nil, nil, uerr, ucode, ue) end
  end
  local j, jerr, jcode, je = journal.reopen(r.id)
  if not j then return failure("refused", nil, nil, jerr, jcode, je) end
  return session(j, mode, function()
    if adopted then j:record({ event = "made", seq = "undo", key = "adopted", value = adopted }) end
    local ok, err, code, e = clear_probe(j, p, st)
    if not ok then return failure("partial", nil, nil, err, code, e) end
    if way == "migrate" and p.probe and not st.steps.migrate and not ((st.made.migrate or {}).probe or {}).link then
      -- killed while it tried whether a link can be made: it tries again first, and a
      -- try that fails ends the run
      local res = probe(j, p)
      if res and res.outcome == "refused" then res.ended, res.outcome = "rolled back", "rolled back" end
      if res then return res end
    end
    return go(j, p, st, way, opts)
  end)
end

-- resume / rollback / undo / finish of an earlier run (the newest that fits, or `which`).
-- Returns the plan, or nil, message, code, outcome, signal, problems, error (as
-- tether.migrate). With opts.dry (or -n), the plan with `steps`, the descriptions of what
-- it would do, and nothing done. opts: force (an undo), progress, dry, and recopied (an
-- undo: the paths newer runs re-created by copying; by default what the journals of
-- newer migrations say, M.recopied).
function M.continue(what, which, opts)
  if not M.commands("")[what] then error("migration.continue: no command '" .. tostring(what) .. "'", 2) end
  opts = opts or {}
  local r, err, code, e = find_run(what, which)
  if not r then return refuse(nil, err, code, e) end
  local st = M.state(r.records)
  local s = state_of(st, false)
  local way = s.go[what]
  if not way then
    local why = s.refuse[what] -- (every state refuses each command it does not take)
    return refuse(tether.fail("EINVAL", r.id, fill(why[1], r.id, st), why[2] and fill(why[2], r.id, st)))
  end
  local p = st.plan
  p.id = r.id
  if WAYS[way].which == "migrate" then
    local ok, oerr, ocode, oe = original_there(p, st, r.id, what)
    if not ok then return refuse(nil, oerr, ocode, oe) end
  end
  if way == "undo" and st.mode ~= "undo" then -- an undo begins: checked first, as a migration is
    local size, perr, pcode, pe, problems = preflight.undo(p, opts) -- (it only looks: -n too)
    if not size then return refuse(nil, perr, pcode, pe, problems) end
    p.force = opts.force or false
  end
  if opts.dry or run.dry() then
    p.dry, p.steps = true, would(p, st, way)
    return p
  end
  local mode = (what == "resume" and way == "migrate") and "resume" or WAYS[way].mode
  return answer(p, with_run(r, st, way, mode, opts))
end

-- The questions tether.run asks of a run of any kind (its undo stack), for a migration.
-- Whether `tether undo` has something to do for it: it is neither undone nor rolled back
-- (M.undo takes it back whichever way it stands, or says what must come first).
function M.undoable(records) return not M.undone(records) end

-- Whether it was undone, or rolled back (it changed nothing then).
function M.undone(records)
  local ended = M.state(records).ended
  return ended == "undone" or ended == "rolled back"
end

-- Its SRC and DEST, absolute: { SRC, DEST } (also .src and .dest).
function M.paths(records)
  local p = records[1].plan
  return { p.src, p.dest, src = p.src, dest = p.dest }
end

-- The paths (real, absolute) whose trees this run re-created by copying, so that what
-- older runs recorded there has other devices and inodes now: across filesystems, DEST
-- once the copy was placed there and SRC once an undo placed its copy back; and a DEST
-- that was an empty directory, once it was replaced (a rollback or undo makes it again).
function M.recopied(records)
  local st = M.state(records)
  local p, mig, und = st.plan, st.ever.migrate or {}, st.ever.undo or {}
  local out = {}
  if (mig.place or mig.move) and (not p.same_fs or p.dest_existed) then out[#out + 1] = p.dest end
  if not p.same_fs and und.place then out[#out + 1] = p.src_real or p.src end
  return out
end

-- Takes a run back: what `tether undo` does to a migration. Once its link is in place,
-- the data moves back to SRC and the link goes; before, the run is rolled back. opts:
-- force, dry, recopied (see M.continue). Returns what M.continue does.
function M.undo(id, opts) return M.continue("undo", id, opts) end

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
                        ended = st.ended ~= nil, data = M.where(st.plan, nil, st), started = r.header.time }
      -- (as a terminal shows it, and whether the paths tell where the data is)
      out[#out].data_shown, out[#out].data_known = M.where(st.plan, tether.quote, st)
    end
  end
  return out, broken
end

-- The schema of a migration's journal (tether.journal checks it before believing one):
-- the plan's paths must be absolute, the temporary names beside SRC and DEST with the
-- run's own hint, the identities integers, and every later record one this module writes.
local check = journal.check
local STEPS, EVENTS = {}, { start = true, step = true, made = true, mode = true, ["end"] = true, copied = true }
for name in pairs(M.steps) do STEPS[name] = true end
local MODES = {}
for _, w in pairs(WAYS) do MODES[w.mode] = true end
MODES.resume = true
local ENDS = { finished = true, kept = true, ["rolled back"] = true, undone = true }
local ADOPTED = { src_parent = true, dest_parent = true, at_dest = true, backup = true }
journal.summaries.migrate = function(run)
  local st = M.state(run.records)
  local p = st.plan or {}
  return { recipe = "migrate", command = run.header.command, state = st.ended or "unfinished", roots = { p.src, p.dest },
           src = p.src, dest = p.dest }, st.ended == nil
end

-- Whether v is what an undo adopted: identities under known names.
local function adopted_ids(v)
  if type(v) ~= "table" or next(v) == nil then return false end
  for k, id in pairs(v) do
    if not ADOPTED[k] or not check.id(id) then return false end
  end
  return true
end

-- Whether v is a batch of files a copy finished: raw.copytree's text of them (a line a
-- file: its numbers, then its path below the copy's root; raw.copied_records reads it).
local function copied_files(v)
  return type(v) == "string" and raw.copied_records(v) ~= nil
end

journal.schemas.migrate = function(records)
  local p = records[1].plan
  if type(p) ~= "table" then return 1, "no plan" end
  local bad = run.command_problem(records[1]) -- what the user ran (history shows it)
  if bad then return 1, bad end
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
            (r.key == "adopted" and r.seq == "undo" and adopted_ids(r.value)) or
            (r.key == "probe" and p.probe and type(r.value) == "table" and
              (r.value.pending == true or (r.value.gone == true and (r.value.link == nil or
                r.value.link == p.link or r.value.link == p.link_fallback)))))) then
      return n, "a malformed identity"
    end
    if r.event == "copied" and ((r.seq ~= "migrate" and r.seq ~= "undo") or not copied_files(r.files)) then
      return n, "a malformed record of copied files"
    end
    if r.event == "mode" and not MODES[r.mode] then return n, "an unknown mode" end
    if r.event == "end" and not ENDS[r.state] then return n, "an unknown end" end
  end
end

return M
