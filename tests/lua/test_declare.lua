-- tether.declare on real files and trees: a declaration read (Lua in a sandbox, or
-- JSON), its shape checked with every problem named, and planned against the machine
-- so that what it asks is reached and a second plan has nothing to do.
local declare = require "tether.declare"
local path = require "tether.path"
local T = {}

local function write(p, text) local f = assert(io.open(p, "w")); f:write(text); f:close() end

local function load_text(d, name, text)
  write(path.join(d, name), text)
  return declare.load(path.join(d, name))
end

function T.load_reads_lua_in_a_sandbox_and_json()
  local d = tether.realpath(tmpdir())
  local decl, base = assert(load_text(d, "a.lua", 'return { dirs = { "x", tether.hostname() and "y" } }'))
  eq(base, d)
  eq(decl.dirs[2], "y")
  decl = assert(load_text(d, "g.lua", 'dirs = { "z" }')) -- items as globals
  eq(decl.dirs[1], "z")
  decl = assert(load_text(d, "j.json", '{"dirs": ["j"]}'))
  eq(decl.dirs[1], "j")
  -- Reading the machine is allowed, changing it is not.
  local ok, msg = load_text(d, "bad.lua", 'tether.symlink("a", "b") return {}')
  eq(ok, nil)
  assert(msg:find("symlink", 1, true), msg)
  eq(tether.exists(path.join(d, "b")), false)
  ok, msg = load_text(d, "twice.lua", 'return {\n  dirs = { "a" },\n  dirs = { "b" },\n}')
  eq(ok, nil)
  eq(msg, path.join(d, "twice.lua") .. ":3: 'dirs' is given twice in one table (also on line 2); Lua would keep only the last")
  ok, msg = load_text(d, "bad.json", '{"dirs": [}')
  eq(ok, nil)
  assert(msg:find("not valid JSON", 1, true), msg)
  local unreadable
  ok, msg, unreadable = declare.load(path.join(d, "missing.lua"))
  eq(ok, nil); eq(unreadable, true)
end

function T.items_name_every_problem_with_the_nearest_word()
  local items, problems = declare.items({
    link = {},
    links = { { path = "a" }, { path = "b", target = "t", tpye = "hard" }, { path = "c", target = "t", type = "soft" } },
    dirs = { 42 },
  }, "/base")
  eq(items, nil)
  local all = table.concat(problems, "\n")
  for _, want in ipairs({ "unknown item kind 'link' (did you mean links?)", "links[1]: target is missing",
                          "links[2]: unknown field 'tpye' (did you mean type?)",
                          "links[3]: type must be symlink, hard or junction, not 'soft'", "dirs[1]: must be a table or a path" }) do
    assert(all:find(want, 1, true), "missing: " .. want .. "\nin:\n" .. all)
  end
  items, problems = declare.items({ dirs = { "x", "/abs/x" }, absent = { "x" } }, "/base")
  eq(items, nil)
  assert(problems[1]:find("[/\\]base[/\\]x is declared twice"), problems[1])
end

function T.items_take_paths_from_the_declarations_directory_and_home()
  local home = os.getenv("HOME")
  local items = assert(declare.items({ dirs = { "rel/x", "/abs" }, links = { { path = "~/l", target = "t" } } }, "/base"))
  eq(path.normalize(items[1].path), "/base/rel/x") -- (Windows: either separator)
  eq(path.normalize(items[2].path), "/abs")
  if home then eq(items[3].path, path.normalize(home .. "/l")) end
  eq(items[3].target, "t") -- a link's target is stored as written
end

-- A tree to declare things in.
local function tree()
  need_symlinks()
  local d = tether.realpath(tmpdir())
  write(path.join(d, "file"), "data")
  assert(tether.mkdir(path.join(d, "old/sub"), { parents = true }))
  assert(tether.mkdir(path.join(d, "new/sub"), { parents = true }))
  assert(tether.symlink(path.join(d, "old/sub"), path.join(d, "into-old")))
  assert(tether.symlink("file", path.join(d, "stale")))
  return d
end

local function pending(items)
  local n = 0
  for _, it in ipairs(items) do if it.status == "changed" then n = n + 1 end end
  return n
end

function T.a_declaration_is_reached_and_a_second_plan_has_nothing_to_do()
  local d = tree()
  local decl = {
    dirs = { "made/deep" },
    links = { { path = "made/deep/l", target = "../../file" }, { path = "h", target = "file", type = "hard" } },
    absent = { "stale" },
    retarget = { { under = ".", from = path.join(d, "old"), to = path.join(d, "new") } },
  }
  local items = assert(declare.items(decl, d))
  local p, migrations, conflicts = declare.plan(items)
  eq(conflicts, 0)
  eq(#migrations, 0)
  eq(pending(items), 5)
  local result = assert(p:apply({ checked = true }))
  eq(result.failed + result.skipped, 0)
  eq(tether.info(path.join(d, "made/deep")).type, "dir")
  eq(tether.readlink(path.join(d, "made/deep/l")), "../../file")
  eq(tether.info(path.join(d, "h")).ino, tether.info(path.join(d, "file")).ino)
  eq(tether.exists(path.join(d, "stale")), false)
  eq(tether.readlink(path.join(d, "into-old")), path.join(d, "new/sub"))
  local again = assert(declare.items(decl, d))
  local p2, _, c2 = declare.plan(again)
  eq(c2, 0)
  eq(pending(again), 0)
  eq(#p2.actions, 0)
end

function T.what_cannot_be_reached_is_a_conflict_and_nothing_is_planned_for_it()
  local d = tree()
  local items = assert(declare.items({
    links = { { path = "file", target = "elsewhere" }, { path = "j", target = "new", type = "junction" } },
    absent = { "new" },
  }, d))
  local _, _, conflicts = declare.plan(items)
  eq(conflicts, 3)
  local by = {}
  for _, it in ipairs(items) do by[it.name] = it end
  eq(by["links[1]"].status, "failed")
  assert(by["links[1]"].conflict:find("a real file", 1, true), by["links[1]"].conflict)
  if tether.platform ~= "windows" then
    eq(by["links[2]"].conflict, path.join(d, "j") .. ": junctions are an NTFS feature, not available here (ENOTSUP)")
  end
  assert(by["absent[1]"].conflict:find("real data is never removed", 1, true), by["absent[1]"].conflict)
  eq(tether.info(path.join(d, "file")).type, "file")
end

return T
