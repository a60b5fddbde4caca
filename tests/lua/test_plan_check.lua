-- Plan:check reports the conflicts asking name by name would: a directory where many
-- names are asked about is listed once instead (View:list), and the answers must be the
-- same for every shape of directory and plan.
local path = require "tether.path"
local plan = require "tether.plan"
local T = {}

local function touch(p) assert(io.open(p, "w")):close() end

-- What asking tether.info about each name gives: the set of paths that conflict, for a
-- plan of symlink/mkdir actions at distinct new names (as REAL.free decides).
local function by_name(paths)
  local out = {}
  for _, p in ipairs(paths) do
    local i, _, code = tether.info(p)
    if i or (code ~= "ENOENT" and code ~= "ENOTDIR") then out[p] = true end
  end
  return out
end

local function conflicts_of(p)
  local out, n = {}, 0
  for _, c in ipairs(p:check()) do
    out[c.action.path] = c.message
    n = n + 1
  end
  return out, n
end

-- Fills d with what a planned name may meet: files, directories, links (dangling, to a
-- directory, in a loop), names with spaces, newlines and non-ASCII, a name that is a
-- prefix of another.
local MEET = { "file", "dir", "dangling", "todir", "self", "sp ace", "new\nline", "é", "m1", "m10" }
local function fill(d, which)
  for _, name in ipairs(which) do
    local p = path.join(d, name)
    if name == "dir" then assert(tether.mkdir(p))
    elseif name == "dangling" then assert(tether.symlink("nowhere", p))
    elseif name == "todir" then assert(tether.symlink(".", p))
    elseif name == "self" then -- a loop of two links
      assert(tether.symlink("self2", p)); assert(tether.symlink("self", path.join(d, "self2")))
    else touch(p) end
  end
end

