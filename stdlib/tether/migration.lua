-- tether.migration: move a folder to another place and leave a link behind, so that
-- nothing is ever lost. Across filesystems: copy to a temporary name beside DEST, verify,
-- rename into DEST, rename SRC aside, link SRC -> DEST, delete the set-aside original.
-- On one filesystem: rename SRC to DEST, then link. Every step is journaled (on disk)
-- before it is taken, and every step can be redone or undone from the journal alone.
local tether = require "tether"
local journal = require "tether.journal"
local path = require "tether.path"
local progress = require "tether.progress"

local M = {}

local SPACE_MARGIN = 64 * 1024 * 1024 -- beyond the data itself: metadata, other writers

-- Test hook: TETHER_CRASH_AT=STEP:begin|done or copy:N makes the process kill itself
-- with SIGKILL at that instant, exactly as a power cut would stop it.
local crash_at = os.getenv("TETHER_CRASH_AT")
local function crashpoint(label)
  if crash_at and label == crash_at then os.execute("kill -KILL $PPID") end
end

local function fail(msg, code) return nil, msg, code end

local function is_link(p)
  local info = tether.info(p)
  return info and (info.type == "symlink" or info.type == "junction")
end

local function is_dir(p)
  local info = tether.info(p)
  return info and info.type == "dir"
end

local function absolute(p)
  if path.is_absolute(p) then return path.normalize(p) end
  return path.normalize(path.join(assert(tether.realpath(".")), p))
end

-- The real path of p even when it does not exist yet (its parent must).
local function real_of(p)
  local r = tether.realpath(p)
  if r then return r end
  local parent = tether.realpath(path.dirname(absolute(p)))
  return parent and path.join(parent, path.basename(p))
end

