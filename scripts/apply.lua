-- bring this machine to a declared state of links, directories, migrations and farms
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local declare = require "tether.declare"

local args = cli.parse({...}, {
  name = "apply",
  usage = "tether apply FILE [--check] [--json]",
  summary = "Make the links, directories, folder migrations, farm packages and retargets declared in FILE (Lua or JSON) true on this machine, changing only what differs.",
  description = [[
FILE is a Lua file returning a table (it may compute it: tether.hostname(), os.getenv,
tether.exists) or JSON of the same shape; - reads it from standard input. Relative
paths are taken from FILE's directory, and ~ is $HOME:

  return {
    dirs = { "/srv/app/releases" },
    links = {
      { path = "/srv/app/current", target = "/srv/app/releases/42" },
      { path = "~/.vimrc", target = "dotfiles/vimrc", relative = true, force = true },
      { path = "/data/b", target = "/data/a", type = "hard" },   -- or type = "junction"
    },
    absent = { "/srv/app/old" },                      -- links only, never real data
    migrations = { { from = "/home/ana/Videos", to = "/mnt/big/Videos" } },
    farms = { { dir = "/home/ana/dotfiles", target = "/home/ana", packages = { "vim" } } },
    retarget = { { under = "/srv", from = "/mnt/old", to = "/mnt/new" } },
  }

The whole declaration is compared with the machine first, at the paths the kernel
would reach once the run is done (links on the way followed as the run leaves them:
/var/run/x is /run/x; one path spelled two ways is declared twice), and once more with
the state its changes would leave. If any item cannot be reached (real data where a
link is declared, a link elsewhere without force = true, a missing parent directory, a
migration that would not pass its checks, an item that would not hold afterwards),
every such item is listed and nothing changes (exit 3). Otherwise migrations run first
and the rest is made on the machine as they leave it, in one journaled run (tether undo
reverses it, migrations included); a second apply of the same file changes nothing,
exits 0 and writes no journal. A run whose every change the system refused changed
nothing (exit 3, no journal); one stopped part-way exits 4. --check (or -n) prints the
differences ("+" to make, "-" to remove, "~" to change, ">" a migration), changes
nothing, and exits as apply would get past its checks (0) or not (3). --json reports
each item as ok, changed, failed or not run (a change the run stopped before), with the
reason, and "changed" for the whole run
(true only when something changed; docs/fleets.md).]],
  options = {
    { "check", "print the differences between this machine and FILE; change nothing (the same as -n)", alias = "dry-run" },
  },
  min = 1, max = 1,
})

local file = args[1]
local decl, base, unreadable = declare.load(file)
if not decl then cli.exit(unreadable and "refused" or "usage", "apply: " .. base) end
local items, problems = declare.items(decl, base)
if not items then
  for k = 2, #problems do cli.warn("apply: " .. file .. ": " .. problems[k]) end
  cli.exit("usage", "apply: " .. file .. ": " .. problems[1])
end
local p, migrations, conflicts, owner = declare.plan(items) -- a dry run's plan says p.dry

local function item_json(it)
  local path = it.path or it.from or it.under or it.dir
  return { item = it.name, type = it.noun, path = path, status = it.status, reason = it.conflict,
           changes = it.changes }
end

