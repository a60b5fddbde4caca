-- tether.run: a run, from its start to its end, owned in one place. Every command that
-- changes something (bundled or a user's script) is a run:
--
--   dry-run   decided here and nowhere else: tether.dryrun(on) sets it; the functions of
--             tether that change something then pass {dry = true} to tether.core's, which
--             know only that option (tether.raw is blind to the mode)
--   start     run.start(kind, header): the journal of a new run, its first record checked
--             against its kind's schema before it is written, so a run whose journal
--             tether undo could not read is refused at its start, having changed nothing
--   outcome   one word for how a run ended (run.CODES), mapped once to the exit code of
--             the product brief (run.code) and to docs/json.md's "changed" (run.outcome)
--   history   the runs as an undo stack: run.history() lists them with their states,
--             run.undo() takes the newest run not undone (an undo stopped part-way first)
--             and reverses it the way its kind says (run.kinds)
local tether = require "tether"
local api = require "tether.api"
local help = require "tether.help"
local journal = require "tether.journal"
local path = require "tether.path"

local M = {}

-- Dry-run ------------------------------------------------------------------------------

-- The functions of tether that change something, and where their options table is: every
-- one whose options (stdlib/tether/api.lua) take `dry`.
local changing = {}
for _, f in ipairs(api.functions) do
  for i, p in ipairs(help.params(f.sig)) do
    if p.name == "opts" and p.type:find("[{,]%s*dry%?:") and not f.lua then changing[f[1]] = i end
  end
end

-- f(..., opts) called with a copy of opts that says dry = true.
local function dry_call(f, at)
  return function(...)
    local args = table.pack(...)
    local opts = args[at]
    if opts == nil or type(opts) == "table" then
      local o = {}
      for k, v in pairs(opts or {}) do o[k] = v end
      o.dry = true
      args[at] = o
      if args.n < at then args.n = at end
    end
    return f(table.unpack(args, 1, args.n))
  end
end

local dry = false

-- Whether this run changes nothing (tether's -n, or a script's tether.dryrun(true)).
-- The stdlib asks it (a plan applied, a migration); recipes do not: they get their dry
-- run from what they call (a plan and its result say dry; a migration's plan too; the
-- changing functions of tether are dry already), and say it with run.would.
function M.dry() return dry end

-- Whether a run that made the changes `made` (a count, or true) changed something: never
-- a dry one (docs/json.md's "changed").
function M.changed(made)
  if dry then return false end
  if type(made) == "number" then return made > 0 end
  return made and true or false
end

-- The words a recipe says of a change: `done` when it was made, `would` in a dry run
-- ("removed" / "would remove"). For saying only: what is done is decided here.
function M.would(done, would)
  if dry then return would end
  return done
end

-- Sets dry-run mode (when `on` is given) and says whether it is on. Every changing
-- function of tether is the core's own when it is off (nothing in between), a call that
-- adds dry = true when it is on.
function M.dryrun(on)
  if on ~= nil then
    dry = on and true or false
    for name, at in pairs(changing) do
      local f = tether.raw[name]
      if f then rawset(tether, name, dry and dry_call(f, at) or f) end
    end
  end
  return dry
end

-- Outcome ------------------------------------------------------------------------------

-- How a run ended, and its exit code (the product brief's): the one map.
M.CODES = {
  changed = 0,  -- what was asked is done
  nothing = 0,  -- nothing to do: it was so already (or a dry run, or a read-only command)
  problems = 1, -- it ran, and found or left problems (a broken link; a directory not read)
  usage = 2,    -- the command line is wrong
  refused = 3,  -- nothing changed: a check said no, or every change was refused
  failed = 3,   -- it failed and everything was put back: nothing changed
  ["rolled back"] = 3, -- the same, as a migration says it
  partial = 4,  -- it stopped part-way: its journal says how to go on or undo it
}

-- The exit code of an outcome; "interrupted" is 128 + the signal.
function M.code(outcome, sig)
  if outcome == "interrupted" then return 128 + (sig or 2) end
  local code = M.CODES[outcome]
  if not code then error("tether.run: no outcome '" .. tostring(outcome) .. "'", 2) end
  return code
end

-- The outcome of a run that got to its end, from what it did: changes made (any), changes
-- that did not happen (failed: refused, skipped), problems left (read-only findings).
-- "changed" in a report is true exactly when something changed: never in a dry run.
function M.outcome(changed, failed, problems)
  changed = M.changed(changed)
  if failed and failed > 0 then return changed and "partial" or "refused" end
  if problems then return "problems" end
  return changed and "changed" or "nothing"
end

-- Start --------------------------------------------------------------------------------

-- The journal of a new run of `kind` (its first record: header), or nil, message, errno,
-- error when it cannot be written or would not be readable: nothing is changed then.
-- What the user ran, as history shows it: the words after "tether" (the host's `arg`:
-- arg[0] the recipe's name or the script's path, the global options before it), and
-- the bundled recipe that parsed them (not a plan's kind: relativize --absolute makes an
-- "absolutize" plan).
local function what_was_run()
  local a = rawget(_G, "arg")
  if type(a) ~= "table" then return nil end
  local first = 0
  while type(a[first - 1]) == "string" do first = first - 1 end
  local words = {}
  for i = first + 1, #a do words[#words + 1] = tostring(a[i]) end
  local cli = package.loaded["tether.cli"]
  return #words > 0 and words or nil, cli and cli.recipe or nil
end

-- What is wrong with the words a journal's header says were run (nil when nothing is: a
-- journal older than them has none), for each kind's schema.
function M.command_problem(h)
  if h.recipe ~= nil and (type(h.recipe) ~= "string" or not h.recipe:match("^[%w%-]+$")) then return "a malformed recipe" end
  if h.command ~= nil then
    if type(h.command) ~= "table" then return "a malformed command" end
    for _, w in ipairs(h.command) do
      if type(w) ~= "string" then return "a malformed command" end
    end
  end
end

function M.start(kind, header)
  if header.command == nil then header.command, header.recipe = what_was_run() end
  return journal.create(kind, header)
end

-- The plans this process applied (a user's `tether run` script reports them at its end,
-- as a bundled recipe reports its own: run.report_script).
M.plans = {}
function M.applied(plan, result) M.plans[#M.plans + 1] = { plan = plan, result = result } end

-- A user's script: each plan it applies is reported where it is applied, among the
-- script's own output, not after it, and named (a bundled recipe prints its own: it
-- parsed its words with tether.cli; --json's one object stays at the end): with -n each
-- action it would take, else a line with the run's id.
local printed = setmetatable({}, { __mode = "k" })
local function print_plan(plan, r)
  local cli = require "tether.cli"
  if r.dry then
    plan:print(cli.say)
    cli.say("%s: %s planned; nothing changed (dry run)", plan.kind, cli.count(#plan.actions, "action"))
  elseif r.id then
    local failed = (r.failed or 0) + (r.skipped or 0)
    cli.say("%s: %s%s; undo with: tether undo %s", plan.kind, cli.count(r.done, "change"),
      failed > 0 and string.format(", %d did not happen", failed) or "", r.id)
  end
end
function M.planned(plan, result)
  local cli = package.loaded["tether.cli"]
  if tether.options.json or (cli and cli.recipe) then return end
  print_plan(plan, result)
  printed[result] = true
end

-- The end of a user's script (the host calls it with the script's exit code): the plans
-- it applied reported as a bundled recipe reports its own, unless it printed a report
-- itself: --json's object (one plan's, or {runs = [...]} for several), or what was not
-- reported where it was applied (run.planned). Returns the exit code: a plan
-- whose changes did not all happen makes it partial (4) or refused (3).
function M.report_script(code)
  if #M.plans == 0 then return code end -- most scripts: no need to load the CLI
  local cli = require "tether.cli"
  local reports, changed, failed = {}, false, 0
  for i, x in ipairs(M.plans) do
    reports[i] = cli.plan_report(x.plan, x.result, { recipe = "run", error = x.result.error })
    changed = changed or reports[i].changed
    failed = failed + (x.result.failed or 0) + (x.result.skipped or 0) + (x.result.error and 1 or 0)
  end
  if not cli.json_written then
    if tether.options.json then
      cli.json(#reports == 1 and reports[1] or { recipe = "run", changed = changed, dry = dry, runs = reports })
    else
      for _, x in ipairs(M.plans) do
        local r = x.result
        if r.error then
          for _, c in ipairs(r.conflicts or {}) do cli.warn(cli.quote(c.path) .. ": " .. c.message) end
        elseif not printed[r] then
          print_plan(x.plan, r)
        end
      end
    end
  end
  if failed > 0 and code == 0 then return M.code(M.outcome(changed, failed)) end
  return code
end

-- History: the undo stack ---------------------------------------------------------------

-- How each kind of run is undone, registered by the module that writes it (tether.plan,
-- tether.migration): undoable(run) (something of it left to undo, or its undo stopped
-- part-way), undone(run), paths(run) (the absolute paths it changed things under),
-- recopied(run) (paths whose trees it made again by copying: what an older run recorded
-- of their identity no longer holds there), undo(run, opts) -> result or nil, message,
-- errno, outcome (opts: dry, force, recopied, yes), names(run) (the runs it names, undone
-- with it).
M.kinds = {}
local OWNERS = { plan = "tether.plan", migrate = "tether.migration" }

-- The handlers of a kind of run (its module loaded when needed).
function M.kind(name)
  if not M.kinds[name] and OWNERS[name] then require(OWNERS[name]) end
  return M.kinds[name]
end
local function kind_of(r) return M.kind(r.kind) end

-- A migration's run, as tether.migration tells it.
local function migration() return require "tether.migration" end
M.kinds.migrate = {
  names = function() return {} end,
  paths = function(r) return migration().paths(r.records) end,
  undone = function(r) return migration().undone(r.records) end,
  -- "undoing" when its undo stopped part-way, "done" when it ended with its link in
  -- place or its data kept, "open" when it stopped part-way (its journal goes on).
  undoable = function(r)
    local m = migration()
    if not m.undoable(r.records) then return false end
    local st = m.state(r.records)
    if st.mode == "undo" then return "undoing" end
    if st.ended == "finished" or st.ended == "kept" then return "done" end
    return "open"
  end,
  recopied = function(r) return migration().recopied(r.records) end,
  undo = function(r, opts)
    local p, err, code, outcome, sig, problems, e = migration().undo(r.id, opts)
    if not p then return nil, err, code, outcome or "refused", sig, problems, e end
    return { changed = not p.dry and not p.tidied, dry = p.dry, steps = p.dry and p.steps or p.did or {}, plan = p, warnings = p.warnings }
  end,
}

-- Every run, oldest first, each with `state` ("done", "undoing" when its undo stopped
-- part-way, "undone", "open" when it stopped part-way and its own journal finishes it,
-- "nothing" when it has nothing to undo), and the journals that cannot be read.
function M.history()
  local runs, broken = journal.list()
  local named = {} -- runs another run names (an apply's migrations): undone with it
  for _, r in ipairs(runs) do
    local k = kind_of(r)
    for _, id in ipairs(k and k.names and k.names(r) or {}) do named[id] = r.id end
  end
  for _, r in ipairs(runs) do
    local k = kind_of(r)
    r.named_by = named[r.id]
    if not k then r.state = "nothing"
    elseif k.undone(r) then r.state = "undone"
    else r.state = k.undoable(r) or "nothing" end
  end
  return runs, broken
end

-- Whether two sets of absolute paths touch: one is, or is inside, one of the others
-- (by sets of names and their parents: runs of thousands of changes are compared too).
local function overlap(a, b)
  local exact, above = {}, {} -- a's paths, and every directory above one of them
  for _, p in ipairs(a) do
    p = path.normalize(p)
    exact[p] = true
    local d = path.dirname(p)
    while not above[d] do
      above[d] = true
      local up = path.dirname(d)
      if up == d then break end
      d = up
    end
  end
  for _, q in ipairs(b) do
    q = path.normalize(q)
    if exact[q] or above[q] then return true end -- q is one of a's, or above one
    local d = path.dirname(q)
    while true do -- one of a's is above q
      if exact[d] then return true end
      local up = path.dirname(d)
      if up == d then break end
      d = up
    end
  end
  return false
end

-- The run `tether undo` takes: `which` (an id), or the top of the stack: the newest run
-- that stopped part-way in its undo, else the newest with something to undo. A run named
-- by another (an apply's migration) goes with that one. Returns the run, and the newer
-- runs it is undone before that touched the same paths and are not undone (the ones a
-- --yes is asked for; none in a dry run, which undoes nothing), or nil, message, errno.
function M.pick(which, runs, broken)
  if which and which ~= "last" then
    local r, err, code = journal.find(which)
    if not r then return nil, err, code end
    local k = kind_of(r)
    if not k then return tether.fail("EINVAL", journal.file_of(which), "a run of an unknown kind") end
    runs = runs or M.history()
    for _, x in ipairs(runs) do if x.id == r.id then r = x end end
    local newer = {}
    for _, x in ipairs(runs) do
      if x.id > r.id and x.state ~= "undone" and x.state ~= "nothing" and not x.named_by and overlap(kind_of(x).paths(x), k.paths(r)) then
        newer[#newer + 1] = x
      end
    end
    return r, dry and {} or newer
  end
  if not runs then runs, broken = M.history() end
  local top
  for i = #runs, 1, -1 do
    local r = runs[i]
    if r.state == "undoing" and not r.named_by then top = r; break end
  end
  if not top then
    for i = #runs, 1, -1 do
      local r = runs[i]
      -- (a run that stopped part-way, or is at work, is on top of what is older: its
      -- undo rolls it back, or says it is at work; an older run is never undone past it)
      if (r.state == "done" or r.state == "open") and not r.named_by then top = r; break end
    end
  end
  -- A journal that cannot be read, newer than the run chosen, may be the newest run's:
  -- then the top of the stack is not known, and undoing an older run would be a guess.
  local newest_bad = broken and broken[#broken]
  if newest_bad and (not top or newest_bad.id > top.id) then
    return nil, newest_bad.message .. "; it may be the run meant: name a run id, or move that journal away", "EINVAL"
  end
  if not top then
    return tether.fail("ENOENT", journal.dir(), "nothing to undo: every run recorded there is undone or changed nothing")
  end
  return top, {}
end

-- The paths runs newer than r made again (a migration to another filesystem and its
-- undo copy trees; a plan's undo puts back a link, a directory, a file's own copy):
-- identities r recorded there no longer hold, through no change but tether's own.
function M.recopied_after(r, runs)
  local out = {}
  for _, x in ipairs(runs or M.history()) do
    local k = kind_of(x)
    if x.id > r.id and k and k.recopied then
      for _, p in ipairs(k.recopied(x)) do out[#out + 1] = p end
    end
  end
  return out
end

-- Undoes run r (as run.pick gave it) the way its kind says. opts: dry, force.
function M.undo(r, opts, runs)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  o.recopied = M.recopied_after(r, runs)
  o.dry = o.dry or dry
  return kind_of(r).undo(r, o)
end

return M
