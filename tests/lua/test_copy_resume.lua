-- tether.copytree's records and its resume, against a model: random trees (files, empty
-- files, directories, links, hard-link groups), a copy stopped after a random file, then
-- random changes on either side (a source changed in its ctime alone, deleted, made a
-- directory; a copy written to; a file planted in the copy; a source directory removed);
-- the resume keeps exactly the records the model trusts and the result verifies by
-- content. And the journal's schema refuses every malformed record of copied files.
local path = require "tether.path"
local journal = require "tether.journal"
require "tether.migration" -- (registers the schema)
local T = {}

local function write(p, s)
  local f = assert(io.open(p, "wb")); f:write(s); f:close()
end

local function random_tree(rnd, root)
  local dirs, files = { "" }, {}
  assert(tether.mkdir(root))
  for i = 1, rnd(20, 60) do
    local parent = dirs[rnd(#dirs)]
    local rel = parent == "" and ("n" .. i) or (parent .. "/n" .. i)
    local kind = rnd(10)
    if kind <= 2 then
      assert(tether.mkdir(path.join(root, rel)))
      dirs[#dirs + 1] = rel
    elseif kind == 3 and #files > 0 then
      assert(tether.symlink(files[rnd(#files)], path.join(root, rel)))
    elseif kind == 4 and #files > 0 then
      assert(tether.hardlink(path.join(root, files[rnd(#files)]), path.join(root, rel)))
    else
      write(path.join(root, rel), string.rep(string.char(65 + i % 26), rnd(0, 3000)))
      files[#files + 1] = rel
    end
  end
  return files, dirs
end

-- The records a resume may trust (the rule, modelled): the newest of each path whose
-- source and copy are what it says, the source unchanged since before its batch began.
-- copytree's text of a batch as lists {path, 14 numbers}, and back.
local NUMBERS = "^" .. ("(%-?%d+) "):rep(14) .. "(%d+):"
local function records_of(text)
  local out, at = {}, 1
  while at <= #text do
    local r = { text:find(NUMBERS, at) }
    assert(r[1], "not a record at byte " .. at)
    local len = tonumber(r[17])
    local f = { text:sub(r[2] + 1, r[2] + len) }
    for k = 3, 16 do f[#f + 1] = math.tointeger(r[k]) end
    assert(text:sub(r[2] + len + 1, r[2] + len + 1) == "\n")
    out[#out + 1], at = f, r[2] + len + 2
  end
  return out
end
local function with_path(f, p)
  local g = table.move(f, 1, 15, 1, {})
  g[1] = p
  return g
end
local function text_of(list)
  local lines = {}
  for i, f in ipairs(list) do
    lines[i] = table.concat(f, " ", 2, 15) .. " " .. #f[1] .. ":" .. f[1] .. "\n"
  end
  return table.concat(lines)
end

local function trusted(records, src, copy)
  local newest = {}
  for _, f in ipairs(records) do newest[f[1]] = f end
  local n = 0
  for rel, f in pairs(newest) do
    local s, c = tether.info(path.join(src, rel)), tether.info(path.join(copy, rel))
    if s and c and s.type == "file" and c.type == "file" and s.nlink == 1 and c.nlink == 1
      and s.dev == f[2] and s.ino == f[3] and s.size == f[4] and s.mtime == f[5] and s.mtime_ns == f[6]
      and s.ctime == f[7] and s.ctime_ns == f[8] and c.dev == f[9] and c.ino == f[10] and c.size == f[11]
      and c.ctime == f[12] and c.ctime_ns == f[13] and (f[7] < f[14] or (f[7] == f[14] and f[8] < f[15])) then
      n = n + 1
    end
  end
  return n
end

function T.a_resumed_copy_keeps_exactly_what_its_records_vouch_for()
  need_symlinks() -- (the random trees hold links)
  for seed = 1, 12 do
    math.randomseed(seed)
    local rnd = math.random
    local d = tmpdir()
    local src, copy = path.join(d, "src"), path.join(d, "copy")
    local files, dirs = random_tree(rnd, src)
    tether.sleep(0.02) -- the tree's ctimes before the copy's first batch begins
    local records, stop_at = {}, rnd(1, #files + 2)
    local function copied(batch) for _, f in ipairs(records_of(batch)) do records[#records + 1] = f end end
    assert(tether.mkdir(copy))
    pcall(tether.copytree, src, copy, { into = true, batch_files = rnd(1, 4), copied = copied,
      progress = function(p) if p.files >= stop_at then error("killed") end end })
    -- Changes on either side, each to a file chosen at random.
    for _ = 1, rnd(0, 4) do
      local rel, what = files[rnd(#files)], rnd(6)
      local s, c = path.join(src, rel), path.join(copy, rel)
      local i = tether.info(s)
      if i and i.type == "file" then
        if what == 1 then -- ctime alone: same size, the mtime put back
          write(s, string.rep("z", i.size))
          os.execute(string.format("touch -d @%d.%09d '%s'", i.mtime, i.mtime_ns, s))
        elseif what == 2 then
          os.remove(s)
        elseif what == 3 then
          os.remove(s); assert(tether.mkdir(s))
        elseif what == 4 and tether.info(c) and tether.info(c).type == "file" then
          local f = assert(io.open(c, "r+b")); f:write("!"); f:close()
        elseif what == 5 and tether.info(path.dirname(c)) then
          write(c .. "-planted", "planted")
        end
      end
      if what == 6 and #dirs > 1 then -- a source directory goes, with what it held
        local dir = path.join(src, dirs[rnd(2, #dirs)])
        if tether.info(dir) then assert(tether.rmtree(dir)) end
      end
    end
    local want = trusted(records, src, copy)
    local more = {}
    local st = assert(tether.copytree(src, copy, { into = true, resume = true, keep = { text_of(records) },
      copied = function(batch) for _, f in ipairs(records_of(batch)) do more[#more + 1] = f end end }))
    eq(st.kept, want, "seed " .. seed .. ": files kept")
    assert(tether.verifytree(src, copy, { hash = true }))
    assert(tether.verifytree(copy, src, { names_only = true })) -- nothing more in the copy
    eq(#more + st.kept <= st.files, true, "seed " .. seed .. ": a kept file is not recorded again")
  end
end

function T.a_partial_copy_that_is_a_link_or_misses_its_records_keeps_nothing()
  local d = tmpdir()
  local src, copy = path.join(d, "src"), path.join(d, "copy")
  assert(tether.mkdir(src))
  for i = 1, 5 do write(path.join(src, "f" .. i), ("x"):rep(i * 10)) end
  tether.sleep(0.02)
  local records = {}
  assert(tether.mkdir(copy))
  assert(tether.copytree(src, copy, { into = true, batch_files = 1,
    copied = function(b) for _, f in ipairs(records_of(b)) do records[#records + 1] = f end end }))
  eq(#records, 5)
  -- A record whose path names another file of the copy vouches for nothing.
  local swapped = {}
  for i, f in ipairs(records) do
    swapped[i] = with_path(f, records[i % #records + 1][1])
  end
  local st = assert(tether.copytree(src, copy, { into = true, resume = true, keep = { text_of(swapped) } }))
  eq(st.kept, 0)
  assert(tether.verifytree(src, copy, { hash = true }))
  raises(function() tether.copytree(src, copy, { resume = true }) end, "resume needs into")
  raises(function() tether.copytree(src, copy, { into = true, resume = true, keep = { "1 2 3:f1\n" } }) end,
    "not a record of copied files")
end

function T.the_schema_refuses_malformed_records_of_copied_files()
  local header = { event = "start", kind = "migrate", plan = nil }
  -- Only the records after the first matter here: take a valid plan from a dry run.
  local d = tmpdir()
  assert(tether.mkdir(path.join(d, "src")))
  local p = assert(tether.migrate(path.join(d, "src"), path.join(d, "dest"), { dry = true }))
  header.plan = p
  local check = journal.schemas.migrate
  local good = { "a/f", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 }
  local function rec(files, seq) return { event = "copied", seq = seq or "migrate", files = files } end
  eq(check({ header, rec(text_of({ good })) }), nil)
  eq(check({ header, rec(text_of({ good, good }), "undo") }), nil)
  eq(check({ header, rec(text_of({ with_path(good, "a\nb:c d 1") })) }), nil) -- any name's bytes
  local line = text_of({ good })
  local bad = {
    rec(""), rec({ line }), rec(line, "other"), rec(line:sub(1, -2)), rec(line .. "x"),
    rec((line:gsub("^1 ", "x "))), rec((line:gsub("^1 ", "1.5 "))), rec((line:gsub("^1 ", "1 2 "))),
    rec((line:gsub("^1 2 ", "1 "))), rec((line:gsub("3:a/f", "4:a/f"))), rec((line:gsub("3:a/f", "2:a/f"))),
    rec((line:gsub("3:a/f", "0:"))), rec((line:gsub("3:a/f", "4:/a/f"))), rec((line:gsub("^1 ", "99999999999999999999 "))),
    rec(7),
  }
  for i, r in ipairs(bad) do
    local line, why = check({ header, r })
    eq(line, 2, "malformed record " .. i)
    eq(why, "a malformed record of copied files", "malformed record " .. i)
  end
end

return T
