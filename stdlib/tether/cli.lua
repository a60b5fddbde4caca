-- tether.cli: what every recipe needs from the command line: parse its arguments and
-- the global options, print --help, report errors as "tether: PATH: what (ENAME); hint",
-- and end with the exit codes of the product brief.
local tether = require "tether"
local json = require "tether.json"

local M = {}

M.OK, M.PROBLEMS, M.USAGE, M.FAILED, M.PARTIAL = 0, 1, 2, 3, 4

-- The one map from how an operation ended to the exit code of the brief: nothing
-- changed or all put back, 3; stopped part-way, 4; stopped by a signal, 128 + its number.
function M.outcome_code(outcome, sig)
  if outcome == "interrupted" and sig then return 128 + sig end
  if outcome == "partial" then return M.PARTIAL end
  return M.FAILED
end

local exit_mt = { __tostring = function(e) return e.message or ("exit " .. e.exit) end }

-- Ends the recipe with exit code `code`, printing "tether: msg" first when msg is given
-- (control characters in it, from file names, shown escaped). Raised as an error so
-- to-be-closed variables and journals are closed on the way out.
function M.exit(code, msg)
  error(setmetatable({ exit = code, message = msg and tether.quote(msg, true) }, exit_mt), 0)
end

local global_flags = {
  ["-n"] = "dry_run", ["--dry-run"] = "dry_run", ["--json"] = "json",
  ["-q"] = "quiet", ["--quiet"] = "quiet", ["-v"] = "verbose", ["--verbose"] = "verbose",
}

