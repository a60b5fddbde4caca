-- tether.farm: a GNU Stow-compatible symlink farm, planned on tether.plan. Packages
-- (directories in the stow directory) are linked into a target directory with
-- relative links; a directory only one package uses becomes one link (folding), and is
-- turned back into a real directory of links when a second package needs it
-- (unfolding). The rules follow GNU Stow 2.3 so both make the same tree.
local tether = require "tether"
local path = require "tether.path"
local plan = require "tether.plan"

local M = {}

-- Stow's built-in ignore list (used when a package has no .stow-local-ignore and there
-- is no ~/.stow-global-ignore), in the format of those files: Perl regular expressions,
-- one per line; those without a '/' match a whole name, the others a path from the
-- package's top ("/README.*" only there).
local DEFAULT_IGNORE = [[
RCS
.+,v
CVS
\.\#.+       # CVS conflict files / emacs lock files
\.cvsignore
\.svn
_darcs
\.hg
\.git
\.gitignore
.+~          # emacs backup files
\#.*\#       # emacs autosave files
^/README.*
^/LICENSE.*
^/COPYING
]]

-- An ignore list's text made into two regexes, as stow does: (for paths, for names).
-- Returns nil, message on a pattern PCRE2 cannot compile.
local function ignore_regexes(text, where)
  local seen, segments, paths = {}, {}, {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    line = line:gsub("^%s+", ""):gsub("%s+$", "")
    if line ~= "" and line:sub(1, 1) ~= "#" then
      line = line:gsub("%s+#.+", ""):gsub("\\#", "#")
      if not seen[line] then
        seen[line] = true
        -- Each one compiled alone first, so a bad one is named as written.
        local ok, err = tether.regex(line)
        if not ok then return nil, where .. ": " .. err end
        if line:find("/", 1, true) then paths[#paths + 1] = line else segments[#segments + 1] = line end
      end
    end
  end
  -- A local list always keeps itself out of the target.
  if not seen["^/\\.stow-local-ignore$"] then paths[#paths + 1] = "^/\\.stow-local-ignore$" end
  local out = {}
  for k, list in pairs({ path = paths, segment = segments }) do
    if #list > 0 then
      local joined = table.concat(list, "|")
      local re, err = tether.regex(k == "path" and "(^|/)(" .. joined .. ")(/|$)" or "^(" .. joined .. ")$")
      if not re then return nil, where .. ": " .. err end
      out[k] = re
    end
  end
  return out
end

-- stow --dotfiles: a name "dot-x" in a package is ".x" in the target ("dot-" alone and
-- "dot-." stay as they are).
local function adjust_dotfile(p)
  return (p:gsub("[^/]+", function(part)
    if part ~= "dot-" and part ~= "dot-." then return (part:gsub("^dot%-", ".")) end
  end))
end
M.adjust_dotfile = adjust_dotfile

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

-- farm.new{stow = DIR, target = DIR, adopt = bool, no_folding = bool, dotfiles = bool,
-- ignore = {regex}, defer = {regex}, override = {regex}} (Perl-compatible regexes, as
-- stow's --ignore, --defer and --override take them). Returns the farm, or nil, message,
-- code, error when a directory or a regex is not usable.
function M.new(opts)
  local stow, err, code, e = tether.realpath(opts.stow)
  if not stow then return nil, err, code, e end
  local target
  target, err, code, e = tether.realpath(opts.target)
  if not target then return nil, err, code, e end
  stow, target = path.normalize(stow), path.normalize(target)
  local self = setmetatable({
    stow_dir = stow, target = target, stow_rel = path.relative(target, stow),
    adopt = opts.adopt, no_folding = opts.no_folding, dotfiles = opts.dotfiles,
    conflicts = {}, errors = {}, ignore_lists = {},
    -- A plan of the caller's (tether apply's) may take the farm's actions with its own.
    plan = opts.plan or plan.new("farm", { stow = stow, target = target, roots = { target, stow } }),
  }, Farm)
  -- --ignore matches the end of a path in the package, --defer and --override the start
  -- of a path in the target (stow: qr($regex\z), qr(\A$regex)).
  for key, wrap in pairs({ ignore = "(?:%s)\\z", defer = "\\A(?:%s)", override = "\\A(?:%s)" }) do
    self[key] = {}
    for _, r in ipairs(opts[key] or {}) do
      local re, rerr, rcode, re_e = tether.regex(string.format(wrap, r))
      if not re then return nil, "--" .. key .. " " .. rerr, rcode, re_e end
      self[key][#self[key] + 1] = re
    end
  end
  return self
end

-- The ignore regexes of package pkg: its .stow-local-ignore, else ~/.stow-global-ignore,
-- else stow's built-in list.
function Farm:ignore_list(pkg)
  local list = self.ignore_lists[pkg]
  if list then return list end
  local home = os.getenv("HOME")
  for _, file in ipairs({ self.stow_dir .. "/" .. pkg .. "/.stow-local-ignore",
                          home and (home .. "/.stow-global-ignore") or nil }) do
    local f = io.open(file, "rb")
    if f then
      local text = f:read("a") or ""
      f:close()
      local l, err = ignore_regexes(text, file)
      if not l then self.errors[#self.errors + 1] = err; l = {} end
      list = l
      break
    end
  end
  list = list or assert(ignore_regexes(DEFAULT_IGNORE, "the built-in ignore list"))
  self.ignore_lists[pkg] = list
  return list
end

function Farm:abs(rel) return rel == "" and self.target or self.target .. "/" .. rel end

-- A conflict of action ("stow" or "unstow") on package pkg, in stow's words.
function Farm:conflict(pkg, msg, action)
  self.conflicts[#self.conflicts + 1] = { action = action or self.action, pkg = pkg, message = msg }
end

-- Whether a path in the target matches one of the --defer (--override) regexes.
local function matches(list, p)
  for _, re in ipairs(list) do if re:find(p) then return true end end
  return false
end

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

-- Stow's ignore(): pkg_rel is the path inside package pkg, name its last part.
function Farm:ignored(pkg, pkg_rel, name)
  if matches(self.ignore, pkg_rel) then return true end
  local list = self:ignore_list(pkg)
  if list.path and list.path:find("/" .. pkg_rel) then return true end
  return list.segment and list.segment:find(name) and true or false
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

-- The name in the target of a name (or path) in a package (--dotfiles turns dot-x into .x).
function Farm:target_of(pkg_rel) return self.dotfiles and adjust_dotfile(pkg_rel) or pkg_rel end

-- Links the contents of package directory pkg/pkg_rel into the target directory rel;
-- `source` is the link text that leads from rel's parent to pkg/pkg_rel.
function Farm:stow_contents(pkg, pkg_rel, rel, source)
  if self:abs(rel) == self.stow_dir then return end -- the stow directory inside its own target
  for _, name in ipairs(listing(self.stow_dir .. "/" .. join(pkg, pkg_rel))) do
    local node = child(pkg_rel, name)
    if not self:ignored(pkg, node, name) then
      self:stow_node(pkg, node, child(rel, self:target_of(name)), child(source, name))
    end
  end
end

function Farm:stow_node(pkg, pkg_rel, rel, source)
  local entry = tether.info(self.stow_dir .. "/" .. child(pkg, pkg_rel))
  if entry.type == "symlink" and entry.target:sub(1, 1) == "/" then
    return self:conflict(pkg, "source is an absolute symlink " .. source .. " => " .. entry.target)
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
    if matches(self.defer, rel) then return end -- --defer: the other package keeps it
    if matches(self.override, rel) then -- --override: this package takes it
      self:unlink(rel)
      return self:link(source, rel)
    end
    if self:is_dir(join(parent(rel), t.target)) and self:is_dir(join(parent(rel), source)) then
      -- Unfold: the directory another package had to itself becomes a real one.
      local existing = t.target
      self:unlink(rel)
      self.plan:add("mkdir", { path = self:abs(rel) })
      local existing_pkg_rel = existing_path:sub(#self.stow_rel + #existing_pkg + 3)
      self:stow_contents(existing_pkg, existing_pkg_rel, rel, join("..", existing))
      return self:stow_contents(pkg, pkg_rel, rel, join("..", source))
    end
    return self:conflict(pkg, "existing target is stowed to a different package: " .. rel .. " => " .. t.target)
  elseif t then
    if self:is_dir(rel) then return self:stow_contents(pkg, pkg_rel, rel, join("..", source)) end
    if self.adopt and entry.type == "file" then
      -- --adopt: the file in the target replaces the package's copy, then is linked.
      self.plan:add("move", { path = self:abs(rel), to = self.stow_dir .. "/" .. join(pkg, pkg_rel), replace = true })
      return self:link(source, rel)
    end
    return self:conflict(pkg, "existing target is neither a link nor a directory: " .. rel)
  end
  if self.no_folding and entry.type == "dir" then
    -- --no-folding: a real directory of links, never one link for the directory.
    self.plan:add("mkdir", { path = self:abs(rel) })
    return self:stow_contents(pkg, pkg_rel, rel, join("..", source))
  end
  self:link(source, rel)
end

function Farm:unstow_contents(pkg, pkg_rel, rel)
  if self:abs(rel) == self.stow_dir then return end
  for _, name in ipairs(listing(self.stow_dir .. "/" .. join(pkg, pkg_rel))) do
    local node = child(pkg_rel, name)
    if not self:ignored(pkg, node, name) then self:unstow_node(pkg, node, child(rel, self:target_of(name))) end
  end
  if self:is_dir(rel) then self:cleanup_invalid_links(rel) end
end

function Farm:unstow_node(pkg, pkg_rel, rel)
  local t = self:look(rel)
  if t and t.type == "symlink" then
    if t.target:sub(1, 1) == "/" then return end -- stow ignores absolute links
    local existing_path = self:stowed_path(rel, t.target)
    if not existing_path then
      return self:conflict(pkg, "existing target is not owned by stow: " .. rel .. " => " .. t.target)
    end
    if not self:look(existing_path) or self:target_of(existing_path) == join(self.stow_rel, pkg, rel) then
      self:unlink(rel)
    end
  elseif t then
    if self:is_dir(rel) then
      self:unstow_contents(pkg, pkg_rel, rel)
      local p = not self.no_folding and self:foldable(rel)
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

function Farm:stow(pkg)
  self.action = "stow"
  self:stow_contents(pkg, "", "", join(self.stow_rel, pkg))
end
function Farm:unstow(pkg)
  self.action = "unstow"
  self:unstow_contents(pkg, "", "")
end

return M
