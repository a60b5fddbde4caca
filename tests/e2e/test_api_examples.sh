#!/usr/bin/env bash
# Every example in stdlib/tether/api.lua (what help() and docs/api.md show) runs as
# written, in a directory holding f ("hello\n"), d/a and l -> f, and every call it makes
# returns what the entry says on success (its `ret`): the documentation cannot drift from
# the module without this failing.
. "$(dirname "$0")/lib.sh"

# Runs example number $1 with each tether.* function checked against its entry.
checker='
local api = require "tether.api"
local i = tonumber(...)
local kinds = { ["true"] = function(v) return v == true end,
  boolean = function(v) return type(v) == "boolean" end,
  integer = function(v) return math.type(v) == "integer" end,
  number = function(v) return type(v) == "number" end,
  string = function(v) return type(v) == "string" end,
  ["nil"] = function(v) return v == nil end,
  ["integer|false"] = function(v) return v == false or math.type(v) == "integer" end,
  ["integer?"] = function(v) return v == nil or math.type(v) == "integer" end }
local function kind_of(ret)
  local first = ret:match("^([^,]+)") or ret
  if kinds[first] then return kinds[first] end
  if first:find("^fun") or first == "function" then return function(v) return type(v) == "function" end end
  if first == "file*" or first:find("^tether%.confinement") or first:find("^tether%.journal") or first:find("^tether%.lock")
    or first:find("^tether%.regex") then return function(v) return type(v) == "userdata" end end
  return function(v) return type(v) == "table" end -- tables of every shape
end
local wrong, dryrun = {}, tether.dryrun
for _, f in ipairs(api.functions) do
  local real, ok_type = tether[f[1]], kind_of(f.ret)
  if f.ret:sub(1, 4) ~= "nil," then
    tether[f[1]] = function(...)
      local r = table.pack(real(...))
      local failed = r[1] == nil and type(r[2]) == "string"
      local dry = r[1] == true and dryrun() -- a changing call only records itself
      if not failed and not dry and not ok_type(r[1]) then
        wrong[#wrong + 1] = string.format("tether.%s returned %s, its entry says %s", f[1], type(r[1]), f.ret)
      end
      return table.unpack(r, 1, r.n)
    end
  end
end
local f = api.functions[i]
assert(load(f.example, "=example of " .. f[1]))()
if #wrong > 0 then io.stderr:write(table.concat(wrong, "\n"), "\n") os.exit(1) end
print(f[1])'

n=$("$TETHER" -e 'print(#require("tether.api").functions)')
check "the API has entries" test "$n" -gt 40
for i in $(seq 1 "$n"); do
    dir="$WORK/ex$i"
    mkdir "$dir" && printf 'hello\n' >"$dir/f" && mkdir "$dir/d" && echo a >"$dir/d/a" && ln -s f "$dir/l"
    out=$(cd "$dir" && XDG_STATE_HOME="$dir/.state" "$TETHER" -e "$checker" "$i" 2>"$WORK/stderr")
    rc=$? err=$(cat "$WORK/stderr")
    no_bug_report "example $i" "$err"
    check "example $i ($out) runs and returns what its entry says" is "$rc" 0
    rm -rf "$dir"
done

finish
