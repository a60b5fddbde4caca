-- Runs Lua test files under the real tether binary: tether run run.lua FILE...
-- Each file returns a table of named test functions; they run in name order with the
-- helpers below as globals. Ends with "N passed, N failed" and a non-zero exit on failure.
local passed, failed, skipped, skip_why = 0, 0, 0, nil

local function show(v)
  return type(v) == "string" and string.format("%q", v) or tostring(v)
end

function eq(got, want, what)
  if got ~= want then
    error(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", show(want), show(got)), 2)
  end
end

function raises(fn, pattern, ...)
  local ok, err = pcall(fn, ...)
  if ok then error("expected an error", 2) end
  if pattern and not tostring(err):find(pattern) then
    error("error '" .. tostring(err) .. "' does not match '" .. pattern .. "'", 2)
  end
end

-- A fresh temporary directory removed after the test (links removed, never followed).
local cleanups = {}
function tmpdir()
  local d = assert(tether.mkdtemp())
  cleanups[#cleanups + 1] = d
  return d
end

local function rmtree(d) assert(tether.rmtree(d)) end

-- A file's bytes (nil when it is not there), a file written with s, the names in d
-- (sorted, space-separated: what is left beside a file).
function read_file(p)
  local f = io.open(p, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function write_file(p, s)
  local f = assert(io.open(p, "wb"))
  f:write(s)
  f:close()
end

function names_in(d)
  local out = {}
  for e in tether.walk(d, { max_depth = 1 }) do if e.depth == 1 then out[#out + 1] = e.name end end
  table.sort(out)
  return table.concat(out, " ")
end

-- Tests that need symbolic links call need_symlinks(): where the system cannot make
-- them (Windows without Developer Mode, Wine) they are counted as skipped, with why.
local SKIP = {}
local symlinks_work, symlinks_why
function need_symlinks()
  if symlinks_work == nil then
    local d = assert(tether.mkdtemp())
    symlinks_work, symlinks_why = tether.symlink("x", d .. "/probe")
    rmtree(d)
  end
  if not symlinks_work then skip(symlinks_why) end
end

-- A test that cannot run here (it needs what this system lacks) says why and is counted
-- as skipped.
function skip(why) error(setmetatable({ why = why }, SKIP), 0) end

for _, file in ipairs(arg) do
  local tests = assert(dofile(file))
  local names = {}
  for name in pairs(tests) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    -- Each test's journals in a directory of its own, removed after it: never among the
    -- runs of whoever runs the tests.
    tether.options.journal_dir = tmpdir() .. "/journal"
    local ok, err = xpcall(tests[name], debug.traceback)
    tether.options.journal_dir = nil
    for i = #cleanups, 1, -1 do rmtree(cleanups[i]); cleanups[i] = nil end
    if ok then
      passed = passed + 1
    elseif getmetatable(err) == SKIP then
      skipped, skip_why = skipped + 1, err.why
    else
      failed = failed + 1
      io.stderr:write(string.format("FAIL %s: %s\n%s\n", file:match("[^/]*$"), name, err))
    end
  end
end
if skipped > 0 then io.stderr:write(string.format("skipped %d test(s); the last because: %s\n", skipped, skip_why)) end
require("tether.run").plans = {} -- the plans the tests applied are theirs, not a script's to report
print(string.format("%d passed, %d failed%s", passed, failed, skipped > 0 and (", " .. skipped .. " skipped") or ""))
return failed == 0 and 0 or 1
