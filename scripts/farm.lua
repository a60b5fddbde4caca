-- a GNU Stow-compatible symlink farm: link, unlink or relink packages into a target
local tether = require "tether"
local cli = require "tether.cli"
local farm = require "tether.farm"
local path = require "tether.path"
local stowrc = require "tether.stowrc"

local spec = {
  name = "farm",
  usage = "tether farm [link|unlink|relink] [OPTION...] [-S|-D|-R] PKG... [-S|-D|-R] PKG...",
  summary = "Keep a symlink farm as GNU Stow does: each package (a directory in STOWDIR) is linked into DIR with relative links, making the same tree stow 2.3 makes. Stow's command lines and .stowrc files work as they are.",
  description = [[
A directory only one package uses becomes a single link (folding); when a second package
needs it, it is turned back into a real directory holding links (unfolding), and folded
again on unlink when one package is left. Nothing that farm does not own is ever
overwritten: every conflict is listed first, in stow's words, and nothing is changed.
A link is farm's (stow's) when it leads into STOWDIR or into a directory marked as a
stow directory by a .stow or .nonstow file in it; such directories and STOWDIR are never
stowed into. --adopt moves a file already in DIR into the package and links it; as with
stow, the package's own copy of that file is replaced (keep packages under version
control).

As stow: -S, -D and -R say what to do with the packages after them (the default is -S);
the first word link, unlink or relink does the same for all of them. Options are read
first from ~/.stowrc and ./.stowrc (words split at spaces; the packages named there are
ignored; ~, ~USER, $VAR and ${VAR} are expanded in --dir and --target, \$ and \~ stay as
$ and ~); an option on the command line replaces the one from a .stowrc, and --ignore,
--defer and --override add to theirs. An error in a .stowrc names the file and line.
STOWDIR defaults to $STOW_DIR or the current directory, DIR to the parent of STOWDIR. A
package's .stow-local-ignore (else ~/.stow-global-ignore, else stow's built-in list)
holds Perl regular expressions: one without '/' matches a whole name, one with '/' a
path from the package's top. --ignore matches the end of a path in the package,
--defer and --override the start of a path in DIR. The run is journaled: tether undo
reverses it.

Every option of stow 2.3.1 is taken with its meaning: those below, and -n (--no,
--simulate), -V and -h among the global options. -p (--compat) unstows as stow's legacy
algorithm does: it looks at every entry of DIR, not only those the package has, removes
the package's links, links into any stow directory that lead nowhere, and with
--override other packages' links too; any file in DIR is a conflict.

-v (--verbose) levels, as stow's: 1 prints each change as it is made; 2 also the stow
directory, each package planned and each decision (skipping, deferring, overriding,
unfolding, removing a stale link); 3 also each directory and entry looked at and each
folding check; 4 also each path ignored and why, and each existing link or file met;
5 also the ignore list each package uses. -v adds one, --verbose=N (or -vN) sets N.

Where farm differs from stow 2.3.1 on purpose: --dotfiles works in directories that
already exist or are unfolded (stow stops with "stow_contents() called with
non-directory path"), and with --no-folding and --adopt (stow looks for .x, not dot-x,
in the package); an absolute symlink anywhere in a package is refused (stow notices it
only at the package's top); a link in a package that is another user's (or root's in a
directory another user can write) is never gone through: where DIR is free it is linked
as it is, as stow does, but where stow would list or read what it leads to (a directory
in DIR, unfolding, unstowing, a .stow-local-ignore) the run is refused naming it;
--adopt refuses a file in DIR where the package has a directory (stow moves the file
into that directory); a link that leads nowhere keeps its directory from being folded
(stow overlooks it, then fails part-way removing the directory); usage errors exit 2,
not 1.

Exit codes: as stow, 1 when there are conflicts in the stow form (-S/-D/-R or none);
3 in the link/unlink/relink form, as every tether recipe that changed nothing.]],
  options = {
    { "dir", "the stow directory holding the packages (default: $STOW_DIR or .)", value = "STOWDIR", short = "d" },
    { "target", "where the links go (default: the parent of STOWDIR)", value = "DIR", short = "t" },
    { "stow", "stow the packages that follow (the default)", short = "S", ordered = true },
    { "delete", "unstow the packages that follow", short = "D", ordered = true },
    { "restow", "unstow then stow again the packages that follow", short = "R", ordered = true },
    { "ignore", "ignore paths in a package ending in this Perl regex (repeatable)", value = "REGEX", many = true },
    { "defer", "leave a path starting with this regex to the package that has it (repeatable)", value = "REGEX", many = true },
    { "override", "take a path starting with this regex from the package that has it (repeatable)", value = "REGEX", many = true },
    { "adopt", "move existing files in DIR into the package, then link them" },
    { "no-folding", "never make one link for a whole directory: make directories of links" },
    { "dotfiles", "a name dot-x in a package is .x in DIR" },
    { "compat", "unstow with stow's legacy algorithm, which looks through all of DIR (see above)", short = "p" },
    { "simulate", "the same as -n, --dry-run (stow's spelling)", alias = "dry-run" },
    { "no", "the same as -n, --dry-run (stow's spelling)", alias = "dry-run" },
    { "verbose", "more detail: -v adds one level, -vvv is 3, --verbose=N sets N (0 to 5; see above)", value = "N", short = "v", optional = true, number = true, count = true },
  },
}

