-- reverse a finished run: a migration (data moves back, link removed) or a bulk plan
local tether = require "tether"
local cli = require "tether.cli"
local journal = require "tether.journal"
local migration = require "tether.migration"
local plan = require "tether.plan"

local args = cli.parse({...}, {
  name = "undo",
  usage = "tether undo [-n] [--force] [--yes] [ID|last]",
  summary = "Reverse a finished run from its journal (default: the newest one): a migration's data moves back to SRC and its link goes; a plan's changes (retarget, relativize, prune, dedupe, farm, link, unlink) are reversed.",
  description = [[
Refuses, and changes nothing, when things changed since the run: a migration's SRC must
still be the link tether made, and nothing may hold a file under DEST open for writing
(unless --force); every link or file a plan changed must still be as the plan left it,
in the same directories. It refuses an apply whose migrations' journals cannot all be
read, too: that run would be undone only in part. A migration's undo is itself a
journaled run: if it stops part-way, tether undo ID finishes it (before the data is
back in SRC, tether migrate --rollback ID keeps the migration instead). A plan's undo
that stops part-way exits 4 and goes on from there when run again. -n lists what it
would do. List runs with: tether history]],
  options = {
    { "force", "undo a migration even though a file under DEST is open for writing" },
    { "yes", "undo the newest undoable run without asking, even when newer runs exist", short = "y" },
  },
  max = 1, runs = true, -- its argument is a run id (shell completion lists them)
})

-- Whether a migration has something to undo: done and not taken back, or an undo of it
-- that stopped part-way (one that finished is not picked again).
local function migration_to_undo(m)
  local st = migration.state(m.records)
  return st.ended == "finished" or st.ended == "kept" or (st.mode == "undo" and st.ended ~= "undone")
end

