-- tether.units: the one parser of sizes and durations, and their printing.
local units = require "tether.units"
local T = {}

function T.sizes()
  local cases = {
    ["512"] = 512, ["512B"] = 512, ["0"] = 0, ["4K"] = 4096, ["4k"] = 4096, ["1.5M"] = 1572864,
    ["10G"] = 10737418240, ["1KiB"] = 1024, ["2MiB"] = 2097152, ["1KB"] = 1000, ["3mb"] = 3000000,
    ["1T"] = 1099511627776, [" 7 K "] = 7168, [".5K"] = 512, ["1P"] = 2 ^ 50,
  }
  for text, want in pairs(cases) do eq(units.size(text), math.tointeger(want), text) end
  for _, bad in ipairs({ "", "K", "-1", "1X", "1.5", "1e3", "0x10", "1 K B", "nan", "9E", "1..2K", "4Kb?" }) do
    local v, why = units.size(bad)
    eq(v, nil, bad)
    if type(why) ~= "string" then error(bad .. ": no reason given") end
  end
end

function T.durations()
  local cases = { ["30s"] = 30, ["15m"] = 900, ["12h"] = 43200, ["7d"] = 604800, ["2w"] = 1209600,
                  ["1.5h"] = 5400, ["90"] = 90, ["3 days"] = 259200, ["1min"] = 60 }
  for text, want in pairs(cases) do eq(units.duration(text), want, text) end
  eq(units.duration("2", "d"), 172800, "a plain number in the option's unit")
  for _, bad in ipairs({ "", "d", "-1d", "1y", "1 fortnight", "1.2.3s" }) do eq(units.duration(bad), nil, bad) end
end

function T.printing()
  eq(units.bytes(512), "512 B")
  eq(units.bytes(1536), "1.5 KiB")
  eq(units.bytes(10737418240), "10.0 GiB")
  eq(units.seconds(12), "12s")
  eq(units.seconds(185), "3m05s")
  eq(units.seconds(3720), "1h02m")
end

-- What is printed reads back as (about) what it was.
function T.round_trip()
  for _, n in ipairs({ 0, 1, 1023, 1024, 1536, 999999, 2 ^ 20 * 7, 2 ^ 40 * 3 }) do
    local text = units.bytes(n):gsub(" ", ""):gsub("B$", ""):gsub("i$", "")
    local back = units.size(text)
    if not back or math.abs(back - n) > n * 0.05 + 1 then error(n .. " printed as " .. units.bytes(n) .. " reads back as " .. tostring(back)) end
  end
end

return T
