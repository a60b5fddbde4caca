-- A walk of a tree from Lua, an empty loop: the walker alone, or (classify) the walker
-- and the classifier of every link, as audit uses them. For bench/versus.sh.
-- usage: tether run walk_loop.lua ROOT [classify]
local root, classify = arg[1], arg[2] == "classify"
local tether = tether or require "tether"
local n = 0
for _ in tether.walk(root, { classify = classify }) do n = n + 1 end
assert(n > 0, "walk_loop: nothing walked")
