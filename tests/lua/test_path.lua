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

return T
