-- tether.symlink's owner option: the link just made is given that owner when root makes
-- it (an undo giving a user's link back); anyone else's links are their own, as the
-- kernel makes them, and the option changes nothing. Misuse raises.
local T = {}

function T.owner_given_when_root_only()
  need_symlinks()
  local d = tmpdir()
  local me = tether.euid()
  local made = assert(tether.symlink("nowhere", d .. "/l", { owner = { uid = 65534, gid = 65534 } }))
  local i = assert(tether.info(d .. "/l"))
  eq(i.type, "symlink"); eq(i.target, "nowhere")
  if me == 0 and tether.platform ~= "windows" then
    eq(i.uid, 65534, "root gives the link its owner"); eq(i.gid, 65534)
    eq(made.uid, 65534, "what symlink returns is the link as it is now")
    eq(made.ino, i.ino); eq(made.ctime_ns, i.ctime_ns)
  else
    eq(i.uid, me, "anyone else's link is their own")
  end
  -- The caller's own owner: nothing to change either way.
  assert(tether.symlink("x", d .. "/m", { owner = { uid = i.uid, gid = i.gid } }))
  eq(tether.info(d .. "/m").uid, i.uid)
end

function T.dry_run_changes_no_owner()
  need_symlinks()
  local d = tmpdir()
  assert(tether.symlink("nowhere", d .. "/l", { dry = true, owner = { uid = 65534, gid = 65534 } }))
  eq(tether.exists(d .. "/l"), false)
end

function T.owner_misuse_raises()
  local d = tmpdir()
  raises(function() tether.symlink("x", d .. "/l", { owner = 65534 }) end, "owner")
  raises(function() tether.symlink("x", d .. "/l", { owner = { uid = "root", gid = 0 } }) end, "owner")
  raises(function() tether.symlink("x", d .. "/l", { owner = { uid = 1 } }) end, "owner")
  raises(function() tether.symlink("x", d .. "/l", { owner = { uid = -1, gid = 0 } }) end, "owner")
  eq(tether.exists(d .. "/l"), false)
end

return T
