-- reverse a finished run: a migration (data moves back, link removed) or a bulk plan
local tether = require "tether"
local cli = require "tether.cli"
local journal = require "tether.journal"
local migration = require "tether.migration"
local plan = require "tether.plan"

local args = cli.parse({...}, {
  name = "undo",
  usage = "tether undo [-n] [--force] [ID|last]",
  summary = "Reverse a finished run from its journal (default: the newest one): a migration's data moves back to SRC and its link goes; a plan's changes (retarget, relativize, prune, dedupe, farm, link, unlink) are reversed.",
  description = [[
Refuses, and changes nothing, when things changed since the run: a migration's SRC must
still be the link tether made, and nothing may hold a file under DEST open for writing
(unless --force); every link or file a plan changed must still be as the plan left it,
in the same directories. A migration's undo is itself a journaled run: if it stops
part-way, tether undo ID finishes it (before the data is back in SRC, tether migrate
--rollback ID keeps the migration instead). A plan's undo that stops part-way exits 4
and goes on from there when run again. -n lists what it would do. List runs with:
tether history]],
  options = {
    { "force", "undo a migration even though a file under DEST is open for writing" },
  },
  max = 1,
})

local which = args[1]
local run, ferr, fcode = journal.find(which, function(r)
  if r.kind == "migrate" then
    local st = migration.state(r.records)
    return st.ended == "finished" or st.ended == "kept" or st.mode == "undo"
  end
  return not plan.undone(r)
end)
if not run then
  cli.exit(cli.FAILED, ferr or ("nothing to undo: no finished run in " .. journal.dir() .. " (ENOENT)"))
end

if run.kind == "migrate" then
  local p, err, code, outcome, sig, problems = migration.continue("undo", run.id, { force = args.force })
  if not p then
    for _, pr in ipairs(problems or {}) do cli.warn(cli.quote(pr)) end
    cli.exit(cli.outcome_code(outcome, sig), err)
  end
  if p.dry then
    if tether.options.json then cli.json({ id = p.id, kind = "migrate", dry = true, steps = p.steps }) return cli.OK end
    cli.say("would undo %s (%s -> %s):", p.id, cli.quote(p.src), cli.quote(p.dest))
    for i, s in ipairs(p.steps) do cli.say("  %d. %s", i, cli.quote(s)) end
    return cli.OK
  end
  for _, w in ipairs(p.warnings or {}) do cli.warn(cli.quote(w)) end
  if p.tidied then
    cli.say("removed the lock files %s had left beside %s and %s", p.id, cli.quote(p.src), cli.quote(p.dest))
    return cli.OK
  end
  if tether.options.json then cli.json({ id = p.id, kind = "migrate", src = p.src, dest = p.dest }) return cli.OK end
  cli.say("undid %s: the data is back in %s and the link is gone", p.id, cli.quote(p.src))
else
  local n, err, _, how = plan.undo(run)
  if not n then cli.exit(how == "partial" and cli.PARTIAL or cli.FAILED, err) end
  if tether.dryrun() then
    local todo = err
    if tether.options.json then cli.json({ id = run.id, kind = run.header.plan_kind, dry = true, undo = n }) return cli.OK end
    cli.say("would undo %s (%s): %d change(s)", run.id, run.header.plan_kind, n)
    for k = #todo, 1, -1 do cli.say("  take back: %s", cli.quote(plan.describe_action(todo[k].a))) end
    return cli.OK
  end
  if tether.options.json then cli.json({ id = run.id, kind = run.header.plan_kind, undone = n }) return cli.OK end
  cli.say("undid %s (%s): %d change(s) reversed", run.id, run.header.plan_kind, n)
end
return cli.OK
