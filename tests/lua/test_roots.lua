-- tether.cli.fold_roots: the roots a user gave, folded by identity into what is walked,
-- each once, in the order given.
local cli = require "tether.cli"
local path = require "tether.path"
local T = {}

-- The folded roots as "path:tree:self" strings, for one comparison.
local function folded(paths, opts)
  local out = {}
  for i, r in ipairs(cli.fold_roots(paths, opts)) do
    out[i] = r.path .. ":" .. (r.tree and "tree" or "-") .. ":" .. (r.self and "self" or "-")
  end
  return table.concat(out, " ")
end

local function mkdirs(...)
  for _, d in ipairs({ ... }) do assert(tether.mkdir(d, { parents = true })) end
end

local function write(p, text)
  local f = assert(io.open(p, "w"))
  f:write(text)
  f:close()
end

function T.one_directory_in_every_spelling_is_walked_once()
  local d = tmpdir()
  mkdirs(d .. "/t/sub")
  local t = d .. "/t"
  local rel = path.relative(assert(tether.realpath(".")), assert(tether.realpath(t)))
  eq(folded({ t, t .. "/", t .. "/.", t .. "/sub/..", rel, rel .. "/./", t .. "/sub" }), t .. ":tree:self")
  eq(folded({ t .. "/sub", rel, t }), rel .. ":tree:self", "a root inside a later one")
  eq(cli.fold_roots({ t .. "/sub", t }).paths[1], t)
  eq(#cli.fold_roots({ t, t }).paths, 1)
end

function T.distinct_roots_keep_the_order_given()
  local d = tmpdir()
  mkdirs(d .. "/a/x", d .. "/b")
  eq(folded({ d .. "/b", d .. "/a", d .. "/b/", d .. "/a/x" }), d .. "/b:tree:self " .. d .. "/a:tree:self")
end

function T.the_top_and_its_parents_fold_what_is_below()
  local d = tmpdir()
  if tether.platform ~= "windows" then
    eq(folded({ d, "/", d .. "/" }), "/:tree:self")
  end
  mkdirs(d .. "/a/b")
  eq(folded({ d .. "/a/b", d .. "/a/b/..", d .. "/a/b/../.." }), d .. "/a/b/../..:tree:self")
end

function T.a_link_to_a_root_stands_for_that_directory()
  need_symlinks()
  local d = tmpdir()
  mkdirs(d .. "/t/sub")
  local t, l = d .. "/t", d .. "/l"
  assert(tether.symlink("t", l))
  -- The link first: it is walked into (not looked at itself, as find -H takes it), and t
  -- is the same directory.
  eq(folded({ l, t, l .. "/sub" }), l .. ":tree:-")
  -- t first: the link adds nothing.
  eq(folded({ t, l, l .. "/" }), t .. ":tree:self")
  -- A link inside the tree to the tree's top: nothing of it is left to walk.
  assert(tether.symlink(".", t .. "/self"))
  eq(folded({ t, t .. "/self" }), t .. ":tree:self")
  eq(folded({ t .. "/self", t }), t .. "/self:tree:-", "its own entry is inside what it leads to")
  -- Through a linked parent.
  assert(tether.symlink(".", d .. "/here"))
  eq(folded({ d .. "/here/t/sub", t }), t .. ":tree:self")
end

function T.a_link_elsewhere_inside_a_root_is_walked_into_but_not_seen_twice()
  need_symlinks()
  local d = tmpdir()
  mkdirs(d .. "/t", d .. "/other")
  assert(tether.symlink("../other", d .. "/t/out"))
  eq(folded({ d .. "/t", d .. "/t/out" }), d .. "/t:tree:self " .. d .. "/t/out:tree:-")
end

function T.files_and_dangling_links_given_directly()
  need_symlinks()
  local d = tmpdir()
  mkdirs(d .. "/t")
  write(d .. "/t/f", "x")
  assert(tether.symlink("nowhere", d .. "/t/broken"))
  local t = d .. "/t"
  eq(folded({ t .. "/broken", t .. "/./broken", t .. "/broken/", t .. "/f" }), t .. "/broken:-:self " .. t .. "/f:-:self")
  eq(folded({ t .. "/broken", t, t .. "/f" }), t .. ":tree:self", "inside a root given later")
end

function T.objects_are_links_never_trees()
  need_symlinks()
  local d = tmpdir()
  mkdirs(d .. "/t")
  assert(tether.symlink("t", d .. "/l"))
  assert(tether.symlink("y", d .. "/t/x"))
  local opts = { objects = true }
  eq(folded({ d .. "/l", d .. "/l/", d .. "/t" }, opts), d .. "/l:-:self " .. d .. "/t:-:self")
  eq(folded({ d .. "/t/x", d .. "/l/x", d .. "/t/./x", d .. "/t/missing", d .. "/t/missing" }, opts),
    d .. "/t/x:-:self " .. d .. "/t/missing:-:self")
end

return T
