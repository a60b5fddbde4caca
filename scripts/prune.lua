-- remove dangling links (broken only: never denied, never loops unless asked); undoable
local cli = require "tether.cli"
local plan = require "tether.plan"
local progress = require "tether.progress"

local args = cli.parse({...}, {
  name = "prune",
  usage = "tether prune [--loops] [--xdev] [--dry-run] PATH...",
  summary = "Remove every dangling link under each PATH: links whose target does not exist (ENOENT/ENOTDIR).",
  description = [[
A link that cannot be resolved for another reason is left alone: one into a directory
that cannot be searched (denied) may be fine for its owner, and a loop is removed only
with --loops. Each link is checked again right before it is removed. The run is
journaled: tether undo puts the links back.]],
  options = { { "loops", "also remove links that go round in a loop" },
              { "xdev", "stay on the filesystem of each PATH (as find -xdev): what is mounted below it is not looked at" } },
  min = 1, paths = true,
})

local held <close>, roots = cli.roots(args) -- each there, each walked once, held till the end
local show, line = progress.walk("pruning")
local p = plan.new("prune", { roots = roots.paths })
-- What is not dangling but does not resolve either is left, and said: loops (unless
-- --loops), links into directories that cannot be searched, other errors.
local left, counts = {}, { loop = 0, denied = 0, error = 0 }
local WHY = { loop = "a loop (--loops removes it)", denied = "a directory on the way cannot be searched",
              error = "it cannot be resolved (see tether inspect)" }
for e in cli.walk(roots, { xdev = args.xdev, links_only = true, classify = true, stat = true, roots = roots.paths, progress = show }) do
  if e.error and not e.status then cli.walk_problem(e)
  elseif e.status == "broken" or (args.loops and e.status == "loop") then
    p:add("unlink", { path = e.path, target = e.target, expect = { dev = e.dev, ino = e.ino, ctime = e.ctime, ctime_ns = e.ctime_ns } })
  elseif e.status and e.status ~= "ok" then
    counts[e.status] = counts[e.status] + 1
    left[#left + 1] = { path = e.path, target = e.target, status = e.status, errno = e.status_error, why = WHY[e.status] }
  end
end
line:done()
cli.apply_plan(p, "dangling link", { left_alone = left })
local why = {}
if counts.loop > 0 then why[#why + 1] = cli.count(counts.loop, "link") .. " that go round in a loop (--loops removes them too)" end
if counts.denied > 0 then why[#why + 1] = cli.count(counts.denied, "link") .. " into directories that cannot be searched (they may work for their owner)" end
if counts.error > 0 then why[#why + 1] = cli.count(counts.error, "link") .. " that could not be resolved for another reason (tether audit --broken lists them)" end
if #why > 0 then cli.say("left alone: %s", table.concat(why, "; ")) end
return cli.done()
