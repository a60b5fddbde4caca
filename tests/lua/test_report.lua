-- tether.report: a long list written as found, in each format, to a file replaced whole
-- only when the report is complete (or standard output). (The audit's use of it:
-- tests/e2e/test_audit*.sh.)
local report = require "tether.report"
local json = require "tether.json"
local T = {}

local read, write, names = read_file, write_file, names_in

-- Items of every shape a field can have: a comma, a quote, a newline, a byte that is not
-- UTF-8, a field that is not there, a boolean.
local ITEMS = {
  { path = "r/b", target = "x,y", status = "broken", depth = 1, flag = false },
  { path = "r/a", target = 'say "hi"\n', status = "ok", depth = 1, flag = true },
  { path = "r/d/\xff", target = "t", status = "loop", depth = 2, errno = "ELOOP" },
}

local function spec(format, extra)
  local s = {
    format = format, recipe = "test", list = "items", columns = { "path", "target", "flag", "errno" },
    line = function(i) return i.status .. " " .. i.path end,
    record = function(i) return { path = i.path, target = i.target, flag = i.flag, errno = i.errno } end,
  }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

-- Writes ITEMS in `format` to a new file in d; returns what the file holds.
local function written(d, format, extra, fields, text)
  local r = assert(report.open(d .. "/out", spec(format, extra)))
  for _, i in ipairs(ITEMS) do r:add(i, "r") end
  r:finish(fields or {}, text)
  assert(r:close())
  return read(d .. "/out")
end

function T.table_lines_then_the_summary()
  local d = tmpdir()
  eq(written(d, "table", nil, {}, "3 items"), "broken r/b\nok r/a\nloop r/d/\xff\n\n3 items\n")
  eq(written(d, "table"), "broken r/b\nok r/a\nloop r/d/\xff\n", "no summary: none written")
end

function T.csv_quotes_what_it_must()
  local d = tmpdir()
  eq(written(d, "csv"), 'path,target,flag,errno\nr/b,"x,y",false,\nr/a,"say ""hi""\n",true,\nr/d/\xff,t,,ELOOP\n')
end

function T.json_is_one_object_with_the_list_and_the_fields()
  local d = tmpdir()
  local text = written(d, "json", nil, { roots = json.array({ "r" }), summary = { n = 3 } })
  local doc = json.decode(text)
  eq(doc.recipe, "test"); eq(#doc.items, 3); eq(doc.roots[1], "r"); eq(doc.summary.n, 3)
  for i, item in ipairs(ITEMS) do
    eq(doc.items[i].path, item.path); eq(doc.items[i].target, item.target)
    eq(doc.items[i].flag, item.flag); eq(doc.items[i].errno, item.errno)
  end
  assert(text:find('^{\n  "recipe": "test",\n  "items": %[\n    {'), text)
  -- An empty list is still a list, and the fields follow it in key order.
  local r = assert(report.open(d .. "/empty", spec("json")))
  r:finish({ z = 1, a = json.array() })
  assert(r:close())
  eq(read(d .. "/empty"), '{\n  "recipe": "test",\n  "items": [],\n  "a": [],\n  "z": 1\n}\n')
end

function T.tree_shows_the_directories_that_lead_to_an_item()
  local d = tmpdir()
  eq(written(d, "tree"), 'r/\n  b -> x,y [broken]\n  a -> "say \\"hi\\"\\n" [ok]\n  d/\n    \xff -> t [loop]\n')
end

function T.items_are_written_as_they_come_unless_ordered()
  local d = tmpdir()
  local r = assert(report.open(d .. "/out", spec("table")))
  r:add(ITEMS[1])
  r.out.file:flush()
  eq(read(r.out.file_path), "broken r/b\n", "written before the report is complete")
  eq(read(d .. "/out"), nil, "FILE only once it is")
  r:finish({})
  assert(r:close())
  local by_path = { order = function(a, b) return a.path < b.path end }
  eq(written(d, "table", by_path), "ok r/a\nbroken r/b\nloop r/d/\xff\n")
  eq(written(d, "csv", by_path), 'path,target,flag,errno\nr/a,"say ""hi""\n",true,\nr/b,"x,y",false,\nr/d/\xff,t,,ELOOP\n')
end

-- Given up (an error, ^C) before it is closed: FILE as it was, nothing beside it.
function T.a_report_given_up_leaves_nothing()
  local d = tmpdir()
  write(d .. "/out", "old")
  local ok = pcall(function()
    local r <close> = assert(report.open(d .. "/out", spec("json")))
    r:add(ITEMS[1])
    error("interrupted")
  end)
  eq(ok, false)
  eq(read(d .. "/out"), "old")
  eq(names(d), "out")
  eq(written(d, "table"):sub(1, 10), "broken r/b", "replaced once complete")
  eq(names(d), "out")
end

function T.a_file_that_cannot_be_written_is_named_and_nothing_is_made()
  local d = tmpdir()
  local r, err, code = report.open(d, spec("csv"))
  eq(r, nil); eq(code, "EISDIR"); eq(err, d .. ": is a directory; name the file to write (EISDIR)")
  eq(names(d), "")
  raises(function() report.open(d .. "/x", spec("xml")) end, "no format 'xml'")
  eq(names(d), "")
end

return T
