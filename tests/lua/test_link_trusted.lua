-- tether.link_trusted, core/chase's trust rule as apply's resolver (tether.declare) asks
-- it: every owner of link and directory, every write bit, a directory not there yet, the
-- caller by default, and arguments that are not what it takes.
local T = {}

local function dir(uid, mode) return { type = "dir", uid = uid, mode = mode } end

function T.rule_for_every_owner_and_mode()
  for _, euid in ipairs({ 0, 1000 }) do
    for _, luid in ipairs({ 0, 1000, 65534 }) do
      for _, duid in ipairs({ 0, 1000, 65534 }) do
        for _, mode in ipairs({ 448, 493, 509, 495, 511, 1023, 1008 }) do -- 0700 0755 0775 0757 0777 01777 01760
          local ok, why = tether.link_trusted(luid, dir(duid, mode), euid)
          local others = (duid ~= euid and duid ~= 0) or mode & 18 ~= 0 -- 022
          local want = luid == euid and luid ~= 0 or luid == 0 and not others
          eq(ok, want, ("link %d, dir %d %o, euid %d"):format(luid, duid, mode, euid))
          eq(why, (not want) and ((luid ~= euid and luid ~= 0) and "owner" or "dir") or nil)
        end
      end
      -- A directory not there yet is the run's own: only another user's link is refused.
      local ok, why = tether.link_trusted(luid, nil, euid)
      eq(ok, luid == euid or luid == 0)
      eq(why, (luid ~= euid and luid ~= 0) and "owner" or nil)
    end
  end
end

function T.caller_by_default()
  local me = tether.euid()
  eq(tether.link_trusted(me, dir(me, 448)), true)
  eq(select(2, tether.link_trusted(me + 1, dir(me, 448))), me + 1 == 0 and nil or "owner")
  local d = tmpdir()
  eq(tether.link_trusted(me, tether.info(d)), true) -- tether.info of a directory will do
end

function T.bad_arguments_raise()
  raises(tether.link_trusted, "bad argument #1", "root")
  raises(tether.link_trusted, "bad argument #2", 0, "dir")
  raises(tether.link_trusted, "a directory's uid and mode", 0, { uid = 0 })
  raises(tether.link_trusted, "bad argument #3", 0, nil, "me")
end

return T
