-- tether.chain: every link met resolving a path name by name (inspect --chain), on real
-- trees, and where it ends checked against the kernel (tether.realpath).
local chain = require "tether.chain"
local path = require "tether.path"
local T = {}

local function tree()
  need_symlinks()
  local d = tether.realpath(tmpdir())
  assert(tether.mkdir(path.join(d, "real/sub"), { parents = true }))
  local f = assert(io.open(path.join(d, "real/sub/file"), "w")); f:write("x"); f:close()
  return d
end

local function hop_paths(hops)
  local out = {}
  for i, h in ipairs(hops) do out[i] = h.path .. (h.target and ("->" .. h.target) or "") .. ":" .. tostring(h.status) end
  return table.concat(out, " ")
end

function T.plain_path_has_no_hops_and_ends_where_the_kernel_does()
  local d = tree()
  local hops, ends = chain.resolve(path.join(d, "real/./sub/../sub/file"))
  eq(#hops, 0)
  eq(ends.path, path.join(d, "real/sub/file"))
  eq(ends.type, "file")
end

function T.links_in_parents_and_at_the_end_each_a_hop()
  local d = tree()
  assert(tether.symlink("real", path.join(d, "r")))                    -- relative, in a parent
  assert(tether.symlink(path.join(d, "real/sub"), path.join(d, "abs"))) -- absolute
  assert(tether.symlink("../abs/file", path.join(d, "real/last")))     -- the last name, through another
  local p = path.join(d, "r/last")
  local hops, ends = chain.resolve(p)
  eq(hop_paths(hops), path.join(d, "r") .. "->real:ok " .. path.join(d, "real/last") .. "->../abs/file:ok " ..
    path.join(d, "abs") .. "->" .. path.join(d, "real/sub") .. ":ok")
  eq(ends.path, tether.realpath(p))
  eq(ends.type, "file")
end

function T.a_relative_path_starts_here()
  local here = assert(tether.absolute("."))
  local hops, ends = chain.resolve(".")
  eq(#hops, 0)
  eq(ends.path, here)
  eq(ends.type, "dir")
  hops, ends = chain.resolve("no-such-name-here/x")
  eq(ends, nil)
  eq(hop_paths(hops), path.join(here, "no-such-name-here") .. ":broken")
end

function T.each_way_a_chain_stops()
  local d = tree()
  assert(tether.symlink("gone", path.join(d, "dangling")))
  assert(tether.symlink("loop2", path.join(d, "loop1")))
  assert(tether.symlink("loop1", path.join(d, "loop2")))
  local hops, ends = chain.resolve(path.join(d, "dangling/x"))
  eq(ends, nil)
  eq(hops[#hops].path, path.join(d, "gone"))
  eq(hops[#hops].status, "broken")
  eq(hops[#hops].errno, "ENOENT")
  hops, ends = chain.resolve(path.join(d, "loop1"))
  eq(ends, nil)
  eq(hops[#hops].status, "loop")
  eq(hops[#hops].errno, "ELOOP")
  hops, ends = chain.resolve(path.join(d, "real/sub/file/below"))
  eq(ends, nil)
  eq(hops[#hops].path, path.join(d, "real/sub/file"))
  eq(hops[#hops].errno, "ENOTDIR")
end

function T.a_long_chain_is_cut_at_the_kernels_limit()
  local d = tree()
  for i = 1, chain.MAX_HOPS + 5 do
    assert(tether.symlink("l" .. (i + 1), path.join(d, "l" .. i)))
  end
  local f = assert(io.open(path.join(d, "l" .. (chain.MAX_HOPS + 6)), "w")); f:close()
  local hops, ends = chain.resolve(path.join(d, "l1"))
  eq(ends, nil)
  eq(#hops, chain.MAX_HOPS + 1)
  eq(hops[#hops].status, "loop")
end

function T.dot_dot_from_the_root_stays_at_the_root()
  local hops, ends = chain.resolve("/../../")
  eq(#hops, 0)
  eq(ends.path, "/")
  eq(ends.type, "dir")
end

return T
