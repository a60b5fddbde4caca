-- tether.farm: a GNU Stow-compatible symlink farm, planned on tether.plan. Packages
-- (directories in the stow directory) are linked into a target directory with
-- relative links; a directory only one package uses becomes one link (folding), and is
-- turned back into a real directory of links when a second package needs it
-- (unfolding). The rules follow GNU Stow 2.3 so both make the same tree.
local tether = require "tether"
local path = require "tether.path"
local plan = require "tether.plan"

local M = {}

-- Stow's default ignore list (used when a package has no .stow-local-ignore), each
-- matching a whole name: these names, and the patterns in is_ignored_name; README*,
-- LICENSE* and COPYING only at the top of a package.
local IGNORE_NAMES = {}
for _, n in ipairs { "RCS", "CVS", ".cvsignore", ".svn", "_darcs", ".hg", ".git", ".gitignore",
                     ".gitmodules", ".stow-local-ignore" } do IGNORE_NAMES[n] = true end

local function is_ignored_name(name, top)
  if IGNORE_NAMES[name] then return true end
  local first, last = name:byte(1), name:byte(-1)
  if #name > 1 and (last == 126 --[[ .+~ ]] or (first == 35 and last == 35) --[[ #.*# ]]) then return true end
  if #name > 2 and ((name:byte(-2) == 44 and last == 118) --[[ .+,v ]] or (first == 46 and name:byte(2) == 35) --[[ %.#.+ ]]) then
    return true
  end
  return top and (name:find("^README") or name:find("^LICENSE") or name == "COPYING") and true or false
end

