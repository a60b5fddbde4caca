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
-- Every check first (the same as the real call makes), then the change itself.
local dry = tether.dryrun()
local ok, err = make(target, path, { replace = opts.replace, dir = opts.dir, relative = opts.relative, dry = true })
if not ok then cli.exit(cli.FAILED, err) end
if not dry then
  if kind == "symlink" then
    local stored = args.relative and assert(tether.relative_target(target, path)) or target
    local p = plan.new("link", { roots = { require("tether.path").dirname((path:gsub("(.)/+$", "%1"))) } })
    local old = tether.info(path)
    if old then
      p:add("replace", { path = path, target = stored, old = old.target, dir = opts.dir })
    else
      p:add("symlink", { path = path, target = stored, dir = opts.dir })
    end
    local result, perr = p:apply()
    if not result then cli.exit(cli.FAILED, perr) end
    local failure = result.failed_actions[1] or result.skipped_actions[1]
    if failure then cli.exit(cli.FAILED, failure.message) end
  else
    ok, err = make(target, path, opts)
    if not ok then cli.exit(cli.FAILED, err) end
  end
end
local stored = (not dry and kind ~= "hardlink") and tether.readlink(path) or target
if tether.options.json then
  cli.json({ action = dry and "would create" or "created", kind = kind, path = path, target = stored })
else
  cli.say("%s%s %s -> %s", dry and "would create " or "", kind, cli.quote(path), cli.quote(stored))
end
return cli.OK
