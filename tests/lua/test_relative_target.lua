-- tether.relative_target against the kernel: a relative target must lead where the
-- absolute one does, now and after every link its path goes through is pointed
-- elsewhere (a deploy repointing `current`): the form changes, never what it follows.
local T = {}

local LEAVES = {}
for _, x in ipairs({ "a", "b", "c" }) do
  for _, y in ipairs({ "a", "b", "c" }) do LEAVES[#LEAVES + 1] = x .. "/" .. y end
end

local function pick(t) return t[math.random(#t)] end

-- A tree of real directories, each leaf with a file f naming it; links l1..l4 under
-- real/links pointing at leaves (some absolute, some relative), l5 a link to l1; alias a
-- link to real (never repointed: it stands for a link the link's own directory is under).
local function sandbox()
  local d = tether.realpath(tmpdir())
  for _, leaf in ipairs(LEAVES) do
    assert(tether.mkdir(d .. "/real/" .. leaf, { parents = true }))
    local f = assert(io.open(d .. "/real/" .. leaf .. "/f", "w")); f:write(leaf); f:close()
  end
  assert(tether.mkdir(d .. "/real/links"))
  assert(tether.symlink(d .. "/real", d .. "/alias"))
  return d
end

local function point(d, k)
  local leaf = pick(LEAVES)
  local target = k % 2 == 0 and ("../" .. leaf) or (d .. "/real/" .. leaf)
  os.remove(d .. "/real/links/l" .. k)
  assert(tether.symlink(target, d .. "/real/links/l" .. k))
end

-- A spelling of a path to a file f: through a link, a plain directory, "..", the alias.
local function target_of(d)
  local base = pick({ d .. "/real", d .. "/alias", d .. "/real/a/..", d .. "/real/links/../b/.." })
  local how = math.random(3)
  if how == 1 then return base .. "/links/l" .. math.random(5) .. "/f" end
  if how == 2 then return base .. "/" .. pick(LEAVES) .. "/f" end
  return base .. "/links/l" .. math.random(5) .. "/../" .. pick({ "a", "b", "c" }) .. "/f"
end

function T.relative_target_follows_the_same_links()
  need_symlinks()
  math.randomseed(7)
  local d = sandbox()
  local cases = 0
  for _ = 1, 300 do
    for k = 1, 4 do point(d, k) end
    os.remove(d .. "/real/links/l5")
    assert(tether.symlink("l1", d .. "/real/links/l5"))
    local target = target_of(d)
    local link = pick({ d .. "/real", d .. "/alias" }) .. "/" .. pick(LEAVES) .. "/lnk"
    local rel = assert(tether.relative_target(target, link))
    eq(rel:sub(1, 1) ~= "/", true, target .. " from " .. link .. ": " .. rel .. " is relative")
    assert(tether.symlink(rel, link))
    local function same(when)
      eq(tether.realpath(link), tether.realpath(target), when .. ": " .. link .. " -> " .. rel .. " for " .. target)
    end
    same("at once")
    for k = 1, 4 do point(d, k) end
    same("once the links it goes through point elsewhere")
    os.remove(link)
    cases = cases + 1
  end
  eq(cases, 300)
end

-- The README's deploy: a link to current/app.conf stays one through current.
function T.relative_target_keeps_current()
  need_symlinks()
  local d = sandbox()
  assert(tether.symlink("a/a", d .. "/real/current"))
  eq(tether.relative_target(d .. "/real/current/f", d .. "/real/b/c/lnk"), "../../current/f")
  eq(tether.relative_target(d .. "/alias/current/f", d .. "/alias/b/lnk"), "../current/f")
  eq(tether.relative_target(d .. "/real/b/../current/f", d .. "/real/c/lnk"), "../current/f")
end

return T
