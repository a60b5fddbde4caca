-- tether.path: the lexical helpers.
local path = require "tether.path"
local T = {}

function T.join()
  eq(path.join("a", "b", "c"), "a/b/c")
  eq(path.join("a/", "b"), "a/b")
  eq(path.join("a", "/abs", "x"), "/abs/x")
  eq(path.join("", "x"), "x")
  eq(path.join("a", ""), "a")
  raises(function() path.join("a", 1) end, "not a string")
  raises(function() path.join(nil, "a") end, "argument 1 is not a string")
end

-- join of two (its fast path) gives what joining one by one gives, for every shape.
function T.join_of_two_agrees_with_join_of_many()
  local pieces = { "", "/", "a", "b/", "/c", "//", "d//e", "." }
  for _, a in ipairs(pieces) do
    for _, b in ipairs(pieces) do
      eq(path.join(a, b), path.join("", a, b), string.format("%q, %q", a, b))
      eq(path.join(a, b, ""), path.join(a, b), string.format("%q, %q", a, b))
    end
  end
end

function T.normalize()
  eq(path.normalize("/a//b/./c/../d/"), "/a/b/d")
  eq(path.normalize("a/.."), ".")
  eq(path.normalize("../../x"), "../../x")
  eq(path.normalize("a/../../x"), "../x")
  eq(path.normalize("/../x"), "/x")
  eq(path.normalize(""), ".")
  eq(path.normalize("name with space/./x"), "name with space/x")
end

function T.split_dirname_basename()
  local d, b = path.split("a/b/c")
  eq(d, "a/b"); eq(b, "c")
  eq(path.dirname("/x"), "/")
  eq(path.dirname("x"), ".")
  eq(path.dirname("a/b/"), "a")
  eq(path.basename("a/b/"), "b")
  eq(path.basename("/"), "")
  eq(path.dirname("/"), "/")
  eq(path.basename("dir/-dash\nnewline"), "-dash\nnewline")
end

function T.is_absolute()
  eq(path.is_absolute("/x"), true)
  eq(path.is_absolute("x/y"), false)
  eq(path.is_absolute(""), false)
end

function T.relative()
  eq(path.relative("/a/b", "/a/b/c/d"), "c/d")
  eq(path.relative("/a/b", "/a/x"), "../x")
  eq(path.relative("/a/b", "/a/b"), ".")
  eq(path.relative("/mnt/old", "/mnt/old2/x"), "../old2/x")
  eq(path.relative("a", "b/c"), "../b/c")
  raises(function() path.relative("/a", "b") end, "must both be absolute")
  raises(function() path.relative("../a", "b") end, "by names alone")
end


function T.below_and_inside()
  local cases = {
    { "/a/b", "/a", "b" }, { "/a", "/a", "" }, { "/a/b/c", "/", "a/b/c" }, { "/", "/", "" },
    { "/ab", "/a", nil }, { "/a", "/a/b", nil }, { "a/b", "a", "b" }, { "ab/c", "a", nil },
    { "/a/b", "", nil }, { "x", "", nil },
  }
  for _, c in ipairs(cases) do
    eq(path.below(c[1], c[2]), c[3], c[1] .. " below " .. c[2])
    eq(path.inside(c[1], c[2]), c[3] ~= nil, c[1] .. " inside " .. c[2])
  end
end

-- cut: the directory and the name at the last "/", the hot loops' split of a normal path.
function T.cut()
  local cases = { { "a/b/c", "a/b", "c" }, { "/a", "", "a" }, { "a/", "a", "" }, { "/", "", "" }, { "a", nil, nil } }
  for _, c in ipairs(cases) do
    local d, name = path.cut(c[1])
    eq(d, c[2], c[1]); eq(name, c[3], c[1])
  end
  -- Every normal path: cut and join give it back, and the name is split's.
  -- (a backslash is a name's byte on POSIX, a separator on Windows)
  for _, p in ipairs({ "/x", "/x/y", "x/y/z", path.sep == "/" and "/a b/c\\d" or "/a b/c d", "/\xff/\n" }) do
    local d, name = path.cut(p)
    eq(d == "" and "/" .. name or path.join(d, name), p, p)
    eq(name, path.basename(p), p)
  end
end

-- ancestors: the directories on the way down, as the path spells them.
function T.ancestors()
  local function list(p) return table.concat(path.ancestors(p), " ") end
  eq(list("a/b/c"), "a a/b"); eq(list("/a/b"), "/a"); eq(list("a"), ""); eq(list("/"), ""); eq(list("/a"), "")
  eq(list("../x/y"), ".. ../x")
  -- Each is a directory of the next and of p, and the names add up to p's.
  for _, p in ipairs({ "/a/b/c/d", "a/b/c", "../../x", "/\xff/é/z" }) do
    local up = path.ancestors(p)
    eq(#up, #path.parts(p) - 1, p)
    for i, d in ipairs(up) do eq(path.dirname(up[i + 1] or p), d, p) end
  end
end

-- map_names: each name given to fn, separators and the root kept as they are.
function T.map_names()
  local up = function(n) if n ~= "keep" then return n:upper() end end
  eq(path.map_names("/a//keep/b/", up), "/A//keep/B/")
  eq(path.map_names("", up), "")
  eq(path.map_names("x", up), "X")
end

-- normalize's fast path gives back what the full rule gives, for every spelling.
function T.normalize_fast_path_agrees()
  local pieces = { "a", "b", ".", "..", "", "c.d", "..x", ".y" }
  local function full(p) -- the rule, without the fast path
    local root = p:sub(1, 1) == "/" and "/" or ""
    local out = {}
    for part in p:gmatch("[^/]+") do
      if part == ".." then
        if #out > 0 and out[#out] ~= ".." then out[#out] = nil elseif root == "" then out[#out + 1] = ".." end
      elseif part ~= "." then out[#out + 1] = part end
    end
    local s = root .. table.concat(out, "/")
    return s == "" and "." or s
  end
  math.randomseed(7)
  for _ = 1, 3000 do
    local n, t = math.random(0, 5), {}
    for k = 1, n do t[k] = pieces[math.random(#pieces)] end
    local p = (math.random(2) == 1 and "/" or "") .. table.concat(t, "/") .. (math.random(4) == 1 and "/" or "")
    if path.sep == "/" then eq(path.normalize(p), full(p), p) end
  end
end

return T
