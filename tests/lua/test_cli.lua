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

function T.quote()
  eq(cli.quote("plain name"), "plain name")
  eq(cli.quote("a\nb"), '"a\\nb"')
end

return T
