-- point every link under OLD at the same place under NEW (after a drive change); atomic
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local path = require "tether.path"
local plan = require "tether.plan"
local progress = require "tether.progress"

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

-- The part of target below `from`, or nil when it is not below it.
local function below(target)
  return path.is_absolute(target) and path.below(path.normalize(target), from) or nil
end

local held <close>, roots = cli.roots(args) -- each there, each walked once, held till the end
local show, line = progress.walk("retargeting")
local p = plan.new("retarget", { roots = roots.paths, from = from, to = to })
local left, relative_left = {}, 0
local there = {} -- new target -> whether it exists (many links share one)
local function exists(t)
  if there[t] == nil then there[t] = tether.exists(t, { follow = true }) end
  return there[t]
end
local real_dirs = {} -- a link's directory -> its real path (links share directories)
local function led_to(e) -- where a relative link leads by name, from its real directory
  local d = path.dirname(e.path)
  if real_dirs[d] == nil then real_dirs[d] = tether.realpath(d) or false end
  return real_dirs[d] and path.normalize(path.join(real_dirs[d], e.target))
end
for e in cli.walk(roots, { xdev = args.xdev, links_only = true, stat = true, progress = show }) do
  if e.error and e.type == "dir" then cli.walk_problem(e) end
  local relative = e.target and not path.is_absolute(e.target)
  local rest = e.target and below(relative and (led_to(e) or "") or e.target)
  if rest and relative and not args.relative_too then
    relative_left = relative_left + 1
    left[#left + 1] = { path = e.path, target = e.target, why = "a relative link (--relative-too retargets it)" }
  elseif rest then
    local new = rest == "" and to or path.join(to, rest)
    local stored = new
    if relative then stored = tether.relative_target(new, e.path) end
    if not stored then
      left[#left + 1] = { path = e.path, target = e.target, why = "its new relative target cannot be computed" }
      line:done()
      cli.warn(cli.quote(e.path) .. ": a relative target to " .. cli.quote(new) .. " cannot be computed from here; left alone")
    elseif args.allow_broken or exists(new) then
      p:add("replace", { path = e.path, target = stored, old = e.target, expect = { dev = e.dev, ino = e.ino, ctime = e.ctime, ctime_ns = e.ctime_ns } })
    else
      left[#left + 1] = { path = e.path, target = e.target, why = "its new target does not exist (--allow-broken)" }
      line:done()
      cli.warn(cli.quote(e.path) .. ": new target " .. cli.quote(new) .. " does not exist; left alone (use --allow-broken)")
    end
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
