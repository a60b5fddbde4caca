-- tether.json: JSON for reports and journals. File names are bytes, not always UTF-8:
-- a byte that is not part of valid UTF-8 is written as "\udcXX" (a lone low surrogate,
-- as Python's surrogateescape does) and read back as that byte, so any name round-trips.
local M = {}

local ARRAY, OBJECT = {}, {}
-- Marks a table so an empty one encodes as [] or {} as intended.
function M.array(t) return setmetatable(t or {}, { __json = ARRAY }) end
function M.object(t) return setmetatable(t or {}, { __json = OBJECT }) end

M.null = setmetatable({}, { __tostring = function() return "null" end })

-- The codec is in C (journals and reports hold a record per file, and undo and history
-- read them back): it writes a byte that is not valid UTF-8 as "\udcXX" and reads it
-- back as that byte, and writes tables marked by array()/object() as such.
local c_encode, c_decode = require("tether")._json(ARRAY, OBJECT, M.null)

-- encode(value [, {indent = "  ", sort = false}]) -> string. Object keys are sorted
-- (stable output for people and tests) unless sort = false (journals, where speed counts).
-- Raises "json: ..." for a value JSON cannot hold (a function, a table inside itself).
function M.encode(v, opts)
  return c_encode(v, opts and opts.indent, not (opts and opts.sort == false))
end

-- decode(string [, {duplicates = true}]) -> value, with arrays and objects marked as
-- M.array()/M.object() and null as M.null; raises "json: WHAT in PLACE at byte N" on
-- malformed input (PLACE as links[2].path). A key given twice in one object is an error
-- (parsers disagree on which value counts, so a document that has one means two things);
-- with duplicates = true the last one is kept, as most parsers do.
function M.decode(text, opts)
  return c_decode(text, opts and opts.duplicates)
end

return M
