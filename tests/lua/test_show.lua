-- tether.show: how the REPL prints values.
local show = require "tether.show"
local T = {}

function T.values()
  eq(show(2), "2")
  eq(show("a\nb"), '"a\\nb"')
  eq(show(nil), "nil")
  eq(show({ 1, 2, x = "y", [10] = true, sub = { 1 } }), '{1, 2, [10] = true, sub = {...}, x = "y"}')
  eq(show({}), "{}")
end

return T
