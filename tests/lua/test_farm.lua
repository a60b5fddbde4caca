-- tether.farm on real trees: packages linked into a target as GNU Stow links them
-- (folding, unfolding, dotfiles, ignore lists, conflicts), planned on tether.plan.
local farm = require "tether.farm"
local path = require "tether.path"
local T = {}

local function write(p, text)
  assert(tether.mkdir(path.dirname(p), { parents = true }) or tether.exists(path.dirname(p)))
  local f = assert(io.open(p, "w")); f:write(text or ""); f:close()
end

-- d/stow/{a,b} and an empty d/t.
local function setup()
  need_symlinks()
  local d = tether.realpath(tmpdir())
  write(path.join(d, "stow/a/bin/x"), "x")
  write(path.join(d, "stow/a/share/a/doc"), "doc")
  write(path.join(d, "stow/a/.git/config"), "ignored by default")
  write(path.join(d, "stow/b/bin/y"), "y")
  write(path.join(d, "stow/b/dot-bashrc"), "rc")
  assert(tether.mkdir(path.join(d, "t")))
  return d
end

-- The target's links and directories, sorted: "name -> target" or "name/".
local function listing(t)
  local out = {}
  for e in tether.walk(t) do
    if e.depth > 0 then
      out[#out + 1] = e.path:sub(#t + 2) .. (e.target and (" -> " .. e.target) or (e.type == "dir" and "/" or ""))
    end
  end
  table.sort(out)
  return table.concat(out, ", ")
end

local function stow(d, ops, opts)
  opts = opts or {}
  opts.stow, opts.target = path.join(d, "stow"), path.join(d, "t")
  local f = assert(farm.new(opts))
  for _, op in ipairs(ops) do f[op[1]](f, op[2]) end
  return f
end

local function apply(f)
  eq(#f.conflicts, 0, "conflicts")
  eq(#f.errors, 0, "errors")
  assert(f.plan:apply())
end

-- The default target is stow's parent() of the stow directory: its last name dropped by
-- name, "." when nothing is left (stow gives "." for /stow too).
function T.default_target_is_stows_parent()
  local cases = { { "/a/b", "/a" }, { "a/b/", "a" }, { "//a//b", "/a" }, { "/stow", "." }, { "stow", "." },
                  { "a/../b", "a/.." }, { "/a/b/c", "/a/b" } }
  for _, c in ipairs(cases) do eq(farm.default_target(c[1]), c[2], c[1]) end
  -- Against stow's own rule (split on /+, pop, join with /; "" is .) on every shape.
  local function stow_parent(p)
    local elts = {}
    for e in (p .. "/"):gmatch("(.-)/+") do elts[#elts + 1] = e end
    elts[#elts] = nil
    local s = table.concat(elts, "/")
    return s ~= "" and s or "."
  end
  math.randomseed(3)
  local pieces = { "a", "b", "", "..", ".", "x y" }
  for _ = 1, 3000 do
    local t = {}
    for k = 1, math.random(1, 5) do t[k] = pieces[math.random(#pieces)] end
    local p = table.concat(t, "/")
    if p ~= "" and path.sep == "/" then eq(farm.default_target(p), stow_parent(p), p) end
  end
end

function T.a_package_alone_is_folded_into_one_link_per_directory()
  local d = setup()
  apply(stow(d, { { "stow", "a" } }))
  eq(listing(path.join(d, "t")), "bin -> ../stow/a/bin, share -> ../stow/a/share")
  eq(tether.realpath(path.join(d, "t/bin/x")), path.join(d, "stow/a/bin/x"))
end

function T.a_second_package_unfolds_a_directory_they_share()
  local d = setup()
  apply(stow(d, { { "stow", "a" } }))
  apply(stow(d, { { "stow", "b" } }))
  eq(listing(path.join(d, "t")),
    "bin/, bin/x -> ../../stow/a/bin/x, bin/y -> ../../stow/b/bin/y, dot-bashrc -> ../stow/b/dot-bashrc, share -> ../stow/a/share")
end

function T.unstow_removes_only_the_packages_links()
  local d = setup()
  apply(stow(d, { { "stow", "a" }, { "stow", "b" } }))
  write(path.join(d, "t/mine"), "the user's")
  apply(stow(d, { { "unstow", "b" } }))
  local l = listing(path.join(d, "t"))
  assert(not l:find("stow/b", 1, true), l)
  assert(l:find("mine", 1, true), l)
  eq(tether.realpath(path.join(d, "t/bin/x")), path.join(d, "stow/a/bin/x"))
end

function T.dotfiles_and_no_folding()
  local d = setup()
  apply(stow(d, { { "stow", "b" } }, { dotfiles = true, no_folding = true }))
  eq(listing(path.join(d, "t")), ".bashrc -> ../stow/b/dot-bashrc, bin/, bin/y -> ../../stow/b/bin/y")
  eq(farm.adjust_dotfile("dot-config/dot-x/dot-"), ".config/.x/dot-")
  eq(farm.adjust_dotfile("dot-."), "dot-.")
end

function T.ignore_lists_default_and_given()
  local d = setup()
  apply(stow(d, { { "stow", "a" } }, { ignore = { "doc" }, no_folding = true }))
  local l = listing(path.join(d, "t"))
  assert(not l:find(".git", 1, true), "the default list ignores .git: " .. l)
  assert(not l:find("share/a/doc", 1, true), "--ignore doc: " .. l)
  assert(l:find("bin/x", 1, true), l)
end

function T.a_file_in_the_way_is_a_conflict_and_nothing_is_planned_over_it()
  local d = setup()
  write(path.join(d, "t/bin/x"), "the user's own x")
  local f = stow(d, { { "stow", "a" } })
  eq(#f.conflicts, 1)
  eq(f.conflicts[1].pkg, "a")
  assert(f.conflicts[1].message:find("bin/x", 1, true), f.conflicts[1].message)
  local fh = assert(io.open(path.join(d, "t/bin/x"))); eq(fh:read("a"), "the user's own x"); fh:close()
end

function T.bad_directories_and_regexes_are_refused()
  local d = setup()
  local ok, msg = farm.new({ stow = path.join(d, "nope"), target = path.join(d, "t") })
  eq(ok, nil)
  assert(msg:find("nope", 1, true), msg)
  ok, msg = farm.new({ stow = path.join(d, "stow"), target = path.join(d, "t"), ignore = { "(" } })
  eq(ok, nil)
  assert(msg:find("^%-%-ignore"), msg)
end

function T.the_plan_has_the_farms_roots_and_undoes()
  local d = setup()
  local f = stow(d, { { "stow", "a" } })
  eq(f.plan.header.roots[1], path.join(d, "t"))
  eq(f.plan.header.roots[2], path.join(d, "stow"))
  local result = assert(f.plan:apply())
  local journal = require "tether.journal"
  assert(require("tether.plan").undo(assert(journal.find(result.id))))
  eq(listing(path.join(d, "t")), "")
end

return T
