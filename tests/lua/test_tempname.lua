-- tether.tempname against the grammar of core/tempname.h: every name made parses back to
-- what it was made of, every name C and the other modules make parses as what it is,
-- and any other string (every shape a user could plant) is "not tether's", never an error.
local tempname = require "tether.tempname"
local path = require "tether.path"
local T = {}

local function same(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k, v in pairs(b) do if a[k] ~= v then return false end end
  return true
end

-- The one property: a name parses to nil, or to fields that make exactly that name again.
local function canonical(name)
  local t = tempname.parse(name)
  if t then eq(tempname.make(t.kind, t), name, "made again from what it parsed to") end
  return t
end

function T.made_names_parse_back()
  math.randomseed(20)
  for _ = 1, 2000 do
    local pid, n = math.random(1, 2147483647), math.random(0, 4294967295)
    local name = tempname.make("temp", { pid = pid, n = n })
    assert(same(canonical(name), { kind = "temp", pid = pid, n = n }), name)
    for _, kind in ipairs({ "report", "doctor" }) do
      local t = canonical(tempname.make(kind, { pid = pid }))
      eq(t.kind, kind); eq(t.pid, pid)
    end
    for _, role in ipairs({ "tmp", "backup", "undo", "probe" }) do
      local of = string.char(math.random(33, 126)) .. "é x"
      if of:find("[/\\]") then of = "x" .. of:gsub("[/\\]", "") end -- no separator (Windows has two)
      local hint = tempname.hint()
      assert(same(canonical(tempname.make("migration", { role = role, hint = hint, name = of })),
        { kind = "migration", role = role, hint = hint, name = of }))
    end
  end
  eq(tempname.parse(tempname.make("report")).pid, tether.pid(), "this process by default")
  eq(tempname.make("temp", { pid = 2147483647, n = 4294967295 }), ".tether-2147483647-4294967295.tmp", "the largest")
end

function T.fields_outside_the_grammar_are_a_bug()
  raises(function() tempname.make("temp", { pid = 0 }) end, "no temp name")
  raises(function() tempname.make("temp", { pid = 2147483648 }) end, "no temp name")
  raises(function() tempname.make("lock", { name = "x" }) end, "no lock name") -- locks are kept in the journal directory
  raises(function() tempname.make("migration", { role = "tmp", hint = "ABCDEF", name = "x" }) end, "no migration name")
  raises(function() tempname.make("migration", { role = "copy", hint = "abcdef", name = "x" }) end, "no migration name")
  raises(function() tempname.make("nonsense") end, "no nonsense name")
end

-- Names a user could plant: huge, negative, empty and padded numbers, missing and extra
-- fields, other cases, unicode, control characters. None raises; none is tether's.
local NOT_OURS = {
  ".tether-99999999999999999999-1.tmp", ".tether-1-99999999999999999999.tmp", ".tether-2147483648-1.tmp",
  ".tether-1-4294967296.tmp", ".tether--1-1.tmp", ".tether-1--1.tmp", ".tether-0-1.tmp", ".tether-01-1.tmp",
  ".tether-1-01.tmp", ".tether-1-1.TMP", ".tether-1-1.tmp.x", ".tether-1-.tmp", ".tether--.tmp", ".tether-.tmp",
  ".tether-", ".tether", ".tether-1e3-1.tmp", ".tether-0x10-1.tmp", ".tether- 1-1.tmp", ".tether-١-1.tmp",
  ".tether-lock-", ".tether-lock-.", ".tether-lock-..", ".tether-LOCK-x", ".tether-lock",
  ".tether-probe-1-abcde", ".tether-probe-1-abcdefa", ".tether-probe-1-ABCDEF", ".tether-probe--abcdef",
  ".tether-probe-99999999999-abcdef", ".tether-probe-1-ghijkl", ".tether-probe-abcdef",
  ".tether-tmp-abcde-x", ".tether-tmp-abcdefx", ".tether-tmp-ABCDEF-x", ".tether-tmp-abcdef-", ".tether-tmp-abcdef-.",
  ".tether-tmp-abcdef-..", ".tether-copy-abcdef-x", ".tether-undo-abcdef_x",
  ".tether-report-abc123", ".tether-report-1-abc12", ".tether-report-1-abc1234", ".tether-report-1-ABC123",
  ".tether-report-1-abc-12", ".tether-report--1-abc123", ".tether-report-0-abc123", ".tether-report-1-äbc12",
  ".tether-doctor-XXXXXX", ".tether-doctor-99999999999999999999-abcdef", ".tether-doctor-1-abc12\n",
  ".tether-é-1.tmp", ".tether-1-1.tmp\0", "tether-1-1.tmp", "x.tether-1-1.tmp", "", ".tether-\xff\xfe-1.tmp",
}

function T.planted_names_are_not_ours()
  for _, name in ipairs(NOT_OURS) do
    eq(tempname.parse(name), nil, string.format("%q", name))
  end
  eq(tempname.parse(nil), nil); eq(tempname.parse(42), nil)
end

-- claims: the prefix only (what doctor lists as tether's, or as not tether's but looking so).
function T.claims_is_the_prefix()
  for _, name in ipairs(NOT_OURS) do eq(tempname.claims(name), name:sub(1, 8) == ".tether-", string.format("%q", name)) end
  eq(tempname.claims(tempname.make("temp", { pid = 1, n = 2 })), true)
  eq(tempname.claims(nil), false); eq(tempname.claims("tether-"), false)
end

-- Random strings over the grammar's own pieces: never an error, always canonical.
function T.random_shapes_never_raise()
  math.randomseed(2020)
  local pieces = { ".tether-", "-", ".tmp", "lock", "probe", "tmp", "backup", "undo", "report", "doctor", "0", "1",
                   "12", "99999999999", "-1", "abcdef", "abc12", "ABCDEF", "x", ".", "..", "é", "/", "\0", " ",
                   "tmp-abcdef-", "probe-012345-", "report-12-", "doctor-7-", "abc123", "12-0.tmp" }
  local parsed = 0
  for _ = 1, 20000 do
    local s = { ".tether-" }
    for i = 2, math.random(1, 7) do s[i] = pieces[math.random(#pieces)] end
    local name = table.concat(s)
    local ok, t = pcall(canonical, name)
    assert(ok, string.format("%q: %s", name, tostring(t)))
    if t then parsed = parsed + 1 end
  end
  assert(parsed > 20, "the generator reaches valid names too (" .. parsed .. ")")
end

function T.inside_a_tether_name()
  eq(tempname.inside("/a/.tether-tmp-abcdef-src/sub/file"), true)
  eq(tempname.inside("rel/.tether-12-3.tmp"), true)
  eq(tempname.inside(".tether-lock-x"), false, "no lock is made beside a folder any more")
  eq(tempname.inside("/a/.tether-notours/file"), false)
  eq(tempname.inside("/a/b/file.tether-1-1.tmp"), false)
  eq(tempname.inside("/"), false)
end

-- A pid a name holds is asked about only when a process can have it; pid_alive itself
-- says no for any other number (kill(2) would take a negative one for a group).
function T.pid_alive_of_numbers_no_process_has()
  for _, n in ipairs({ 0, -1, -tether.pid(), 2147483648, 1 << 40, math.maxinteger, math.mininteger }) do
    eq(tether.pid_alive(n), false, tostring(n))
  end
  eq(tether.pid_alive(tether.pid()), true)
end

-- What the C side makes (core/link.c's temporary names) parses as what it is.
function T.names_c_makes_parse()
  local last
  for _ = 1, 1000 do
    local name = tether.raw.temp_name()
    local t = tempname.parse(name)
    assert(t and t.kind == "temp" and t.pid == tether.pid(), name)
    if last then eq(t.n, last + 1, "the counter goes up") end
    last = t.n
  end
end

-- What the migration's planner makes (stdlib/tether/preflight.lua) parses with its roles.
function T.names_a_migration_plans_parse()
  local d = tmpdir()
  assert(tether.mkdir(d .. "/src")); assert(tether.mkdir(d .. "/to"))
  local p = assert(tether.migrate(d .. "/src", d .. "/to/dest", { dry = true }))
  local want = { tmp = { "tmp", "dest" }, backup = { "backup", "src" }, back_tmp = { "undo", "src" },
                 back_aside = { "backup", "dest" } }
  for k, w in pairs(want) do
    local t = tempname.parse(path.basename(p[k]))
    assert(t and t.kind == "migration" and t.role == w[1] and t.name == w[2] and t.hint == p.hint, k .. ": " .. p[k])
  end
end

-- box(): a private directory of the caller's, made in the directory given, with the
-- identities of both; refused in what is not a directory.
function T.box_is_private_and_named()
  local d = tmpdir()
  local box, id, dir_id = assert(tempname.box(d, "report"))
  eq(path.dirname(box), d)
  local t = tempname.parse(path.basename(box))
  eq(t.kind, "report"); eq(t.pid, tether.pid())
  local i, di = tether.info(box), tether.info(d)
  eq(i.ino, id.ino); eq(di.ino, dir_id.ino); eq(i.uid, tether.euid())
  if tether.platform ~= "windows" then eq(i.mode, 448, "mode 0700") end
  local _, err, code = tempname.box(d .. "/missing", "doctor")
  eq(code, "ENOENT"); eq(err, d .. "/missing: no such directory (ENOENT)")
  local f = assert(io.open(d .. "/file", "w")); f:close()
  _, err, code = tempname.box(d .. "/file", "doctor")
  eq(code, "ENOTDIR"); eq(err, d .. "/file: is not a directory (ENOTDIR)")
end

return T
