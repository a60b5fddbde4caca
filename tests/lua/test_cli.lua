-- tether.cli: argument parsing shared by the recipes.
local cli = require "tether.cli"
local T = {}

local spec = {
  name = "t", usage = "tether t [--flag] [--size N] A [B]", summary = "test",
  options = { { "flag", "a flag", short = "f" }, { "min-size", "a value", value = "N" } },
  min = 1, max = 2,
}

local function exit_of(fn)
  local ok, e = pcall(fn)
  assert(not ok and type(e) == "table", "expected a cli exit")
  return e.exit, e.message
end

function T.parses_flags_values_and_positionals()
  local a = cli.parse({ "--flag", "--min-size", "10", "x", "--", "-y" }, spec)
  eq(a.flag, true); eq(a.min_size, "10"); eq(a[1], "x"); eq(a[2], "-y")
  a = cli.parse({ "-f", "--min-size=5", "x" }, spec)
  eq(a.flag, true); eq(a.min_size, "5")
end

function T.usage_errors_exit_2()
  local code, msg = exit_of(function() cli.parse({ "--nope", "x" }, spec) end)
  eq(code, 2); assert(msg:find("unknown option '%-%-nope'"), msg)
  code, msg = exit_of(function() cli.parse({ "-weird" }, spec) end)
  eq(code, 2); assert(msg:find("./%-weird"), msg)
  eq((exit_of(function() cli.parse({}, spec) end)), 2)
  eq((exit_of(function() cli.parse({ "a", "b", "c" }, spec) end)), 2)
  eq((exit_of(function() cli.parse({ "--min-size" }, spec) end)), 2)
  eq((exit_of(function() cli.parse({ "--flag=1", "x" }, spec) end)), 2)
end

function T.global_options_anywhere()
  local saved = { dry = tether.options.dry_run, json = tether.options.json }
  cli.parse({ "x", "--json", "-n" }, spec)
  eq(tether.options.json, true); eq(tether.dryrun(), true)
  tether.options.dry_run, tether.options.json = saved.dry, saved.json
  tether.dryrun(false)
end

function T.short_options_bundle()
  local saved = { dry = tether.options.dry_run, quiet = tether.options.quiet, progress = tether.options.progress }
  local a = cli.parse({ "-nqf", "x" }, spec)
  eq(a.flag, true); eq(tether.options.quiet, true); eq(tether.dryrun(), true)
  local s2 = { name = "t", usage = "u", summary = "s", options = { { "to", "a value", short = "t", value = "DIR" },
                                                                   { "flag", "f", short = "f" } } }
  a = cli.parse({ "-ftDIR" }, s2)
  eq(a.flag, true); eq(a.to, "DIR")
  a = cli.parse({ "-ft", "DIR2" }, s2)
  eq(a.to, "DIR2")
  local code, msg = exit_of(function() cli.parse({ "-fz" }, s2) end)
  eq(code, 2); assert(msg:find("unknown option '%-fz'"), msg)
  tether.options.dry_run, tether.options.quiet, tether.options.progress = saved.dry, saved.quiet, saved.progress
  tether.dryrun(false)
end

function T.mistyped_options_get_a_suggestion()
  local s2 = { name = "t", usage = "u", summary = "s", options = { { "from", "x", value = "P" }, { "loops", "y" } } }
  local _, msg = exit_of(function() cli.parse({ "--form", "a" }, s2) end)
  assert(msg:find("did you mean %-%-from%?"), msg)
  _, msg = exit_of(function() cli.parse({ "--lops" }, s2) end)
  assert(msg:find("did you mean %-%-loops%?"), msg)
  _, msg = exit_of(function() cli.parse({ "--jsn" }, s2) end)
  assert(msg:find("did you mean %-%-json%?"), msg)
  _, msg = exit_of(function() cli.parse({ "--zzzzzz" }, s2) end)
  assert(not msg:find("did you mean"), msg)
end

function T.help_lists_global_options_and_hides_dry_run_when_read_only()
  local function help(s)
    local out = {}
    local real = io.stdout
    io.stdout = { write = function(_, ...) for _, x in ipairs({ ... }) do out[#out + 1] = x end end }
    local ok = pcall(cli.parse, { "--help" }, s)
    io.stdout = real
    assert(not ok)
    return table.concat(out)
  end
  local text = help(spec)
  for _, o in ipairs { "--dry-run", "--json", "--quiet", "--verbose", "--no-progress", "--journal-dir", "--help" } do
    assert(text:find(o, 1, true), o .. " missing from help")
  end
  text = help({ name = "r", usage = "u", summary = "s", readonly = true, paths = true })
  assert(not text:find("--dry-run", 1, true), "a read-only recipe offers -n")
  assert(text:find("--null", 1, true), "a recipe of paths does not offer --null")
end

function T.quote()
  eq(cli.quote("plain name"), "plain name")
  eq(cli.quote("a\nb"), '"a\\nb"')
end

return T
