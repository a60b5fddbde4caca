-- luacheck (Debian's lua-check), run by the test suite over stdlib/, scripts/ and
-- host/gendocs.lua (tests/e2e/test_lint.sh): a global set or read by mistake, a
-- value never used, an unreachable statement. Shadowing and long lines are style.
std = "lua54"
max_line_length = false
ignore = {
  "4..",  -- shadowing a local: the code reads well with it
  "211/held", -- a to-be-closed variable only held open
  "212/self", -- a method's self it does not need
}
files["host/gendocs.lua"] = { globals = { "tether" } } -- run by the binary, where tether is a global
