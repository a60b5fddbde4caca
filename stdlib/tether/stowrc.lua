-- tether.stowrc: GNU Stow's resource files for tether farm's stow form: the words of
-- ~/.stowrc then ./.stowrc (each read when readable), ~, ~USER, $VAR and ${VAR} in their
-- --dir and --target expanded as stow expands them, and the command line laid over them
-- (an option given there replaces the file's, a list adds to it).
local tether = require "tether"

local M = {}

-- The files read, in order: ~/.stowrc (when HOME is set), then ./.stowrc.
function M.files()
  local home = os.getenv("HOME")
  local files = { "./.stowrc" }
  if home then table.insert(files, 1, home .. "/.stowrc") end
  return files
end

-- The words of files (default M.files()), each with the FILE:LINE it came from: words,
-- origins (origins[i] is where words[i] was). A file that cannot be read gives none.
function M.words(files)
  local words, origins = {}, {}
  for _, file in ipairs(files or M.files()) do
    local f = io.open(file, "r")
    local text = f and f:read("a")
    if f then f:close() end
    local n = 0
    for line in ((text or "") .. "\n"):gmatch("([^\n]*)\n") do
      n = n + 1
      for word in line:gmatch("%S+") do
        words[#words + 1] = word
        origins[#words] = file .. ":" .. n
      end
    end
  end
  return words, origins
end

-- The home directory of a user (by name, or the caller's) from the password file.
function M.home_of(user, passwd)
  local f = io.open(passwd or "/etc/passwd", "r")
  if not f then return nil end
  local uid = not user and tostring(tether.euid())
  for line in f:lines() do
    local name, id, home = line:match("^([^:]*):[^:]*:([^:]*):[^:]*:[^:]*:([^:]*)")
    if name and (name == user or id == uid) then f:close(); return home end
  end
  f:close()
  return nil
end

-- p (the value of option --opt) with ${VAR}, $VAR, ~ and ~USER expanded, as stow does;
-- \$ and \~ stand for themselves. Returns it, or nil and why (an undefined variable, no
-- such user).
function M.expand(p, opt)
  local undefined
  local function var(pos, name, s)
    if s:sub(pos - 1, pos - 1) == "\\" then return nil end
    local v = os.getenv(name)
    if not v then undefined = undefined or name end
    return v
  end
  local s1 = p
  local s2 = s1:gsub("()%${([%w_%s]+)}", function(pos, name) return var(pos, name, s1) end)
  local s3 = s2:gsub("()%$([%w_]+)", function(pos, name) return var(pos, name, s2) end)
  if undefined then return nil, string.format("--%s references undefined environment variable $%s", opt, undefined) end
  p = s3:gsub("\\%$", "$")
  local user, rest = p:match("^~([^/]*)(.*)$")
  if user then
    local home = user == "" and (os.getenv("HOME") or os.getenv("LOGDIR") or M.home_of()) or M.home_of(user)
    if not home then return nil, string.format("--%s: no such user '%s' (in %s)", opt, user, p) end
    p = home .. rest
  end
  return (p:gsub("\\~", "~"))
end

-- The options of the resource files, parsed with the recipe's spec (tether.cli), with
-- --dir and --target expanded: rc, and where each option came from (key -> FILE:LINE).
-- A usage error names the file and line (cli.exit).
function M.read(spec, files)
  local cli = require "tether.cli"
  local words, origins = M.words(files)
  local ctx = { origins = origins }
  local rc = #words > 0 and cli.parse(words, spec, ctx) or {}
  for _, key in ipairs { "dir", "target" } do
    if rc[key] then
      local v, why = M.expand(rc[key], key)
      if not v then cli.exit("usage", string.format("%s: %s: %s; see tether help %s", spec.name, ctx.where[key], why, spec.name)) end
      rc[key] = v
    end
  end
  return rc, ctx.where or {}
end

-- Lays the command line's options (args) over the files' (rc): an option given on the
-- command line replaces the same from a file, a list adds to it. Returns the FILE:LINE
-- of each option only a file gave (key -> origin).
function M.merge(rc, where, args)
  local from_rc = {}
  for k, v in pairs(rc) do
    if type(k) == "string" then
      if type(v) == "table" and args[k] then
        local merged = { table.unpack(v) }
        for _, x in ipairs(args[k]) do merged[#merged + 1] = x end
        args[k] = merged
      elseif args[k] == nil then
        args[k], from_rc[k] = v, where[k]
      end
    end
  end
  return from_rc
end

return M