-- Stow's path arithmetic: lexical, "x/.." folded, "" for the target directory itself.
local function join(...)
  local s = table.concat({ ... }, "/")
  -- Most paths have nothing to fold: no empty, "." or ".." component.
  if not ("/" .. s .. "/"):find("/%.?%.?/") then return s end
  local out = {}
  for _, p in ipairs({ ... }) do
    for part in p:gmatch("[^/]+") do
      if part == ".." and #out > 0 and out[#out] ~= ".." then
        out[#out] = nil
      elseif part ~= "." then
        out[#out + 1] = part
      end
    end
  end
  return table.concat(out, "/")
end

-- join(dir, name) for a name read from a directory (never "", "." or ".." or with a "/").
local function child(dir, name) return dir == "" and name or dir .. "/" .. name end

local function parent(p) return p:match("^(.*)/[^/]*$") or "" end

local Farm = {}
Farm.__index = Farm

-- farm.new{stow = DIR, target = DIR, adopt = bool, ignore = {lua patterns}}
function M.new(opts)
  local stow = path.normalize(assert(tether.realpath(opts.stow)))
  local target = path.normalize(assert(tether.realpath(opts.target)))
  return setmetatable({
    stow_dir = stow, target = target, stow_rel = path.relative(target, stow),
    adopt = opts.adopt, ignore = opts.ignore or {}, conflicts = {},
    plan = plan.new("farm", { stow = stow, target = target, roots = { target, stow } }),
  }, Farm)
end

function Farm:abs(rel) return rel == "" and self.target or self.target .. "/" .. rel end

function Farm:conflict(pkg, msg) self.conflicts[#self.conflicts + 1] = pkg .. ": " .. msg end

function Farm:look(rel) return self.plan:look(self:abs(rel)) end

-- Is rel (relative to the target) a directory, following links within the plan's view.
function Farm:is_dir(rel, depth)
  local i = self:look(rel)
  if not i then return false end
  if i.type == "dir" then return true end
  if i.type == "symlink" and (depth or 0) < 40 then
    if i.target:sub(1, 1) == "/" then
      local r = tether.info(i.target)
      return r and (r.type == "dir" or r.target_type == "dir") or false
    end
    return self:is_dir(join(parent(rel), i.target), (depth or 0) + 1)
  end
  return false
end

-- Stow owns a link when it leads into the stow directory: returns the path it leads to
-- (relative to the target) and the package.
function Farm:stowed_path(rel, source)
  local p = join(parent(rel), source)
  local prefix = self.stow_rel .. "/"
  if p:sub(1, #prefix) ~= prefix then return nil end
  local pkg = p:sub(#prefix + 1):match("^[^/]+")
  return p, pkg
end

function Farm:ignored(pkg_rel, name)
  if is_ignored_name(name, not pkg_rel:find("/", 1, true)) then return true end
  for _, pat in ipairs(self.ignore) do if pkg_rel:find(pat .. "$") then return true end end
  return false
end

local function listing(dir)
  local names = {}
  for e in tether.walk(dir, { max_depth = 1 }) do
    if e.depth == 1 then names[#names + 1] = e.name end
  end
  table.sort(names)
  return names
end

function Farm:link(source, rel) self.plan:add("symlink", { path = self:abs(rel), target = source }) end

function Farm:unlink(rel)
  local i = self:look(rel) -- on disk (then with its identity), or as the plan leaves it
  self.plan:add("unlink", { path = self:abs(rel), target = i.target, expect = i.ino and plan.expect_of(i) or nil })
end

-- Links the contents of package directory pkg/rel into the target directory rel;
-- `source` is the link text that leads from rel's parent to pkg/rel.
function Farm:stow_contents(pkg, rel, source)
  if self:abs(rel) == self.stow_dir then return end -- the stow directory inside its own target
  for _, name in ipairs(listing(self.stow_dir .. "/" .. join(pkg, rel))) do
    local node = child(rel, name)
    if not self:ignored(node, name) then self:stow_node(pkg, node, child(source, name)) end
  end
end

function Farm:stow_node(pkg, rel, source)
  local entry = tether.info(self.stow_dir .. "/" .. child(pkg, rel))
  if entry.type == "symlink" and entry.target:sub(1, 1) == "/" then
    return self:conflict(pkg, "source is an absolute symlink " .. rel .. " => " .. entry.target)
  end
  local t = self:look(rel)
  if t and t.type == "symlink" then
    local existing_path, existing_pkg = self:stowed_path(rel, t.target)
    if not existing_path then
      return self:conflict(pkg, "existing target is not owned by stow: " .. rel)
    end
    if not self:look(existing_path) then -- a stale link of ours: replace it
      self:unlink(rel)
      return self:link(source, rel)
    end
    if t.target == source then return end
    if self:is_dir(join(parent(rel), t.target)) and self:is_dir(join(parent(rel), source)) then
      -- Unfold: the directory another package had to itself becomes a real one.
      local existing = t.target
      self:unlink(rel)
      self.plan:add("mkdir", { path = self:abs(rel) })
      self:stow_contents(existing_pkg, rel, join("..", existing))
      return self:stow_contents(pkg, rel, join("..", source))
    end
    return self:conflict(pkg, "existing target is stowed to a different package: " .. rel .. " => " .. t.target)
  elseif t then
    if self:is_dir(rel) then return self:stow_contents(pkg, rel, join("..", source)) end
    if self.adopt and entry.type == "file" then
      -- --adopt: the file in the target replaces the package's copy, then is linked.
      self.plan:add("move", { path = self:abs(rel), to = self.stow_dir .. "/" .. join(pkg, rel), replace = true })
      return self:link(source, rel)
    end
    return self:conflict(pkg, "existing target is neither a link nor a directory: " .. rel)
  end
  self:link(source, rel)
end

function Farm:unstow_contents(pkg, rel)
  if self:abs(rel) == self.stow_dir then return end
  for _, name in ipairs(listing(self.stow_dir .. "/" .. join(pkg, rel))) do
    local node = child(rel, name)
    if not self:ignored(node, name) then self:unstow_node(pkg, node) end
  end
  if self:is_dir(rel) then self:cleanup_invalid_links(rel) end
end

function Farm:unstow_node(pkg, rel)
  local t = self:look(rel)
  if t and t.type == "symlink" then
    if t.target:sub(1, 1) == "/" then return end -- stow ignores absolute links
    local existing_path = self:stowed_path(rel, t.target)
    if not existing_path then
      return self:conflict(pkg, "existing target is not owned by stow: " .. rel .. " => " .. t.target)
    end
    if not self:look(existing_path) or existing_path == join(self.stow_rel, pkg, rel) then
      self:unlink(rel)
    end
  elseif t then
    if self:is_dir(rel) then
      self:unstow_contents(pkg, rel)
      local p = self:foldable(rel)
      if p then self:fold(rel, p) end
    else
      self:conflict(pkg, "existing target is neither a link nor a directory: " .. rel)
    end
  end
end

-- Links of ours in a directory that lead nowhere any more are removed.
function Farm:cleanup_invalid_links(rel)
  local dir = self:abs(rel)
  if not tether.info(dir) or tether.info(dir).type ~= "dir" then return end
  for _, name in ipairs(listing(dir)) do
    local node = join(rel, name)
    local i = not self.plan:touches(self:abs(node)) and tether.info(self:abs(node))
    if i and i.type == "symlink" and not tether.exists(self:abs(node), { follow = true })
       and self:stowed_path(node, i.target) then
      self:unlink(node)
    end
  end
end

-- A directory whose entries are all links into one package directory can be one link.
function Farm:foldable(rel)
  local common
  for _, name in ipairs(self.plan:list(self:abs(rel))) do
    local i = self:look(join(rel, name))
    if not i or i.type ~= "symlink" then return nil end
    local p = parent(i.target)
    if common == nil then common = p elseif common ~= p then return nil end
  end
  if not common or common == "" then return nil end
  common = common:gsub("^%.%./", "", 1)
  return self:stowed_path(rel, common) and common or nil
end

function Farm:fold(rel, source)
  for _, name in ipairs(self.plan:list(self:abs(rel))) do self:unlink(join(rel, name)) end
  self.plan:add("rmdir", { path = self:abs(rel) })
  self:link(source, rel)
end

function Farm:stow(pkg) self:stow_contents(pkg, "", join(self.stow_rel, pkg)) end
function Farm:unstow(pkg) self:unstow_contents(pkg, "") end

return M
