-- tether.progress: the units used in progress lines and summaries.
local progress = require "tether.progress"
local T = {}

function T.bytes()
  eq(progress.bytes(0), "0 B")
  eq(progress.bytes(1023), "1023 B")
  eq(progress.bytes(13.8), "13 B")   -- a rate is a fraction
  eq(progress.bytes(1536), "1.5 KiB")
  eq(progress.bytes(5 * 1024 ^ 3), "5.0 GiB")
end

function T.duration()
  eq(progress.duration(12.4), "12s")
  eq(progress.duration(185), "3m05s")
  eq(progress.duration(3725), "1h02m")
end

function T.silent_without_a_terminal()
  local saved = tether.options.progress
  tether.options.progress = false
  local line = progress.line()
  line:show("nothing to see")  -- must not write anything
  line:done()
  tether.options.progress = saved
end

return T
