-- remove links (symbolic links, junctions), never what they point to
local tether = require "tether"
local cli = require "tether.cli"
local plan = require "tether.plan"

local args = cli.parse({...}, {
  name = "unlink",
  usage = "tether unlink [--hard] PATH...",
  summary = "Remove each link PATH; the files and directories links point to are never touched.",
  description = [[
Every PATH is checked first; if any is not a link (a real file or directory, or missing),
all problems are reported and nothing is removed. A trailing '/' still names the link.
Removing links is journaled: tether undo puts them back (not for --hard).]],
  options = {
    { "hard", "also remove one name of a file that has other hard links" },
  },
  min = 1,
})

local opts = { hard = args.hard }
local problems = 0
for _, path in ipairs(args) do
  local ok, err = tether.unlink(path, { hard = args.hard, dry = true })
  if not ok then cli.warn(err); problems = problems + 1 end
end
if problems > 0 then
  cli.exit(cli.FAILED, string.format("nothing removed: %d of %d path(s) cannot be unlinked", problems, #args))
end

-- Links are removed through a journaled plan (tether undo puts them back); one name of
-- a multiply-linked file (--hard) has no link target to record, so it is removed directly.
-- The run's roots are the directories that hold the links: each is reached as typed, and
-- the link is then removed through that directory's handle.
local parents = {}
for i, p in ipairs(args) do parents[i] = require("tether.path").dirname((p:gsub("(.)/+$", "%1"))) end
local done, p = {}, plan.new("unlink", { roots = parents })
for _, path in ipairs(args) do
  local info = tether.info(path)
  if info.target and not tether.dryrun() then
    p:add("unlink", { path = path:gsub("(.)/+$", "%1"), target = info.target })
  elseif not tether.dryrun() then
    local ok, err = tether.unlink(path, opts)
    if not ok then
      cli.warn(err)
      cli.exit(cli.PARTIAL, string.format("stopped after removing %d of %d link(s)", #done, #args))
    end
  end
  done[#done + 1] = path
end
local result = #p.actions > 0 and p:apply() or {}
if result.failed and result.failed + result.skipped > 0 then
  cli.exit(cli.PARTIAL, string.format("%d of %d link(s) could not be removed; see tether history",
    result.failed + result.skipped, #args))
end
for _, path in ipairs(done) do cli.say("%s%s", tether.dryrun() and "would remove " or "removed ", cli.quote(path)) end
if tether.options.json then
  cli.json({ action = tether.dryrun() and "would remove" or "removed", paths = done })
end
return cli.OK
