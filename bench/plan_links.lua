-- A plan of N symlinks in one directory, applied (journaled, checked, verified): the
-- path every bulk recipe (farm, retarget, relativize, prune, unlink) takes, without a
-- recipe's own planning. For bench/versus.sh and bench/plans.sh.
-- usage: tether run plan_links.lua DIR N
local dir, n = arg[1], tonumber(arg[2])
local tether = tether or require "tether"
local p = require("tether.plan").new("bench", { roots = { dir } })
for i = 0, n - 1 do
  p:add("symlink", { target = "target-" .. i, path = dir .. "/l" .. i })
end
local r = assert(p:apply())
assert(r.done == n, "plan_links: " .. tostring(r.done) .. " of " .. n .. " done")
