-- tether.cli: what every recipe needs from the command line: parse its arguments and
-- the global options, print --help, report errors as "tether: PATH: what (ENAME); hint",
-- and end with the exit codes of the product brief.
local tether = require "tether"
local json = require "tether.json"
local path = require "tether.path"
local run = require "tether.run"
local units = require "tether.units"

local M = {}

local exit_mt = { __tostring = function(e) return e.message or ("exit " .. e.exit) end }

-- Ends the recipe: `outcome` is how it ended (a word of tether.run's: "changed",
-- "nothing", "problems", "usage", "refused", "failed", "partial", "interrupted" with the
-- signal sig), which tether.run maps to the exit code; "tether: msg" is printed first
-- when msg is given (control characters in it, from file names, shown escaped). Raised
-- as an error so to-be-closed variables and journals are closed on the way out. With
-- --json, a run that fails and has not printed its report prints one (docs/json.md):
-- the error, with the structured error `e` (the 4th value of a failing tether call, or
-- its errno name) when there is one.
function M.exit(outcome, msg, e, sig)
  local code = run.code(outcome, sig)
  if tether.options.json and not M.json_written and code ~= 0 and outcome ~= "usage" and msg then
    local err = {}
    if type(e) == "table" then for k, v in pairs(e) do err[k] = v end
    elseif type(e) == "string" then err.errno = e end
    err.message = msg
    M.json({ changed = outcome == "partial", error = err, exit = code })
  end
  error(setmetatable({ exit = code, message = msg and tether.quote(msg, true) }, exit_mt), 0)
end

