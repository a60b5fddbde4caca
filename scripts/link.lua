-- create a symbolic link, hard link or junction (like ln -s, mklink, New-Item)
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
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

As with ln: when PATH is an existing directory (a real one, or a link to one written
with a trailing slash, DIR/; without it a link is the link itself, as with ln -n), the
link is made inside it as DIR/NAME, NAME being TARGET's last
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
if args.hard and args.junction then cli.exit("usage", "link: --hard and --junction exclude each other") end
if args.hard then kind, make = "hardlink", tether.hardlink end
if args.junction then kind, make = "junction", tether.junction end
if (args.hard or args.junction) and args.relative then
  cli.exit("usage", "link: --relative applies to symbolic links only")
end
if args.no_target_directory and args.target_directory then
  cli.exit("usage", "link: -T and -t exclude each other")
end

local function bare(p) return (p:gsub("(.)/+$", "%1")) end

-- A real directory (not a link to one: a link is the link itself, as ln -n takes it),
-- or a link to one written with a trailing slash (DIR/ names where it leads, as ln does).
local function is_dir(p)
  local i = tether.info(p)
  if i and (i.type == "symlink" or i.type == "junction") and p:match("[/\\]$") then return i.target_type == "dir" end
  return i and i.type == "dir"
end

-- The links to make: {target =, path =} each, as ln reads its arguments.
local function links_asked()
  local targets, dir = {}, args.target_directory
  for i = 1, #args do targets[i] = args[i] end
  if not dir then
    if #targets < 2 then cli.exit("usage", "link: missing arguments (TARGET PATH); see tether help link") end
    local last = table.remove(targets)
    if args.no_target_directory then
      if #targets > 1 then cli.exit("usage", "link: -T takes one TARGET and one PATH") end
      return { { target = targets[1], path = last } }
    end
    if #targets > 1 and not is_dir(last) then
      local _, err, _, e = tether.fail(tether.exists(last) and "ENOTDIR" or "ENOENT", last,
        "is not a directory, and several TARGETs need one to put their links in")
      cli.exit("usage", err, e)
    end
    if not is_dir(last) then return { { target = targets[1], path = last } } end
    dir = last
  elseif not is_dir(dir) then
    local _, err, _, e = tether.fail(tether.exists(dir) and "ENOTDIR" or "ENOENT", dir, "is not a directory (-t)")
    cli.exit("usage", err, e)
  end
  local out, seen = {}, {}
  for _, t in ipairs(targets) do
    local name = path.basename(bare(t))
    if name == "" or name == "." or name == ".." or name == path.sep or t:match("^[/\\]+$") then
      cli.exit("usage", string.format("link: %s has no last name to call its link by; name the link (TARGET PATH)", cli.quote(t)))
    end
    local p = path.join(dir, name)
    if seen[p] then cli.exit("usage", string.format("link: two TARGETs would make the same link %s", cli.quote(p))) end
    seen[p] = true
    out[#out + 1] = { target = t, path = p }
  end
  return out
end

-- What the link at l.path must store, and whether it is there already (nothing to do:
-- a task run by Ansible or an RMM twice must not fail the second time).
local function stored_target(l)
  if args.relative and kind == "symlink" then
    local rel, rerr, _, re = tether.relative_target(l.target, l.path)
    if not rel then cli.exit("refused", rerr, re) end
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
    -- --replace is offered only for a link: a real file or directory there is never replaced.
    local there = tether.info(e.path)
    local real = there and there.type ~= "symlink" and there.type ~= "junction"
    local failure
    if real then
      local what = there.type == "dir" and "a real directory" or "a real file"
      failure = { tether.fail(e.errno, e.path, "is " .. what .. ", not a link; tether never replaces one") }
    else
      failure = { tether.fail(e.errno, e.path, e.reason, "replace it with --replace (only a link is ever replaced)") }
    end
    local msg, with_hint = failure[2], failure[4]
    err, e = msg, with_hint
  end
  cli.exit("refused", err, e)
end

-- One journaled run for every link of the command (symbolic, hard or junction, so that
-- tether undo takes them back): its roots are the links' directories.
local links = links_asked()
local roots, seen = {}, {}
local function root(d)
  if not seen[d] then seen[d] = true; roots[#roots + 1] = d end
end
for _, l in ipairs(links) do
  root(path.dirname(bare(l.path)))
  if kind == "hardlink" then root(path.dirname(bare(l.target))) end -- the file it names too
end
local p = plan.new("link", { roots = roots })
local last_action = {} -- link -> the plan's action that makes it (its status is the link's)
-- Every check first (the same as the real call makes), then the plan.
for _, l in ipairs(links) do
  if not already(l) then
    local ok, err, _, e = make(l.target, l.path, { replace = args.replace, dir = kind == "symlink" and args.dir or nil,
      relative = kind == "symlink" and args.relative or nil, dry = true })
    if not ok then refuse(err, e) end
    l.stored = stored_target(l)
    local old = tether.info(l.path)
    if kind == "symlink" and old then
      last_action[l] = p:add("replace", { path = l.path, target = l.stored, old = old.target, dir = args.dir })
    elseif kind == "symlink" then
      last_action[l] = p:add("symlink", { path = l.path, target = l.stored, dir = args.dir })
    elseif kind == "hardlink" then
      -- --replace over a link: the link goes, then the hard link is made (both undone).
      if old then p:add("unlink", { path = l.path, target = old.target }) end
      last_action[l] = p:add("addhard", { path = l.path, existing = l.target })
    else
      last_action[l] = p:add("junction", { path = l.path, target = l.stored })
    end
  end
end

local result, perr, _, _, pe = p:apply()
if not result then cli.exit("refused", perr, pe) end
local failure = result.failed_actions[1] or result.skipped_actions[1]
if failure then
  cli.exit(run.outcome(result.done > 0, 1), failure.message ..
    (result.done > 0 and string.format("; %s made (tether undo %s takes %s back)", cli.count(result.done, "other link was", "other links were"), result.id, result.done == 1 and "it" or "them") or ""))
end
local planned = cli.plan_report(p, result)
local status_of = {}
for k, a in ipairs(p.actions) do status_of[a] = planned.actions[k].status end
local report = { changed = planned.changed, dry = planned.dry, id = planned.id, done = planned.done, skipped = 0, failed = 0, actions = {} }
for i, l in ipairs(links) do
  local a = last_action[l]
  local target = kind == "hardlink" and l.target or (a and a.target) or tether.info(l.path).target
  if a and a.op ~= "addhard" and status_of[a] == "done" then target = tether.readlink(l.path) or target end
  report.actions[i] = cli.action_json({ op = kind, path = tether.absolute(bare(l.path)) or l.path, target = target },
    a and status_of[a] or "unchanged")
end
if tether.options.json then cli.json(report) return end
for i, a in ipairs(report.actions) do
  local verb = a.status == "unchanged" and "already there: " or a.status == "planned" and "would create " or ""
  cli.say("%s%s %s -> %s", verb, kind, cli.quote(links[i].path), cli.quote(a.target))
end
