-- remove dangling links (broken only: never denied, never loops unless asked); undoable
local tether = require "tether"
local cli = require "tether.cli"
local plan = require "tether.plan"
local progress = require "tether.progress"

local args = cli.parse({...}, {
  name = "prune",
  usage = "tether prune [--loops] [--dry-run] PATH...",
  summary = "Remove every dangling link under each PATH: links whose target does not exist (ENOENT/ENOTDIR).",
  description = [[
A link that cannot be resolved for another reason is left alone: one into a directory
that cannot be searched (denied) may be fine for its owner, and a loop is removed only
with --loops. Each link is checked again right before it is removed. The run is
journaled: tether undo puts the links back.]],
  options = { { "loops", "also remove links that go round in a loop" } },
  min = 1, paths = true,
})

local held <close>, roots = cli.roots(args) -- each there, each walked once, held till the end
local show, line = progress.walk("pruning")
local p = plan.new("prune", { roots = roots.paths })
for e in cli.walk(roots, { links_only = true, classify = true, stat = true, roots = roots.paths, progress = show }) do
  if e.error and not e.status then cli.walk_problem(e)
  elseif e.status == "broken" or (args.loops and e.status == "loop") then
    p:add("unlink", { path = e.path, target = e.target, expect = { dev = e.dev, ino = e.ino, ctime = e.ctime, ctime_ns = e.ctime_ns } })
  end
end
line:done()
cli.apply_plan(p, "dangling links")
return cli.done()