-- The global options every recipe takes (also before the recipe's name).
local globals
M.globals = {
  { "dry-run", "check and print what would change, change nothing", short = "n", key = "dry_run", changes = true },
  { "json", "machine-readable output (docs/json.md)" },
  { "quiet", "print only errors", short = "q" },
  { "verbose", "print more detail (and the traceback of an internal error)", short = "v" },
  { "no-progress", "no progress display even on a terminal", key = "progress", value_of = false },
  { "journal-dir", "where journals of changes are kept", value = "DIR", key = "journal_dir", changes = true },
  { "help", "this text", short = "h" },
  { "version", "print tether's version", short = "V" },
}
globals = M.globals

-- Breaks text into lines of at most `width` columns at spaces.
function M.wrap(text, width)
  local out, line = {}, ""
  for word in text:gmatch("%S+") do
    if #line > 0 and #line + 1 + #word > width then out[#out + 1] = line; line = word
    else line = #line > 0 and (line .. " " .. word) or word end
  end
  out[#out + 1] = line
  return table.concat(out, "\n")
end

-- The spelling of an option in help and man pages: --name VALUE, or --name[=VALUE]
-- when the value is optional.
local function spelling(o)
  if not o.value then return "--" .. o[1] end
  return "--" .. o[1] .. (o.optional and ("[=" .. o.value .. "]") or (" " .. o.value))
end

local function option_line(o)
  local flag = spelling(o)
  if o.short then flag = "-" .. o.short .. ", " .. flag else flag = "    " .. flag end
  return string.format("  %-" .. math.max(24, #flag + 1) .. "s %s", flag, o[2]) -- two spaces at least
end

-- Whether a global option is replaced by one of the recipe's own of the same name
-- (farm's counted --verbose[=N] in place of the plain global -v).
function M.shadowed(g, spec)
  for _, o in ipairs(spec.options or {}) do
    if o[1] == g[1] then return true end
  end
  return false
end

-- Read-only recipes (spec.readonly) do not list the options that only matter to changes.
local function help_text(spec)
  local lines = { "usage: " .. spec.usage, "", M.wrap(spec.summary, 88) }
  if spec.description then lines[#lines + 1] = ""; lines[#lines + 1] = spec.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Options:"
  for _, o in ipairs(spec.options or {}) do lines[#lines + 1] = option_line(o) end
  if spec.paths then
    lines[#lines + 1] = string.format("  %-24s %s", "    -", "(as a PATH) read the paths from stdin, one per line")
    lines[#lines + 1] = option_line({ "null", "read the paths from stdin separated by NUL (find -print0)", short = "0" })
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Global options:"
  for _, o in ipairs(globals) do
    if not (spec.readonly and o.changes) and not M.shadowed(o, spec) then lines[#lines + 1] = option_line(o) end
  end
  lines[#lines + 1] = "Short options bundle (-nq); --opt=VALUE and -oVALUE work as with getopt."
  if spec.epilog then lines[#lines + 1] = ""; lines[#lines + 1] = spec.epilog end
  return table.concat(lines, "\n") .. "\n"
end

-- Edit distance with swapped neighbours counted as one edit ("form" is one from
-- "from"), for "did you mean" on a mistyped option.
local function distance(a, b)
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j) then
        d[i][j] = math.min(d[i][j], d[i - 2][j - 2] + 1)
      end
    end
  end
  return d[#a][#b]
end

-- The word in the list `words` closest to `w`, within a third of its length (at least
-- one edit); nil when none is that close.
function M.closest(w, words)
  local best, best_d
  for _, cand in ipairs(words) do
    local d = distance(w, cand)
    if d <= math.max(1, #w // 3) and (not best_d or d < best_d) then best, best_d = cand, d end
  end
  return best
end

local function suggestion(name, spec)
  local names = {}
  for _, o in ipairs(spec.options or {}) do names[#names + 1] = o[1] end
  for _, o in ipairs(globals) do names[#names + 1] = o[1] end
  local best = M.closest(name, names)
  return best and string.format(" (did you mean --%s?)", best) or ""
end

-- Paths from stdin: one per line, or separated by NUL with -0 (a last empty one ignored).
local function stdin_paths(out, nul)
  local text = io.stdin:read("a") or ""
  local sep = nul and "%z" or "\n"
  for item in (text .. (nul and "\0" or "\n")):gmatch("(.-)" .. sep) do
    if not nul then item = item:gsub("\r$", "") end
    if item ~= "" then out[#out + 1] = item end
  end
end

-- A parse of one command line: its words, the recipe's spec and where it is.
local Parse = {}
Parse.__index = Parse

-- The options by long and short name: the global ones, then the recipe's own (which
-- replace a global of the same name), and -0/--null for PATH arguments.
local function option_tables(spec)
  local by_long, by_short, is_global = {}, {}, {}
  for _, o in ipairs(globals) do
    by_long[o[1]] = o
    if o.short then by_short[o.short] = o end
    is_global[o] = true
  end
  for _, o in ipairs(spec.options or {}) do
    by_long[o[1]] = o
    if o.short then by_short[o.short] = o end
  end
  if spec.paths then
    by_long.null = { "null", short = "0" }
    by_short["0"] = by_long.null
  end
  return by_long, by_short, is_global
end

-- Ends the parse with a usage error (exit 2), starting with the origin of the word
-- being read when it came from a file.
function Parse:usage(msg)
  local origin = self.at and self.origins[self.at]
  if origin then msg = origin .. ": " .. msg end
  M.exit("usage", string.format("%s: %s; see tether help %s", self.spec.name, msg, self.spec.name))
end

-- A value given to option o (shown as typed): checked, and a number made one.
function Parse:checked(o, shown, value)
  if o.number then
    local n = value:match("^%d+$") and math.tointeger(tonumber(value))
    if not n then self:usage(string.format("%s takes a whole number, not '%s'", shown, value)) end
    return n
  end
  if o.size or o.duration then -- one parser for every size and duration (tether.units)
    local kind = o.size and "size" or "duration"
    local v, why = units[kind](value, o.duration)
    if v and o.least and v < o.least then v, why = nil, "less than " .. o.least end
    if not v then
      self:usage(string.format("%s takes a %s such as %s, not '%s' (%s)", shown, kind, units.examples[kind], value, why))
    end
    return v
  end
  if o.choices and not o.choices[value] then
    local names = {}
    for c in pairs(o.choices) do names[#names + 1] = c end
    table.sort(names)
    self:usage(string.format("%s cannot be '%s' (one of: %s)", shown, value, table.concat(names, ", ")))
  end
  return value
end

-- Keeps option o's value where it goes: a global option in tether.options, the
-- recipe's own in the result (ordered ones among the arguments, counted ones counted,
-- repeatable ones listed).
function Parse:store(o, key, value)
  local store = self.is_global[o] and tether.options or self.out
  if o[1] == "null" then
    self.from_stdin = "nul"
  elseif o.ordered then -- where it stands among the arguments matters (stow's -S/-D/-R)
    self.out[#self.out + 1] = { option = o[1] }
  elseif o.count then
    store[key] = value or (math.tointeger(store[key]) or 0) + 1
  elseif o.many then
    store[key] = store[key] or {}
    table.insert(store[key], value)
  elseif value ~= nil then
    store[key] = value
  else
    store[key] = o.value_of == nil and true or o.value_of
  end
end

-- Applies option o; `value` is the text after '=' or the rest of a bundle, if any.
function Parse:take(o, shown, value)
  if o.alias then o = assert(self.by_long[o.alias], o.alias) end
  if o[1] == "help" then io.stdout:write(help_text(self.spec)); M.exit("nothing") end
  if o[1] == "version" then io.stdout:write("tether ", tether.version, " (", _VERSION, ")\n"); M.exit("nothing") end
  local key = o.key or o[1]:gsub("-", "_")
  if o.value and value == nil then
    local nxt = self.argv[self.i + 1]
    if not o.optional or (o.number and nxt and nxt:match("^%d+$")) then self.i = self.i + 1; value = nxt end
    if value == nil and not o.optional then self:usage(shown .. " needs " .. o.value) end
  elseif value and not o.value then
    self:usage(shown .. " takes no value")
  end
  if value ~= nil then value = self:checked(o, shown, value) end
  if self.ctx and self.origins[self.at] then self.ctx.where[key] = self.origins[self.at] end
  self:store(o, key, value)
end

-- A word that starts with "--": --name or --name=VALUE.
function Parse:long(a)
  local name, value = a:match("^%-%-([^=]+)=(.*)$")
  name = name or a:sub(3)
  local o = self.by_long[name]
  if not o then
    local hint = suggestion(name, self.spec)
    if hint == "" then hint = string.format(" (a path that starts with '-' can follow -- or be written ./%s)", a) end
    self:usage(string.format("unknown option '--%s'%s", name, hint))
  end
  self:take(o, "--" .. name, value)
end

-- A word of short options, bundled (-nq, -tDIR, -v3).
function Parse:bundle(a)
  local k = 2
  while k <= #a do
    local o = self.by_short[a:sub(k, k)]
    if not o then
      self:usage(string.format("unknown option '%s' (a path that starts with '-' can follow -- or be written ./%s)", a, a))
    end
    local rest = a:sub(k + 1)
    -- An optional number takes the digits that follow it (-v3); a value the rest.
    local attached = o.value and rest ~= "" and (not (o.optional and o.number) and rest or rest:match("^%d+"))
    self:take(o, "-" .. o.short, attached or nil)
    if attached == rest then break end
    k = k + 1 + (attached and #attached or 0)
  end
end

-- parse(argv, spec [, ctx]) -> table of options (by long name, '-' turned into '_') with
-- the positional arguments in order. spec = {name, usage, summary, description, epilog,
-- options = {{"replace", "help text", short = "r", value = "N"}, ...}, min = 1, max = 2,
-- paths = true (PATH arguments: '-' and -0/--null read them from stdin),
-- readonly = true (changes nothing: help does not offer -n)}.
-- An option with a value may have choices = {a = true, ...}, number = true (a whole
-- number, given back as an integer), size = true (bytes: 512, 4K, 1.5M, 1KiB; given back
-- as an integer), duration = UNIT (seconds: 30s, 15m, 7d; a plain number in UNIT, "s" or
-- "d"), least = N (the smallest a number, size or duration may be), and many = true
-- (repeatable, collected in a list);
-- optional = true makes its value optional: then it is given only attached (--opt=VALUE,
-- -oVALUE), or for a number also as the next word when that word is a number (as Perl's
-- Getopt::Long reads stow's --verbose[=N]). count = true counts the times the option is
-- given (-vvv is 3; a value sets the count). alias = "NAME" is another spelling of
-- option NAME (a global one too: stow's --simulate is --dry-run). An option with
-- ordered = true is kept among the positional arguments, as {option = NAME}, where it
-- was given. Short options bundle (-nq, -tDIR); a mistyped long option gets the nearest
-- one suggested. A recipe's own option replaces the global one of the same name.
-- ctx = {origins = {[i] = "FILE:LINE"}} says where the words came from (a recipe's rc
-- file): a usage error about word i then starts with its origin, and ctx.where[key] is
-- set to the origin of each option given.
function M.parse(argv, spec, ctx)
  M.recipe = spec.name
  local by_long, by_short, is_global = option_tables(spec)
  if ctx then ctx.where = ctx.where or {} end
  local ps = setmetatable({ argv = argv, spec = spec, ctx = ctx, origins = ctx and ctx.origins or {}, out = {},
                            by_long = by_long, by_short = by_short, is_global = is_global,
                            i = 1, at = nil, from_stdin = false }, Parse)
  local out, only_positional = ps.out, false
  while ps.i <= #argv do
    local a = argv[ps.i]
    ps.at = ps.i
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" then
      if a == "-" and spec.paths and not only_positional then ps.from_stdin = ps.from_stdin or "lines"
      else out[#out + 1] = a end
    elseif a == "--" then
      only_positional = true
    elseif a:sub(2, 2) == "-" then
      ps:long(a)
    else
      ps:bundle(a)
    end
    ps.i = ps.i + 1
  end
  ps.at = nil
  if ps.from_stdin then stdin_paths(out, ps.from_stdin == "nul") end
  if spec.min and #out < spec.min then ps:usage(ps.from_stdin and "no paths on stdin" or "missing arguments") end
  if spec.max and #out > spec.max then ps:usage("too many arguments") end
  if tether.options.quiet then tether.options.progress = false end
  tether.dryrun(tether.options.dry_run and true or false)
  return out
end

-- Prints a line on stdout unless --quiet or --json is on.
function M.say(fmt, ...)
  if tether.options.quiet or tether.options.json then return end
  io.stdout:write(string.format(fmt, ...), "\n")
end

-- Prints "tether: msg" on stderr: one problem that does not end the run (control
-- characters in it, from file names, shown escaped).
function M.warn(msg)
  io.stderr:write("tether: ", tether.quote(msg, true), "\n")
end

-- The keys that hold lists in every report (docs/json.md): written as arrays even
-- when empty.
local LISTS = { actions = true, runs = true, removed = true, links = true, unreadable = true,
                paths = true, steps = true, roots = true, problems = true, warnings = true,
                notes = true, links_into = true, filesystems = true, probes = true, leftovers = true,
                fixed = true, chain = true, items = true, changes = true, migrations = true, left_alone = true }
local function arrays(v)
  for k, x in pairs(v) do
    if type(x) == "table" and getmetatable(x) == nil then
      if LISTS[k] then json.array(x) end
      arrays(x)
    end
  end
  return v
end

-- Prints a report as one JSON document on stdout: the recipe's name added, lists as
-- arrays (docs/json.md). A report is printed once. A report of a run (one that says
-- "changed") says whether the run was dry, as tether.run has it when the report does not.
function M.json(value)
  if M.json_written then return end
  value.recipe = value.recipe or M.recipe
  if value.changed ~= nil and value.dry == nil then value.dry = run.dry() end
  io.stdout:write(json.encode(arrays(value), { indent = "  " }), "\n")
  M.json_written = true
end

-- The JSON object of a plan action (docs/json.md "action"): what it does, where, its
-- status ("planned", "done", "unchanged", "skipped", "failed", "not run"), and why
-- it did not happen.
function M.action_json(a, status, err)
  return { op = a.op, path = a.path, target = a.target, old = a.old, to = a.to, existing = a.existing,
           clone = a.clone, status = status, error = err }
end

-- For printing names safely on a terminal: control characters (a newline in a file
-- name) are shown escaped so one entry stays one line.
M.quote = tether.quote

-- Each root must be there and, if a directory, readable (one that cannot be read would
-- be walked as empty: nothing found, exit 0); else exit 3 naming it.
function M.check_roots(paths)
  for _, p in ipairs(paths) do
    local ok, err, _, e = tether.info(p)
    if not ok then M.exit("refused", err .. "; nothing changed", e) end
    if ok.type == "dir" then
      -- The walk's first entry is the root; an error there is a root that cannot be read.
      local iter, _, _, walker = tether.walk(p, { max_depth = 1 })
      local entry = iter()
      walker:close()
      if entry and entry.depth == 0 and entry.error then
        local _, ferr, _, fe = tether.fail(entry.error, p, "cannot read this directory")
        M.exit("refused", ferr .. "; nothing changed", fe)
      end
    end
  end
end

-- What each root given is, by identity: {path=, n=, walks_in= (a directory, or a link
-- to one: walked into), tree= (that directory's identity), tree_in=, is_entry= (a link,
-- file or, with opts.objects, anything: the object itself is looked at), entry= (its
-- directory's identity and its name), entry_in=}, where tree_in and entry_in are the
-- identities of a real directory and of each one above it ({key=, up=}): what a root is
-- inside of, whichever path (a bind mount, a linked parent) reached it. Also the first
-- root of each tree and of each entry.
local function identify(paths, opts)
  local function key(dev, ino) return dev .. ":" .. ino end
  -- Each directory is looked at once (a list of links from find names a few many times).
  local chains, reals = {}, {}
  local function chain(d)
    if chains[d] == nil then
      local i, parent = tether.info(d), path.dirname(d)
      chains[d] = { key = i and key(i.dev, i.ino), up = parent ~= d and chain(parent) or nil }
    end
    return chains[d]
  end
  local function real(p)
    if reals[p] == nil then reals[p] = tether.realpath(p) or false end
    return reals[p]
  end
  local items, trees, entries = {}, {}, {}
  for n, p in ipairs(paths) do
    local i = tether.info(p)
    local link = i and (i.type == "symlink" or i.type == "junction")
    local walks_in = i and not opts.objects and (i.type == "dir" or (link and i.target_type == "dir"))
    -- (a link to a directory given as a root stands for that directory, as find -H takes
    -- it: what is in it is walked, the link itself is not changed; its parent is a root
    -- that changes it)
    local it = { path = p, n = n, walks_in = walks_in, link = link,
                 is_entry = opts.objects or not i or (i.type ~= "dir" and not walks_in) }
    local top = it.walks_in and real(p)
    if top then
      it.tree, it.tree_in = link and key(i.target_dev, i.target_ino) or key(i.dev, i.ino), chain(top)
      trees[it.tree] = trees[it.tree] or it
    end
    local dir, name = path.split(p)
    local holder = it.is_entry and real(dir)
    local d = holder and chain(holder)
    if d and d.key and name ~= "" and name ~= "." and name ~= ".." then
      it.entry, it.entry_in = key(d.key, name), d -- (name in the directory d.key)
      entries[it.entry] = entries[it.entry] or it
    end
    items[n] = it
  end
  return items, trees, entries
end

-- The roots a user gave, folded by identity: a root named again in another spelling
-- ("d", "./d", "d/", "$PWD/d", "//d", a link to d, d through a bind mount or a linked
-- parent) or lying inside another ("d/sub" with "d") is walked once, so nothing is
-- planned twice. A root has up to two parts: the tree below it (a directory, or a link
-- to one, is walked into) and its own entry (a file, or a link that leads to no
-- directory, given as a root is itself looked at: prune takes a dangling link given
-- directly). A part that an earlier root
-- has, or that lies inside another root's tree, is dropped (with -v, saying so).
-- Returns, in the order given, {path=, tree=, self=} for each root with a part left,
-- and .paths: their paths (the run's roots, for tether.confine and the journal).
-- opts.objects: each path names one object (unlink's links), never a tree; opts.once:
-- what the -v note says is done once ("walked once").
function M.fold_roots(paths, opts)
  opts = opts or {}
  local items, trees, entries = identify(paths, opts)
  -- The root whose tree holds the directory of chain c, other than `except`.
  local function tree_over(c, except)
    while c do
      local o = c.key and trees[c.key]
      if o and o ~= except then return o end
      c = c.up
    end
  end
  local function say(what, o, same)
    M.note("%s %s %s: %s", what, same and "is the same as" or "is inside", M.quote(o.path), opts.once or "walked once")
  end
  local out = { paths = {} }
  for _, it in ipairs(items) do
    local tree_by = it.tree and tree_over(it.tree_in, it)
    local entry_by = it.entry and (entries[it.entry] ~= it and entries[it.entry] or tree_over(it.entry_in))
    local tree = it.walks_in and not tree_by
    local self = tree and not it.link -- a directory's own entry is the top of its tree
    if it.is_entry then self = not entry_by end
    if tree or self then
      out[#out + 1] = { path = it.path, tree = tree or false, self = self }
      out.paths[#out.paths + 1] = it.path
      if tree_by then say("what " .. M.quote(it.path) .. " leads to", tree_by, tree_by.tree == it.tree) end
    elseif entry_by then
      say(M.quote(it.path), entry_by, entry_by.entry == it.entry)
    else
      say(M.quote(it.path), tree_by, tree_by.tree == it.tree)
    end
  end
  return out
end

-- Prints a line with -v only (and not with --json or --quiet).
function M.note(fmt, ...)
  if tether.options.verbose then M.say(fmt, ...) end
end

-- The roots a mutating recipe was given, checked (M.check_roots), folded (M.fold_roots)
-- and held for its whole run (tether.confine): every change the recipe makes must lie
-- inside one of them. Use as `local held <close>, roots = cli.roots(args)`, then walk
-- `roots` with M.walk and give `roots.paths` to the plan.
function M.roots(paths, opts)
  M.check_roots(paths)
  local roots = M.fold_roots(paths, opts)
  local c, err, _, e = tether.raw.confine(roots.paths)
  if not c then M.exit("refused", err .. "; nothing changed", e) end
  -- A root walked into through a link the confinement would not follow (another user's,
  -- or one in a directory another user can write): refused now, dry run or not, rather
  -- than planned and then failed.
  local held = c:roots()
  for k, r in ipairs(roots) do
    if r.tree and not held[k].dir then
      local _, msg, _, fe = tether.fail("EPERM", r.path, "is a link another user could point anywhere (theirs, or in a directory they can write); not followed; give the path it leads to instead")
      M.exit("refused", msg .. "; nothing changed", fe)
    end
  end
  return c, roots
end

-- Every entry of the folded roots (M.fold_roots), each once: tether.walk(root, opts) of
-- each in turn, not going below a root whose tree another covers, and without a root's
-- own entry where another root has it.
function M.walk(roots, opts)
  local k, it, w, self = 0, nil, nil, true
  local function next_entry()
    while true do
      if not it then
        k = k + 1
        local r = roots[k]
        if not r then return nil end
        local o = {}
        for name, v in pairs(opts or {}) do o[name] = v end
        if not r.tree then o.max_depth = 0 end
        local f, _, _, walker = tether.walk(r.path, o)
        it, w, self = f, walker, r.self
      end
      local e = it()
      if e == nil then
        w:close(); it, w = nil, nil
      elseif e.depth > 0 or self then
        return e
      end
    end
  end
  return next_entry, nil, nil, setmetatable({}, { __close = function() if w then w:close() end end })
end

-- The JSON report of an applied (or dry-run) plan: docs/json.md, "actions" with each
-- one's outcome.
function M.plan_report(plan, result, extra)
  local status, errs = {}, {}
  for _, s in ipairs(result.skipped_actions or {}) do
    status[s.action], errs[s.action] = "skipped", { errno = "ECHANGED", path = s.action.path, message = s.message }
  end
  for _, f in ipairs(result.failed_actions or {}) do
    status[f.action], errs[f.action] = "failed", { errno = f.code, path = f.action.path, message = f.message }
  end
  local done_status = result.dry and "planned" or (result.id and "done" or "not run")
  local report = { changed = not result.dry and result.done > 0, dry = result.dry or false, id = result.id,
                   done = result.done, skipped = result.skipped, failed = result.failed, actions = {} }
  for _, a in ipairs(plan.actions) do
    report.actions[#report.actions + 1] = M.action_json(a, status[a] or done_status, errs[a])
  end
  for k, v in pairs(extra or {}) do report[k] = v end
  report.unreadable = M.unreadable
  return report
end

-- Directories a recipe's walk could not read: each is warned about as it is met, listed
-- in the JSON report, and makes the run end with exit 1 (problems left): what is inside
-- them was not looked at.
M.unreadable = {}
function M.walk_problem(e)
  local _, msg, _, err = tether.fail(e.error, e.path, "cannot read this directory; what is in it was left alone")
  M.unreadable[#M.unreadable + 1] = err
  M.warn(msg)
end

-- The exit code of a recipe that got to its end: 1 when a directory could not be read.
function M.done() return run.code(#M.unreadable > 0 and "problems" or "nothing") end

-- "1 link", "2 links", "0 links": a count and its noun (plural: singular .. "s" unless
-- given).
function M.count(n, singular, plural)
  return string.format("%d %s", n, n == 1 and singular or (plural or singular .. "s"))
end

-- What a plan's actions did, when they are all of one kind ("removed" for a prune's
-- unlinks), else "changed".
local DONE_VERB = { unlink = "removed", rmdir = "removed", drop = "removed", symlink = "created",
                    junction = "created", mkdir = "created", addhard = "linked", hardlink = "linked",
                    replace = "retargeted", move = "moved" }
local function done_verb(plan)
  local verb
  for _, a in ipairs(plan.actions) do
    local v = a.op == "hardlink" and a.clone and "cloned" or DONE_VERB[a.op] or "changed"
    if verb and v ~= verb then return "changed" end
    verb = v
  end
  return verb or "changed"
end

-- The common end of a bulk recipe: report every conflict and stop (exit 3) before
-- touching anything; with --dry-run print each action; otherwise apply with a journal
-- and print a summary (or one JSON document with --json). `extra` is merged into the
-- JSON report and `noun` names one thing the actions change ("link", "file"; or
-- {singular, plural}). how.stop: see Plan:apply's opts.stop; it returns the message and
-- error of the run it stops (exit 3 when nothing changed yet, else 4).
function M.apply_plan(plan, noun, extra, how)
  local one, many = noun, nil
  if type(noun) == "table" then one, many = noun[1], noun[2] end
  local conflicts = plan:check()
  if #conflicts > 0 then
    local listed = {} -- (--json: each one, {path, message})
    for i, c in ipairs(conflicts) do
      M.warn(M.quote(c.path) .. ": " .. c.message)
      listed[i] = { path = c.path, message = c.message }
    end
    M.exit("refused", string.format("nothing changed: %s in a plan of %s",
      M.count(#conflicts, "conflict"), M.count(#plan.actions, "action")), { errno = "EEXIST", conflicts = listed })
  end
  -- Test hook: a command run between planning and applying, to change the tree under a
  -- plan exactly there (tests/e2e/test_bulk.sh).
  local hook = os.getenv("TETHER_TEST_BEFORE_APPLY")
  if hook and not run.dry() then os.execute(hook) end
  local stopped_error
  local result, err, _, partial = plan:apply({
    checked = true,
    stop = how and how.stop and function(...)
      local msg, e = how.stop(...)
      stopped_error = e
      return msg
    end,
    on_action = function(a, status, err)
      if status ~= "done" then M.warn(err) elseif tether.options.verbose then M.say("%s", plan:describe(a)) end
    end,
  })
  if not result and partial and partial.done > 0 then
    M.exit("partial", string.format("%s; stopped after %s (journal %s)", err, M.count(partial.done, "change"), partial.id))
  end
  if not result then M.exit("refused", err .. "; nothing changed") end
  local stopped = result.stopped
  if stopped and result.done == 0 then M.exit("refused", stopped.message .. "; nothing changed", stopped_error) end
  if stopped then
    M.exit("partial", string.format("%s; stopped after %s; undo with: tether undo %s", stopped.message,
      M.count(result.done, "change"), result.id), stopped_error)
  end
  if tether.options.json then
    M.json(M.plan_report(plan, result, extra))
  elseif result.dry then
    plan:print(M.say)
    M.say("%s planned on %s; nothing changed (dry run)", M.count(#plan.actions, "action"), many or one .. "s")
  else
    M.say("%s %s%s%s%s", M.count(result.done, one, many), done_verb(plan),
      result.skipped > 0 and string.format(", %d skipped (changed meanwhile)", result.skipped) or "",
      result.failed > 0 and string.format(", %d failed", result.failed) or "",
      result.id and ("; undo with: tether undo " .. result.id) or "")
  end
  if result.failed > 0 then M.exit(run.outcome(result.done > 0, result.failed)) end
  if #M.unreadable > 0 then
    M.warn(string.format("%d director%s could not be read; what is in %s was left alone", #M.unreadable,
      #M.unreadable == 1 and "y" or "ies", #M.unreadable == 1 and "it" or "them"))
  end
  return result
end

return M
