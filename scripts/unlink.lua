-- remove links (symbolic links, junctions), never what they point to
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local plan = require "tether.plan"

local args = cli.parse({...}, {
  name = "unlink",
  usage = "tether unlink [--hard] [--missing-ok] PATH...",
  summary = "Remove each link PATH; the files and directories links point to are never touched.",
  description = [[
Every PATH is checked first; if any is not a link (a real file or directory, or missing),
all problems are reported and nothing is removed. With --missing-ok a PATH that is not
there is already as asked: it is reported unchanged, and a run where every PATH is gone
already changes nothing, exits 0 and writes no journal. A trailing '/' still names the
link; a link named twice (d/l, ./d/l, through a linked parent) is removed once. Removing
links is journaled: tether undo puts them back (not for --hard).]],
  options = {
    { "hard", "also remove one name of a file that has other hard links" },
    { "missing-ok", "a PATH that does not exist is fine (nothing to remove)" },
  },
  min = 1, paths = true,
})

local function bare(p) return (p:gsub("(.)/+$", "%1")) end

-- A link named twice ("d/l", "./d/l", "d/l/", through a linked parent) is removed once.
local paths = cli.fold_roots(args, { objects = true, once = "removed once" }).paths
local opts = { hard = args.hard }
local problems, gone, first = {}, {}, nil
for _, path in ipairs(paths) do
  local ok, err, code, e = tether.unlink(path, { hard = args.hard, dry = true })
  if not ok and code == "ENOENT" and args.missing_ok and not tether.info(path) then
    gone[path] = true
  elseif not ok then
    cli.warn(err); problems[#problems + 1] = cli.quote(path)
    first = first or e
  end
end
if #problems > 0 then
  cli.exit("refused", string.format("nothing removed: %d of %s cannot be unlinked: %s", #problems, cli.count(#paths, "path"),
    table.concat(problems, ", ", 1, math.min(5, #problems)) .. (#problems > 5 and ", ..." or "")), first)
end

-- Links are removed through a journaled plan (tether undo puts them back); one name of
-- a multiply-linked file (--hard) has no link target to record, so it is removed directly.
-- The run's roots are the directories that hold the links: each is reached as typed, and
-- the link is then removed through that directory's handle.
local parents = {}
for _, p in ipairs(paths) do
  if not gone[p] then parents[#parents + 1] = require("tether.path").dirname(bare(p)) end
end
local p = plan.new("unlink", { roots = parents })
local actions, removed_hard = {}, 0
for _, path in ipairs(paths) do
  local info = not gone[path] and tether.info(path)
  if not info then
    actions[#actions + 1] = { op = "unlink", path = tether.absolute(path) or path, status = "unchanged" }
  elseif info.target then
    actions[#actions + 1] = p:add("unlink", { path = bare(path), target = info.target })
  else
    local ok, err, _, e = tether.unlink(path, opts) -- (in a dry run, checked only)
    if not ok then
      cli.exit(run.outcome(removed_hard > 0, 1),
        string.format("%s; stopped after removing %d of %s", err, removed_hard, cli.count(#paths, "link")), e)
    end
    removed_hard = removed_hard + 1
    actions[#actions + 1] = { op = "unlink", path = tether.absolute(path) or path, status = run.would("done", "planned") }
  end
end
local result, perr, _, partial = p:apply()
if not result then
  -- The directories could not be held as they were (changed meanwhile), or the journal
  -- could not be written.
  if partial and partial.done > 0 then
    cli.exit("partial", string.format("%s; stopped after %s (journal %s)", perr, cli.count(partial.done, "change"), partial.id))
  end
  cli.exit(run.outcome(removed_hard > 0, 1), perr .. (removed_hard > 0 and "" or "; nothing changed"))
end
local report = cli.plan_report(p, result)
-- The report lists every PATH in the order given (each link once): the plan's own
-- actions with their outcome, the others as they went.
local from_plan = {}
for i, a in ipairs(p.actions) do from_plan[a] = report.actions[i] end
local shown = {}
for i, a in ipairs(actions) do shown[i], actions[i] = a.shown or paths[i], from_plan[a] or cli.action_json(a, a.status) end
report.actions = actions
report.changed = run.changed(result.done + removed_hard)
report.done = result.done + (result.dry and 0 or removed_hard)
if result.failed + result.skipped > 0 then
  if tether.options.json then cli.json(report) end
  cli.exit(run.outcome(report.changed, result.failed + result.skipped), string.format("%d of %s could not be removed%s",
    result.failed + result.skipped, cli.count(#paths, "link"), report.changed and "; see tether history" or "; nothing changed"))
end
if tether.options.json then cli.json(report) return end
for i, a in ipairs(actions) do
  if a.status == "unchanged" then cli.say("not there already: %s", cli.quote(shown[i]))
  else cli.say("%s%s", run.would("removed ", "would remove "), cli.quote(shown[i])) end
end
return
