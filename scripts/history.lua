-- list past runs (migrations and bulk plans) with what they changed; prune old journals
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local journal = require "tether.journal"
require "tether.migration" -- registers the summary of a migration's journal
require "tether.plan" -- and of a plan's

local args = cli.parse({...}, {
  name = "history",
  usage = "tether history [--json] | tether history --prune [--keep N] [--older-than AGE] [-n]",
  summary = "List every journaled run, oldest first: its id, what it was, what it changed and whether it was undone. A journal that cannot be read is named on stderr (exit 1); every other run is listed all the same.",
  description = [[
--prune removes the journals of old runs: those beyond the newest N (--keep N), those
older than AGE (--older-than AGE: 12h, 7d, 2w; a plain number is days), or, given both,
those that are both. A run
whose journal is removed can no longer be undone. A migration that stopped part-way is
never pruned: its journal is what finishes it (see tether migrate --status); nor is a
run that a kept run names (the migrations of a tether apply that is kept: undoing the
apply reverses them too), nor, while a journal cannot be read, a migration older than it
(it may be an apply that names it). -n lists what would go.]],
  options = {
    { "prune", "remove the journals of old runs (with --keep and/or --older-than)" },
    { "keep", "with --prune: keep the newest N runs", value = "N", number = true },
    { "older-than", "with --prune: remove runs older than AGE (30s, 15m, 12h, 7d, 2w; a plain number is days)",
      value = "AGE", duration = "d" },
  },
  max = 0,
})

if (args.keep or args.older_than) and not args.prune then
  cli.exit("usage", "history: --keep and --older-than go with --prune")
end
if args.prune and not (args.keep or args.older_than) then
  cli.exit("usage", "history: --prune needs --keep N or --older-than AGE (or both)")
end
local keep, older = args.keep, args.older_than -- a count; seconds

local runs, broken = journal.list()
local unreadable = {}
for _, b in ipairs(broken) do
  cli.warn(b.message)
  unreadable[#unreadable + 1] = { path = b.file, message = b.message, errno = "EINVAL" }
end
local rows, open = {}, {}
for i, r in ipairs(runs) do rows[i], open[i] = journal.summary(r) end
-- A journal that cannot be read is a problem found (exit 1); the others are listed.
local code = run.code(#broken > 0 and "problems" or "nothing")

-- What --prune removes: the runs beyond the newest `keep` and older than `older` seconds,
-- but never a migration that stopped part-way (its journal is what finishes it), nor a
-- run that a run which stays names (an apply's migrations: its undo reverses them), nor
-- a migration that a journal which cannot be read may name (what it names is not known).
-- Returns the rows to remove, how many stopped part-way, and the ids kept for each reason.
local function to_remove()
  local now, going, kept_open = os.time(), {}, 0
  for i, row in ipairs(rows) do
    local beyond = not keep or i <= #rows - keep
    local old = not older or (row.time or now) <= now - older
    if beyond and old then
      if open[i] then kept_open = kept_open + 1 else going[row.id] = true end
    end
  end
  local named, maybe, more = {}, {}, true
  for _, b in ipairs(broken) do
    for _, r in ipairs(runs) do
      if going[r.id] and r.kind == "migrate" and r.id < b.id then going[r.id], maybe[#maybe + 1] = nil, r.id end
    end
  end
  while more do -- and what those name in turn
    more = false
    for _, r in ipairs(runs) do
      for _, id in ipairs(not going[r.id] and journal.named(r) or {}) do
        if going[id] then going[id], named[#named + 1], more = nil, id, true end
      end
    end
  end
  local removed = {}
  for _, row in ipairs(rows) do
    if going[row.id] then removed[#removed + 1] = row end
  end
  return removed, kept_open, named, maybe
end

if args.prune then
  local removed, kept_open, named, maybe = to_remove()
  local gone = {}
  for _, row in ipairs(removed) do
    local ok, err, _, e = journal.remove(row.id) -- in a dry run, checked only
    if not ok then
      if tether.options.json then cli.json({ changed = #gone > 0, removed = gone, error = e or { message = err }, exit = run.code(run.outcome(#gone > 0, 1)) }) end
      cli.exit(run.outcome(#gone > 0, 1), err)
    end
    gone[#gone + 1] = row
    if not tether.options.json then cli.say("%s%s  %-10s %s", run.would("removed ", "would remove "), row.id, row.recipe, row.state) end
  end
  if tether.options.json then cli.json({ changed = run.changed(#gone), removed = gone }) return code end
  local function kept(list, why)
    return #list > 0 and string.format("; kept %d %s (%s)", #list, why, table.concat(list, ", ")) or ""
  end
  cli.say("%s %s in %s%s%s%s", run.would("removed", "would remove"), cli.count(#gone, "journal"), journal.dir(),
    kept_open > 0 and string.format("; kept %d of runs that stopped part-way", kept_open) or "",
    kept(named, "that a run which stays names"), kept(maybe, "that a journal which cannot be read may name"))
  return code
end

if tether.options.json then cli.json({ runs = rows, unreadable = unreadable }) return code end
if #rows == 0 then cli.say("no %sruns recorded in %s", #broken > 0 and "other " or "", journal.dir()) end
for _, r in ipairs(rows) do
  local what
  if r.recipe == "migrate" then what = cli.quote(r.src) .. " -> " .. cli.quote(r.dest)
  else
    local roots = {}
    for i, root in ipairs(r.roots) do roots[i] = cli.quote(root) end
    what = string.format("%d changed, %d skipped, %d failed  %s", r.done, r.skipped, r.failed, table.concat(roots, " "))
  end
  local words = {} -- what the user ran, when the journal keeps it
  for i, w in ipairs(r.command or {}) do words[i] = cli.quote(w) end
  if #words > 0 then what = what .. "  (tether " .. table.concat(words, " ") .. ")" end
  cli.say("%s  %-11s %-11s %s", r.id, r.recipe, r.state, what)
end
return code
