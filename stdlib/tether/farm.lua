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
  return path.map_names(p, function(part)
    if part ~= "dot-" and part ~= "dot-." then return (part:gsub("^dot%-", ".")) end
  end)
end
M.adjust_dotfile = adjust_dotfile

-- Stow's path arithmetic: tether.path's, relative to the target, with "" for the target
-- directory itself.
local function join(...)
  local parts = {}
  for _, p in ipairs({ ... }) do
    if p ~= "" then parts[#parts + 1] = p end
  end
  local s = path.normalize(table.concat(parts, "/"))
  return s == "." and "" or s
end

-- join(dir, name) for a name read from a directory (never "", "." or ".." or with a "/").
local child = path.join

-- Stow's default target: the stow directory with its last name dropped, by name (stow's
-- parent(): "a//b/" gives "a"; "/stow" and "stow" give nothing, so ".").
function M.default_target(stow_dir)
  local names = path.parts(stow_dir)
  names[#names] = nil
  local p = #names > 0 and path.root(stow_dir) .. table.concat(names, "/") or ""
  return p ~= "" and p or "."
end

local function parent(p)
  local d = path.dirname(p)
  return d == "." and "" or d
end

local Farm = {}
Farm.__index = Farm

-- farm.new{stow = DIR, target = DIR, adopt = bool, no_folding = bool, dotfiles = bool,
-- compat = bool, ignore = {regex}, defer = {regex}, override = {regex}} (Perl-compatible
-- regexes, as stow's --ignore, --defer and --override take them); verbose = N and
-- say = function(line) for stow's levels of detail (2: each decision, 3: each directory,
-- 4: each entry, 5: the ignore lists). Returns the farm, or nil, message, code, error
-- when a directory or a regex is not usable. Warnings (a stow directory skipped) are
-- collected in farm.warnings.
function M.new(opts)
  local stow, err, code, e = tether.realpath(opts.stow)
  if not stow then return nil, err, code, e end
  local target
  target, err, code, e = tether.realpath(opts.target)
  if not target then return nil, err, code, e end
  stow, target = path.normalize(stow), path.normalize(target)
  local self = setmetatable({
    stow_dir = stow, target = target, stow_rel = path.relative(target, stow),
    adopt = opts.adopt, no_folding = opts.no_folding, dotfiles = opts.dotfiles, compat = opts.compat,
    verbose = opts.verbose or 0, say = opts.say, conflicts = {}, errors = {}, warnings = {},
    ignore_lists = {}, marks = {},
    -- A plan of the caller's (tether apply's) may take the farm's actions with its own.
    plan = opts.plan or plan.new("farm", { stow = stow, target = target, roots = { target, stow } }),
  }, Farm)
  -- --ignore matches the end of a path in the package, --defer and --override the start
  -- of a path in the target (stow: qr($regex\z), qr(\A$regex)).
  for key, wrap in pairs({ ignore = "(?:%s)\\z", defer = "\\A(?:%s)", override = "\\A(?:%s)" }) do
    self[key], self[key .. "_text"] = {}, {} -- the regexes, and each one's text as given
    for _, r in ipairs(opts[key] or {}) do
      local re, rerr, rcode, re_e = tether.regex(r) -- (the user's own text named, not the wrapping)
      if re then re, rerr, rcode, re_e = tether.regex(string.format(wrap, r)) end
      if not re then return nil, "--" .. key .. " " .. rerr, rcode, re_e end
      self[key][#self[key] + 1] = re
      self[key .. "_text"][re] = r
    end
  end
  self:note(2, "stow dir is %s", stow)
  self:note(2, "stow dir path relative to target %s is %s", target, self.stow_rel)
  return self
end

-- A line of detail at verbosity `level` (stow's -v levels).
function Farm:note(level, fmt, ...)
  if self.say and level <= self.verbose then self.say(string.format(fmt, ...)) end
end

-- The ignore regexes of the package in directory pkg_dir (in stow directory sdir): its
-- .stow-local-ignore, else ~/.stow-global-ignore, else stow's built-in list. The
-- package's file is read only when reached through links the trust rule follows
-- (trusted_dir): another user's link there could lead to a file only root can read.
function Farm:ignore_list(pkg_dir, sdir)
  local list = self.ignore_lists[pkg_dir]
  if list then return list end
  local home = os.getenv("HOME")
  local here, err = self:trusted_dir(path.join(pkg_dir, ".stow-local-ignore"), sdir)
  if not here then
    self.errors[#self.errors + 1] = err
  end
  for _, file in ipairs({ here or false, home and (home .. "/.stow-global-ignore") or false }) do
    local f = file and io.open(file, "rb")
    if f then
      local text = f:read("a") or ""
      f:close()
      local l, err = ignore_regexes(text, file)
      if not l then self.errors[#self.errors + 1] = err; l = {} end
      list = l
      list.file = file
      break
    end
  end
  list = list or assert(ignore_regexes(DEFAULT_IGNORE, "the built-in ignore list"))
  self:note(5, "%s: ignore list %s", pkg_dir, list.file or "built in")
  self.ignore_lists[pkg_dir] = list
  return list
end

function Farm:abs(rel) return path.join(self.target, rel) end

-- A conflict of action ("stow" or "unstow") on package pkg, in stow's words, at rel (a
-- path in the target).
function Farm:conflict(pkg, msg, action, rel)
  self.conflicts[#self.conflicts + 1] = { action = action or self.action, pkg = pkg, message = msg,
                                          path = rel and self:abs(rel) }
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

-- Whether directory rel (relative to the target) is marked as a stow directory by a
-- .stow or .nonstow file in it: stow never goes into one, and a link leading into one
-- belongs to stow.
function Farm:marked(rel)
  local m = self.marks[rel]
  if m == nil then
    local d = self:abs(rel)
    m = tether.exists(path.join(d, ".stow"), { follow = true }) == true
        or tether.exists(path.join(d, ".nonstow"), { follow = true }) == true
    self.marks[rel] = m
  end
  return m
end

-- Stow's find_stowed_path: stow owns a link when it leads into the stow directory, or
-- into any directory marked as a stow directory on the way. Returns the path it leads
-- to, the package, and that stow directory (both paths relative to the target).
function Farm:stowed_path(rel, source)
  local p = join(parent(rel), source)
  local parts = path.parts(p)
  -- Each directory on the way, its names from the first taken relative to the target (an
  -- absolute p's too); a link to a stow directory itself is no package's: stow stops on it.
  for k, dir in ipairs(path.ancestors(table.concat(parts, "/"))) do
    if self:marked(dir) then return p, parts[k + 1], dir end
  end
  local below = path.below(p, self.stow_rel)
  if not below or below == "" then return nil end
  return p, path.parts(below)[1], self.stow_rel
end

-- The absolute path of a stow directory given relative to the target.
function Farm:stow_dir_of(rel)
  if rel == self.stow_rel then return self.stow_dir end
  return path.normalize(self:abs(rel))
end

function Farm:warn(msg) self.warnings[#self.warnings + 1] = msg end

-- Stow's should_skip_target_which_is_stow_dir: the stow directory and the directories
-- marked as stow directories are never stowed into nor unstowed from.
function Farm:protected(rel)
  local shown = rel == "" and "." or rel
  if self:abs(rel) == self.stow_dir then
    self:warn("skipping target which was current stow directory " .. shown)
    return true
  end
  if self:marked(rel) then
    self:warn("skipping protected directory " .. shown)
    return true
  end
  return false
end

-- Stow's ignore(): pkg_rel is the path inside package pkg of stow directory sdir, name
-- its last part.
function Farm:ignored(sdir, pkg, pkg_rel, name)
  for _, re in ipairs(self.ignore) do
    if re:find(pkg_rel) then
      self:note(4, "  ignoring path %s due to --ignore=%s", pkg_rel, self.ignore_text[re])
      return true
    end
  end
  local list = self:ignore_list(path.join(sdir, pkg), sdir)
  if list.path and list.path:find("/" .. pkg_rel) then
    self:note(4, "  ignoring path /%s", pkg_rel)
    return true
  end
  if list.segment and list.segment:find(name) then
    self:note(4, "  ignoring path segment %s", name)
    return true
  end
  self:note(5, "  not ignoring %s", pkg_rel)
  return false
end

-- The real path of dir, a directory below base (a real path: the stow directory or the
-- target), each link on the way followed only when the trust rule allows it
-- (tether.link_trusted: the caller's link, or root's in a directory no other user can
-- write), as apply's resolver does. A package is another user's to write: a link of
-- theirs in it could lead anywhere (a directory only root can read), so it is never gone
-- through. Returns the path, or nil and tether.fail's message naming the link.
local MAX_LINKS = 40 -- as the kernel's ELOOP
function Farm:trusted_dir(dir, base)
  local below = path.below(dir, base)
  if not below then return nil, select(2, tether.fail("EOUTSIDE", dir, "is not inside " .. base)) end
  local names, cur, k, hops = path.parts(below), base, 1, 0
  while k <= #names do
    local name = names[k]
    k = k + 1
    if name == ".." then
      cur = path.dirname(cur)
    elseif name ~= "." then
      local q = path.join(cur, name)
      local i = tether.info(q)
      if i and i.type == "symlink" then
        hops = hops + 1
        if hops > MAX_LINKS then return nil, select(2, tether.fail("ELOOP", dir, "too many links on the way")) end
        local trusted, why = true, nil
        if i.uid then trusted, why = tether.link_trusted(i.uid, tether.info(cur)) end
        if not trusted then
          local whose = why == "owner" and "is a link that belongs to another user (uid " .. i.uid .. "), who could point it anywhere"
            or "is a link in a directory another user can write, who could have put it there"
          return nil, select(2, tether.fail("EPERM", q, whose .. "; not followed into (" .. i.target .. ")",
            "a farm links such a link as it is, but never reads or lists what it leads to"))
        end
        local rest = { table.unpack(names, k) }
        names, k = path.parts(i.target), 1
        for _, r in ipairs(rest) do names[#names + 1] = r end
        if path.is_absolute(i.target) then cur = path.root(i.target) end
      else
        cur = q
      end
    end
  end
  return cur
end

-- The names in directory dir (below base, the stow directory or the target: see
-- trusted_dir), sorted; one that cannot be read, or is reached only through a link the
-- trust rule does not follow, is an error of the run (as stow stops on it), never taken
-- as empty.
function Farm:listing(dir, base)
  local real, err = self:trusted_dir(dir, base)
  if not real then
    self.errors[#self.errors + 1] = err
    return {}
  end
  local names = {}
  for e in tether.walk(real, { max_depth = 1 }) do
    if e.error then
      local _, msg = tether.fail(e.error, e.path, "cannot read this directory")
      self.errors[#self.errors + 1] = msg
    elseif e.depth == 1 then
      names[#names + 1] = e.name
    end
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

local function shown(rel) return rel == "" and "." or rel end

-- Links the contents of package directory pkg/pkg_rel (in stow directory sdir, this
-- run's by default) into the target directory rel; `source` is the link text that
-- leads from rel's parent to pkg/pkg_rel.
function Farm:stow_contents(pkg, pkg_rel, rel, source, sdir)
  if self:protected(rel) then return end
  sdir = sdir or self.stow_dir
  local dir = path.join(sdir, join(pkg, pkg_rel))
  self:note(3, "stowing contents of %s into %s", dir, shown(rel))
  for _, name in ipairs(self:listing(dir, sdir)) do
    local node = child(pkg_rel, name)
    if not self:ignored(sdir, pkg, node, name) then
      local to = self:target_of(name)
      if to ~= name then self:note(4, "  adjusting: %s => %s", name, to) end
      self:stow_node(pkg, node, child(rel, to), child(source, name), sdir)
    end
  end
end

function Farm:stow_node(pkg, pkg_rel, rel, source, sdir)
  self:note(3, "stowing %s / %s / %s", sdir, pkg, pkg_rel)
  local entry = tether.info(path.join(sdir, child(pkg, pkg_rel)))
  if entry.type == "symlink" and entry.target:sub(1, 1) == "/" then
    return self:conflict(pkg, "source is an absolute symlink " .. source .. " => " .. entry.target, nil, rel)
  end
  local t = self:look(rel)
  if t and t.type == "symlink" then
    self:note(4, "  evaluate existing link: %s => %s", rel, t.target)
    local existing_path, existing_pkg, existing_sdir = self:stowed_path(rel, t.target)
    if not existing_path then
      return self:conflict(pkg, "existing target is not owned by stow: " .. rel, nil, rel)
    end
    if not self:look(existing_path) then -- a stale link of ours: replace it
      self:note(2, "--- replacing invalid link: %s", rel)
      self:unlink(rel)
      return self:link(source, rel)
    end
    if t.target == source then return self:note(2, "--- skipping %s as it already points to %s", rel, source) end
    if matches(self.defer, rel) then -- --defer: the other package keeps it
      return self:note(2, "--- deferring installation of: %s", rel)
    end
    if matches(self.override, rel) then -- --override: this package takes it
      self:note(2, "--- overriding installation of: %s", rel)
      self:unlink(rel)
      return self:link(source, rel)
    end
    if self:is_dir(join(parent(rel), t.target)) and self:is_dir(join(parent(rel), source)) then
      -- Unfold: the directory another package had to itself becomes a real one.
      self:note(2, "--- unfolding %s which was already owned by %s", rel, existing_pkg)
      local existing = t.target
      self:unlink(rel)
      self.plan:add("mkdir", { path = self:abs(rel) })
      local existing_pkg_rel = existing_path:sub(#existing_sdir + #existing_pkg + 3)
      self:stow_contents(existing_pkg, existing_pkg_rel, rel, join("..", existing), self:stow_dir_of(existing_sdir))
      return self:stow_contents(pkg, pkg_rel, rel, join("..", source), sdir)
    end
    return self:conflict(pkg, "existing target is stowed to a different package: " .. rel .. " => " .. t.target, nil, rel)
  elseif t then
    self:note(4, "  evaluate existing node: %s", rel)
    if self:is_dir(rel) then return self:stow_contents(pkg, pkg_rel, rel, join("..", source), sdir) end
    if self.adopt and entry.type == "file" then
      -- --adopt: the file in the target replaces the package's copy, then is linked.
      self.plan:add("move", { path = self:abs(rel), to = path.join(sdir, join(pkg, pkg_rel)), replace = true })
      return self:link(source, rel)
    end
    return self:conflict(pkg, "existing target is neither a link nor a directory: " .. rel, nil, rel)
  end
  if self.no_folding and entry.type == "dir" then
    -- --no-folding: a real directory of links, never one link for the directory.
    self.plan:add("mkdir", { path = self:abs(rel) })
    return self:stow_contents(pkg, pkg_rel, rel, join("..", source), sdir)
  end
  self:link(source, rel)
end

function Farm:unstow_contents(pkg, pkg_rel, rel)
  if self:protected(rel) then return end
  self:note(3, "unstowing from %s", shown(rel))
  for _, name in ipairs(self:listing(path.join(self.stow_dir, join(pkg, pkg_rel)), self.stow_dir)) do
    local node = child(pkg_rel, name)
    if not self:ignored(self.stow_dir, pkg, node, name) then
      self:unstow_node(pkg, node, child(rel, self:target_of(name)))
    end
  end
  if self:is_dir(rel) then self:cleanup_invalid_links(rel) end
end

-- Whether the path a link of ours leads to is there (stow looks on disk, through links).
function Farm:there(p) return tether.exists(self:abs(p), { follow = true }) == true end

function Farm:unstow_node(pkg, pkg_rel, rel)
  self:note(3, "unstowing %s / %s", pkg, pkg_rel)
  local t = self:look(rel)
  if t and t.type == "symlink" then
    self:note(4, "  evaluate existing link: %s", rel)
    if t.target:sub(1, 1) == "/" then return self:warn("ignoring an absolute symlink: " .. rel .. " => " .. t.target) end
    local existing_path = self:stowed_path(rel, t.target)
    if not existing_path then
      return self:conflict(pkg, "existing target is not owned by stow: " .. rel .. " => " .. t.target, nil, rel)
    end
    if not self:there(existing_path) then
      self:note(2, "--- removing invalid link into a stow directory: %s", rel)
      self:unlink(rel)
    elseif self:target_of(existing_path) == join(self.stow_rel, pkg, rel) then
      self:unlink(rel)
    end
  elseif t then
    self:note(4, "  evaluate existing node: %s", rel)
    if self:is_dir(rel) then
      self:unstow_contents(pkg, pkg_rel, rel)
      local p = self:foldable(rel)
      if p then self:fold(rel, p) end
    else
      self:conflict(pkg, "existing target is neither a link nor a directory: " .. rel, nil, rel)
    end
  else
    self:note(2, "%s did not exist to be unstowed", rel)
  end
end

-- stow -p (--compat), stow's first unstow algorithm: every entry of the whole target
-- tree is looked at, not only those the package has. A link of ours into the package
-- goes, and so does one into any stow directory that leads nowhere now; --override
-- takes a link of another package too. A file anywhere in the target is a conflict.
function Farm:unstow_contents_orig(pkg, rel)
  if self:protected(rel) then return end
  self:note(3, "unstowing from %s (compat mode)", shown(rel))
  for _, name in ipairs(self:listing(self:abs(rel), self.target)) do
    local node = child(rel, name)
    if not self:ignored(self.stow_dir, pkg, node, name) then self:unstow_node_orig(pkg, node) end
  end
end

function Farm:unstow_node_orig(pkg, rel)
  self:note(3, "unstowing %s (compat mode)", rel)
  local t = self:look(rel)
  if t and t.type == "symlink" then
    self:note(4, "  evaluate existing link: %s", rel)
    local existing_path = self:stowed_path(rel, t.target)
    if not existing_path then return end
    if not self:there(existing_path) then
      self:note(2, "--- removing invalid link into a stow directory: %s", rel)
      self:unlink(rel)
    elseif existing_path == join(self.stow_rel, pkg, rel) then
      self:unlink(rel)
    elseif matches(self.override, rel) then
      self:note(2, "--- overriding installation of: %s", rel)
      self:unlink(rel)
    end
    return
  end
  -- As stow, the directory is looked at on disk, through a link (the plan may remove it).
  local i = tether.info(self:abs(rel))
  if i and (i.type == "dir" or i.target_type == "dir") then
    self:unstow_contents_orig(pkg, rel)
    local p = self:foldable(rel)
    if p then self:fold(rel, p) end
  elseif i and (i.type ~= "symlink" or i.target_type) then
    self:conflict(pkg, "existing target is neither a link nor a directory: " .. rel, nil, rel)
  else
    self:note(2, "%s did not exist to be unstowed", rel)
  end
end

-- Links of ours in a directory that lead nowhere any more are removed.
function Farm:cleanup_invalid_links(rel)
  local dir = self:abs(rel)
  if not tether.info(dir) or tether.info(dir).type ~= "dir" then return end
  for _, name in ipairs(self:listing(dir, self.target)) do
    local node = join(rel, name)
    local i = not self.plan:touches(self:abs(node)) and tether.info(self:abs(node))
    if i and i.type == "symlink" and not tether.exists(self:abs(node), { follow = true })
       and self:stowed_path(node, i.target) then
      self:note(2, "--- removing stale link: %s => %s", node, i.target)
      self:unlink(node)
    end
  end
end

-- A directory whose entries are all links into one package directory can be one link
-- (never with --no-folding).
function Farm:foldable(rel)
  self:note(3, "--- is %s foldable?", rel)
  if self.no_folding then return nil end
  local common
  for _, name in ipairs(self.plan:list(self:abs(rel))) do
    local i = self:look(join(rel, name))
    if not i or i.type ~= "symlink" then return nil end
    local p = parent(i.target)
    if common == nil then common = p elseif common ~= p then return nil end
  end
  if not common or common == "" then return nil end
  common = common:gsub("^%.%./", "", 1)
  if not self:stowed_path(rel, common) then return nil end
  self:note(3, "--- %s is foldable", rel)
  return common
end

function Farm:fold(rel, source)
  self:note(3, "--- folding tree: %s => %s", rel, source)
  for _, name in ipairs(self.plan:list(self:abs(rel))) do self:unlink(join(rel, name)) end
  self.plan:add("rmdir", { path = self:abs(rel) })
  self:link(source, rel)
end

function Farm:stow(pkg)
  self.action = "stow"
  self:note(2, "planning stow of package %s...", pkg)
  self:stow_contents(pkg, "", "", join(self.stow_rel, pkg))
  self:note(2, "planning stow of package %s... done", pkg)
end

function Farm:unstow(pkg)
  self.action = "unstow"
  self:note(2, "planning unstow of package %s...", pkg)
  if self.compat then self:unstow_contents_orig(pkg, "") else self:unstow_contents(pkg, "", "") end
  self:note(2, "planning unstow of package %s... done", pkg)
end

return M