-- A plan of n actions in d (symlinks, one in five a mkdir) at names l0.. and at every
-- name of MEET; returns the plan and the paths it asks about.
local function plan_in(d, n, roots)
  local p = plan.new("test", { roots = roots })
  local asked = {}
  local names = {}
  for i = 0, n - 1 do names[#names + 1] = "l" .. i end
  for _, m in ipairs(MEET) do names[#names + 1] = m end
  for i, name in ipairs(names) do
    local at = path.join(d, name)
    asked[#asked + 1] = at
    if i % 5 == 0 then p:add("mkdir", { path = at }) else p:add("symlink", { target = "t" .. i, path = at }) end
  end
  return p, asked
end

local function same_conflicts(p, asked, what)
  local want, got = by_name(asked), conflicts_of(p)
  for k in pairs(want) do
    if not got[k] then error(what .. ": " .. k .. " exists but was not reported", 2) end
  end
  for k, msg in pairs(got) do
    if not want[k] then error(what .. ": " .. k .. " reported (" .. msg .. ") but is free", 2) end
  end
end

function T.a_listed_directory_answers_as_each_name_would()
  need_symlinks()
  -- Below, at and above the number of names from which a directory is listed.
  for _, n in ipairs({ 5, 31, 32, 33, 200 }) do
    local d = tmpdir()
    fill(d, MEET)
    local p, asked = plan_in(d, n, { d })
    same_conflicts(p, asked, n .. " names")
    local _, count = conflicts_of(p)
    eq(count, #MEET, n .. " names: one conflict per name already there")
  end
end

function T.a_directory_that_holds_many_more_names_is_asked_name_by_name()
  need_symlinks()
  local d = tmpdir()
  for i = 0, 40 * 16 + 10 do touch(path.join(d, "other" .. i)) end
  fill(d, { "file", "l3", "l39" })
  local p, asked = plan_in(d, 40, { d })
  same_conflicts(p, asked, "a crowded directory")
end

function T.a_directory_reached_through_a_link_is_not_listed()
  need_symlinks()
  local d = tmpdir()
  assert(tether.mkdir(path.join(d, "real")))
  fill(path.join(d, "real"), MEET)
  assert(tether.symlink("real", path.join(d, "via")))
  -- As typed, the link is followed; under the run's roots it is a link on the way, not
  -- followed. Either way each name is answered as tether.info answers it there, never
  -- from a listing of "real".
  local p, asked = plan_in(path.join(d, "via"), 40, { d })
  same_conflicts(p, asked, "through a link, as typed")
  local _, count = conflicts_of(p)
  eq(count, #MEET, "as typed: the names in real conflict")
  local c <close> = assert(tether.raw.confine({ d }))
  same_conflicts(p, asked, "through a link, confined")
end

function T.what_the_plan_itself_does_first_counts()
  need_symlinks()
  local d = tmpdir()
  fill(d, MEET)
  local p = plan.new("test", { roots = { d } })
  -- The links already there are removed first: their names are free again for the plan.
  p:add("unlink", { path = path.join(d, "dangling"), target = "nowhere" })
  p:add("unlink", { path = path.join(d, "self"), target = "self2" })
  for i = 0, 39 do p:add("symlink", { target = "x", path = path.join(d, "l" .. i) }) end
  p:add("symlink", { target = "x", path = path.join(d, "dangling") })
  p:add("symlink", { target = "x", path = path.join(d, "self") })
  p:add("symlink", { target = "x", path = path.join(d, "file") })
  p:add("symlink", { target = "x", path = path.join(d, "m10") })
  p:add("symlink", { target = "y", path = path.join(d, "l7") }) -- made twice
  local got, n = conflicts_of(p)
  eq(n, 3, "conflicts")
  eq(got[path.join(d, "file")], "already exists")
  eq(got[path.join(d, "m10")], "already exists")
  eq(got[path.join(d, "l7")], "already exists")
end


-- The plan journal's schema decides, for every action, whether its path is absolute, in
-- normal form and inside a root, once per directory: for any sequence of paths it must
-- refuse the first that is not, exactly as the whole check of each path would.
function T.the_schema_places_each_path_as_the_whole_check_would()
  local journal = require "tether.journal"
  require "tether.plan" -- registers the schema
  local pool = { "/r/a", "/r/b", "/r", "/r/./a", "/r/../x", "/rx/a", "/r/a/..", "/r/a/.", "/r//a",
                 "/x/a", "/r/a/", "/", "/r/a/b/c", "/r/a/../a", "/r/.a", "/r/..a", "r/a", "/x", "/r/a b",
                 "/r/a\nb", "/r/..", "//r/a" }
  local function whole(p, roots)
    if not journal.check.abs(p) then return false end
    for _, r in ipairs(roots) do if path.inside(p, r.path) then return true end end
    return false
  end
  local rnd = 7
  local function pick(n) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % n + 1 end
  for _, rs in ipairs({ { "/r" }, { "/" }, { "/r/a" }, { "/x", "/r" } }) do
    local roots = {}
    for i, r in ipairs(rs) do roots[i] = { path = r, dev = 1, ino = i } end
    for _ = 1, 300 do
      local actions, want = {}, nil
      for i = 1, pick(5) do
        local p = pool[pick(#pool)]
        actions[i] = { op = "symlink", path = p, target = "t" }
        if not want and not whole(p, roots) then want = i end
      end
      local line, why = journal.schemas.plan({ { plan_kind = "test", roots = roots, actions = actions } })
      local got = line and tonumber(tostring(why):match("^action (%d+) names a path outside"))
      if got ~= want then
        local ps = {}
        for i, a in ipairs(actions) do ps[i] = string.format("%q", a.path) end
        error(string.format("roots %s, paths %s: refused action %s, want %s (%s)", table.concat(rs, " "),
          table.concat(ps, " "), tostring(got), tostring(want), tostring(why)))
      end
    end
  end
end

-- A symlink or mkdir action does not ask its precondition again right before it is
-- made (it makes a new name or fails); when it fails, the precondition says whether the
-- name was taken since the check (skipped, as before) or it failed for another reason.
function T.a_name_taken_after_the_check_is_skipped_and_a_failure_is_a_failure()
  need_symlinks()
  local d = tmpdir()
  local saved = tether.options.journal_dir
  tether.options.journal_dir = path.join(d, "journal")
  local w = path.join(d, "w")
  assert(tether.mkdir(w)); assert(tether.mkdir(path.join(w, "gone")))
  local function at(name) return path.join(w, name) end
  local p = plan.new("test", { roots = { w } })
  p:add("symlink", { target = "x", path = at("a") })
  p:add("symlink", { target = "x", path = at("b") }) -- a file there by then
  p:add("mkdir", { path = at("c") })                 -- a link there by then
  p:add("mkdir", { path = at("d") })                 -- a directory there by then
  p:add("symlink", { target = "x", path = at("gone/e") }) -- its directory removed by then
  p:add("symlink", { target = "x", path = at("f") })
  p:add("mkdir", { path = at("g") })
  local seen = {}
  local r, err = p:apply({ on_action = function(a, status, msg)
    seen[a.path] = { status = status, msg = msg }
    if a.path == at("a") then
      touch(at("b")); assert(tether.symlink("nowhere", at("c"))); assert(tether.mkdir(at("d")))
      assert(tether.rmdir(at("gone")))
    end
  end })
  tether.options.journal_dir = saved
  assert(r, err)
  eq(r.done, 3, "done"); eq(r.skipped, 3, "skipped"); eq(r.failed, 1, "failed")
  for _, name in ipairs({ "a", "f", "g" }) do eq(seen[at(name)].status, "done", name) end
  for _, name in ipairs({ "b", "c", "d" }) do
    eq(seen[at(name)].status, "skipped", name)
    eq(seen[at(name)].msg, at(name) .. ": already exists", name)
  end
  eq(seen[at("gone/e")].status, "failed")
  eq(tether.readlink(at("a")), "x"); eq(tether.readlink(at("f")), "x"); eq(tether.info(at("g")).type, "dir")
  eq(tether.info(at("b")).type, "file"); eq(tether.readlink(at("c")), "nowhere")
end

return T
