-- tether.help: the REPL's help and completion, from stdlib/tether/api.lua.
local help = require "tether.help"
local api = require "tether.api"
local T = {}

function T.params_reads_nested_types()
  local ps = help.params("a: string, b?: {x: fun(p: table), y?: boolean}, c: integer[]")
  eq(#ps, 3)
  eq(ps[1].name, "a"); eq(ps[1].type, "string"); eq(ps[1].optional, false)
  eq(ps[2].name, "b"); eq(ps[2].optional, true); eq(ps[2].type, "{x: fun(p: table), y?: boolean}")
  eq(ps[3].type, "integer[]")
  eq(#help.params(""), 0)
  raises(function() help.params("what is this") end, "cannot read parameter")
end

function T.every_entry_reads_whole()
  for _, f in ipairs(api.functions) do
    local text = help.text(f)
    eq(text:sub(1, #f[1] + 8), "tether." .. f[1] .. "(", f[1])
    if not text:find("example:", 1, true) then error(f[1] .. ": no example shown") end
    if not load(f.example, "=" .. f[1]) then error(f[1] .. ": its example does not compile") end
  end
end

function T.options_of_a_function()
  local names = {}
  for _, o in ipairs(help.options(help.find("symlink"))) do names[#names + 1] = o.name end
  eq(table.concat(names, " "), "dir relative replace dry loop owner")
  eq(#help.options(help.find("readlink")), 0)
end

function T.find_by_value_and_by_name()
  eq(help.find(tether.info)[1], "info")
  eq(help.find(tether.raw.unlink)[1], "unlink")
  eq(help.find("tether.readlink")[1], "readlink")
  eq(help.find(" walk() ")[1], "walk")
  local none, near = help.find("simlink")
  eq(none, nil); eq(near, "symlink")
  eq(help.find(print), nil)
  eq(help.find(42), nil)
end

function T.completion_contexts()
  local function set(list) table.sort(list) return table.concat(list, " ") end
  eq(set(help.complete('tether.symlink("a", "b", {', "re")), "relative =  replace = ")
  eq(set(help.complete('x = tether.raw.rename("a", "b", {dry = true, ', "no")), "noreplace = ")
  -- A value being typed, a string, a call that is no tether function: not options.
  eq(help.complete('tether.symlink("a", "b", {dir = ', "tr"), nil)
  eq(help.complete('tether.symlink("a {', "re"), nil)
  eq(help.complete('print({', "re"), nil)
  eq(set(help.complete("", "?hardl")), "?hardlink")
  eq(set(help.complete('help "', "journal_re")), "journal_read journal_remove")
  eq(help.complete("local x = ", "tether"), nil)
end

return T