-- ~/.stowrc, then ./.stowrc, then the command line over them (tether.stowrc).
local rc, rc_where = stowrc.read(spec)
-- A regex a .stowrc gives that is no regex: named with the file and line, as written.
for _, key in ipairs({ "ignore", "defer", "override" }) do
  for _, r in ipairs(rc[key] or {}) do
    local ok, rerr = tether.regex(r)
    if not ok then cli.exit("usage", string.format("farm: %s: --%s %s", rc_where[key], key, rerr)) end
  end
end
local args = cli.parse({ ... }, spec)
local from_rc = stowrc.merge(rc, rc_where, args) -- the FILE:LINE of each option only a .stowrc gave
-- Stow's verbosity; tether's own -v before the recipe's name counts as 1. Level 1 is
-- tether's -v: each change printed as it is made.
local verbose = args.verbose or (tether.options.verbose and 1) or 0
tether.options.verbose = verbose > 0

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
      cli.exit("usage", "farm: -S, -D and -R go without the words link, unlink or relink")
    end
    mode = a.option
  else
    a = a:gsub("(.)/+$", "%1") -- as stow: "pkg/" (from a shell's completion) is pkg
    if mode ~= "stow" then unstow[#unstow + 1] = a end
    if mode ~= "delete" then stow[#stow + 1] = a end
  end
end
if #unstow + #stow == 0 then cli.exit("usage", "farm: no packages to stow or unstow; see tether help farm") end

local stowdir = args.dir or os.getenv("STOW_DIR") or ""
if stowdir == "" and not args.dir then stowdir = assert(tether.realpath(".")) end
local target = args.target or farm.default_target(stowdir)
for _, od in ipairs { { "dir", stowdir }, { "target", target } } do
  local opt, d = od[1], od[2]
  local whence = from_rc[opt] and string.format("--%s comes from %s", opt, from_rc[opt])
  if d == "" then
    cli.exit("usage", "farm: " .. (whence and (from_rc[opt] .. ": ") or "") .. "--" .. opt ..
      " cannot be empty; see tether help farm")
  end
  local i, err, _, e = tether.info(d)
  if i and i.type ~= "dir" and i.target_type ~= "dir" then i, err, _, e = tether.fail("ENOTDIR", d, "is not a directory") end
  if not i then cli.exit("refused", err .. (whence and ("; " .. whence) or ""), e) end
end
cli.check_roots({ stowdir, target })
local f, ferr, _, fe = farm.new({ stow = stowdir, target = target, adopt = args.adopt, ignore = args.ignore,
                                  defer = args.defer, override = args.override, compat = args.compat,
                                  no_folding = args.no_folding, dotfiles = args.dotfiles, verbose = verbose,
                                  say = function(line) cli.say("%s", cli.quote(line)) end })
if not f then cli.exit("usage", "farm: " .. ferr, fe) end
local seen = {}
for _, list in ipairs({ unstow, stow }) do
  for _, pkg in ipairs(list) do
    local dir = path.join(f.stow_dir, pkg)
    local i = tether.info(dir)
    if not seen[pkg] and (pkg:find("/") or not i or (i.type ~= "dir" and i.target_type ~= "dir")) then
      cli.exit("refused", select(2, tether.fail("ENOENT", dir, "no such package")))
    end
    seen[pkg] = true
  end
end
-- Unstowing first, then stowing, planned as one run (as stow does).
for _, pkg in ipairs(unstow) do f:unstow(pkg) end
for _, pkg in ipairs(stow) do f:stow(pkg) end
for _, w in ipairs(f.warnings) do cli.warn("farm: " .. w) end
if #f.errors > 0 then
  for k = 2, #f.errors do cli.warn(f.errors[k]) end
  cli.exit("refused", f.errors[1] .. "; nothing changed")
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
  local listed = {} -- (--json: each conflict, with the package and the path)
  for i, c in ipairs(f.conflicts) do listed[i] = { package = c.pkg, action = c.action, path = c.path, message = c.message } end
  cli.exit(stow_form and "problems" or "refused", "nothing changed: " .. cli.count(#f.conflicts, "conflict"),
    { errno = "EEXIST", conflicts = listed })
end
local packages = {}
for pkg in pairs(seen) do packages[#packages + 1] = pkg end
table.sort(packages)
f.plan.header.packages = packages
f.plan.header.action = #unstow > 0 and #stow > 0 and "relink" or #unstow > 0 and "unlink" or "link"
cli.apply_plan(f.plan, { "link or directory", "links and directories" })
return cli.done()