local function report(extra)
  local out = { changed = false, dry = p.dry, items = {} }
  for _, it in ipairs(items) do out.items[#out.items + 1] = item_json(it) end
  for k, v in pairs(extra or {}) do out[k] = v end
  return out
end

-- Each item that fails, on stderr, and each change, on stdout, in the order of planning.
local function show_items()
  for _, it in ipairs(items) do
    if it.status == "failed" then
      cli.warn(string.format("%s: %s", it.name, it.conflict))
    elseif it.status == "changed" then
      for _, c in ipairs(it.changes) do cli.say("%s", c) end
    end
  end
end

-- Items that differ but were not changed because the run stopped before them.
local function not_run()
  for _, it in ipairs(items) do if it.status == "changed" and not it.ran then it.status = "not run" end end
end

if conflicts > 0 then
  if tether.options.json then
    not_run()
    local out = report({ exit = run.code("refused") })
    out.error = { errno = "EEXIST", message = "nothing changed: " .. cli.count(conflicts, "item") .. " cannot be reached" }
    cli.json(out)
  else
    show_items()
  end
  cli.exit("refused", string.format("apply: nothing changed: %d of %s cannot be reached", conflicts, cli.count(#items, "item")))
end

local pending = 0
for _, it in ipairs(items) do if it.status == "changed" then pending = pending + 1 end end

if p.dry then
  if tether.options.json then
    cli.json(report({ changed = pending > 0 }))
    return
  end
  show_items()
  cli.say("%d of %s %s from %s; nothing changed (check)", pending, cli.count(#items, "item"), pending == 1 and "differs" or "differ",
    cli.quote(file))
  return
end

if pending == 0 then
  if tether.options.json then cli.json(report()) return end
  cli.say("%s of %s already hold; nothing changed", #items == 1 and "the 1 item" or "all " .. #items .. " items", cli.quote(file))
  return
end

-- Migrations first (each its own journaled run), then every other change in one plan
-- whose journal names them, so that tether undo of the apply reverses them too. The
-- plan checked above assumed the migrations' outcome; once they have run, the rest is
-- planned again on the machine as it is (with the identities of what it will change).
local runs = {}
for _, it in ipairs(migrations) do
  local m, err, code, outcome, sig, mproblems = tether.migrate(it.real_from, it.real_to, { link = it.link, verify = it.verify })
  if not m then
    it.status, it.conflict = "failed", err
    for _, pr in ipairs(mproblems or {}) do cli.warn(type(pr) == "table" and pr.text or tostring(pr)) end
    local ended = #runs > 0 and "partial" or outcome or "refused"
    if tether.options.json then
      not_run()
      local out = report({ changed = #runs > 0, migrations = runs, exit = run.code(ended, sig) })
      out.error = { errno = code, message = err }
      cli.json(out)
    end
    cli.exit(ended, string.format("apply: %s: %s%s", it.name, err,
      #runs > 0 and ("; migrations done before it: " .. table.concat(runs, ", ")) or ""), code, sig)
  end
  runs[#runs + 1] = m.id
  it.ran = true
end
local replanned = 0 -- items that could not be planned again after the migrations
if #runs > 0 then
  local _ -- the migrations: they ran
  p, _, conflicts, owner = declare.plan(items)
  if conflicts > 0 then -- changed meanwhile: the migrations stay, kept in one run with nothing else
    p.actions = {}
    for _, it in ipairs(items) do
      if it.status == "failed" then
        cli.warn(string.format("%s: %s", it.name, it.conflict))
        replanned = replanned + 1
      elseif it.status == "changed" and not it.ran then
        it.status, it.conflict = "failed", "not changed: another item could not be planned after the migrations"
      end
    end
  end
  p.header.migrations = runs
end
p.header.declaration = tether.absolute(file) or file
local result, err, _, partial = p:apply({
  checked = true, -- the declaration was checked whole above
  journal = #runs > 0, -- a plan that names migrations is kept even with no change of its own
  on_action = function(_, status, aerr)
    if status ~= "done" then cli.warn(aerr) end
  end,
})
if not result then
  local done = partial and partial.done or 0
  cli.exit(run.outcome(done > 0 or #runs > 0, 1),
    string.format("apply: %s%s", err, done > 0 and string.format("; stopped after %s (journal %s)", cli.count(done, "change"), partial.id) or ""))
end
-- An item whose change did not happen (refused by the system, or the object changed
-- since it was checked) failed, with why.
for _, list in ipairs({ result.failed_actions, result.skipped_actions }) do
  for _, f in ipairs(list) do
    local it = owner[f.action]
    if it and it.status ~= "failed" then it.status, it.conflict = "failed", f.message end
  end
end
local changed_items, failed_items = 0, 0
for _, it in ipairs(items) do
  if it.status == "changed" then changed_items = changed_items + 1 end
  if it.status == "failed" then failed_items = failed_items + 1 end
end
local failed = result.failed + result.skipped + replanned
-- Changed is what changed: a run whose every change was refused changed nothing (exit
-- 3, no journal), one that made some of them stopped part-way (exit 4).
local changed = result.done > 0 or #runs > 0
local ended = run.outcome(changed, failed)
local code = run.code(ended)
if tether.options.json then
  local first = result.failed_actions[1] or result.skipped_actions[1]
  cli.json(report({ changed = changed, id = result.id, migrations = runs, done = result.done, failed = failed, exit = code,
                    error = failed > 0 and { errno = first and (first.code or "ECHANGED") or "EEXIST",
                                             path = first and first.action.path,
                                             message = cli.count(failed, "change") .. " did not happen" } or nil }))
elseif changed then
  for _, it in ipairs(items) do -- the failures were said as they happened
    if it.status == "changed" then for _, c in ipairs(it.changes) do cli.say("%s", c) end end
  end
  cli.say("%s changed%s, %d already held%s", cli.count(changed_items, "item"),
    failed_items > 0 and string.format(", %d failed", failed_items) or "", #items - pending,
    result.id and ("; undo with: tether undo " .. result.id) or "")
end
if code ~= 0 then
  cli.exit(ended, changed and string.format("apply: %s did not happen (journal %s)", cli.count(failed, "change"), result.id)
    or string.format("apply: nothing changed: %s refused", cli.count(failed, "change")))
end
return
