-- tether.dedupe: which files are the same (and may be linked), and the plan that links
-- them, on real files in a temporary directory.
local dedupe = require "tether.dedupe"
local plan = require "tether.plan"
local path = require "tether.path"
local T = {}

local function write(p, text, mode)
  local f = assert(io.open(p, "wb")); f:write(text); f:close()
  if mode then os.execute(string.format("chmod %o '%s'", mode, p)) end
end

-- The sets found under d, as sorted lists of names relative to d.
local function sets_under(d, opts)
  local found = dedupe.finder(opts)
  for e in tether.walk(d, { types = { "file" }, stat = true }) do found:add(e) end
  local sets = assert(found:sets())
  local out = {}
  for i, set in ipairs(sets) do
    local names = {}
    for k, f in ipairs(set) do names[k] = f.path:sub(#d + 2) end
    out[i] = table.concat(names, " ")
  end
  return table.concat(out, " | "), found, sets
end

local function touch(p, t)
  if not os.execute(string.format("touch -d @%d '%s' 2>/dev/null", t, p)) then skip("no touch(1) here to set file times") end
end

function T.same_bytes_are_one_set_and_the_rest_is_not()
  local d = tmpdir()
  for _, n in ipairs({ "a", "b", "c" }) do write(path.join(d, n), "same content\n") end
  write(path.join(d, "other"), "same content?\n") -- same size, other bytes
  write(path.join(d, "short"), "x")
  write(path.join(d, "empty"), "")
  write(path.join(d, "empty2"), "")
  for _, n in ipairs({ "a", "b", "c", "other" }) do touch(path.join(d, n), 1700000000) end
  local sets, found = sets_under(d)
  eq(sets, "a b c")
  eq(found.scanned, 7)
  eq(#found.unreadable, 0)
end

function T.what_must_match_to_link()
  local d = tmpdir()
  write(path.join(d, "a"), "content\n", 420)
  write(path.join(d, "b"), "content\n", 420)
  write(path.join(d, "mode"), "content\n", 384) -- 0600: another mode
  write(path.join(d, "time"), "content\n", 420)
  for _, n in ipairs({ "a", "b", "mode" }) do touch(path.join(d, n), 1700000000) end
  touch(path.join(d, "time"), 1600000000)
  eq((sets_under(d)), "a b")
  eq((sets_under(d, { ignore_mtime = true })), "a b time")
  eq((sets_under(d, { min_size = 9 })), "")
end

function T.another_name_of_one_file_is_no_candidate_and_the_most_linked_is_kept()
  local d = tmpdir()
  write(path.join(d, "z"), "data\n")
  assert(tether.hardlink(path.join(d, "z"), path.join(d, "z2")))
  write(path.join(d, "a"), "data\n")
  for _, n in ipairs({ "z", "a" }) do touch(path.join(d, n), 1700000000) end
  local sets = sets_under(d)
  -- z has two names: it is kept (first), whichever of its names the walk met first.
  assert(sets == "z a" or sets == "z2 a", sets)
end

function T.tethers_own_temporary_names_are_left_out()
  local d = tmpdir()
  write(path.join(d, "a"), "data\n")
  write(path.join(d, ".tether-12345-1.tmp"), "data\n")
  write(path.join(d, ".tether-notours"), "data\n") -- looks like one, is the user's
  for _, n in ipairs({ "a", ".tether-12345-1.tmp", ".tether-notours" }) do touch(path.join(d, n), 1700000000) end
  eq((sets_under(d)), ".tether-notours a")
end

function T.a_group_larger_than_64_is_split_and_joined_again()
  local d = tmpdir()
  for i = 1, 70 do write(path.join(d, string.format("s%03d", i)), "0123456789\n") end
  for i = 1, 5 do write(path.join(d, string.format("t%03d", i)), "abcdefghij\n") end
  write(path.join(d, "u"), "ABCDEFGHIJ\n")
  for e in tether.walk(d, { types = { "file" } }) do if e.depth == 1 then touch(e.path, 1700000000) end end
  local _, found, sets = sets_under(d)
  eq(#sets, 2)
  eq(#sets[1], 70)
  eq(#sets[2], 5)
  eq(sets[1][1].path, path.join(d, "s001"))
  assert(found.compared > 0)
end

function T.the_plan_links_each_copy_to_the_kept_file()
  local d = tmpdir()
  for _, n in ipairs({ "a", "b", "c" }) do write(path.join(d, n), "twelve bytes") end
  for _, n in ipairs({ "a", "b", "c" }) do touch(path.join(d, n), 1700000000) end
  local _, _, sets = sets_under(d)
  local p = plan.new("dedupe", { roots = { d } })
  local saved, duplicates = dedupe.plan(p, sets)
  eq(saved, 24)
  eq(duplicates, 2)
  eq(#p.actions, 2)
  eq(p.actions[1].existing, path.join(d, "a"))
  eq(p.actions[1].path, path.join(d, "b"))
  eq(p.actions[1].expect.ctime ~= nil, true)          -- a copy: checked with its ctime
  eq(p.actions[1].expect_existing.ctime, nil)         -- the kept file: not (links change it)
  eq(#p:check(), 0)
  local result = assert(p:apply({ journal = false }))
  eq(result.done, 2)
  eq(tether.info(path.join(d, "c")).ino, tether.info(path.join(d, "a")).ino)
  eq(tether.info(path.join(d, "a")).nlink, 3)
end

return T
