-- a GNU Stow-compatible symlink farm: link, unlink or relink packages into a target
local tether = require "tether"
local cli = require "tether.cli"
local farm = require "tether.farm"

local spec = {
  name = "farm",
  usage = "tether farm [link|unlink|relink] [-S|-D|-R] PKG... [-d STOWDIR] [-t DIR] [--no-folding] [--dotfiles] [--adopt]",
  summary = "Keep a symlink farm as GNU Stow does: each package (a directory in STOWDIR) is linked into DIR with relative links, making the same tree stow 2.3 makes. Stow's command lines work as they are.",
  description = [[
A directory only one package uses becomes a single link (folding); when a second package
needs it, it is turned back into a real directory holding links (unfolding), and folded
again on unlink when one package is left. Nothing that farm does not own is ever
overwritten: every conflict is listed first, in stow's words, and nothing is changed.
--adopt moves a file already in DIR into the package and links it; as with stow, the
package's own copy of that file is replaced (keep packages under version control).

As stow: -S, -D and -R say what to do with the packages after them (the default is -S);
the first word link, unlink or relink does the same for all of them. Options are read
first from ~/.stowrc and ./.stowrc (the packages named there are ignored; ~ and $VAR are
expanded in --dir and --target), then from the command line. STOWDIR defaults to
$STOW_DIR or the current directory. A package's .stow-local-ignore (else
~/.stow-global-ignore, else stow's built-in list) holds Perl regular expressions: one
without '/' matches a whole name, one with '/' a path from the package's top. --ignore
matches the end of a path in the package, --defer and --override the start of a path in
DIR. The run is journaled: tether undo reverses it.

Exit codes: as stow, 1 when there are conflicts in the stow form (-S/-D/-R or none);
3 in the link/unlink/relink form, as every tether recipe that changed nothing.]],
  options = {
    { "dir", "the stow directory holding the packages (default: $STOW_DIR or .)", value = "STOWDIR", short = "d" },
    { "target", "where the links go (default: the parent of STOWDIR)", value = "DIR", short = "t" },
    { "stow", "stow the packages that follow (the default)", short = "S", ordered = true },
    { "delete", "unstow the packages that follow", short = "D", ordered = true },
    { "restow", "unstow then stow again the packages that follow", short = "R", ordered = true },
    { "adopt", "move existing files in DIR into the package, then link them" },
    { "no-folding", "never make one link for a whole directory: make directories of links" },
    { "dotfiles", "a name dot-x in a package is .x in DIR" },
    { "ignore", "ignore paths in a package ending in this Perl regex (repeatable)", value = "REGEX", many = true },
    { "defer", "leave a path starting with this regex to the package that has it (repeatable)", value = "REGEX", many = true },
    { "override", "take a path starting with this regex from the package that has it (repeatable)", value = "REGEX", many = true },
  },
}

-- ~ and $VAR (${VAR}) in a .stowrc's --dir and --target, as stow expands them.
local function expand(p, where)
  local function var(name)
    local v = os.getenv(name)
    if not v then cli.exit(cli.USAGE, string.format("farm: %s references undefined environment variable $%s", where, name)) end
    return v
  end
  p = p:gsub("%${([%w_ ]+)}", var):gsub("%$([%w_]+)", var)
  if p == "~" or p:sub(1, 2) == "~/" then p = (os.getenv("HOME") or "~") .. p:sub(2) end
  return p
end

