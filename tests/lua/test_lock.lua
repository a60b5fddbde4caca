-- tether.lock, lock_state, lock_dir and link_support from Lua, on every platform (the
-- Windows build runs these under Wine): a lock in a state directory keeps a second taker
-- out and says who holds it, even while held; it goes with its file; what is not a lock
-- file at its name is refused; a directory's own lock; and whether a link can be made,
-- told without making one.
local path = require "tether.path"
local T = {}

local KEY = "/some/where/src"

local function entries(d)
  local n = 0
  for e in tether.walk(d, { max_depth = 1 }) do if e.depth == 1 then n = n + 1 end end
  return n
end

function T.a_lock_keeps_a_second_taker_out_and_says_who_holds_it()
  local d = tmpdir()
  eq(tether.lock_state(d, KEY), "none")
  local l = assert(tether.lock(d, KEY, "pid 1, tether migrate"))
  eq(entries(d), 1)
  assert(l:say("pid 1, run A, migrate"))
  local state, holder = tether.lock_state(d, KEY)
  eq(state, "held"); eq(holder, "pid 1, run A, migrate") -- readable while held
  local again, msg, code = tether.lock(d, KEY, "pid 2")
  eq(again, nil); eq(code, "EBUSY")
  assert(msg:find("another tether run is working on it (pid 1, run A, migrate)", 1, true), msg)
  local other = assert(tether.lock(d, "/some/where/dest", "pid 1")) -- another key, another lock
  eq(entries(d), 2)
  other:close()
  l:close()
  eq(tether.lock_state(d, KEY), "none")
  eq(entries(d), 0) -- the files go with the locks
end

function T.what_is_not_a_lock_file_at_its_name_is_refused()
  local d = tmpdir()
  local l = assert(tether.lock(d, KEY, "pid 1"))
  local name
  for e in tether.walk(d, { max_depth = 1 }) do if e.depth == 1 then name = e.name end end
  l:close()
  assert(tether.mkdir(path.join(d, name)))
  local got, msg = tether.lock(d, KEY, "pid 1")
  eq(got, nil)
  assert(msg:find(name, 1, true), msg)
  local state, qmsg = tether.lock_state(d, KEY)
  eq(state, nil)
  assert(qmsg:find(name, 1, true), qmsg)
  eq(tether.info(path.join(d, name)).type, "dir") -- left alone
end

function T.a_query_makes_nothing()
  local d = tmpdir()
  local missing = path.join(d, "not-yet")
  eq(tether.lock_state(missing, KEY), "none")
  eq(tether.exists(missing), false)
end

function T.a_directory_locked_itself()
  local d = tmpdir()
  local l, msg, code = tether.lock_dir(d)
  if not l then
    eq(code, "ENOTSUP", msg) -- Windows: the lock file alone keeps runs apart
    return
  end
  local again, _, acode = tether.lock_dir(d)
  eq(again, nil); eq(acode, "EBUSY")
  l:close()
  assert(tether.lock_dir(d)):close()
  eq(entries(d), 0) -- nothing written
end

function T.link_support_tells_without_making_a_link()
  local d = tmpdir()
  local known, fs = tether.link_support(d)
  eq(type(known), "boolean"); eq(type(fs), "string")
  if tether.platform == "windows" then eq(known, false) end -- only a try tells there
  eq(entries(d), 0)
  local none, msg = tether.link_support(path.join(d, "missing"))
  eq(none, nil)
  assert(msg:find("missing", 1, true), msg)
end

-- A holder that has not written who it is yet (it writes right after it locks): the
-- second taker waits a moment for it, then says so rather than naming no one.
function T.a_holder_that_has_not_said_who_yet()
  local d = tmpdir()
  local l = assert(tether.lock(d, KEY, ""))
  local started = tether.now()
  local again, msg, code = tether.lock(d, KEY, "pid 2")
  eq(again, nil); eq(code, "EBUSY")
  assert(msg:find("another tether run is working on it (it has not said who yet)", 1, true), msg)
  assert(tether.now() - started >= 0.05, "it waited a moment for the holder to say who")
  l:close()
end

return T
