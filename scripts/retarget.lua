-- point every link under OLD at the same place under NEW (after a drive change); atomic
local cli = require "tether.cli"
local run = require "tether.run"
local path = require "tether.path"
local plan = require "tether.plan"
local progress = require "tether.progress"
local retarget = require "tether.retarget"

local args = cli.parse({...}, {
  name = "retarget",
  usage = "tether retarget PATH... --from OLD --to NEW [--relative-too] [--allow-broken] [--xdev]",
  summary = "Every link under each PATH whose target lies under OLD now points at the same place under NEW.",
  description = [[
OLD is matched as a path prefix, not a string prefix: /mnt/old2/x is not under /mnt/old.
Targets are compared in normal form (so /mnt//old/x counts). Each link is replaced
atomically (a new link under a temporary name, renamed over the old one). A link whose
new target would not exist is reported and left alone, unless --allow-broken.

A relative link that leads into OLD (../../old/x, from where it is) is left alone and
counted, unless --relative-too: then it is retargeted too and stays relative (its new
target is computed from the link's real directory, as link --relative does).]],
  options = {
    { "from", "the old location", value = "OLD" },
    { "to", "the new location", value = "NEW" },
    { "relative-too", "also retarget relative links that lead into OLD (they stay relative)" },
    { "allow-broken", "retarget even when the new target does not exist" },
    { "xdev", "stay on the filesystem of each PATH (as find -xdev): what is mounted below it is not looked at" },
  },
  min = 1, paths = true,
})
if not args.from or not args.to then cli.exit("usage", "retarget: --from and --to are both needed") end
local from, to = path.normalize(args.from), path.normalize(args.to)
if not path.is_absolute(from) or not path.is_absolute(to) then
  cli.exit("usage", "retarget: --from and --to must be absolute paths")
end

local held <close>, roots = cli.roots(args) -- each there, each walked once, held till the end
local show, line = progress.walk("retargeting")
local p = plan.new("retarget", { roots = roots.paths, from = from, to = to })
local left, relative_left = {}, 0
local how = { relative = args.relative_too, count_relative = true, allow_broken = args.allow_broken, cache = {} }
local function leave(e, why, warning)
  left[#left + 1] = { path = e.path, target = e.target, why = why }
  if warning then line:done(); cli.warn(cli.quote(e.path) .. ": " .. warning) end
end
for e in cli.walk(roots, { xdev = args.xdev, links_only = true, stat = true, progress = show }) do
  if e.error and e.type == "dir" then cli.walk_problem(e) end
  local stored, why, new
  if e.target then stored, why, new = retarget.new_target(e.path, e.target, from, to, how) end
  if stored then
    p:add("replace", { path = e.path, target = stored, old = e.target, expect = { dev = e.dev, ino = e.ino, ctime = e.ctime, ctime_ns = e.ctime_ns } })
  elseif why == "relative" then
    relative_left = relative_left + 1
    leave(e, "a relative link (--relative-too retargets it)")
  elseif why == "uncomputable" then
    leave(e, "its new relative target cannot be computed",
      "a relative target to " .. cli.quote(new) .. " cannot be computed from here; left alone")
  elseif why == "missing" then
    leave(e, "its new target does not exist (--allow-broken)",
      "new target " .. cli.quote(new) .. " does not exist; left alone (use --allow-broken)")
  end
end
line:done()
cli.apply_plan(p, "link", { left_alone = left })
if relative_left > 0 then
  cli.say("left alone: %s that %s into %s (--relative-too retargets %s, keeping %s relative)",
    cli.count(relative_left, "relative link"), relative_left == 1 and "leads" or "lead", cli.quote(from),
    relative_left == 1 and "it" or "them", relative_left == 1 and "it" or "them")
end
return (#left > relative_left) and run.code("problems") or cli.done()
