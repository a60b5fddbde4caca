-- tether.json: encoding reports and reading them back, odd file names included.
local json = require "tether.json"
local T = {}

function T.scalars()
  eq(json.encode(1), "1")
  eq(json.encode(1.5), "1.5")
  eq(json.encode(true), "true")
  eq(json.encode(nil), "null")
  eq(json.encode("a\"b\\c\n\t\1"), [["a\"b\\c\n\t\u0001"]])
end

function T.tables_sorted_and_marked()
  eq(json.encode({ b = 1, a = { 1, 2 } }), [[{"a":[1,2],"b":1}]])
  eq(json.encode(json.array()), "[]")
  eq(json.encode({}), "{}")
  eq(json.encode({ x = json.array() }, { indent = "  " }), '{\n  "x": []\n}')
  raises(function() json.encode({ [true] = 1 }) end, "keys must be strings")
  local t = {}; t.self = t
  raises(function() json.encode(t) end, "contains itself")
end

function T.names_round_trip()
  local names = { "plain", "with space", "new\nline", "-dash", "caf\xc3\xa9", "\xff\xfe raw",
                  "\xe2\x82", "tab\there", "\x7f" }
  local text = json.encode(names)
  assert(not text:find("[\0-\31]"), "control characters must be escaped")
  eq(utf8.len(text) ~= nil, true, "output is valid UTF-8")
  local back = json.decode(text)
  eq(#back, #names)
  for i, n in ipairs(names) do eq(back[i], n, "name " .. i) end
end

function T.edges()
  -- Sparse integer keys make an object; keys sort bytewise, shorter first.
  eq(json.encode({ [1] = "a", [3] = "c" }), [[{"1":"a","3":"c"}]])
  eq(json.encode({ ab = 1, b = 2, a = 3, B = 4 }), [[{"B":4,"a":3,"ab":1,"b":2}]])
  eq(json.encode(0 / 0), "null")
  eq(json.encode(math.huge), "null")
  eq(json.encode(math.mininteger), tostring(math.mininteger))
  eq(json.encode(0.1), "0.10000000000000001")
  eq(json.encode(json.null), "null")
  eq(json.encode(json.object({ 1, 2 })), [[{"1":1,"2":2}]])
  raises(function() json.encode({ f = print }) end, "cannot encode a function")
  -- Not UTF-8: an overlong form, a surrogate, a code point above U+10FFFF, a cut-off
  -- sequence: each byte escaped on its own.
  eq(json.encode("\xc0\x80"), [["\udcc0\udc80"]])
  eq(json.encode("\xed\xa0\x80"), [["\udced\udca0\udc80"]])
  eq(json.encode("\xf4\x90\x80\x80"), [["\udcf4\udc90\udc80\udc80"]])
  eq(json.encode("a\xe2\x82"), [["a\udce2\udc82"]])
  eq(json.encode("\xf0\x9f\x98\x80\x7f\0"), '"\xf0\x9f\x98\x80\\u007f\\u0000"')
  local unsorted = json.decode(json.encode({ x = 1, y = { z = "w" } }, { sort = false }))
  eq(unsorted.y.z, "w")
  local deep = {}
  for _ = 1, 100 do deep = { deep } end
  eq(#json.encode(deep), 202)
end

function T.decode()
  local v = json.decode(' {"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "\\u00e9\\ud83d\\ude00"}} ')
  eq(v.a[1], 1); eq(v.a[2], 2.5); eq(v.a[3], -300.0); eq(v.a[4], true); eq(v.a[6], json.null)
  eq(v.b.c, "é😀")
  raises(function() json.decode("[1,") end, "at byte")
  raises(function() json.decode('{"a" 1}') end, "expected ':'")
  raises(function() json.decode("[] x") end, "trailing")
  raises(function() json.decode('"abc') end, "unterminated string at byte")
  raises(function() json.decode('"\\q"') end, "bad escape")
  raises(function() json.decode('"\\u12"') end, "bad \\u escape")
  raises(function() json.decode("-") end, "bad number")
  raises(function() json.decode("") end, "unexpected end")
  raises(function() json.decode("nul") end, "unexpected 'n'")
  raises(function() json.decode(string.rep("[", 2000)) end, "nested too deeply")
  -- Empty arrays and objects, and null, come back as they went.
  eq(json.encode(json.decode('{"a":[],"b":{},"c":null,"d":[{}]}')), '{"a":[],"b":{},"c":null,"d":[{}]}')
  eq(math.type(json.decode("3")), "integer"); eq(math.type(json.decode("3.5")), "float")
  eq(json.decode('"\\/\\b\\f\\r"'), "/\b\f\r")
end

-- A key given twice in one object is an error naming the key and where it is (the
-- place in the document, as a declaration names its items); duplicates = true keeps the
-- last one. Errors inside containers say where they are too.
function T.duplicate_keys_and_places()
  local function raises(fn, text) -- the message holds text, as it is
    local ok, err = pcall(fn)
    eq(ok, false, text)
    if not tostring(err):find(text, 1, true) then error("'" .. tostring(err) .. "' does not say '" .. text .. "'", 2) end
  end
  raises(function() json.decode('{"links":[1],"links":[2]}') end, 'duplicate key "links" at byte 14')
  raises(function() json.decode('{"links":[{"path":"a","path":"b"}]}') end, 'duplicate key "path" in links[1] at byte 23')
  raises(function() json.decode('{"a b":{"x":[1,{"y":1,"y":2}]}}') end, 'duplicate key "y" in ["a b"].x[2] at byte 23')
  raises(function() json.decode('[{}, {"k":1,"k":1}]') end, 'duplicate key "k" in [2] at byte 13')
  eq(json.decode('{"a":1,"a":2}', { duplicates = true }).a, 2)
  eq(json.decode('[{"a":1,"a":[3]}]', { duplicates = true })[1].a[1], 3)
  -- The same key in two objects, or as a value, is no duplicate.
  eq(json.decode('{"a":{"a":1},"b":{"a":2},"c":"a"}').b.a, 2)
  raises(function() json.decode('{"links":[{"path":"a"},{"path" "b"}]}') end, "expected ':' in links[2].path at byte 32")
  raises(function() json.decode('{"x":[1,2') end, "in x[2] at byte 10")
  -- A NUL is a character like another to JSON (a declaration refuses it as a path).
  eq(json.decode('"a\\u0000b"'), "a\0b")
end

return T
