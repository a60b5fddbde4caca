-- create a symbolic link, hard link or junction (like ln -s, mklink, New-Item)
local tether = require "tether"
local cli = require "tether.cli"
local plan = require "tether.plan"

local args = cli.parse({...}, {
  name = "link",
  usage = "tether link [--hard|--junction|--dir] [--relative] [--replace] TARGET PATH",
  summary = "Create a link at PATH that points to TARGET (a symbolic link unless asked otherwise).",
  description = [[
TARGET is stored as written (relative targets are relative to PATH's directory, as with
ln -s), unless --relative is given: then TARGET is taken from the current directory and
the stored target is computed from PATH's real parent directory. The link is read back
after it is made; a link that does not name TARGET is an error. Symbolic links are
made through a journal: tether undo removes (or, after --replace, restores) them.]],
  options = {
    { "hard", "make a hard link (files only, same filesystem)" },
    { "junction", "make an NTFS junction (Windows; absolute directory targets)" },
    { "dir", "the target is a directory (Windows needs to know; harmless elsewhere)" },
    { "relative", "store the target relative to the link's real parent directory", short = "r" },
    { "replace", "replace an existing link atomically (never a real file or directory)", short = "f" },
  },
  min = 2, max = 2,
})

local target, path = args[1], args[2]
local kind, make = "symlink", tether.symlink
if args.hard and args.junction then cli.exit(cli.USAGE, "link: --hard and --junction exclude each other") end
if args.hard then kind, make = "hardlink", tether.hardlink end
if args.junction then kind, make = "junction", tether.junction end
if (args.hard or args.junction) and args.relative then
  cli.exit(cli.USAGE, "link: --relative applies to symbolic links only")
end

local opts = { replace = args.replace }
if kind == "symlink" then opts.dir, opts.relative = args.dir, args.relative end
local dry = tether.dryrun()
local function bare(p) return (p:gsub("(.)/+$", "%1")) end

-- Already as asked (the same link there): nothing to do, exit 0, no journal. A task run
-- by Ansible or an RMM twice must not fail the second time.
local function already()
  local info = tether.info(path)
  if not info or tether.absolute(bare(target)) == tether.absolute(bare(path)) then return false end
  if kind == "hardlink" then
    local t = tether.info(target)
    return t and info.type == "file" and t.dev == info.dev and t.ino == info.ino
  end
  if info.type ~= kind then return false end
  local want = target
  if args.relative then
    want = tether.relative_target(target, path)
    if not want then return false end
  end
  return info.target == want
end

local report = { changed = false, dry = dry, done = 0, skipped = 0, failed = 0, actions = {} }
local function finish(action)
  report.actions[1] = action
  if tether.options.json then cli.json(report) return cli.OK end
  local verb = action.status == "unchanged" and "already there: " or dry and "would create " or ""
  cli.say("%s%s %s -> %s", verb, kind, cli.quote(path), cli.quote(action.target))
  return cli.OK
end

if already() then
  return finish(cli.action_json({ op = kind, path = tether.absolute(bare(path)) or path,
    target = kind == "hardlink" and target or tether.info(path).target }, "unchanged"))
end

-- Every check first (the same as the real call makes), then the change itself.
local ok, err, _, e = make(target, path, { replace = opts.replace, dir = opts.dir, relative = opts.relative, dry = true })
if not ok then cli.exit(cli.FAILED, err, e) end
local stored = target
if args.relative and kind == "symlink" then
  local rel, rerr, _, re = tether.relative_target(target, path)
  if not rel then cli.exit(cli.FAILED, rerr, re) end
  stored = rel
end
if dry then
  return finish(cli.action_json({ op = kind, path = tether.absolute(bare(path)) or path, target = stored }, "planned"))
end
if kind == "symlink" then
  local p = plan.new("link", { roots = { require("tether.path").dirname(bare(path)) } })
  local old = tether.info(path)
  if old then
    p:add("replace", { path = path, target = stored, old = old.target, dir = opts.dir })
  else
    p:add("symlink", { path = path, target = stored, dir = opts.dir })
  end
  local result, perr, _, _, pe = p:apply()
  if not result then cli.exit(cli.FAILED, perr, pe) end
  local failure = result.failed_actions[1] or result.skipped_actions[1]
  if failure then cli.exit(cli.FAILED, failure.message) end
  report = cli.plan_report(p, result)
  report.actions[1].target = tether.readlink(path) or stored
  if tether.options.json then cli.json(report) return cli.OK end
  cli.say("%s %s -> %s", kind, cli.quote(path), cli.quote(report.actions[1].target))
  return cli.OK
end
ok, err, _, e = make(target, path, opts)
if not ok then cli.exit(cli.FAILED, err, e) end
report.changed, report.done = true, 1
return finish(cli.action_json({ op = kind, path = tether.absolute(bare(path)) or path,
  target = kind == "junction" and tether.readlink(path) or target }, "done"))