-- Breaks text into lines of at most `width` columns at spaces.
local function wrap(text, width)
  local out, line = {}, ""
  for word in text:gmatch("%S+") do
    if #line > 0 and #line + 1 + #word > width then out[#out + 1] = line; line = word
    else line = #line > 0 and (line .. " " .. word) or word end
  end
  out[#out + 1] = line
  return table.concat(out, "\n")
end

local function help_text(spec)
  local lines = { "usage: " .. spec.usage, "", wrap(spec.summary, 88) }
  if spec.description then lines[#lines + 1] = ""; lines[#lines + 1] = spec.description end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Options:"
  for _, o in ipairs(spec.options or {}) do
    local flag = "--" .. o[1] .. (o.value and (" " .. o.value) or "")
    if o.short then flag = "-" .. o.short .. ", " .. flag else flag = "    " .. flag end
    lines[#lines + 1] = string.format("  %-24s %s", flag, o[2])
  end
  lines[#lines + 1] = "      --json               machine-readable output"
  lines[#lines + 1] = "  -n, --dry-run            check and print what would change, change nothing"
  lines[#lines + 1] = "  -q, --quiet              print only errors"
  lines[#lines + 1] = "  -h, --help               this text"
  if spec.epilog then lines[#lines + 1] = ""; lines[#lines + 1] = spec.epilog end
  return table.concat(lines, "\n") .. "\n"
end

-- parse(argv, spec) -> table of options (by long name, '-' turned into '_') with the
-- positional arguments in order. spec = {name, usage, summary, description, epilog,
-- options = {{"replace", "help text", short = "r", value = "N"}, ...}, min = 1, max = 2}.
-- An option with a value may have choices = {a = true, ...} and many = true (repeatable,
-- collected in a list).
function M.parse(argv, spec)
  local out, by_long, by_short = {}, {}, {}
  for _, o in ipairs(spec.options or {}) do
    by_long[o[1]] = o
    if o.short then by_short[o.short] = o end
  end
  local function usage(msg)
    M.exit(M.USAGE, string.format("%s: %s; see tether help %s", spec.name, msg, spec.name))
  end
  local i, only_positional = 1, false
  while i <= #argv do
    local a = argv[i]
    if only_positional or a == "-" or a:sub(1, 1) ~= "-" then
      out[#out + 1] = a
    elseif a == "--" then
      only_positional = true
    elseif a == "-h" or a == "--help" then
      io.stdout:write(help_text(spec))
      M.exit(M.OK)
    elseif global_flags[a] then
      tether.options[global_flags[a]] = true
    elseif a == "--no-progress" then
      tether.options.progress = false
    elseif a == "--journal-dir" or a:match("^%-%-journal%-dir=") then
      local v = a:match("=(.*)$")
      if not v then i = i + 1; v = argv[i] end
      if not v then usage("--journal-dir needs a directory") end
      tether.options.journal_dir = v
    else
      local name, value = a:match("^%-%-([^=]+)=(.*)$")
      local o = by_long[name or a:sub(3)] or (a:sub(2, 2) ~= "-" and #a == 2 and by_short[a:sub(2)])
      if not o or (a:sub(2, 2) ~= "-" and #a > 2) then
        usage(string.format("unknown option '%s' (a path that starts with '-' can follow -- or be written ./%s)", a, a))
      end
      local key = o[1]:gsub("-", "_")
      if o.value then
        if not value then i = i + 1; value = argv[i] end
        if not value then usage("--" .. o[1] .. " needs " .. o.value) end
        if o.choices and not o.choices[value] then
          usage(string.format("--%s cannot be '%s'", o[1], value))
        end
        if o.many then
          out[key] = out[key] or {}
          table.insert(out[key], value)
        else
          out[key] = value
        end
      elseif value then
        usage("--" .. o[1] .. " takes no value")
      else
        out[key] = true
      end
    end
    i = i + 1
  end
  if spec.min and #out < spec.min then usage("missing arguments") end
  if spec.max and #out > spec.max then usage("too many arguments") end
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

-- Prints a value as one JSON document on stdout.
function M.json(value)
  io.stdout:write(json.encode(value, { indent = "  " }), "\n")
end

-- For printing names safely on a terminal: control characters (a newline in a file
-- name) are shown escaped so one entry stays one line.
M.quote = tether.quote

-- The roots a mutating recipe was given, held for its whole run (tether.confine): each
-- must be there (else exit 3 naming it, before anything is looked at), and every change
-- the recipe makes must lie inside one of them. Use as `local roots <close> = cli.roots(args)`.
function M.roots(paths)
  for _, p in ipairs(paths) do
    local ok, err = tether.info(p)
    if not ok then M.exit(M.FAILED, err .. "; nothing changed") end
  end
  local c, err = tether.raw.confine(paths)
  if not c then M.exit(M.FAILED, err .. "; nothing changed") end
  return c
end

-- The common end of a bulk recipe: report every conflict and stop (exit 3) before
-- touching anything; with --dry-run print each action; otherwise apply with a journal
-- and print a summary (or one JSON document with --json). `extra` is merged into the
-- JSON report and `noun` names what the actions change ("links", "files").
function M.apply_plan(plan, noun, extra)
  local conflicts = plan:check()
  if #conflicts > 0 then
    for _, c in ipairs(conflicts) do M.warn(M.quote(c.path) .. ": " .. c.message) end
    M.exit(M.FAILED, string.format("nothing changed: %d conflict(s) in a plan of %d action(s)",
      #conflicts, #plan.actions))
  end
  -- Test hook: a command run between planning and applying, to change the tree under a
  -- plan exactly there (tests/e2e/test_bulk.sh).
  local hook = os.getenv("TETHER_TEST_BEFORE_APPLY")
  if hook and not tether.dryrun() then os.execute(hook) end
  local result, err, _, partial = plan:apply({
    on_action = function(a, status, err)
      if status ~= "done" then M.warn(M.quote(err)) elseif tether.options.verbose then M.say("%s", M.quote(plan:describe(a))) end
    end,
  })
  if not result and partial and partial.done > 0 then
    M.exit(M.PARTIAL, string.format("%s; stopped after %d change(s) (journal %s)", err, partial.done, partial.id))
  end
  if not result then M.exit(M.FAILED, err .. "; nothing changed") end
  if tether.options.json then
    local report = { dry = result.dry or false, id = result.id, done = result.done, skipped = result.skipped,
                     failed = result.failed, actions = json.array() }
    for _, a in ipairs(plan.actions) do report.actions[#report.actions + 1] = a end
    for k, v in pairs(extra or {}) do report[k] = v end
    M.json(report)
  elseif result.dry then
    plan:print(function(fmt, s) M.say(fmt, M.quote(s)) end)
    M.say("%d action(s) planned on %s; nothing changed (dry run)", #plan.actions, noun)
  else
    M.say("%d %s changed%s%s%s", result.done, noun,
      result.skipped > 0 and string.format(", %d skipped (changed meanwhile)", result.skipped) or "",
      result.failed > 0 and string.format(", %d failed", result.failed) or "",
      result.id and ("; undo with: tether undo " .. result.id) or "")
  end
  if result.failed > 0 then M.exit(M.PARTIAL) end
  return result
end

return M
