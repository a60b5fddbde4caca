-- tether.walk: the iterator, its options, lazy link fields and descriptor hygiene.
local path = require "tether.path"
local T = {}

local function fd_count()
  local n = 0
  for e in tether.walk("/proc/self/fd", { max_depth = 1 }) do
    if e.depth == 1 then n = n + 1 end
  end
  return n
end

local function touch(p) assert(io.open(p, "w")):close() end

local function sample()
  need_symlinks()
  local d = tmpdir()
  assert(tether.mkdir(path.join(d, "a/b"), { parents = true }))
  touch(path.join(d, "a/file"))
  assert(tether.symlink("../file", path.join(d, "a/b/ok")))
  assert(tether.symlink("nowhere", path.join(d, "a/broken")))
  assert(tether.symlink("/", path.join(d, "outside")))
  return d
end

function T.entries_have_the_basic_fields()
  local d = sample()
  local seen = {}
  for e in tether.walk(d) do
    seen[e.path] = e
    eq(type(e.name), "string"); eq(type(e.depth), "number"); eq(e.root, d)
  end
  eq(seen[d].depth, 0)
  eq(seen[d].type, "dir")
  eq(seen[path.join(d, "a/file")].type, "file")
  eq(seen[path.join(d, "a/b")].depth, 2)
  local ok = seen[path.join(d, "a/b/ok")]
  eq(ok.type, "symlink")
  -- link fields are filled in lazily, on first use
  eq(rawget(ok, "status"), nil)
  eq(ok.status, "ok"); eq(ok.target, "../file"); eq(ok.form, "relative"); eq(ok.escapes, false)
  eq(seen[path.join(d, "a/broken")].status, "broken")
  eq(seen[path.join(d, "outside")].escapes, true)
end

function T.links_only_classified_in_c()
  local d = sample()
  local n = 0
  for e in tether.walk(d, { links_only = true, classify = true }) do
    n = n + 1
    assert(rawget(e, "status"), "classified during the walk")
  end
  eq(n, 3)
end

function T.a_root_that_is_a_link_is_walked_and_classified()
  local d = sample()
  local root = path.join(d, "via")
  assert(tether.symlink("a", root))
  local seen = {}
  for e in tether.walk(root, { links_only = true, classify = true }) do seen[#seen + 1] = e end
  eq(#seen, 3)  -- the root link itself, a/b/ok, a/broken
  eq(seen[1].path, root); eq(seen[1].depth, 0); eq(seen[1].status, "ok"); eq(seen[1].target, "a")
end

function T.options()
  local d = sample()
  local n = 0
  for _ in tether.walk(d, { max_depth = 1 }) do n = n + 1 end
  eq(n, 3)  -- d, a, outside
  n = 0
  for e in tether.walk(d, { types = { "file" } }) do n = n + 1; eq(e.type, "file") end
  eq(n, 1)
  raises(function() tether.walk(d, { types = { "bogus" } }) end, "no type 'bogus'")
  raises(function() tether.walk(d, { max_depth = "x" }) end, "option 'max_depth' must be a number")
  raises(function() tether.walk(path.join(d, "missing")) end, "missing: no such file or directory %(ENOENT%)")
end

function T.stat_option_gives_the_numbers_of_info()
  local d = tmpdir()
  assert(tether.mkdir(path.join(d, "sub")))
  local f = assert(io.open(path.join(d, "sub/file"), "w")); f:write("12345"); f:close()
  local n = 0
  for e in tether.walk(d, { stat = true }) do
    n = n + 1
    local i = assert(tether.info(e.path))
    for _, k in ipairs { "size", "dev", "ino", "nlink", "mode", "uid", "gid", "mtime", "mtime_ns" } do
      eq(e[k], i[k], e.path .. " " .. k)
    end
  end
  eq(n, 3)
  for e in tether.walk(d) do eq(e.size, nil, "no numbers unless asked") end
end

function T.break_after_three_entries_releases_every_descriptor()
  local d = sample()
  for i = 1, 20 do assert(tether.mkdir(path.join(d, "a/b", "deep" .. i))) end
  local before = fd_count()
  local n = 0
  for _ in tether.walk(d) do
    n = n + 1
    if n == 3 then break end
  end
  eq(fd_count(), before, "descriptors after break")
  -- an error inside the loop closes the walker too
  pcall(function() for _ in tether.walk(d) do error("stop") end end)
  eq(fd_count(), before, "descriptors after an error")
end

function T.stats_and_progress()
  local d = sample()
  local calls = 0
  local it, _, _, w = tether.walk(d, { progress = function(s) calls = calls + 1; assert(s.entries) end })
  for _ in it, nil, nil, w do end
  local s = w:stats()
  eq(s.entries, 7); eq(s.links, 3); eq(s.dirs, 3)
end

function T.walk_names_a_bad_type()
  raises(function() tether.walk(".", { types = { "file", "bogus" } }) end, "types%[2%]: no type 'bogus'")
end

return T
