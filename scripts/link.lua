-- create a symbolic link, hard link or junction (like ln -s, mklink, New-Item)
local tether = require "tether"
local cli = require "tether.cli"
local path = require "tether.path"
local plan = require "tether.plan"

local args = cli.parse({...}, {
  name = "link",
  usage = "tether link [--hard|--junction|--dir] [--relative] [--replace] [-T] TARGET PATH\n" ..
          "       tether link [OPTIONS] TARGET... DIR\n" ..
          "       tether link [OPTIONS] -t DIR TARGET...",
  summary = "Create a link at PATH that points to TARGET (a symbolic link unless asked otherwise); as ln does, a PATH that is a directory gets the link inside it, named as TARGET's last name.",
  description = [[
TARGET is stored as written (relative targets are relative to PATH's directory, as with
ln -s), unless --relative is given: then TARGET is taken from the current directory and
the stored target is computed from PATH's real parent directory. The link is read back
after it is made; a link that does not name TARGET is an error.

As with ln: when PATH is an existing directory (a real one: a link is always the link
itself, as with ln -n), the link is made inside it as DIR/NAME, NAME being TARGET's last
name; with several TARGETs the last argument must be such a directory, and each gets its
link there (-t DIR names the directory first). -T (--no-target-directory) takes PATH as
the link's own name always: a directory there is then refused, never replaced.

Symbolic links are made through a journal, all of one command in one run: tether undo
removes (or, after --replace, restores) them. A link that is already as asked is left
alone (exit 0, "changed": false).]],
  options = {
    { "hard", "make a hard link (files only, same filesystem)" },
    { "junction", "make an NTFS junction (Windows; absolute directory targets)" },
    { "dir", "the target is a directory (Windows needs to know; harmless elsewhere)" },
    { "relative", "store the target relative to the link's real parent directory", short = "r" },
    { "replace", "replace an existing link atomically (never a real file or directory)", short = "f" },
    { "no-target-directory", "PATH is the link's name even when it is a directory (refused then)", short = "T" },
    { "target-directory", "make the links in DIR, named as each TARGET's last name", value = "DIR", short = "t" },
  },
  min = 1,
})

local kind, make = "symlink", tether.symlink
if args.hard and args.junction then cli.exit(cli.USAGE, "link: --hard and --junction exclude each other") end
if args.hard then kind, make = "hardlink", tether.hardlink end
if args.junction then kind, make = "junction", tether.junction end
if (args.hard or args.junction) and args.relative then
  cli.exit(cli.USAGE, "link: --relative applies to symbolic links only")
end
if args.no_target_directory and args.target_directory then
  cli.exit(cli.USAGE, "link: -T and -t exclude each other")
end

local function bare(p) return (p:gsub("(.)/+$", "%1")) end

-- A real directory (not a link to one: a link is the link itself, as ln -n takes it).
local function is_dir(p)
  local i = tether.info(p)
  return i and i.type == "dir"
end

