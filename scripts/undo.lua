-- reverse a finished run: a migration (data moves back, link removed) or a bulk plan
local tether = require "tether"
local cli = require "tether.cli"
local journal = require "tether.journal"
local migration = require "tether.migration"
local plan = require "tether.plan"

local args = cli.parse({...}, {
  name = "undo",
  usage = "tether undo [ID|last]",
  summary = "Reverse a finished run from its journal (default: the newest one): a migration's data moves back to SRC and its link goes; a plan's changes (retarget, relativize, prune, dedupe, farm) are reversed.",
  description = [[
Refuses, and changes nothing, when things changed since the run: a migration's SRC must
still be the link tether made; every link or file a plan changed must still be as the
plan left it. The undo is journaled too. List runs with: tether history]],
  max = 1,
})

local which = args[1]
local run = journal.find(which, function(r)
  for _, rec in ipairs(r.records) do
    if rec.event == "undone" or rec.event == "rolled_back" then return false end
  end
  return true
end)
if not run then
  cli.exit(cli.FAILED, (which and which ~= "last") and ("no run with id " .. which .. " (ENOENT)")
    or "nothing to undo: no finished run in " .. journal.dir() .. " (ENOENT)")
end

if run.kind == "migrate" then
  local p, err = migration.undo(run.id)
  if not p then cli.exit(cli.FAILED, err) end
  if tether.options.json then cli.json({ id = p.id, kind = "migrate", src = p.src, dest = p.dest }) return cli.OK end
  cli.say("undid %s: the data is back in %s and the link is gone", p.id, cli.quote(p.src))
else
  local n, err = plan.undo(run)
  if not n then cli.exit(cli.FAILED, err) end
  if tether.options.json then cli.json({ id = run.id, kind = run.header.plan_kind, undone = n }) return cli.OK end
  cli.say("undid %s (%s): %d change(s) reversed", run.id, run.header.plan_kind, n)
end
return cli.OK