-- Options from ~/.stowrc, then ./.stowrc (their packages ignored).
local rc_args = {}
local home = os.getenv("HOME")
for _, file in ipairs({ home and (home .. "/.stowrc") or nil, ".stowrc" }) do
  local f = io.open(file, "r")
  if f then
    for word in (f:read("a") or ""):gmatch("%S+") do rc_args[#rc_args + 1] = word end
    f:close()
  end
end
local rc = #rc_args > 0 and cli.parse(rc_args, spec) or {}
local args = cli.parse({...}, spec)
for k, v in pairs(rc) do
  if type(k) == "string" then
    if k == "dir" or k == "target" then v = expand(v, ".stowrc --" .. k) end
    if type(v) == "table" and args[k] then
      local merged = { table.unpack(v) }
      for _, x in ipairs(args[k]) do merged[#merged + 1] = x end
      args[k] = merged
    elseif args[k] == nil then
      args[k] = v
    end
  end
end

-- What to do with each package, in the order given.
local words = { link = "stow", unlink = "delete", relink = "restow" }
local mode, stow_form = "stow", true
local first = args[1]
if type(first) == "string" and words[first] then
  mode, stow_form = words[first], false
  table.remove(args, 1)
end
local unstow, stow = {}, {}
for _, a in ipairs(args) do
  if type(a) == "table" then
    if not stow_form then
      cli.exit(cli.USAGE, "farm: -S, -D and -R go without the words link, unlink or relink")
    end
    mode = a.option
  else
    if mode ~= "stow" then unstow[#unstow + 1] = a end
    if mode ~= "delete" then stow[#stow + 1] = a end
  end
end
if #unstow + #stow == 0 then cli.exit(cli.USAGE, "farm: no packages to stow or unstow; see tether help farm") end

local stowdir = args.dir or os.getenv("STOW_DIR") or "."
if stowdir == "" then stowdir = "." end
local target = args.target or (stowdir .. "/..")
for _, d in ipairs { stowdir, target } do
  local i, err, _, e = tether.info(d)
  if not i then cli.exit(cli.FAILED, err, e) end
  if i.type ~= "dir" and i.target_type ~= "dir" then
    cli.exit(cli.FAILED, select(2, tether.fail("ENOTDIR", d, "is not a directory")))
  end
end
cli.check_roots({ stowdir, target })
local f, ferr, _, fe = farm.new({ stow = stowdir, target = target, adopt = args.adopt, ignore = args.ignore,
                                  defer = args.defer, override = args.override,
                                  no_folding = args.no_folding, dotfiles = args.dotfiles })
if not f then cli.exit(cli.USAGE, "farm: " .. ferr, fe) end
local seen = {}
for _, list in ipairs({ unstow, stow }) do
  for _, pkg in ipairs(list) do
    local i = tether.info(f.stow_dir .. "/" .. pkg)
    if not seen[pkg] and (pkg:find("/") or not i or i.type ~= "dir") then
      cli.exit(cli.FAILED, select(2, tether.fail("ENOENT", f.stow_dir .. "/" .. pkg, "no such package")))
    end
    seen[pkg] = true
  end
end
-- Unstowing first, then stowing, planned as one run (as stow does).
for _, pkg in ipairs(unstow) do f:unstow(pkg) end
for _, pkg in ipairs(stow) do f:stow(pkg) end
if #f.errors > 0 then
  for k = 2, #f.errors do cli.warn(f.errors[k]) end
  cli.exit(cli.FAILED, f.errors[1] .. "; nothing changed")
end
if #f.conflicts > 0 then
  -- Stow's report: per action, per package, the sorted messages.
  local by = {}
  for _, c in ipairs(f.conflicts) do
    by[c.action] = by[c.action] or {}
    by[c.action][c.pkg] = by[c.action][c.pkg] or {}
    table.insert(by[c.action][c.pkg], c.message)
  end
  for _, action in ipairs({ "unstow", "stow" }) do
    local pkgs = {}
    for pkg in pairs(by[action] or {}) do pkgs[#pkgs + 1] = pkg end
    table.sort(pkgs)
    for _, pkg in ipairs(pkgs) do
      io.stderr:write("WARNING! ", action, "ing ", cli.quote(pkg), " would cause conflicts:\n")
      table.sort(by[action][pkg])
      for _, m in ipairs(by[action][pkg]) do io.stderr:write("  * ", tether.quote(m, true), "\n") end
    end
  end
  io.stderr:write("All operations aborted.\n")
  cli.exit(stow_form and cli.PROBLEMS or cli.FAILED, string.format("nothing changed: %d conflict(s)", #f.conflicts),
    { errno = "EEXIST", message = "conflicts" })
end
local packages = {}
for pkg in pairs(seen) do packages[#packages + 1] = pkg end
table.sort(packages)
f.plan.header.packages = packages
f.plan.header.action = #unstow > 0 and #stow > 0 and "relink" or #unstow > 0 and "unlink" or "link"
cli.apply_plan(f.plan, "links and directories")
return cli.done()