-- The links to make: {target =, path =} each, as ln reads its arguments.
local function links_asked()
  local targets, dir = {}, args.target_directory
  for i = 1, #args do targets[i] = args[i] end
  if not dir then
    if #targets < 2 then cli.exit(cli.USAGE, "link: missing arguments (TARGET PATH); see tether help link") end
    local last = table.remove(targets)
    if args.no_target_directory then
      if #targets > 1 then cli.exit(cli.USAGE, "link: -T takes one TARGET and one PATH") end
      return { { target = targets[1], path = last } }
    end
    if #targets > 1 and not is_dir(last) then
      local _, err, _, e = tether.fail(tether.exists(last) and "ENOTDIR" or "ENOENT", last,
        "is not a directory, and several TARGETs need one to put their links in")
      cli.exit(cli.USAGE, err, e)
    end
    if not is_dir(last) then return { { target = targets[1], path = last } } end
    dir = last
  elseif not is_dir(dir) then
    local _, err, _, e = tether.fail(tether.exists(dir) and "ENOTDIR" or "ENOENT", dir, "is not a directory (-t)")
    cli.exit(cli.USAGE, err, e)
  end
  local out, seen = {}, {}
  for _, t in ipairs(targets) do
    local name = path.basename(bare(t))
    if name == "" or name == "." or name == ".." or name == path.sep or t:match("^[/\\]+$") then
      cli.exit(cli.USAGE, string.format("link: %s has no last name to call its link by; name the link (TARGET PATH)", cli.quote(t)))
    end
    local p = path.join(dir, name)
    if seen[p] then cli.exit(cli.USAGE, string.format("link: two TARGETs would make the same link %s", cli.quote(p))) end
    seen[p] = true
    out[#out + 1] = { target = t, path = p }
  end
  return out
end

local dry = tether.dryrun()

-- What the link at l.path must store, and whether it is there already (nothing to do:
-- a task run by Ansible or an RMM twice must not fail the second time).
local function stored_target(l)
  if args.relative and kind == "symlink" then
    local rel, rerr, _, re = tether.relative_target(l.target, l.path)
    if not rel then cli.exit(cli.FAILED, rerr, re) end
    return rel
  end
  return l.target
end

local function already(l)
  local info = tether.info(l.path)
  if not info or tether.absolute(bare(l.target)) == tether.absolute(bare(l.path)) then return false end
  if kind == "hardlink" then
    local t = tether.info(l.target)
    return t and info.type == "file" and t.dev == info.dev and t.ino == info.ino
  end
  if info.type ~= kind then return false end
  if args.relative then
    local want = tether.relative_target(l.target, l.path)
    return want ~= nil and info.target == want
  end
  return info.target == l.target
end

-- A failure of the Lua API, with the command line's advice where there is some.
local function refuse(err, e)
  if type(e) == "table" and e.errno == "EEXIST" and not args.replace then
    local _, msg, _, with_hint = tether.fail(e.errno, e.path, e.reason, "replace it with --replace (only a link is ever replaced)")
    err, e = msg, with_hint
  end
  cli.exit(cli.FAILED, err, e)
end

local links = links_asked()
local actions, todo = {}, {}
-- Every check first (the same as the real call makes), then the changes.
for i, l in ipairs(links) do
  if already(l) then
    actions[i] = cli.action_json({ op = kind, path = tether.absolute(bare(l.path)) or l.path,
      target = kind == "hardlink" and l.target or tether.info(l.path).target }, "unchanged")
  else
    local ok, err, _, e = make(l.target, l.path, { replace = args.replace, dir = kind == "symlink" and args.dir or nil,
      relative = kind == "symlink" and args.relative or nil, dry = true })
    if not ok then refuse(err, e) end
    l.stored = stored_target(l)
    todo[#todo + 1] = l
    actions[i] = cli.action_json({ op = kind, path = tether.absolute(bare(l.path)) or l.path, target = l.stored }, "planned")
  end
end

local report = { changed = false, dry = dry, done = 0, skipped = 0, failed = 0, actions = actions }
local function finish()
  if tether.options.json then cli.json(report) return cli.OK end
  for i, a in ipairs(report.actions) do
    local verb = a.status == "unchanged" and "already there: " or a.status == "planned" and "would create " or ""
    cli.say("%s%s %s -> %s", verb, kind, cli.quote(links[i].path), cli.quote(a.target))
  end
  return cli.OK
end
if dry or #todo == 0 then return finish() end

if kind == "symlink" then
  -- One journaled run for every link of the command: its roots are their directories.
  local roots, seen = {}, {}
  for _, l in ipairs(todo) do
    local d = path.dirname(bare(l.path))
    if not seen[d] then seen[d] = true; roots[#roots + 1] = d end
  end
  local p = plan.new("link", { roots = roots })
  for _, l in ipairs(todo) do
    local old = tether.info(l.path)
    if old then
      p:add("replace", { path = l.path, target = l.stored, old = old.target, dir = args.dir })
    else
      p:add("symlink", { path = l.path, target = l.stored, dir = args.dir })
    end
  end
  local result, perr, _, _, pe = p:apply()
  if not result then cli.exit(cli.FAILED, perr, pe) end
  local failure = result.failed_actions[1] or result.skipped_actions[1]
  if failure then
    cli.exit(result.done > 0 and cli.PARTIAL or cli.FAILED, failure.message ..
      (result.done > 0 and string.format("; %s made (tether undo %s takes %s back)", cli.count(result.done, "other link was", "other links were"), result.id, result.done == 1 and "it" or "them") or ""))
  end
  local planned = cli.plan_report(p, result)
  report.changed, report.id, report.done = true, planned.id, planned.done
  local k = 0
  for i, a in ipairs(actions) do
    if a.status == "planned" then
      k = k + 1
      actions[i] = planned.actions[k]
      actions[i].target = tether.readlink(todo[k].path) or todo[k].stored
    end
  end
  return finish()
end
for _, l in ipairs(todo) do
  local ok, err, _, e = make(l.target, l.path, { replace = args.replace })
  if not ok then
    if report.done > 0 then cli.exit(cli.PARTIAL, err .. string.format("; %s made before it", cli.count(report.done, "link was", "links were")), e) end
    refuse(err, e)
  end
  report.changed, report.done = true, report.done + 1
end
for i, a in ipairs(actions) do
  if a.status == "planned" then
    a.status = "done"
    if kind == "junction" then a.target = tether.readlink(links[i].path) or a.target end
  end
end
return finish()
