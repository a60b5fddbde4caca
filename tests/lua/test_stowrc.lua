-- tether.stowrc: stow's resource files read from real files, their paths expanded as
-- stow expands them, and the command line laid over them.
local stowrc = require "tether.stowrc"
local path = require "tether.path"
local T = {}

local function write(p, text) local f = assert(io.open(p, "w")); f:write(text); f:close() end

function T.words_come_with_their_file_and_line()
  local d = tmpdir()
  write(path.join(d, "one"), "--dir=~/dots\n\n  -v   --ignore=\\.git$\n")
  write(path.join(d, "two"), "--target /srv")
  local words, origins = stowrc.words({ path.join(d, "one"), path.join(d, "missing"), path.join(d, "two") })
  eq(table.concat(words, " "), "--dir=~/dots -v --ignore=\\.git$ --target /srv")
  eq(origins[1], path.join(d, "one") .. ":1")
  eq(origins[2], path.join(d, "one") .. ":3")
  eq(origins[3], path.join(d, "one") .. ":3")
  eq(origins[5], path.join(d, "two") .. ":1")
end

function T.the_files_are_home_then_here()
  local files = stowrc.files()
  eq(files[#files], "./.stowrc")
  if os.getenv("HOME") then eq(files[1], os.getenv("HOME") .. "/.stowrc") end
end

function T.expand_as_stow_does()
  local home = os.getenv("HOME")
  if not home then skip("HOME is not set") end
  eq(stowrc.expand("~/x", "dir"), home .. "/x")
  eq(stowrc.expand("~", "dir"), home)
  eq(stowrc.expand("$HOME/x", "dir"), home .. "/x")
  eq(stowrc.expand("${HOME}/x", "dir"), home .. "/x")
  eq(stowrc.expand("\\$HOME/x", "dir"), "$HOME/x")
  eq(stowrc.expand("\\~/x", "dir"), "~/x")
  eq(stowrc.expand("/plain/x~y", "dir"), "/plain/x~y")
  local v, why = stowrc.expand("$TETHER_TEST_NO_SUCH_VARIABLE/x", "target")
  eq(v, nil)
  eq(why, "--target references undefined environment variable $TETHER_TEST_NO_SUCH_VARIABLE")
  v, why = stowrc.expand("~tether-no-such-user/x", "dir")
  eq(v, nil)
  eq(why, "--dir: no such user 'tether-no-such-user' (in ~tether-no-such-user/x)")
end

function T.home_of_reads_the_password_file()
  local d = tmpdir()
  write(path.join(d, "passwd"), "root:x:0:0:root:/root:/bin/sh\nann:x:1000:1000::/home/ann:/bin/sh\n")
  eq(stowrc.home_of("ann", path.join(d, "passwd")), "/home/ann")
  eq(stowrc.home_of("bob", path.join(d, "passwd")), nil)
  eq(stowrc.home_of(nil, path.join(d, "missing")), nil)
end

function T.read_parses_with_the_recipes_spec_and_names_the_line_of_a_bad_word()
  local d = tmpdir()
  local spec = { name = "farm", usage = "u", summary = "s", options = {
    { "dir", "d", value = "D", short = "d" }, { "target", "t", value = "T", short = "t" },
    { "ignore", "i", value = "R", many = true } } }
  write(path.join(d, "rc"), "-d ~/dots\n--ignore=a --ignore b\n")
  local rc, where = stowrc.read(spec, { path.join(d, "rc") })
  eq(rc.dir, stowrc.expand("~/dots", "dir"))
  eq(table.concat(rc.ignore, ","), "a,b")
  eq(where.dir, path.join(d, "rc") .. ":1")
  write(path.join(d, "bad"), "-d /x\n--nope\n")
  local ok, err = pcall(stowrc.read, spec, { path.join(d, "bad") })
  eq(ok, false)
  assert(tostring(err):find(path.join(d, "bad") .. ":2: unknown option '--nope'", 1, true), tostring(err))
  eq(err.exit, 2)
end

function T.the_command_line_wins_and_lists_add()
  local rc = { dir = "/rc/dir", target = "/rc/target", ignore = { "a" }, [1] = "pkg-from-rc" }
  local where = { dir = "rc:1", target = "rc:2", ignore = "rc:3" }
  local args = { dir = "/cli/dir", ignore = { "b" } }
  local from_rc = stowrc.merge(rc, where, args)
  eq(args.dir, "/cli/dir")
  eq(args.target, "/rc/target")
  eq(table.concat(args.ignore, ","), "a,b")
  eq(args[1], nil) -- a package named in a file is no package
  eq(from_rc.target, "rc:2")
  eq(from_rc.dir, nil)
  eq(from_rc.ignore, nil)
end

return T