-- tether apply runs its migrations first, each a run of its own, and names them in its
-- plan's journal: undoing the apply reverses them after the plan, newest first. Returns
-- the ids of those still to undo, and the named journals that cannot be read ({id=,
-- message=}): then what is left of the apply is not known, and undoing only the rest
-- would leave a folder migrated without a word. Once they are all undone the apply's
-- journal says so, and none is read again.
local function pending_migrations(r)
  local out, unreadable = {}, {}
  for _, rec in ipairs(r.records or {}) do
    if rec.event == "migrations_undone" then return out, unreadable end
  end
  for _, id in ipairs(journal.named(r)) do
    local m, err, code = journal.find(id)
    if m and m.kind ~= "migrate" then m, err, code = nil, id .. ": is a " .. m.kind .. " run, not a migration (EINVAL)", "EINVAL" end
    if not m then
      unreadable[#unreadable + 1] = { id = id, message = err, code = code }
    elseif migration_to_undo(m) then
      out[#out + 1] = id
    end
  end
  return out, unreadable
end

local which = args[1]
-- Without an ID every journal is read once: to choose the run, and to know the newest.
local runs_all, broken_all
if not which or which == "last" then runs_all, broken_all = journal.list() end
local run, ferr, fcode = journal.find(which, function(r)
  if r.kind == "migrate" then return migration_to_undo(r) end
  -- A run that changed nothing (every action skipped) has nothing to take back; one
  -- whose migrations cannot be read may have (and is refused below, not skipped).
  local pending, unreadable = pending_migrations(r)
  return (not plan.undone(r) and plan.summary(r).done > 0) or #pending > 0 or #unreadable > 0
end, runs_all, broken_all)
if not run then
  cli.exit(cli.FAILED, ferr or ("nothing to undo: no finished run in " .. journal.dir() .. " (ENOENT)"))
end
local row = journal.summary(run)
local what = row.recipe == "migrate" and (row.src .. " -> " .. row.dest) or table.concat(row.roots, " ")

-- Without an ID, say which run this is; one older than the newest run recorded (the
-- newer ones are undone already, or changed nothing) needs --yes, or a yes on a terminal.
if not which or which == "last" then
  local newest = runs_all[#runs_all]
  cli.say("undoing %s (%s, %s): %s", run.id, row.recipe, os.date("%Y-%m-%d %H:%M", row.time or 0), cli.quote(what))
  if newest and newest.id ~= run.id and not args.yes and not tether.dryrun() then
    local ask = tether.isatty and tether.isatty(0) and tether.isatty(2)
    local msg = string.format("%s is not the newest run (%s is, and there is nothing of it to undo)", run.id, newest.id)
    if not ask then cli.exit(cli.FAILED, msg .. "; name it (tether undo " .. run.id .. ") or pass --yes; nothing changed") end
    io.stderr:write("tether: ", msg, "; undo ", run.id, "? [y/N] ")
    io.stderr:flush()
    local answer = io.stdin:read("l") or ""
    if not answer:match("^[yY]") then cli.exit(cli.FAILED, "not confirmed; nothing changed") end
  end
end

local function report(t)
  t.id, t.undone = run.id, t.undone or row
  cli.json(t)
  return cli.OK
end

if run.kind == "migrate" then
  local p, err, code, outcome, sig, problems = migration.continue("undo", run.id, { force = args.force })
  if not p then
    for _, pr in ipairs(problems or {}) do cli.warn(cli.quote(pr)) end
    cli.exit(cli.outcome_code(outcome, sig), err)
  end
  if p.dry then
    if tether.options.json then return report({ changed = false, dry = true, steps = p.steps }) end
    cli.say("would undo %s (%s -> %s):", p.id, cli.quote(p.src), cli.quote(p.dest))
    for i, s in ipairs(p.steps) do cli.say("  %d. %s", i, cli.quote(s)) end
    return cli.OK
  end
  for _, w in ipairs(p.warnings or {}) do cli.warn(cli.quote(w)) end
  if tether.options.json then return report({ changed = true, dry = false, steps = p.steps or {} }) end
  cli.say("undid %s: the data is back in %s and the link is gone", p.id, cli.quote(p.src))
else
  local migrations, unreadable = pending_migrations(run)
  if #unreadable > 0 then
    local u = unreadable[1]
    cli.exit(cli.FAILED, string.format("%s: the journal of the migration %s that this run made cannot be read: %s; " ..
      "undoing only the rest would leave that folder migrated, so nothing was undone (put that journal back, " ..
      "or give up this undo by moving %s out of %s)", run.id, u.id, u.message, journal.file_of(run.id), journal.dir()),
      { errno = u.code, path = journal.file_of(u.id), message = u.message })
  end
  local n, err, code, how = 0, {}, nil, nil
  if not plan.undone(run) or #migrations == 0 then n, err, code, how = plan.undo(run) end
  if not n then
    cli.exit(how == "partial" and cli.PARTIAL or cli.FAILED, err, { errno = code, message = err })
  end
  local taken = {}
  if tether.dryrun() then
    local todo = err
    for k = #todo, 1, -1 do taken[#taken + 1] = cli.action_json(todo[k].a, "planned") end
    if tether.options.json then return report({ changed = false, dry = true, actions = taken, migrations = migrations }) end
    cli.say("would undo %s (%s): %s", run.id, run.header.plan_kind, cli.count(n, "change"))
    for k = #todo, 1, -1 do cli.say("  take back: %s", cli.quote(plan.describe_action(todo[k].a))) end
    for k = #migrations, 1, -1 do cli.say("  then undo the migration %s", migrations[k]) end
    return cli.OK
  end
  for k = #migrations, 1, -1 do
    local p, merr, _, outcome, sig, problems = migration.continue("undo", migrations[k], { force = args.force })
    if not p then
      for _, pr in ipairs(problems or {}) do cli.warn(cli.quote(pr)) end
      cli.exit((n > 0 or k < #migrations) and cli.PARTIAL or cli.outcome_code(outcome, sig),
        string.format("%s: the migration %s: %s; tether undo %s goes on from there", run.id, migrations[k], merr, run.id))
    end
    if not tether.options.json then cli.say("undid the migration %s: the data is back in %s", migrations[k], cli.quote(p.src)) end
  end
  if #journal.named(run) > 0 then -- its migrations are all undone: said once, never read again
    local j, jerr = journal.reopen(run.id)
    local ok, werr = j and pcall(j.record, j, { event = "migrations_undone" })
    if j then j:close() end
    if not ok then cli.warn(string.format("%s: undone, but its journal could not say so: %s", run.id, jerr or werr.message)) end
  end
  for k = #err, 1, -1 do taken[#taken + 1] = cli.action_json(err[k].a, "done") end
  local after = journal.find(run.id)
  if after then row = journal.summary(after) end
  if tether.options.json then return report({ changed = n > 0 or #migrations > 0, dry = false, actions = taken, migrations = migrations }) end
  cli.say("undid %s (%s): %s reversed%s", run.id, run.header.plan_kind, cli.count(n, "change"),
    #migrations > 0 and ", and " .. cli.count(#migrations, "migration") or "")
end
return cli.OK
