-- list past runs (migrations and bulk plans) with what they changed
local tether = require "tether"
local cli = require "tether.cli"
local journal = require "tether.journal"
local migration = require "tether.migration"
local plan = require "tether.plan"

cli.parse({...}, {
  name = "history",
  usage = "tether history [--json]",
  summary = "List every journaled run, oldest first: its id, what it was, what it changed and whether it was undone. A journal that cannot be read is named on stderr (exit 1); every other run is listed all the same.",
  max = 0,
})

local rows = {}
local runs, broken = journal.list()
for _, b in ipairs(broken) do cli.warn(b.message) end
for _, r in ipairs(runs) do
  if r.kind == "migrate" then
    local st = migration.state(r.records)
    rows[#rows + 1] = { id = r.id, kind = "migrate", state = st.ended or "unfinished",
                        what = st.plan.src .. " -> " .. st.plan.dest }
  elseif r.kind == "plan" then
    local s = plan.summary(r)
    local roots = table.concat(s.roots, " ")
    rows[#rows + 1] = { id = r.id, kind = s.kind, state = s.undone and "undone" or "applied",
                        what = string.format("%d changed, %d skipped, %d failed  %s", s.done, s.skipped, s.failed, roots) }
  end
end
-- A journal that cannot be read is a problem found (exit 1); the others are listed.
local code = #broken > 0 and cli.PROBLEMS or cli.OK
if tether.options.json then cli.json(rows) return code end
if #rows == 0 then cli.say("no %sruns recorded in %s", #broken > 0 and "other " or "", journal.dir()) end
for _, r in ipairs(rows) do cli.say("%s  %-11s %-9s %s", r.id, r.kind, r.state, cli.quote(r.what)) end
return code
