-- a guided tour: build a small tree in a temp dir, link it every way, inspect, clean up
local tether = require "tether"
local cli = require "tether.cli"
local path = require "tether.path"

local args = cli.parse({...}, {
  name = "demo",
  usage = "tether demo [--keep]",
  summary = "Create a sample tree under a temporary directory, make each kind of link the platform offers, show them, and remove everything again.",
  options = { { "keep", "leave the sample tree in place and print where it is" } },
  max = 0,
})

local root = assert(tether.mkdtemp())
local made = {}   -- every file and directory created, removed in reverse order at the end
local links = {}  -- every link made, by path, removed first
local function track(p) made[#made + 1] = p; return p end
local function write(p, text)
  local f = assert(io.open(track(p), "w")); f:write(text); f:close()
end

local ok, failure = pcall(function()
  cli.say("sample tree in %s", root)
  local games = track(path.join(root, "games"))
  assert(tether.mkdir(games))
  write(path.join(games, "save.dat"), "level 7\n")
  local drive = track(path.join(root, "new drive"))
  assert(tether.mkdir(drive))

  local steps = {
    { "symlink (absolute)", tether.symlink, games, path.join(root, "games-abs") },
    { "symlink (relative)", tether.symlink, games, path.join(drive, "games-rel"), { relative = true } },
    { "hard link", tether.hardlink, path.join(games, "save.dat"), path.join(root, "save-copy.dat") },
    { "broken symlink", tether.symlink, "missing-folder", path.join(root, "dangling") },
    { "junction", tether.junction, games, path.join(root, "games-junction") },
  }
  for _, s in ipairs(steps) do
    local name, make, target, at, opts = table.unpack(s)
    local done, err = make(target, at, opts)
    if done then
      links[#links + 1] = at
      cli.say("  made %-20s %s", name, path.relative(root, at))
    else
      cli.say("  skip %-20s %s", name, err)
    end
  end

  cli.say("\nwhat tether sees:")
  for _, at in ipairs(links) do
    local info = assert(tether.info(at))
    local line = string.format("  %-22s %-8s", path.relative(root, at), info.type)
    if info.status then
      line = line .. " -> " .. info.target .. "  [" .. info.status .. "]"
    elseif info.type == "file" and info.nlink > 1 then
      line = line .. " (" .. info.nlink .. " hard links)"
    end
    cli.say("%s", line)
  end

  -- Retarget the absolute link atomically, then show that unlinking keeps the target.
  assert(tether.replace(drive, path.join(root, "games-abs")))
  cli.say("\nreplaced games-abs -> %s atomically", tether.readlink(path.join(root, "games-abs")))
  assert(tether.unlink(table.remove(links, 1)))
  cli.say("unlinked games-abs; games/save.dat is still there: %s",
    tostring(tether.exists(path.join(games, "save.dat"))))
end)

if args.keep then
  cli.say("\nkept %s", root)
else
  for _, at in ipairs(links) do
    if tether.islink(at) then assert(tether.unlink(at)) else assert(os.remove(at)) end
  end
  for i = #made, 1, -1 do assert(os.remove(made[i])) end
  assert(os.remove(root))
  cli.say("\nremoved the sample tree")
end
if not ok then error(failure, 0) end
return cli.OK
