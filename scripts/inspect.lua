-- show what a path is: kind, stored target, resolved target and link status
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local json = require "tether.json"
local chain = require "tether.chain"

local args = cli.parse({...}, {
  name = "inspect",
  usage = "tether inspect [--chain] [--json] [-v] PATH...",
  summary = "Describe each PATH without following it: its kind, and for a link the stored target, where it resolves and whether it is ok.",
  description = [[
Status of a link: ok, broken (the target does not exist), loop (the links go round in a
circle), denied (a directory on the way cannot be searched, so it cannot be told), error.
With --chain, every hop on the way, as namei(1) shows them: each link met while resolving
PATH name by name (a link in a parent directory too), what it stores, and the status of
that hop; then where the chain ends. Exit code 1 when a path is missing or a link is not
ok.]],
  options = { { "chain", "show every link on the way to where PATH leads, with the status of each hop" } },
  min = 1, paths = true, readonly = true,
})

local verbose = tether.options.verbose
local problems = 0
local reports = json.array()

-- The hops of --chain, as text.
local function say_chain(hops, ends)
  cli.say("  chain:")
  for k, h in ipairs(hops) do
    cli.say("    %d. %s%s  (%s%s)", k, cli.quote(h.path), h.target and (" -> " .. cli.quote(h.target)) or "",
      h.status or "ok", h.errno and (", " .. h.errno) or "")
  end
  if ends then cli.say("  ends at: %s (%s)", cli.quote(ends.path), ends.type) end
end

for _, p in ipairs(args) do
  local info, err, code, e = tether.info(p)
  if not info then
    cli.warn(err)
    problems = problems + 1
    local r = { path = p, type = code == "ENOENT" and "missing" or "unknown", error = e }
    if args.chain then r.chain, r.ends = chain.resolve(p) end
    reports[#reports + 1] = r
    if args.chain and not tether.options.json then cli.say("%s", cli.quote(p)); say_chain(r.chain, r.ends) end
  else
    info.errno, info.status_error = info.status_error, nil
    info.mode = string.format("%04o", info.mode) -- as stat(1) shows it (docs/json.md)
    if info.status then info.resolved = tether.realpath(p) end
    if args.chain then info.chain, info.ends = chain.resolve(p) end
    if info.status and info.status ~= "ok" then problems = problems + 1 end
    reports[#reports + 1] = info
    if not tether.options.json then
      cli.say("%s", cli.quote(p))
      cli.say("  kind:     %s", info.type)
      if info.status then
        cli.say("  target:   %s", info.target and cli.quote(info.target) or "(unreadable)")
        cli.say("  resolves: %s", info.resolved and cli.quote(info.resolved) or "-")
        cli.say("  status:   %s%s", info.status, info.errno and (" (" .. info.errno .. ")") or "")
      end
      if args.chain then say_chain(info.chain, info.ends) end
      if verbose or not info.status then
        cli.say("  size %d, mode %s, links %d, uid %d, gid %d, dev %d, inode %d", info.size,
          info.mode, info.nlink, info.uid, info.gid, info.dev, info.ino)
        cli.say("  modified: %s", os.date("!%Y-%m-%dT%H:%M:%SZ", info.mtime))
      end
    end
  end
end

if tether.options.json then cli.json({ paths = reports }) end
return run.code((problems > 0) and "problems" or "nothing")
