-- reverse a finished migration: move the data back and remove the link
local tether = require "tether"
local cli = require "tether.cli"
local migration = require "tether.migration"

local args = cli.parse({...}, {
  name = "undo",
  usage = "tether undo [ID|last]",
  summary = "Reverse a finished run from its journal (default: the newest one): a migration's data moves back to SRC and the link is removed.",
  description = [[
Refuses, and changes nothing, when things changed since: SRC must still be the link tether
made and DEST must still be there. The undo is journaled like the migration itself.
List runs with: tether migrate --status]],
  max = 1,
})

local p, err, code = migration.undo(args[1])
if not p then cli.exit(cli.FAILED, err) end
if tether.options.json then
  cli.json({ id = p.id, action = "undo", src = p.src, dest = p.dest })
else
  cli.say("undid %s: the data is back in %s and the link is gone", p.id, cli.quote(p.src))
end
return cli.OK
