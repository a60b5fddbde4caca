-- reverse the newest run not undone (or a named one): history is an undo stack
local tether = require "tether"
local cli = require "tether.cli"
local journal = require "tether.journal"
local run = require "tether.run"

local args = cli.parse({...}, {
  name = "undo",
  usage = "tether undo [-n] [--force] [--yes] [ID|last]",
  summary = "Reverse the newest run that is not undone yet (history is an undo stack: run again, it takes the next older one), or the run ID: a migration's data moves back to SRC and its link goes; a plan's changes (link, unlink, retarget, relativize, prune, dedupe, farm, apply, a script's plan) are reversed.",
  description = [[
Without an ID, the top of the stack: an undo that stopped part-way is finished first;
else the newest run with something left to undo (runs undone already, and runs that
changed nothing, are not on the stack). An apply is undone with the migrations it ran.

Refuses, and changes nothing, when things changed since the run: a migration's SRC must
still be the link tether made, and nothing may hold a file under DEST open for writing
(unless --force); every link or file a plan changed must still be as the plan left it,
in the same directories. A tree a newer migration copied to another filesystem and back
is new on disk: its links and files are then checked by what a verified copy keeps. It
refuses an apply whose migrations' journals cannot all be read, too: that run would be
undone only in part.

With an ID of a run older than others that are not undone and that changed the same
paths, --yes is asked for (or a yes at a terminal): undoing it first reverses part of a
history out of order. A migration's undo is itself journaled: if it stops part-way,
tether undo finishes it (before the data is back in SRC, tether migrate --rollback ID
keeps the migration instead). A plan's undo that stops part-way exits 4 and goes on from
there when run again. -n lists what it would do. List runs with: tether history]],
  options = {
    { "force", "undo a migration even though a file under DEST is open for writing or, across filesystems, has hard links outside DEST (they would be split)" },
    { "yes", "undo the run named even when newer runs on the same paths are not undone", short = "y" },
  },
  max = 1, runs = true, -- its argument is a run id (shell completion lists them)
})

local which = args[1]
-- Not the shape of a run id at all: a mistake on the command line (exit 2), and where the
-- ids are.
if which and which ~= "last" and not journal.valid_id(which) then
  cli.exit("usage", select(2, tether.fail("EINVAL", which, "not a run id", "list the runs with: tether history")))
end
local runs, broken = run.history()
local r, newer, code = run.pick(which, runs, broken)
if not r then cli.exit("refused", newer, code) end
local row = journal.summary(r)
local roots = {}
for i, root in ipairs(row.roots or {}) do roots[i] = cli.quote(root) end
local what = row.recipe == "migrate" and (cli.quote(row.src) .. " -> " .. cli.quote(row.dest)) or table.concat(roots, " ")
if r.state == "undone" then cli.exit("refused", select(2, tether.fail("EINVAL", r.id, "already undone"))) end
if r.state == "nothing" then cli.exit("refused", select(2, tether.fail("EINVAL", r.id, "changed nothing: there is nothing to undo"))) end
-- Named before anything is done (a dry run names it with what it would do).
local named = string.format("%s (%s, %s): %s", r.id, row.recipe, os.date("%Y-%m-%d %H:%M", row.time or 0), what)
local announce = run.would("undoing %s", nil)
if announce then cli.say(announce, named) end

-- A run named out of order, with newer runs on the same paths not undone, is asked about.
if #newer > 0 and not args.yes then
  local ids = {}
  for i, x in ipairs(newer) do ids[i] = x.id end
  local msg = string.format("%s is older than %s, not undone, on the same paths", r.id,
    cli.count(#newer, "run") .. " (" .. table.concat(ids, ", ") .. ")")
  local ask = tether.isatty(0) and tether.isatty(2)
  if not ask then cli.exit("refused", msg .. "; pass --yes to undo it all the same; nothing changed") end
  io.stderr:write("tether: ", msg, "; undo ", r.id, " all the same? [y/N] ")
  io.stderr:flush()
  local answer = io.stdin:read("l") or ""
  if not answer:match("^[yY]") then cli.exit("refused", "not confirmed; nothing changed") end
end

local result, err, ecode, outcome, sig, problems, e = run.undo(r, { force = args.force }, runs)
if not result then
  for _, pr in ipairs(problems or {}) do cli.warn(pr) end
  -- The top of the stack refused: say how to go past it, so the stack never sticks.
  if not which and (outcome or "refused") == "refused" then
    err = err .. "; once that is put right tether undo takes it, or tether undo ID takes an older run now (tether history lists them)"
  end
  cli.exit(outcome or "refused", err, e or ecode, sig)
end
for _, w in ipairs(result.warnings or {}) do cli.warn(w) end
if result.warning then cli.warn(result.warning) end

-- The report: what was (or would be) taken back.
local report = { changed = result.changed, dry = result.dry or false, id = r.id, undone = row }
if result.steps then report.steps = result.steps end
if result.actions then
  report.actions = {}
  for k = #result.actions, 1, -1 do
    report.actions[#report.actions + 1] = cli.action_json(result.actions[k].a, result.dry and "planned" or "done")
  end
  report.migrations = result.migrations
end
if tether.options.json then
  local after = journal.find(r.id)
  if after then report.undone = journal.summary(after) end
  cli.json(report)
  return run.code("changed")
end
if result.dry then
  if result.steps then
    cli.say("would undo %s:", named)
    for i, s in ipairs(result.steps) do cli.say("  %d. %s", i, s) end
  else
    cli.say("would undo %s: %s", named, cli.count(result.count, "change"))
    for k = #result.actions, 1, -1 do cli.say("  take back: %s", require("tether.plan").describe_action(result.actions[k].a, true)) end
    for k = #result.migrations, 1, -1 do cli.say("  then undo the migration %s", result.migrations[k]) end
  end
elseif result.steps then
  local after = journal.find(r.id)
  if after and journal.summary(after).state == "rolled back" then -- it had stopped before its link
    cli.say("rolled back %s: the data is in %s as it was", r.id, cli.quote(result.plan.src))
  else
    cli.say("undid %s: the data is back in %s and the link is gone", r.id, cli.quote(result.plan.src))
  end
else
  for _, id in ipairs(result.migrations or {}) do cli.say("undid the migration %s", id) end
  cli.say("undid %s (%s): %s reversed%s", r.id, r.header.plan_kind, cli.count(result.count, "change"),
    #result.migrations > 0 and ", and " .. cli.count(#result.migrations, "migration") or "")
end
return run.code("changed")
