-- turn absolute links into relative ones (or back with --absolute); same resolved target
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local path = require "tether.path"
local plan = require "tether.plan"
local progress = require "tether.progress"

local args = cli.parse({...}, {
  name = "relativize",
  usage = "tether relativize [--absolute] [--xdev] PATH...",
  summary = "Rewrite every absolute link under each PATH as a relative one (or, with --absolute, every relative one as absolute): only the form changes; the links its path goes through (a current -> releases/42) are kept, so it still follows them.",
  description = [[
The relative form is computed from the link's real directory (a parent reached through
another link is resolved first), never by string games. A link whose target does not
resolve is converted only if its new form names the same path; either way, the resolved
target before and after must be the same, or the link is left alone and reported.]],
  options = { { "absolute", "the other way: relative targets become absolute" },
              { "xdev", "stay on the filesystem of each PATH (as find -xdev): what is mounted below it is not looked at" } },
  min = 1, paths = true,
})

local held <close>, roots = cli.roots(args) -- each there, each walked once, held till the end
local show, line = progress.walk("scanning")
local p = plan.new(args.absolute and "absolutize" or "relativize", { roots = roots.paths })
local left = 0
for e in cli.walk(roots, { xdev = args.xdev, links_only = true, stat = true, progress = show }) do
  if e.error and e.type == "dir" then cli.walk_problem(e) end
  local t = e.target
  if t and path.is_absolute(t) ~= (args.absolute or false) then
    local dir = tether.realpath(path.dirname(e.path))
    local abs = dir and path.normalize(path.join(dir, t))
    local new = args.absolute and abs or tether.relative_target(t, e.path)
    -- Same place before and after: what the link resolves to now, and what the new
    -- target resolves to from the link's directory.
    local before = tether.realpath(e.path)
    local after = new and dir and tether.realpath(path.join(dir, new))
    if new and new ~= t and (before == after or (not before and not after and abs == path.normalize(path.join(dir, new)))) then
      p:add("replace", { path = e.path, target = new, old = t, expect = { dev = e.dev, ino = e.ino, ctime = e.ctime, ctime_ns = e.ctime_ns } })
    elseif new ~= t then
      left = left + 1
      line:done()
      cli.warn(cli.quote(e.path) .. ": the new form would not lead to the same place; left alone")
    end
  end
end
line:done()
cli.apply_plan(p, "link")
return (left > 0) and run.code("problems") or cli.done()
