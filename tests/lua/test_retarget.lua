-- tether.retarget: where a link points once the place it points into moved; the one
-- answer of tether retarget and tether apply's retarget items.
local retarget = require "tether.retarget"
local path = require "tether.path"
local T = {}

function T.moved_is_by_path_not_by_string()
  eq(retarget.moved("/mnt/old/x/y", "/mnt/old", "/srv/new"), "/srv/new/x/y")
  eq(retarget.moved("/mnt/old", "/mnt/old", "/srv/new"), "/srv/new")
  eq(retarget.moved("/mnt//old/./x", "/mnt/old", "/srv/new"), "/srv/new/x")
  eq(retarget.moved("/mnt/old/a/../b", "/mnt/old", "/srv/new"), "/srv/new/b")
  eq(retarget.moved("/mnt/old2/x", "/mnt/old", "/srv/new"), nil)
  eq(retarget.moved("/mnt/old/../x", "/mnt/old", "/srv/new"), nil)
  eq(retarget.moved("old/x", "/mnt/old", "/srv/new"), nil) -- relative: not by itself
  eq(retarget.moved(nil, "/mnt/old", "/srv/new"), nil)
  eq(retarget.moved("/anything", "/", "/srv"), "/srv/anything")
end

-- A real tree: old/ and new/ with the same names, links in links/ of every kind.
local function tree()
  need_symlinks()
  local d = tether.realpath(tmpdir())
  for _, p in ipairs({ "old/a", "new/a", "links/deep" }) do assert(tether.mkdir(path.join(d, p), { parents = true })) end
  return d, path.join(d, "old"), path.join(d, "new")
end

function T.absolute_links_are_moved_when_the_new_place_exists()
  local d, old, new = tree()
  local l = path.join(d, "links/abs")
  eq(select(1, retarget.new_target(l, old .. "/a", old, new)), new .. "/a")
  local stored, why, would = retarget.new_target(l, old .. "/gone", old, new)
  eq(stored, false); eq(why, "missing"); eq(would, new .. "/gone")
  eq(retarget.new_target(l, old .. "/gone", old, new, { allow_broken = true }), new .. "/gone")
  eq(retarget.new_target(l, path.join(d, "elsewhere"), old, new), nil)
end

function T.relative_links_are_left_counted_or_retargeted_relative()
  local d, old, new = tree()
  local l = path.join(d, "links/deep/rel")
  eq(retarget.new_target(l, "../../old/a", old, new), nil) -- not looked at
  local stored, why, would = retarget.new_target(l, "../../old/a", old, new, { count_relative = true })
  eq(stored, false); eq(why, "relative"); eq(would, new .. "/a")
  local s, led = retarget.new_target(l, "../../old/a", old, new, { relative = true })
  eq(s, "../../new/a")
  eq(led, new .. "/a")
  -- Where it leads is taken from the link's real directory: through a linked parent too.
  assert(tether.symlink(path.join(d, "links/deep"), path.join(d, "via")))
  eq(retarget.new_target(path.join(d, "via/rel"), "../../old/a", old, new, { relative = true }), "../../new/a")
  eq(retarget.new_target(l, "../../elsewhere", old, new, { relative = true }), nil)
end

function T.what_exists_is_looked_up_once_per_place()
  local d, old, new = tree()
  local cache = {}
  eq(retarget.new_target(path.join(d, "links/x"), old .. "/b", old, new, { cache = cache }), false)
  assert(tether.mkdir(new .. "/b"))
  -- The cache says what was seen: a run decides each place once.
  eq(retarget.new_target(path.join(d, "links/y"), old .. "/b", old, new, { cache = cache }), false)
  eq(retarget.new_target(path.join(d, "links/y"), old .. "/b", old, new), new .. "/b")
end

return T
