-- a GNU Stow-compatible symlink farm: link, unlink or relink packages into a target
local tether = require "tether"
local cli = require "tether.cli"
local farm = require "tether.farm"

local args = cli.parse({...}, {
  name = "farm",
  usage = "tether farm link|unlink|relink PKG... --dir STOWDIR --target DIR [--adopt] [--ignore PATTERN]",
  summary = "Keep a symlink farm as GNU Stow does: each package (a directory in STOWDIR) is linked into DIR with relative links, making the same tree stow 2.3 makes.",
  description = [[
A directory only one package uses becomes a single link (folding); when a second package
needs it, it is turned back into a real directory holding links (unfolding), and folded
again on unlink when one package is left. Nothing that farm does not own is ever
overwritten: every conflict is listed first and nothing is changed. --adopt moves a file
already in DIR into the package and links it; as with stow, the package's own copy of
that file is replaced (keep packages under version control). --ignore
takes a Lua pattern matched at the end of a path inside the package. The run is
journaled: tether undo reverses it.]],
  options = {
    { "dir", "the stow directory holding the packages (default: the current directory)", value = "STOWDIR" },
    { "target", "where the links go (default: the parent of STOWDIR)", value = "DIR" },
    { "adopt", "move existing files in DIR into the package, then link them" },
    { "ignore", "also ignore paths ending in this Lua pattern (repeatable)", value = "PATTERN", many = true },
  },
  min = 2,
})

local action = table.remove(args, 1)
if action ~= "link" and action ~= "unlink" and action ~= "relink" then
  cli.exit(cli.USAGE, "farm: the first word must be link, unlink or relink, not '" .. action .. "'")
end
local stowdir = args.dir or "."
local target = args.target or (stowdir .. "/..")
for _, d in ipairs { stowdir, target } do
  local i, err = tether.info(d)
  if not i then cli.exit(cli.FAILED, err) end
  if i.type ~= "dir" and i.target_type ~= "dir" then cli.exit(cli.FAILED, d .. ": is not a directory (ENOTDIR)") end
end
local f = farm.new({ stow = stowdir, target = target, adopt = args.adopt, ignore = args.ignore })
for _, pkg in ipairs(args) do
  local i = tether.info(f.stow_dir .. "/" .. pkg)
  if pkg:find("/") or not i or i.type ~= "dir" then
    cli.exit(cli.FAILED, f.stow_dir .. "/" .. pkg .. ": no such package (ENOENT)")
  end
end
-- relink is unlink then link, planned as one run (as stow -R does).
if action ~= "link" then for _, pkg in ipairs(args) do f:unstow(pkg) end end
if action ~= "unlink" then for _, pkg in ipairs(args) do f:stow(pkg) end end
if #f.conflicts > 0 then
  for _, c in ipairs(f.conflicts) do cli.warn(c) end
  cli.exit(cli.FAILED, string.format("nothing changed: %d conflict(s)", #f.conflicts))
end
f.plan.header.packages, f.plan.header.action = { table.unpack(args) }, action
cli.apply_plan(f.plan, "links and directories")
return cli.OK
