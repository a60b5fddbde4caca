-- find every link under the given paths and classify it: ok, broken, loop, denied
local tether = require "tether"
local cli = require "tether.cli"
local run = require "tether.run"
local json = require "tether.json"
local progress = require "tether.progress"
local report = require "tether.report"

local args = cli.parse({...}, {
  name = "audit",
  usage = "tether audit [PATH...] [--broken] [--absolute] [--escapes] [--xdev] [--format table|json|csv|tree|html] [-o FILE] [--sort path|status|target] [--stats]",
  summary = "List every link under each PATH (default: .) with its status, then a summary by status, form and kind.",
  description = [[
Links are never followed while walking. Status: ok; broken (the target does not exist:
ENOENT/ENOTDIR only); loop (links that lead round in a circle); denied (a directory on
the way cannot be searched, so it cannot be told); error. Flags: absolute or relative
form, cross-fs (target on another filesystem), escapes (target outside the PATHs
scanned), messy (target spelled with //, /./ or /../). Filters combine: --broken
--absolute lists broken absolute links. Directories that cannot be read are reported
and the walk goes on. Exit code 1 when a broken link or a loop was found.

--format html -o report.html writes one self-contained page (nothing fetched from the
network): the counts; a picture of the directories, a box each (with what is below it)
sized by its number of links, red where some are broken or loop, amber where some are
denied or in error, green where all are ok, a click on a box listing its links; a table
of every link (path, stored target, where it resolves to, status, errno, flags) to sort
by any column and filter by status, text or directory, which opens on the problems when
there are any; a tree of the directories that hold problems. Open it in any browser;
report.html#status=broken opens it on the broken links, #status=all on every link.
-o FILE writes any format to FILE. A regular FILE (or none yet) is
replaced whole once the report is complete: until then it is written in a private
directory beside FILE (.tether-report-PID-RAND), so FILE holds either what it held or
the whole report, and a failure leaves nothing behind. A terminal, FIFO or other
character device (/dev/null) is written in place, never replaced; a link there is
followed only when it belongs to you or to root and leads to one of those (/dev/stdout).
Anything else is refused: a directory, a block device, a socket, a link to a regular
file (name the file itself), another user's link.]],
  options = {
    { "broken", "only links that do not resolve (broken, loop, denied, error)" },
    { "absolute", "only links with an absolute target" },
    { "escapes", "only links whose target lies outside the scanned paths" },
    { "xdev", "stay on the filesystem of each PATH" },
    { "format", "table (default), json, csv, tree or html", value = "FORMAT",
      choices = { table = true, json = true, csv = true, tree = true, html = true } },
    { "output", "write the report to FILE instead of standard output", value = "FILE", short = "o" },
    { "stats", "also print on stderr what the walk read and how the target cache did (directories kept open, hit rate)" },
    { "sort", "list the links by path, by status (then path) or by target (then path), the same on every run and machine; table, csv and json (the links are held in memory to sort them)",
      value = "KEY", choices = { path = true, status = true, target = true } },
  },
  paths = true, readonly = true,
})

local roots = #args > 0 and { table.unpack(args) } or { "." }
local format = args.format or (tether.options.json and "json") or "table"
if args.sort and format == "html" then
  cli.exit("usage", "audit: --sort applies to the table, csv and json formats (the HTML page sorts by any column)")
end

if args.sort and format == "tree" then
  cli.exit("usage", "audit: --sort applies to the table, csv and json formats (the tree is in path order)")
end

local function wanted(link)
  return (not args.broken or link.status ~= "ok")
     and (not args.absolute or link.form == "absolute")
     and (not args.escapes or link.escapes)
end

local function flags(link)
  return link.form .. (link.kind ~= "symlink" and ", " .. link.kind or "")
    .. (link.cross_fs and ", cross-fs" or "") .. (link.escapes and ", escapes" or "")
    .. (link.messy and ", messy" or "")
end

local function link_record(link)
  return { path = link.path, target = link.target, status = link.status, type = link.kind,
           form = link.form, cross_fs = link.cross_fs, escapes = link.escapes,
           messy = link.messy, errno = link.status_error, target_type = link.target_type }
end

local padded = {}
for _, st in ipairs({ "ok", "broken", "loop", "denied", "error" }) do padded[st] = string.format("%-7s ", st) end
local function link_line(link)
  return padded[link.status] .. cli.quote(link.path) .. " -> " .. cli.quote(link.target) .. "  (" .. flags(link) .. ")"
end

-- With --sort the links are held, then written in order (bytewise, so the same everywhere).
local STATUS_ORDER = { broken = 1, loop = 2, denied = 3, error = 4, ok = 5 }
local function before(a, b)
  if args.sort == "status" and a.status ~= b.status then return STATUS_ORDER[a.status] < STATUS_ORDER[b.status] end
  if args.sort == "target" and a.target ~= b.target then return (a.target or "") < (b.target or "") end
  return a.path < b.path
end

-- The report is written as links are found, so memory does not grow with the tree; with
-- -o a regular FILE is replaced whole once it is complete (tether.report says how).
if args.output then
  local info = tether.info(args.output)
  if info and info.type == "dir" then
    cli.exit("usage", "audit: -o " .. args.output .. ": is a directory; name the file to write")
  end
end
local out <close>, oerr, _, oe = report.open(args.output, {
  format = format, line = link_line, record = link_record, recipe = "audit", list = "links", roots = roots,
  columns = { "path", "target", "status", "type", "form", "cross_fs", "escapes", "messy", "errno" },
  order = args.sort and before or nil })
if not out then cli.exit("refused", "audit: cannot write " .. args.output .. ": " .. oerr, oe) end

local count = { links = 0, shown = 0, entries = 0, dirs = 0 }
local cache = { hits = 0, misses = 0, fallbacks = 0 }
local by_status = { ok = 0, broken = 0, loop = 0, denied = 0, error = 0 }
local by_form = { absolute = 0, relative = 0 }
local by_kind = { symlink = 0, junction = 0 }
local by_flag = { cross_fs = 0, escapes = 0, messy = 0 }
local unreadable = json.array()
local show_progress, line = progress.walk("auditing")

-- Roots named twice, or inside another, are walked once (cli.fold_roots): each link
-- counted once.
for _, r in ipairs(cli.fold_roots(roots)) do
  local root = r.path
  local info, err, _, e = tether.info(root)
  if not info then
    cli.warn(err)
    unreadable[#unreadable + 1] = e
  else
    local iter, _, _, w = tether.walk(root, { links_only = true, classify = true, xdev = args.xdev,
                                              roots = roots, progress = show_progress, max_depth = not r.tree and 0 or nil })
    for e in iter, nil, nil, w do
      -- (a root's own entry that another root has is skipped; a root that is a link to a
      -- directory is listed too, as what leads there: audit only reads)
      local skip = e.depth == 0 and not r.self and not (r.tree and e.status)
      if skip then -- luacheck: ignore 542
      elseif e.error and not e.status then
        local _, msg, _, err = tether.fail(e.error, e.path, "cannot read this directory")
        if format ~= "json" then line:done(); cli.warn(msg) end
        unreadable[#unreadable + 1] = err
      elseif e.status then
        count.links = count.links + 1
        by_status[e.status] = by_status[e.status] + 1
        by_form[e.form] = by_form[e.form] + 1
        by_kind[e.kind] = by_kind[e.kind] + 1
        if e.cross_fs then by_flag.cross_fs = by_flag.cross_fs + 1 end
        if e.escapes then by_flag.escapes = by_flag.escapes + 1 end
        if e.messy then by_flag.messy = by_flag.messy + 1 end
        if wanted(e) then
          count.shown = count.shown + 1
          if not args.sort then line:done() end -- a progress line must not run into the output
          out:add(e, root)
        end
      end
    end
    local stats = w:stats()
    count.entries, count.dirs = count.entries + stats.entries, count.dirs + stats.dirs
    for k, v in pairs(stats.target_cache or {}) do cache[k] = cache[k] + v end
  end
end
line:done()

local summary = { links = count.links, shown = count.shown, entries = count.entries,
                  dirs = count.dirs, status = by_status, form = by_form, type = by_kind,
                  flags = by_flag, unreadable = #unreadable }
local quoted_roots = {}
for i, r in ipairs(roots) do quoted_roots[i] = cli.quote(r) end
local text = string.format(
  "%s in %s under %s%s: %d ok, %d broken, %d loop, %d denied, %d error; " ..
  "%d absolute, %d relative; %d symlink, %d junction; %d cross-fs, %d escapes, %d messy%s",
  cli.count(count.links, "link"), cli.count(count.entries, "entry", "entries"), table.concat(quoted_roots, ", "),
  count.shown ~= count.links and string.format(" (%d shown)", count.shown) or "",
  by_status.ok, by_status.broken, by_status.loop, by_status.denied, by_status.error,
  by_form.absolute, by_form.relative, by_kind.symlink, by_kind.junction,
  by_flag.cross_fs, by_flag.escapes, by_flag.messy,
  #unreadable > 0 and string.format("; %d unreadable", #unreadable) or "")
out:finish({ roots = roots, unreadable = unreadable, summary = summary }, not tether.options.quiet and text or nil)
local ok, err, _, e = out:close()
local where = args.output or "standard output"
if not ok then cli.exit("refused", "audit: cannot write " .. where .. ": " .. err, e) end
if err then cli.warn("audit: wrote " .. where .. ", but " .. err) end
if args.output and format == "html" and not tether.options.quiet then
  io.stderr:write("audit: wrote ", args.output, " (", count.shown, " links)\n")
end
if args.stats then
  local looked = cache.hits + cache.misses + cache.fallbacks
  io.stderr:write(string.format("audit: read %d entries in %d directories; target cache: %d hits, %d misses, %d full lookups%s\n",
    count.entries, count.dirs, cache.hits, cache.misses, cache.fallbacks,
    looked > 0 and string.format(" (hit rate %.1f%%)", 100 * cache.hits / looked) or " (off)"))
end
-- Problems found: a broken link or a loop, or a PATH that is not there to audit.
local missing = false
for _, u in ipairs(unreadable) do
  for _, r in ipairs(roots) do if u.path == r then missing = true end end
end
return run.code(((by_status.broken + by_status.loop > 0 or missing)) and "problems" or "nothing")
