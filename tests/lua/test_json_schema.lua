-- Every recipe's --json output against docs/json.md: the real binary run on a sandbox,
-- dry and real, succeeding and failing; each output must be one JSON object of the
-- documented shapes (the same key for the same fact, lists as arrays, the run id where a
-- run was journaled, "changed" at the top of every mutating recipe's report).
local json = require "tether.json"
local path = require "tether.path"
local T = {}

local EXE = arg and arg[-2]

local function is_array(v) return type(v) == "table" and json.encode(v):sub(1, 1) == "[" end
local function is_object(v) return type(v) == "table" and json.encode(v):sub(1, 1) == "{" end

-- A checker reports the first thing wrong as "where: what".
local function fail(where, what) error(where .. ": " .. what, 0) end
local function want(cond, where, what) if not cond then fail(where, what) end end
local function str(v, where, optional)
  if v == nil and optional then return end
  want(type(v) == "string", where, "not a string: " .. tostring(v))
end
local function int(v, where, optional)
  if v == nil and optional then return end
  want(math.type(v) == "integer", where, "not an integer: " .. tostring(v))
end
local function bool(v, where) want(type(v) == "boolean", where, "not a boolean: " .. tostring(v)) end
local function keys_in(o, allowed, where)
  for k in pairs(o) do
    want(allowed[k], where, "unexpected key '" .. tostring(k) .. "'")
  end
end
local function set(list) local s = {} for _, k in ipairs(list) do s[k] = true end return s end

-- Keys that name one fact in one way: the old spellings must be gone everywhere.
local RETIRED = set { "kind", "status_error", "action", "what", "plan_kind" }
local LISTS = set { "actions", "runs", "removed", "links", "unreadable", "paths", "steps", "roots",
                    "notes", "links_into" }
-- (Lists are checked at the top of a report and in the objects of docs/json.md; a
-- summary's counts may share a name with a list.)
local function walk_keys(v, where, top)
  if type(v) ~= "table" then return end
  for k, x in pairs(v) do
    if type(k) == "string" then
      want(not RETIRED[k], where, "retired key '" .. k .. "'")
      if LISTS[k] and (top or k == "roots") then want(is_array(x), where .. "." .. k, "a list that is not an array") end
    end
    walk_keys(x, where .. "." .. tostring(k))
  end
end

local function check_error(e, where)
  want(is_object(e), where, "error is not an object")
  keys_in(e, set { "errno", "path", "reason", "hint", "message" }, where)
  str(e.message, where .. ".message")
  str(e.errno, where .. ".errno", true); str(e.path, where .. ".path", true)
  str(e.reason, where .. ".reason", true); str(e.hint, where .. ".hint", true)
end

local OPS = set { "symlink", "replace", "unlink", "rename", "move", "mkdir", "rmdir", "hardlink", "junction" }
local STATUS = set { "planned", "done", "unchanged", "skipped", "failed", "not run" }
local function check_action(a, where)
  keys_in(a, set { "op", "path", "target", "old", "to", "existing", "clone", "status", "error" }, where)
  want(a.clone == nil or (a.clone == true and a.op == "hardlink"), where, "clone is true, of a hardlink, or absent")
  want(OPS[a.op], where, "unknown op " .. tostring(a.op))
  want(STATUS[a.status], where, "unknown status " .. tostring(a.status))
  str(a.path, where .. ".path")
  want(path.is_absolute(a.path), where, "path is not absolute: " .. a.path)
  for _, k in ipairs { "target", "old", "to", "existing" } do str(a[k], where .. "." .. k, true) end
  if a.error then check_error(a.error, where .. ".error") end
end

local LINK_STATUS = set { "ok", "broken", "loop", "denied", "error" }
local function check_link(l, where)
  str(l.path, where .. ".path"); str(l.type, where .. ".type")
  if l.status then want(LINK_STATUS[l.status], where, "unknown status " .. l.status) end
  str(l.errno, where .. ".errno", true); str(l.target, where .. ".target", true)
  if l.error then check_error(l.error, where .. ".error") end
end

local function check_run(r, where)
  str(r.id, where .. ".id"); str(r.recipe, where .. ".recipe"); str(r.state, where .. ".state")
  int(r.time, where .. ".time", true)
  want(is_array(r.roots), where, "roots is not an array")
  for i, x in ipairs(r.roots) do str(x, where .. ".roots[" .. i .. "]") end
  for _, k in ipairs { "done", "skipped", "failed" } do int(r[k], where .. "." .. k, r.recipe == "migrate") end
end

local MUTATING = set { "link", "unlink", "prune", "retarget", "relativize", "dedupe", "farm", "migrate", "undo", "demo",
                       "doctor", "apply" }

-- Runs `tether --json ARGS` in dir; returns its stdout, exit code and stderr.
local function run(dir, args)
  local errfile = dir .. "/stderr"
  local p = assert(io.popen(string.format("cd '%s' && '%s' --json %s 2>'%s'", dir, EXE, args, errfile)))
  local text = p:read("a")
  local _, _, code = p:close()
  local f = io.open(errfile)
  local err = f and f:read("a") or ""
  if f then f:close() end
  return text, code, err
end

-- Checks one report; `expect` = {recipe =, changed =, journaled =, failed =}.
local function report(dir, args, expect)
  local text, code, stderr = run(dir, args)
  local where = "tether --json " .. args .. " (stderr: " .. stderr:gsub("\n$", "") .. ")"
  want(not stderr:find("stack traceback") and not stderr:find("internal error"), where, "a bug report")
  local ok, doc = pcall(json.decode, text)
  want(ok and is_object(doc), where, "not one JSON object: " .. text:sub(1, 200))
  walk_keys(doc, where, true)
  want(doc.recipe == expect.recipe, where, "recipe is " .. tostring(doc.recipe))
  local mutating = MUTATING[expect.recipe] and not expect.readonly
  if mutating then
    bool(doc.changed, where .. ".changed")
    if expect.changed ~= nil then want(doc.changed == expect.changed, where, "changed is " .. tostring(doc.changed)) end
  end
  if expect.failed then
    want(code ~= 0, where, "exit 0 for a failure")
    check_error(doc.error, where .. ".error")
    want(doc.exit == code, where, "exit " .. tostring(doc.exit) .. " but the process exited " .. tostring(code))
  else
    want(code == (expect.code or 0), where, "exit " .. tostring(code))
    want(doc.error == nil, where, "an error in a success")
    if mutating then bool(doc.dry, where .. ".dry") end
  end
  if expect.journaled then str(doc.id, where .. ".id") end
  if expect.journaled == false then want(doc.id == nil, where, "an id but nothing was journaled") end
  for i, a in ipairs(doc.actions or {}) do check_action(a, where .. ".actions[" .. i .. "]") end
  for i, l in ipairs(doc.links or {}) do check_link(l, where .. ".links[" .. i .. "]") end
  for i, l in ipairs(doc.paths or {}) do check_link(l, where .. ".paths[" .. i .. "]") end
  for i, e in ipairs(doc.unreadable or {}) do check_error(e, where .. ".unreadable[" .. i .. "]") end
  for i, r in ipairs(doc.runs or {}) do check_run(r, where .. ".runs[" .. i .. "]") end
  for i, r in ipairs(doc.removed or {}) do check_run(r, where .. ".removed[" .. i .. "]") end
  if doc.undone then check_run(doc.undone, where .. ".undone") end
  return doc, code
end

local function write(p, text) local f = assert(io.open(p, "w")); f:write(text); f:close() end

local function sandbox()
  local d = tmpdir()
  for _, sub in ipairs { "tree/sub", "old/x", "new/x", "dd", "stow/pkg/.config", "home", "src/in", "state" } do
    assert(tether.mkdir(path.join(d, sub), { parents = true }))
  end
  write(d .. "/old/x/f", "f"); write(d .. "/new/x/f", "f")
  assert(tether.symlink("nowhere", d .. "/tree/broken"))
  assert(tether.symlink(d .. "/old/x", d .. "/tree/sub/abs"))
  assert(tether.symlink("../../old/x/f", d .. "/tree/sub/rel"))
  for i = 1, 3 do write(d .. "/dd/c" .. i, "same") end
  write(d .. "/stow/pkg/.config/rc", "rc")
  write(d .. "/src/in/data", "data")
  write(d .. "/file", "a file")
  return d
end

function T.every_recipe_writes_one_documented_object()
  if tether.platform == "windows" or not EXE then skip("needs the tether binary and a POSIX shell") end
  need_symlinks()
  local d = sandbox()
  local J = "--journal-dir " .. d .. "/state/j "

  -- read-only recipes
  report(d, "audit tree", { recipe = "audit", code = 1 })
  report(d, "audit MISSING", { recipe = "audit", code = 1 })
  report(d, "audit --format json tree/sub", { recipe = "audit" })
  report(d, "inspect tree/sub/rel tree/broken", { recipe = "inspect", code = 1 })
  report(d, "inspect tree/sub/rel MISSING", { recipe = "inspect", code = 1 })
  report(d, "inspect --chain tree/sub/rel tree/broken", { recipe = "inspect", code = 1 })
  report(d, "audit --sort status tree", { recipe = "audit", code = 1 })

  -- link, twice: the second changes nothing, exit 0, no new journal
  report(d, J .. "link -n old/x tree/new-link", { recipe = "link", changed = false, journaled = false })
  report(d, J .. "link old/x tree/new-link", { recipe = "link", changed = true, journaled = true })
  report(d, J .. "link old/x tree/new-link", { recipe = "link", changed = false, journaled = false })
  report(d, J .. "link --replace old/x tree/new-link", { recipe = "link", changed = false, journaled = false })
  report(d, J .. "link old/x file", { recipe = "link", failed = true })
  local h = report(d, J .. "history", { recipe = "history" })
  eq(#h.runs, 1, "journals after linking twice")

  -- unlink
  report(d, J .. "unlink -n tree/new-link", { recipe = "unlink", changed = false })
  report(d, J .. "unlink tree/new-link", { recipe = "unlink", changed = true, journaled = true })
  report(d, J .. "unlink --missing-ok tree/new-link", { recipe = "unlink", changed = false, journaled = false })
  report(d, J .. "unlink file", { recipe = "unlink", failed = true })

  -- the plan recipes
  report(d, J .. "prune -n tree", { recipe = "prune", changed = false })
  report(d, J .. "prune tree", { recipe = "prune", changed = true, journaled = true })
  report(d, J .. "prune tree", { recipe = "prune", changed = false, journaled = false })
  report(d, J .. "prune MISSING", { recipe = "prune", failed = true })
  local from, to = d .. "/old", d .. "/new"
  report(d, J .. "retarget -n --from " .. from .. " --to " .. to .. " tree", { recipe = "retarget", changed = false })
  report(d, J .. "retarget --from " .. from .. " --to " .. to .. " tree", { recipe = "retarget", changed = true, journaled = true })
  report(d, J .. "retarget --from " .. from .. " --to " .. to .. " MISSING", { recipe = "retarget", failed = true })
  report(d, J .. "relativize -n tree", { recipe = "relativize", changed = false })
  report(d, J .. "relativize tree", { recipe = "relativize", changed = true, journaled = true })
  report(d, J .. "relativize MISSING", { recipe = "relativize", failed = true })
  report(d, J .. "dedupe -n --ignore-mtime dd", { recipe = "dedupe", changed = false })
  report(d, J .. "dedupe --ignore-mtime dd", { recipe = "dedupe", changed = true, journaled = true })
  report(d, J .. "dedupe MISSING", { recipe = "dedupe", failed = true })
  report(d, J .. "farm link -n pkg --dir stow --target home", { recipe = "farm", changed = false })
  report(d, J .. "farm link pkg --dir stow --target home", { recipe = "farm", changed = true, journaled = true })
  report(d, J .. "farm link pkg --dir stow --target home", { recipe = "farm", changed = false, journaled = false })
  write(d .. "/stow/pkg/.config/clash", "x"); write(d .. "/home/.config-real", "x")
  report(d, J .. "farm link pkg --dir stow --target MISSING", { recipe = "farm", failed = true })

  -- undo and history
  report(d, J .. "undo -n", { recipe = "undo", changed = false })
  report(d, J .. "undo", { recipe = "undo", changed = true })
  report(d, J .. "undo 20261130-191123-007101-e2", { recipe = "undo", failed = true }) -- (no such run)
  report(d, J .. "history", { recipe = "history" })
  report(d, J .. "history --prune --keep 2 -n", { recipe = "history" })
  report(d, J .. "history --prune --keep 2", { recipe = "history" })

  -- migrate: dry, real, status, failures, undo of it
  local dest = d .. "/moved"
  report(d, J .. "migrate -n src " .. dest, { recipe = "migrate", changed = false })
  report(d, J .. "migrate src " .. dest, { recipe = "migrate", changed = true, journaled = true })
  report(d, J .. "migrate --status", { recipe = "migrate", readonly = true })
  report(d, J .. "migrate MISSING " .. dest .. "2", { recipe = "migrate", failed = true })
  report(d, J .. "migrate --resume nosuchrun", { recipe = "migrate", failed = true })
  report(d, J .. "undo -n", { recipe = "undo", changed = false })
  report(d, J .. "undo", { recipe = "undo", changed = true })

  -- doctor: probes and leftovers (none here), and --fix -n
  report(d, J .. "doctor --no-probe tree", { recipe = "doctor", changed = false })
  report(d, J .. "doctor --fix -n tree", { recipe = "doctor", changed = false })
  report(d, J .. "doctor MISSING", { recipe = "doctor", failed = true })

  -- demo makes and removes its own sample
  report(d, J .. "demo -n", { recipe = "demo", changed = false })
  -- apply: check, apply, again (nothing), a conflict, a bad declaration
  write(d .. "/decl.lua", 'return { dirs = { "made" }, links = { { path = "made/l", target = "../old/x" } } }')
  write(d .. "/conflict.json", '{"links": [{"path": "file", "target": "x"}]}')
  local a = report(d, J .. "apply --check decl.lua", { recipe = "apply", changed = true, journaled = false })
  eq(#a.items, 2, "apply --check: items")
  report(d, J .. "apply decl.lua", { recipe = "apply", changed = true, journaled = true })
  a = report(d, J .. "apply decl.lua", { recipe = "apply", changed = false, journaled = false })
  eq(a.items[2].status, "ok", "apply again: the link is ok")
  a = report(d, J .. "apply conflict.json", { recipe = "apply", failed = true })
  eq(a.items[1].status, "failed", "apply conflict: the item failed")
  str(a.items[1].reason, "apply conflict: reason")
  report(d, J .. "apply MISSING.lua", { recipe = "apply", failed = true })
  report(d, J .. "undo", { recipe = "undo", changed = true })
end

-- The id of every journaled run is where the report says; history agrees.
function T.run_ids_in_reports_are_in_history()
  if tether.platform == "windows" or not EXE then skip("needs the tether binary and a POSIX shell") end
  need_symlinks()
  local d = sandbox()
  local J = "--journal-dir " .. d .. "/state/j "
  local doc = report(d, J .. "prune tree", { recipe = "prune", changed = true, journaled = true })
  local h = report(d, J .. "history", { recipe = "history" })
  eq(h.runs[#h.runs].id, doc.id, "the run id")
  eq(h.runs[#h.runs].recipe, "prune")
end

return T