local function inside(p, dir)
  return p == dir or p:sub(1, #dir + 1) == dir .. "/"
end

-- Processes that hold a file under dir open for writing (Linux /proc; elsewhere none
-- can be seen, and the check says so).
local function writers_under(dir)
  local found = {}
  if not tether.exists("/proc/self/fdinfo") then return found, false end
  for proc in tether.walk("/proc", { max_depth = 1, types = { "dir" } }) do
    local pid = proc.name:match("^%d+$") and proc.name
    local fds = pid and tether.info("/proc/" .. pid .. "/fd") and "/proc/" .. pid .. "/fd"
    if fds and pid ~= tostring(tether.pid()) then
      local ok, iter = pcall(tether.walk, fds, { max_depth = 1 })
      for fd in ok and iter or function() end do
        local target = fd.depth == 1 and tether.readlink(fd.path)
        if target and inside(target, dir) then
          local f = io.open("/proc/" .. pid .. "/fdinfo/" .. fd.name)
          local flags = f and f:read("a"):match("flags:%s*(%d+)")
          if f then f:close() end
          if flags and tonumber(flags, 8) & 3 ~= 0 then -- O_WRONLY or O_RDWR
            local c = io.open("/proc/" .. pid .. "/comm")
            found[#found + 1] = string.format("%s (pid %s) writes %s", c and c:read("l") or "?", pid, target)
            if c then c:close() end
          end
        end
      end
    end
  end
  return found, true
end

-- Links under the scan paths that point into src: they keep working through the link
-- left at SRC, but the user should know about them.
local function links_into(src_real, scan)
  local found = {}
  for _, root in ipairs(scan or {}) do
    for e in tether.walk(root, { links_only = true, classify = true }) do
      local resolved = e.status == "ok" and tether.realpath(e.path)
      if resolved and inside(resolved, src_real) and not inside(e.path, src_real) then
        found[#found + 1] = e.path .. " -> " .. e.target
      end
    end
  end
  return found
end

-- Checks everything before anything is touched; returns the plan of the migration.
function M.plan(src, dest, opts)
  opts = opts or {}
  local info, err, code = tether.info(src)
  if not info then return fail(err, code) end
  if info.type == "symlink" or info.type == "junction" then
    return fail(src .. ": is already a link (to " .. tostring(info.target) .. "); nothing to migrate (ENOTDIR)", "ENOTDIR")
  end
  if info.type ~= "dir" then return fail(src .. ": is not a directory; migrate moves folders (ENOTDIR)", "ENOTDIR") end
  local src_abs, src_real = absolute(src), assert(tether.realpath(src))
  local dest_abs = absolute(dest)
  local pinfo = tether.info(path.dirname(dest_abs))
  if not pinfo or (pinfo.type ~= "dir" and not (pinfo.status == "ok" and pinfo.target_type == "dir")) then
    return fail(dest .. ": its parent directory does not exist (ENOENT)", "ENOENT")
  end
  local dest_real = real_of(dest_abs)
  local dest_parent = path.dirname(dest_real)
  if dest_real == src_real then return fail(dest .. ": is the same place as " .. src .. " (EINVAL)", "EINVAL") end
  if inside(dest_real, src_real) then
    return fail(dest .. ": is inside " .. src .. "; a folder cannot move into itself (EINVAL)", "EINVAL")
  end
  if inside(src_real, dest_real) then
    return fail(dest .. ": contains " .. src .. " (EINVAL)", "EINVAL")
  end
  local dinfo = tether.info(dest_abs)
  local dest_existed = false
  if dinfo then
    if dinfo.type ~= "dir" then return fail(dest .. ": already exists and is not a directory (EEXIST)", "EEXIST") end
    for e in tether.walk(dest_abs, { max_depth = 1 }) do
      if e.depth == 1 then return fail(dest .. ": already exists and is not empty (ENOTEMPTY)", "ENOTEMPTY") end
    end
    dest_existed = true
  end
  local link = opts.link or "auto"
  if link ~= "auto" and link ~= "symlink" and link ~= "junction" then
    return fail("--link must be symlink, junction or auto, not '" .. tostring(link) .. "' (EINVAL)", "EINVAL")
  end
  if link == "junction" and tether.platform ~= "windows" then
    return fail(src .. ": junctions are an NTFS feature and are not supported here (ENOTSUP); use --link symlink", "ENOTSUP")
  end

  local src_parent = path.dirname(src_abs)
  local id_hint = string.format("%x", math.random(0, 0xffffff))
  -- Can a link be made where SRC is? Try with a throwaway name (and remove it).
  local probe = path.join(src_parent, ".tether-probe-" .. id_hint)
  local function try(kind)
    local ok, err, code = (kind == "junction" and tether.junction or tether.symlink)(dest_real, probe, { dry = false })
    if ok then assert(tether.unlink(probe, { dry = false })) end
    return ok, err, code
  end
  local kind = link == "auto" and "symlink" or link
  local ok, perr, pcode = try(kind)
  -- --link auto on Windows: a junction for a local folder where symbolic links are not
  -- permitted (no Developer Mode) or not really made.
  if not ok and link == "auto" and tether.platform == "windows" and (pcode == "EPERM" or pcode == "EVERIFY")
     and not dest_real:find("^[\\/][\\/]") then
    local jok, jerr = try("junction")
    if jok then kind, ok = "junction", true else perr = perr .. "; a junction cannot be made either: " .. jerr end
  end
  if not ok then return fail(perr .. "; a link must be made here in place of " .. src, pcode) end
  link = kind

  local size, serr, scode = tether.treesize(src)
  if not size then return fail(serr, scode) end
  local same_fs = info.dev == tether.info(dest_parent).dev
  local space = assert(tether.statfs(dest_parent))
  local need = same_fs and 0 or size.alloc + SPACE_MARGIN
  if not same_fs and need > space.avail and os.getenv("TETHER_TEST_SKIP_SPACE_CHECK") ~= "1" then
    return fail(string.format("%s: not enough free space: %s needed (%s of data and a %s margin), %s free (ENOSPC)",
      dest_parent, progress.bytes(need), progress.bytes(size.alloc), progress.bytes(SPACE_MARGIN),
      progress.bytes(space.avail)), "ENOSPC")
  end
  local writers, checked = writers_under(src_real)
  if #writers > 0 and not opts.force then
    return fail(src .. ": files are open for writing: " .. table.concat(writers, "; ") ..
      " (EBUSY); close them first, or pass --force", "EBUSY")
  end

  local name = path.basename(src_abs)
  return {
    src = src_abs, src_real = src_real, dest = dest_real, dest_existed = dest_existed,
    same_fs = same_fs, link = link, verify = opts.verify or "size", keep_backup = opts.keep_backup,
    tmp = path.join(path.dirname(dest_real), ".tether-tmp-" .. id_hint .. "-" .. path.basename(dest_real)),
    backup = path.join(src_parent, ".tether-backup-" .. id_hint .. "-" .. name),
    size = size, free = space.avail, need = need, writers_checked = checked,
    links_into = links_into(src_real, opts.scan),
  }
end

-- The steps of a plan, in order, each with what it does and how to tell it is done.
local function steps_of(p)
  if p.same_fs then return { "move", "link" } end
  local s = { "copy", "verify", "place", "aside", "link" }
  if not p.keep_backup then s[#s + 1] = "cleanup" end
  return s
end

M.describe = {
  copy = function(p) return string.format("copy %s to %s (%s, %d files)", p.src, p.tmp, progress.bytes(p.size.bytes), p.size.files) end,
  verify = function(p) return "verify the copy (" .. (p.verify == "hash" and "sizes and xxHash of every file" or "types, sizes, link targets") .. ")" end,
  place = function(p) return "rename " .. p.tmp .. " to " .. p.dest end,
  aside = function(p) return "rename " .. p.src .. " aside to " .. p.backup end,
  link = function(p) return "make " .. p.src .. " a " .. p.link .. " to " .. p.dest .. " and check it resolves there" end,
  cleanup = function(p) return "delete the set-aside original " .. p.backup end,
  move = function(p) return "rename " .. p.src .. " to " .. p.dest .. " (same filesystem)" end,
}

local function make_link(p)
  local make = p.link == "junction" and tether.junction or tether.symlink
  local ok, err, code = make(p.dest, p.src, { dry = false })
  if not ok then return fail(err, code) end
  if tether.realpath(p.src) ~= tether.realpath(p.dest) then
    return fail(p.src .. ": the new link does not lead to " .. p.dest .. " (EVERIFY)", "EVERIFY")
  end
  return true
end

-- What each step does; each checks where it stands first, so redoing it after a crash
-- (in --resume) finishes it instead of repeating or breaking it.
local actions = {
  copy = function(p, report)
    if tether.exists(p.tmp) then
      local ok, err, code = tether.rmtree(p.tmp, { dry = false }) -- a partial copy from a crash
      if not ok then return fail(err, code) end
    end
    return tether.copytree(p.src, p.tmp, { final = p.dest, progress = report, dry = false })
  end,
  verify = function(p, report)
    return tether.verifytree(p.src, p.tmp, { final = p.dest, hash = p.verify == "hash", progress = report })
  end,
  place = function(p)
    if not tether.exists(p.tmp) and is_dir(p.dest) then return true end -- renamed before a crash
    return tether.rename(p.tmp, p.dest, { dry = false })
  end,
  aside = function(p)
    if tether.exists(p.backup) and not (is_dir(p.src)) then return true end
    return tether.rename(p.src, p.backup, { dry = false })
  end,
  link = function(p)
    if is_link(p.src) then
      if tether.realpath(p.src) == tether.realpath(p.dest) then return true end
      return fail(p.src .. ": is a link, but not to " .. p.dest .. "; left as it is (EEXIST)", "EEXIST")
    end
    return make_link(p)
  end,
  cleanup = function(p)
    if not tether.exists(p.backup) then return true end
    return tether.rmtree(p.backup, { dry = false })
  end,
  move = function(p)
    if not is_dir(p.src) and is_dir(p.dest) then return true end
    return tether.rename(p.src, p.dest, { dry = false })
  end,
}

-- A progress reporter for the copy and verify steps: bytes, files, rate, ETA.
local function reporter(p, what, user_fn)
  local line, started, last = progress.line(), tether.now(), 0
  local total = p.size.bytes
  return function(s)
    crashpoint(what .. ":" .. s.files)
    if user_fn then user_fn(s) end
    local now = tether.now()
    if now - last < 0.1 then return end
    last = now
    local rate = progress.rate(s.bytes, started)
    local eta = rate > 0 and total > s.bytes and progress.duration((total - s.bytes) / rate) or "-"
    if what == "verify" then
      line:show(string.format("verifying: %d of %d files", s.files, p.size.files))
    else
      line:show(string.format("%s: %s of %s (%d%%), %d of %d files, %s/s, ETA %s", what,
        progress.bytes(s.bytes), progress.bytes(total), total > 0 and s.bytes * 100 // total or 100,
        s.files, p.size.files, progress.bytes(rate), eta))
    end
  end, line
end

local function run_step(j, p, name, opts)
  j:record({ event = "step", step = name, phase = "begin" })
  crashpoint(name .. ":begin")
  local report, line = reporter(p, name, opts.progress)
  local ok, err, code = actions[name](p, report)
  line:done()
  if not ok then
    j:record({ event = "step", step = name, phase = "failed", error = err, code = code })
    return fail(err, code)
  end
  j:record({ event = "step", step = name, phase = "done" })
  crashpoint(name .. ":done")
  return true
end

-- Runs the steps not yet done, in order; returns the result or fails with the step.
local function run_steps(j, p, done, opts)
  for _, name in ipairs(steps_of(p)) do
    if not done[name] then
      local ok, err, code = run_step(j, p, name, opts)
      if not ok then return nil, err, code, name end
    end
  end
  j:record({ event = "finish", state = p.keep_backup and "kept" or "finished" })
  return true
end

-- What a journal says: the plan, the steps done, and how the run ended (if it did).
function M.state(records)
  local p = records[1].plan
  local done, begun, last_begun, ended = {}, {}, nil, nil
  for _, r in ipairs(records) do
    if r.event == "step" and r.phase == "done" then done[r.step] = true end
    if r.event == "step" and r.phase == "begin" then last_begun, begun[r.step] = r.step, true end
    if r.event == "finish" then ended = r.state end
    if r.event == "rolled_back" then ended = "rolled back" end
    if r.event == "undone" then ended = "undone" end
    if r.event == "finished_backup" then ended = "finished" end
  end
  return p, done, ended, last_begun, begun
end

-- Puts everything back as it was before the run, from whatever state it is in.
local function roll_back(j, p, done, begun)
  local steps = {}
  local function undo(what, ok, err, code)
    if not ok then
      j:record({ event = "rollback_failed", action = what, error = err, code = code })
      error({ rollback = true, message = err, code = code }, 0)
    end
    steps[#steps + 1] = what
  end
  if p.same_fs then
    if is_link(p.src) and tether.realpath(p.src) == tether.realpath(p.dest) then
      undo("remove the link " .. p.src, tether.unlink(p.src, { dry = false }))
    end
    if not tether.exists(p.src) and is_dir(p.dest) then
      undo("rename " .. p.dest .. " back to " .. p.src, tether.rename(p.dest, p.src, { dry = false }))
      if p.dest_existed then tether.mkdir(p.dest, { dry = false }) end
    end
  else
    if is_link(p.src) then undo("remove the link " .. p.src, tether.unlink(p.src, { dry = false })) end
    if not tether.exists(p.src) and is_dir(p.backup) then
      undo("rename " .. p.backup .. " back to " .. p.src, tether.rename(p.backup, p.src, { dry = false }))
    end
    if not is_dir(p.src) then
      error({ rollback = true, message = p.src .. ": the original is not where it can be put back from; see " .. j.path, code = "ENOENT" }, 0)
    end
    if is_dir(p.tmp) then undo("delete the partial copy " .. p.tmp, tether.rmtree(p.tmp, { dry = false })) end
    -- The copy at DEST is ours once "place" began and the temporary name is gone.
    if (done.place or (begun.place and not is_dir(p.tmp))) and is_dir(p.dest) then
      undo("delete the copy " .. p.dest, tether.rmtree(p.dest, { dry = false }))
      if p.dest_existed then tether.mkdir(p.dest, { dry = false }) end
    end
  end
  j:record({ event = "rolled_back", actions = steps })
  return steps
end

-- Moves a finished (or half-cleaned) migration back: the data returns to SRC, the link
-- and the copy at DEST go. Used by `tether undo` and by a rollback that comes too late
-- for the set-aside original.
local function move_back(j, p)
  local back = {
    src = p.dest, src_real = p.dest, dest = p.src, same_fs = p.same_fs,
    tmp = path.join(path.dirname(p.src), ".tether-undo-" .. j.id .. "-" .. path.basename(p.src)),
    verify = p.verify, size = assert(tether.treesize(p.dest)),
  }
  if not is_link(p.src) or tether.realpath(p.src) ~= tether.realpath(p.dest) then
    return fail(p.src .. ": is no longer the link to " .. p.dest .. " that tether made; nothing changed (EEXIST)", "EEXIST")
  end
  local function step(name, fn)
    j:record({ event = "undo_step", step = name, phase = "begin" })
    crashpoint("undo-" .. name .. ":begin")
    local ok, err, code = fn()
    if not ok then
      j:record({ event = "undo_step", step = name, phase = "failed", error = err })
      return fail(err, code)
    end
    j:record({ event = "undo_step", step = name, phase = "done" })
    return true
  end
  local plan
  if p.same_fs then
    plan = {
      { "unlink", function() return tether.unlink(p.src, { dry = false }) end },
      { "move", function() return tether.rename(p.dest, p.src, { dry = false }) end },
    }
  else
    plan = {
      { "copy", function()
          if tether.exists(back.tmp) then tether.rmtree(back.tmp, { dry = false }) end
          local report, line = reporter(back, "copy")
          local r, err, code = tether.copytree(p.dest, back.tmp, { final = p.src, progress = report, dry = false })
          line:done()
          return r, err, code
        end },
      { "verify", function() return tether.verifytree(p.dest, back.tmp, { final = p.src, hash = p.verify == "hash" }) end },
      { "unlink", function() return tether.unlink(p.src, { dry = false }) end },
      { "place", function() return tether.rename(back.tmp, p.src, { dry = false }) end },
      { "cleanup", function()
          if tether.exists(p.backup) then tether.rmtree(p.backup, { dry = false }) end
          return tether.rmtree(p.dest, { dry = false })
        end },
    }
  end
  for _, s in ipairs(plan) do
    local ok, err, code = step(s[1], s[2])
    if not ok then return fail(err, code) end
  end
  if p.dest_existed then tether.mkdir(p.dest, { dry = false }) end
  j:record({ event = "undone" })
  return true
end

-- The public entry: tether.migrate(src, dest, opts) -> result | nil, msg, code.
-- opts: verify = "size"|"hash", link = "symlink"|"junction"|"auto", keep_backup,
-- scan = {paths}, force, progress = function({bytes, files, path}), dry.
function M.migrate(src, dest, opts)
  opts = opts or {}
  local p, err, code = M.plan(src, dest, opts)
  if not p then return nil, err, code end
  if opts.dry or tether.dryrun() then
    p.dry, p.steps = true, steps_of(p)
    return p
  end
  local j, jerr, jcode = journal.create("migrate", { plan = p })
  if not j then return nil, jerr .. "; nothing changed", jcode end
  p.id = j.id
  local ok, serr, scode, failed_step = run_steps(j, p, {}, opts)
  if ok then
    j:close()
    return p
  end
  -- A failed step: put everything back. Only if that fails too is the run left for
  -- --resume / --rollback, with the journal saying where it stands.
  local _, done, _, _, begun = M.state(journal.read(j.id))
  local rok, rerr = pcall(roll_back, j, p, done, begun)
  j:close()
  if rok then return nil, serr .. " (step " .. failed_step .. "; everything was put back)", scode, "rolled back" end
  return nil, serr .. " (step " .. failed_step .. "); putting it back failed too: " ..
    tostring(type(rerr) == "table" and rerr.message or rerr) .. "; see tether migrate --status " .. j.id, scode, "partial"
end

local function unfinished(r)
  if r.kind ~= "migrate" then return false end
  local _, _, ended = M.state(r.records)
  return ended == nil
end

local function open_run(which, accept, what)
  local r = journal.find(which, accept)
  if not r then
    return nil, (which and which ~= "last") and ("no migration with id " .. which .. " (ENOENT)")
      or ("no " .. what .. " migration (ENOENT)"), "ENOENT"
  end
  if r.kind ~= "migrate" then return nil, r.id .. ": is a " .. r.kind .. " run, not a migration (EINVAL)", "EINVAL" end
  return r
end

-- Finishes an interrupted run from its journal.
function M.resume(which, opts)
  local r, err, code = open_run(which, unfinished, "interrupted")
  if not r then return nil, err, code end
  local p, done, ended = M.state(r.records)
  if ended then return nil, r.id .. ": already " .. ended .. "; nothing to resume (EINVAL)", "EINVAL" end
  local j = assert(journal.reopen(r.id))
  j:record({ event = "resume" })
  local ok, serr, scode, step = run_steps(j, p, done, opts or {})
  j:close()
  if not ok then return nil, serr .. " (step " .. step .. "); the journal " .. r.id .. " still says how to resume or roll back", scode end
  p.id = r.id
  return p
end

-- Returns everything to how it was before an interrupted (or failed) run.
function M.rollback(which)
  local r, err, code = open_run(which, unfinished, "interrupted")
  if not r then return nil, err, code end
  local p, done, ended, _, begun = M.state(r.records)
  if ended then return nil, r.id .. ": already " .. ended .. "; use tether undo " .. r.id .. " (EINVAL)", "EINVAL" end
  local j = assert(journal.reopen(r.id))
  j:record({ event = "rollback" })
  local result, rerr, rcode
  if begun.cleanup then
    -- The original was being deleted: the complete data is at DEST, so move it back.
    result, rerr, rcode = move_back(j, p)
    if result then j:record({ event = "rolled_back", actions = { "moved the data back from " .. p.dest } }) end
  else
    local ok, e = pcall(roll_back, j, p, done, begun)
    if ok then result = e else rerr, rcode = type(e) == "table" and e.message or tostring(e), type(e) == "table" and e.code or "EIO" end
  end
  j:close()
  if not result then return nil, rerr, rcode end
  p.id = r.id
  return p
end

-- Reverses a finished migration: the data moves back to SRC and the link goes.
function M.undo(which)
  local r, err, code = open_run(which, function(run)
    if run.kind ~= "migrate" then return false end
    local _, _, ended = M.state(run.records)
    return ended == "finished" or ended == "kept"
  end, "finished")
  if not r then return nil, err, code end
  local p, _, ended = M.state(r.records)
  if ended ~= "finished" and ended ~= "kept" then
    return nil, r.id .. ": is " .. (ended or "unfinished") .. "; only a finished migration can be undone (EINVAL)", "EINVAL"
  end
  local j = assert(journal.reopen(r.id))
  j:record({ event = "undo" })
  local ok, uerr, ucode = move_back(j, p)
  j:close()
  if not ok then return nil, uerr, ucode end
  p.id = r.id
  return p
end

-- Deletes the original a --keep-backup run kept.
function M.finish(which)
  local r, err, code = open_run(which, function(run)
    local _, _, ended = M.state(run.records)
    return run.kind == "migrate" and ended == "kept"
  end, "kept-backup")
  if not r then return nil, err, code end
  local p, _, ended = M.state(r.records)
  if ended ~= "kept" then return nil, r.id .. ": has no kept backup (EINVAL)", "EINVAL" end
  local j = assert(journal.reopen(r.id))
  local ok, ferr, fcode = run_step(j, p, "cleanup", {})
  if ok then j:record({ event = "finished_backup" }) end
  j:close()
  if not ok then return nil, ferr, fcode end
  p.id = r.id
  return p
end

-- Every migration run with its state, oldest first.
function M.status()
  local out = {}
  for _, r in ipairs(journal.list()) do
    if r.kind == "migrate" then
      local p, done, ended, last = M.state(r.records)
      local state = ended or ("interrupted" .. (last and (" at " .. last .. (done[last] and " (done)" or "")) or ""))
      out[#out + 1] = { id = r.id, src = p.src, dest = p.dest, state = state, started = r.header.time }
    end
  end
  return out
end

return M
