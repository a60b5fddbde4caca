-- show what a path is: kind, stored target, resolved target and link status
local tether = require "tether"
local cli = require "tether.cli"
local json = require "tether.json"

local args = cli.parse({...}, {
  name = "inspect",
  usage = "tether inspect [--json] [-v] PATH...",
  summary = "Describe each PATH without following it: its kind, and for a link the stored target, where it resolves and whether it is ok.",
  description = [[
Status of a link: ok, broken (the target does not exist), loop (the links go round in a
circle), denied (a directory on the way cannot be searched, so it cannot be told), error.
Exit code 1 when a path is missing or a link is not ok.]],
  min = 1, paths = true, readonly = true,
})

local verbose = tether.options.verbose
local problems = 0
local reports = json.array()

for _, path in ipairs(args) do
  local info, err, code, e = tether.info(path)
  if not info then
    cli.warn(err)
    problems = problems + 1
    reports[#reports + 1] = { path = path, type = code == "ENOENT" and "missing" or "unknown", error = e }
  else
    info.errno, info.status_error = info.status_error, nil
    if info.status then info.resolved = tether.realpath(path) end
    if info.status and info.status ~= "ok" then problems = problems + 1 end
    reports[#reports + 1] = info
    if not tether.options.json then
      cli.say("%s", cli.quote(path))
      cli.say("  kind:     %s", info.type)
      if info.status then
        cli.say("  target:   %s", info.target and cli.quote(info.target) or "(unreadable)")
        cli.say("  resolves: %s", info.resolved and cli.quote(info.resolved) or "-")
        cli.say("  status:   %s%s", info.status, info.errno and (" (" .. info.errno .. ")") or "")
      end
      if verbose or not info.status then
        cli.say("  size %d, mode %04o, links %d, uid %d, gid %d, dev %d, inode %d", info.size,
          info.mode, info.nlink, info.uid, info.gid, info.dev, info.ino)
        cli.say("  modified: %s", os.date("!%Y-%m-%dT%H:%M:%SZ", info.mtime))
      end
    end
  end
end

if tether.options.json then cli.json({ paths = reports }) end
return problems > 0 and cli.PROBLEMS or cli.OK
