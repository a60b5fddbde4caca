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

-- stow's options as farm declares them: a counted -v with an optional number, and
-- --simulate / --no spelling the global --dry-run.
local stowish = {
  name = "s", usage = "u", summary = "s",
  options = {
    { "verbose", "more", short = "v", value = "N", optional = true, number = true, count = true },
    { "simulate", "as -n", alias = "dry-run" },
    { "no", "as -n", alias = "dry-run" },
    { "target", "t", short = "t", value = "DIR" },
    { "level", "a word", value = "W", optional = true },
  },
}

local function keeping_options(fn)
  local saved = {}
  for k, v in pairs(tether.options) do saved[k] = v end
  local ok, err = pcall(fn)
  for k in pairs(tether.options) do tether.options[k] = nil end
  for k, v in pairs(saved) do tether.options[k] = v end
  tether.dryrun(tether.options.dry_run and true or false)
  if not ok then error(err, 0) end
end

function T.counted_flag_with_an_optional_number()
  eq(cli.parse({ "-v", "p" }, stowish).verbose, 1)
  eq(cli.parse({ "-vvv", "p" }, stowish).verbose, 3)
  eq(cli.parse({ "-v", "-v", "--verbose", "p" }, stowish).verbose, 3)
  eq(cli.parse({ "--verbose=4", "p" }, stowish).verbose, 4)
  eq(cli.parse({ "--verbose=1", "-v", "p" }, stowish).verbose, 2, "a value sets, -v adds")
  eq(cli.parse({ "-vv", "--verbose=1" }, stowish).verbose, 1)
  eq(cli.parse({ "--verbose=0" }, stowish).verbose, 0)
  local a = cli.parse({ "-v3", "p" }, stowish)
  eq(a.verbose, 3); eq(a[1], "p")
  -- as Getopt::Long: the next word is the number when it is one, else a positional
  a = cli.parse({ "-v", "2", "p" }, stowish)
  eq(a.verbose, 2); eq(a[1], "p"); eq(a[2], nil)
  a = cli.parse({ "--verbose", "p" }, stowish)
  eq(a.verbose, 1); eq(a[1], "p")
  a = cli.parse({ "-v2t", "DIR" }, stowish)
  eq(a.verbose, 2); eq(a.target, "DIR")
  eq(cli.parse({ "p" }, stowish).verbose, nil)
  local code, msg = exit_of(function() cli.parse({ "--verbose=x" }, stowish) end)
  eq(code, 2); assert(msg:find("--verbose takes a whole number, not 'x'", 1, true), msg)
  code, msg = exit_of(function() cli.parse({ "--verbose=-1" }, stowish) end)
  eq(code, 2); assert(msg:find("not '-1'", 1, true), msg)
end

function T.optional_value_only_attached()
  local a = cli.parse({ "--level", "word" }, stowish)
  eq(a.level, true); eq(a[1], "word")
  eq(cli.parse({ "--level=high" }, stowish).level, "high")
  eq(cli.parse({ "--level=" }, stowish).level, "")
end

function T.aliases_mean_their_option()
  for _, spelling in ipairs { "--simulate", "--no", "-n" } do
    keeping_options(function()
      tether.options.dry_run = nil
      tether.dryrun(false)
      local a = cli.parse({ spelling, "p" }, stowish)
      eq(a.simulate, nil); eq(a.no, nil)
      eq(tether.options.dry_run, true, spelling); eq(tether.dryrun(), true, spelling)
    end)
  end
  local code, msg = exit_of(function() cli.parse({ "--simulate=1" }, stowish) end)
  eq(code, 2); assert(msg:find("--simulate takes no value", 1, true), msg)
end

function T.a_recipes_option_replaces_the_global_of_that_name()
  keeping_options(function()
    tether.options.verbose = nil
    eq(cli.parse({ "-vv" }, stowish).verbose, 2)
    eq(tether.options.verbose, nil, "the global -v is not set")
  end)
  local out = {}
  local real = io.stdout
  io.stdout = { write = function(_, ...) for _, x in ipairs({ ... }) do out[#out + 1] = x end end }
  pcall(cli.parse, { "--help" }, stowish)
  io.stdout = real
  local text = table.concat(out)
  assert(text:find("-v, --verbose[=N]", 1, true), text)
  assert(not text:find("print more detail", 1, true), "the global --verbose is listed too:\n" .. text)
  assert(text:find("    --simulate", 1, true), text)
end

function T.errors_name_the_origin_of_the_word()
  local ctx = { origins = { "/h/.stowrc:1", "/h/.stowrc:1", "/h/.stowrc:3" } }
  local code, msg = exit_of(function() cli.parse({ "-t", "x", "--target" }, stowish, ctx) end)
  eq(code, 2)
  eq(msg, "s: /h/.stowrc:3: --target needs DIR; see tether help s")
  ctx = { origins = { "rc:1", "rc:2" } }
  _, msg = exit_of(function() cli.parse({ "-v", "--verbose=x" }, stowish, ctx) end)
  eq(msg, "s: rc:2: --verbose takes a whole number, not 'x'; see tether help s")
  _, msg = exit_of(function() cli.parse({ "-v", "--bogus" }, stowish, { origins = { "rc:1", "rc:7" } }) end)
  assert(msg:find("^s: rc:7: unknown option '%-%-bogus'"), msg)
  -- a value on the next line: where each option came from
  ctx = { origins = { "rc:1", "rc:2", "rc:4" } }
  local a = cli.parse({ "-t", "DIR", "-v" }, stowish, ctx)
  eq(a.target, "DIR"); eq(ctx.where.target, "rc:1"); eq(ctx.where.verbose, "rc:4")
  -- without origins, no prefix
  _, msg = exit_of(function() cli.parse({ "--target" }, stowish) end)
  eq(msg, "s: --target needs DIR; see tether help s")
end

function T.quote()
  eq(cli.quote("plain name"), "plain name")
  eq(cli.quote("a\nb"), '"a\\nb"')
end

return T
