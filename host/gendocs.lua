-- Build step: man pages and shell completions from the option tables the recipes parse
-- with, so they cannot drift from --help; the API reference and LuaLS stubs from
-- stdlib/tether/api.lua. Run by the built binary:
--   tether run host/gendocs.lua SRCDIR OUTDIR
-- writes OUTDIR/man/tether.1, OUTDIR/man/tether-RECIPE.1 for each recipe,
-- OUTDIR/completions/{tether.bash,_tether,tether.fish}, OUTDIR/api.md and
-- OUTDIR/types/tether.lua (docs/api.md and types/tether.lua are committed copies).
local cli = require "tether.cli"
local src, out = arg[1], arg[2]
assert(src and out, "usage: tether run gendocs.lua SRCDIR OUTDIR")

-- Each recipe's spec, caught at its cli.parse call (the recipe does nothing else first).
local CAUGHT = {}
local real_parse = cli.parse
cli.parse = function(_, spec) error(setmetatable({ spec = spec }, CAUGHT), 0) end
local recipes = {}
for e in tether.walk(src .. "/scripts", { max_depth = 1 }) do
  local name = e.depth == 1 and e.name:match("^(.+)%.lua$")
  if name then
    local f = assert(io.open(e.path))
    local first = f:read("l"):match("^%-%-%s*(.*)$") or ""
    f:close()
    local chunk = assert(loadfile(e.path))
    local ok, caught = pcall(chunk)
    assert(not ok and getmetatable(caught) == CAUGHT, e.path .. ": no cli.parse spec found")
    recipes[#recipes + 1] = { name = name, line = first, spec = caught.spec }
  end
end
cli.parse = real_parse
table.sort(recipes, function(a, b) return a.name < b.name end)

local function write(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end
assert(tether.mkdir(out .. "/man", { parents = true }))
assert(tether.mkdir(out .. "/completions", { parents = true }))

-- roff: backslashes escaped, a line starting with . or ' protected, options' dashes as \-.
local function roff(text)
  text = text:gsub("\\", "\\e")
  text = text:gsub("%-", "\\-")
  text = text:gsub("\n([.'])", "\n\\&%1"):gsub("^([.'])", "\\&%1")
  return text
end
-- Prose: lines joined into paragraphs (a blank line between them).
local function paragraphs(text)
  local outp = {}
  for para in (text .. "\n\n"):gmatch("(.-)\n%s*\n") do
    para = para:gsub("\n", " "):gsub("^%s+", "")
    if para ~= "" then outp[#outp + 1] = roff(para) end
  end
  return table.concat(outp, "\n.PP\n")
end

local function option_items(options)
  local lines = {}
  for _, o in ipairs(options) do
    local flag = (o.short and ("\\fB\\-" .. roff(o.short) .. "\\fR, ") or "") .. "\\fB\\-\\-" .. roff(o[1]) .. "\\fR"
    if o.optional then flag = flag .. "[=\\fI" .. roff(o.value) .. "\\fR]"
    elseif o.value then flag = flag .. " \\fI" .. roff(o.value) .. "\\fR" end
    lines[#lines + 1] = ".TP\n" .. flag .. "\n" .. roff(o[2])
  end
  return table.concat(lines, "\n")
end

-- Every option a recipe takes: its own, -0/--null when it reads PATHs, and the global
-- ones (without those that only matter to changes, for a read-only recipe, and those a
-- recipe's own option of the same name replaces).
local NULL = { "null", "read the PATHs from stdin, separated by NUL bytes (find -print0); a PATH of - reads them one per line", short = "0" }
local function all_options(s)
  local list = {}
  for _, o in ipairs(s.options or {}) do list[#list + 1] = o end
  if s.paths then list[#list + 1] = NULL end
  for _, o in ipairs(cli.globals) do
    if not (s.readonly and o.changes) and not cli.shadowed(o, s) then list[#list + 1] = o end
  end
  return list
end

local DATE = os.date("!%Y-%m-%d", tonumber(os.getenv("SOURCE_DATE_EPOCH")) or os.time())
local EXIT = [[
.TP
.B 0
success
.TP
.B 1
the command ran and found or left problems, or a script raised an error
.TP
.B 2
usage error
.TP
.B 3
an operation failed and nothing was changed (or everything was put back)
.TP
.B 4
an operation failed part\-way; the message names the command that goes on
.TP
.B 128+N
stopped by signal N (130 for Ctrl\-C)]]

for _, r in ipairs(recipes) do
  local s = r.spec
  local page = {
    string.format('.TH TETHER\\-%s 1 "%s" "tether %s" "User Commands"', roff(r.name:upper()), DATE, tether.version),
    ".SH NAME", "tether\\-" .. roff(r.name) .. " \\- " .. roff(r.line),
    ".SH SYNOPSIS", ".nf", roff(s.usage), ".fi",
    ".SH DESCRIPTION", paragraphs(s.summary),
  }
  if s.description then page[#page + 1] = ".PP"; page[#page + 1] = paragraphs(s.description) end
  page[#page + 1] = ".SH OPTIONS"
  page[#page + 1] = option_items(all_options(s))
  page[#page + 1] = ".PP\nShort options bundle (\\-nq); \\-\\-opt=VALUE and \\-oVALUE work as with getopt."
  if s.epilog then page[#page + 1] = ".SH NOTES"; page[#page + 1] = paragraphs(s.epilog) end
  page[#page + 1] = ".SH EXIT STATUS\n" .. EXIT
  page[#page + 1] = ".SH SEE ALSO\n.BR tether (1)"
  write(out .. "/man/tether-" .. r.name .. ".1", table.concat(page, "\n") .. "\n")
end

-- tether(1): the overview, the global options, and every recipe.
do
  local page = {
    string.format('.TH TETHER 1 "%s" "tether %s" "User Commands"', DATE, tether.version),
    ".SH NAME", "tether \\- move folders anywhere and leave a link behind; script every link in Lua",
    ".SH SYNOPSIS", ".nf",
    "\\fBtether\\fR [\\fIOPTIONS\\fR] \\fBrun\\fR \\fISCRIPT\\fR [\\fIARGS\\fR...]",
    "\\fBtether\\fR [\\fIOPTIONS\\fR] \\fB\\-e\\fR \\fICODE\\fR [\\fIARGS\\fR...]",
    "\\fBtether\\fR [\\fIOPTIONS\\fR] [\\fBrepl\\fR]",
    "\\fBtether\\fR [\\fIOPTIONS\\fR] \\fIRECIPE\\fR [\\fIARGS\\fR...]",
    "\\fBtether recipes\\fR | \\fBhelp\\fR [\\fIRECIPE\\fR]", ".fi",
    ".SH DESCRIPTION",
    "tether moves folders to other drives and leaves a link behind, and audits, retargets," ..
      " relativizes, prunes and deduplicates links in bulk, with a journal for every change" ..
      " and \\fBtether undo\\fR to take it back. It embeds Lua 5.4: the module \\fBtether\\fR" ..
      " is there for scripts, the bundled recipes below and the REPL.",
    ".SH COMMANDS",
    ".TP\n\\fBrun\\fR \\fISCRIPT\\fR [\\fIARGS\\fR...]\nrun a Lua script (SCRIPT \\- reads stdin)",
    ".TP\n\\fB\\-e\\fR \\fICODE\\fR\nrun a chunk of Lua",
    ".TP\n\\fBrepl\\fR\nan interactive Lua prompt (the default on a terminal)",
    ".TP\n\\fBrecipes\\fR\nlist the bundled recipes",
    ".TP\n\\fBhelp\\fR [\\fIRECIPE\\fR]\nhow to use tether or one recipe",
    ".SH RECIPES",
  }
  for _, r in ipairs(recipes) do
    page[#page + 1] = ".TP\n.BR tether\\-" .. roff(r.name) .. " (1)\n" .. roff(r.line)
  end
  page[#page + 1] = ".SH OPTIONS"
  local g = {}
  for _, o in ipairs(cli.globals) do g[#g + 1] = o end
  g[#g + 1] = { "version", "print the version", short = "V" }
  page[#page + 1] = option_items(g)
  page[#page + 1] = ".SH EXIT STATUS\n" .. EXIT
  page[#page + 1] = ".SH ENVIRONMENT\n.TP\n.B XDG_STATE_HOME\njournals go to $XDG_STATE_HOME/tether/journal" ..
    " (default ~/.local/state/tether/journal)\n.TP\n.B TETHER_LUA_PATH\nload stdlib/ and scripts/ from" ..
    " this source tree instead of the embedded copies"
  local see = {}
  for _, r in ipairs(recipes) do see[#see + 1] = ".BR tether\\-" .. roff(r.name) .. " (1)" end
  page[#page + 1] = ".SH SEE ALSO\n" .. table.concat(see, ",\n") .. ",\n.BR ln (1),\n.BR stow (8)"
  write(out .. "/man/tether.1", table.concat(page, "\n") .. "\n")
end

-- The options of a recipe as completion words: every long and short spelling.
local function words_of(s)
  local w = {}
  for _, o in ipairs(all_options(s)) do
    w[#w + 1] = "--" .. o[1]
    if o.short then w[#w + 1] = "-" .. o.short end
  end
  return w
end
-- What an option's value is, for completion: {words = {...}} from its choices, "dirs",
-- "files", or "none" (a number, a size, a regex: nothing to offer).
local VALUE_KINDS = { DIR = "dirs", STOWDIR = "dirs", OLD = "dirs", NEW = "dirs", PATH = "files", FILE = "files" }
local function value_kind(o)
  if o.choices then
    local words = {}
    for c in pairs(o.choices) do words[#words + 1] = c end
    table.sort(words)
    return { words = words }
  end
  return VALUE_KINDS[o.value] or "none"
end
-- The options of a recipe that take a value, each with its spellings and its kind (not
-- those whose value is optional: the next word is then rather an argument).
local function value_opts(s)
  local list = {}
  for _, o in ipairs(all_options(s)) do
    if o.value and not o.optional then
      local sp = { "--" .. o[1] }
      if o.short then sp[#sp + 1] = "-" .. o.short end
      list[#list + 1] = { spellings = sp, kind = value_kind(o), o = o }
    end
  end
  return list
end
-- The options after which a run id may follow (spec.runs_after), and whether the
-- recipe's own arguments are run ids (spec.runs).
local function runs_after(s)
  local sp = {}
  for _, name in ipairs(s.runs_after or {}) do sp[#sp + 1] = "--" .. name end
  return sp
end
local names = {}
for _, r in ipairs(recipes) do names[#names + 1] = r.name end
local commands = "run repl recipes help " .. table.concat(names, " ")

-- bash
do
  local b = {
    "# bash completion for tether (generated from the recipes' option tables)",
    "# _tether_runs: the ids of the journaled runs (newest first), and last.",
    "_tether_runs() {",
    "    local d=${XDG_STATE_HOME:-$HOME/.local/state}/tether/journal f i",
    "    for ((i = 1; i < COMP_CWORD; i++)); do",
    "        case ${COMP_WORDS[i]} in --journal-dir) d=${COMP_WORDS[i+1]} ;; --journal-dir=*) d=${COMP_WORDS[i]#*=} ;; esac",
    "    done",
    "    for f in \"$d\"/*.jsonl; do [ -e \"$f\" ] && f=${f##*/} && echo \"${f%.jsonl}\"; done | sort -r",
    "    echo last",
    "}",
    "_tether() {",
    "    local cur=${COMP_WORDS[COMP_CWORD]} cmd='' i",
    "    for ((i = 1; i < COMP_CWORD; i++)); do",
    "        case ${COMP_WORDS[i]} in --journal-dir) ((i++)) ;; -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac",
    "    done",
    "    local prev=${COMP_WORDS[COMP_CWORD-1]}",
    "    case $cmd in",
    "    '') COMPREPLY=($(compgen -W '" .. commands .. " " .. table.concat(words_of({}), " ") .. " -e --version -V' -- \"$cur\")); return ;;",
    "    help) COMPREPLY=($(compgen -W '" .. commands .. "' -- \"$cur\")); return ;;",
  }
  for _, r in ipairs(recipes) do
    b[#b + 1] = string.format("    %s)", r.name)
    b[#b + 1] = "        case $prev in"
    for _, v in ipairs(value_opts(r.spec)) do
      local reply
      if type(v.kind) == "table" then reply = "COMPREPLY=($(compgen -W '" .. table.concat(v.kind.words, " ") .. "' -- \"$cur\"))"
      elseif v.kind == "dirs" then reply = "COMPREPLY=($(compgen -d -- \"$cur\"))"
      elseif v.kind == "files" then reply = "COMPREPLY=($(compgen -f -- \"$cur\"))"
      else reply = "COMPREPLY=()" end
      b[#b + 1] = string.format("        %s) %s; return ;;", table.concat(v.spellings, "|"), reply)
    end
    local after = runs_after(r.spec)
    if #after > 0 then
      b[#b + 1] = string.format("        %s) COMPREPLY=($(compgen -W \"$(_tether_runs)\" -- \"$cur\")); return ;;", table.concat(after, "|"))
    end
    b[#b + 1] = "        esac"
    local rest = r.spec.runs and "COMPREPLY=($(compgen -W \"$(_tether_runs)\" -- \"$cur\"))" or "COMPREPLY=($(compgen -f -- \"$cur\"))"
    b[#b + 1] = string.format("        if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W '%s' -- \"$cur\")); else %s; fi",
      table.concat(words_of(r.spec), " "), rest)
    b[#b + 1] = "        ;;"
  end
  b[#b + 1] = "    *) COMPREPLY=($(compgen -f -- \"$cur\")) ;;"
  b[#b + 1] = "    esac"
  b[#b + 1] = "}"
  b[#b + 1] = "complete -o filenames -F _tether tether"
  write(out .. "/completions/tether.bash", table.concat(b, "\n") .. "\n")
end

-- zsh
do
  local function zq(s) return (s:gsub("[%[%]:\\']", { ["["] = "\\[", ["]"] = "\\]", [":"] = "\\:", ["\\"] = "\\\\", ["'"] = "'\\''" })) end
  local z = {
    "#compdef tether",
    "# zsh completion for tether (generated from the recipes' option tables)",
    "_tether_runs() {",
    "  local d=${XDG_STATE_HOME:-$HOME/.local/state}/tether/journal",
    "  local -a ids; ids=($d/*.jsonl(N:t:r))",
    "  compadd -- ${(Oa)ids} last",
    "}",
    "_tether() {",
    "  local -a commands",
    "  commands=(",
    "    'run:run a Lua script' 'repl:interactive Lua prompt' 'recipes:list the bundled recipes' 'help:how to use a recipe'",
  }
  for _, r in ipairs(recipes) do z[#z + 1] = "    '" .. r.name .. ":" .. zq(r.line) .. "'" end
  z[#z + 1] = "  )"
  z[#z + 1] = "  if (( CURRENT == 2 )); then _describe command commands; return; fi"
  z[#z + 1] = "  case $words[2] in"
  for _, r in ipairs(recipes) do
    local args = {}
    local function add(o)
      local action = ":_files"
      if o.value then
        local kind = value_kind(o)
        if type(kind) == "table" then action = ":(" .. table.concat(kind.words, " ") .. ")"
        elseif kind == "dirs" then action = ":_files -/"
        elseif kind == "none" then action = ": " end
      end
      local colon = o.optional and "::" or ":" -- an optional value: "::"
      local spec = (o.value and ("=[" .. zq(o[2]) .. "]" .. colon .. zq(o.value:lower()) .. action) or ("[" .. zq(o[2]) .. "]"))
      args[#args + 1] = "'--" .. o[1] .. spec .. "'"
      if o.short then args[#args + 1] = "'-" .. o.short .. spec:gsub("^=", "+") .. "'" end
    end
    for _, o in ipairs(all_options(r.spec)) do add(o) end
    z[#z + 1] = "    " .. r.name .. ") _arguments -s " .. table.concat(args, " ") ..
      (r.spec.runs and " '*:run:_tether_runs' ;;" or " '*:file:_files' ;;")
  end
  z[#z + 1] = "    *) _files ;;"
  z[#z + 1] = "  esac"
  z[#z + 1] = "}"
  z[#z + 1] = '_tether "$@"'
  write(out .. "/completions/_tether", table.concat(z, "\n") .. "\n")
end

-- fish
do
  local function fq(s) return "'" .. s:gsub("\\", "\\\\"):gsub("'", "\\'") .. "'" end
  local f = {
    "# fish completion for tether (generated from the recipes' option tables)",
    "complete -c tether -f -n __fish_use_subcommand -a 'run repl recipes help'",
    "function __tether_runs",
    "    set -l d $HOME/.local/state/tether/journal",
    "    set -q XDG_STATE_HOME; and set d $XDG_STATE_HOME/tether/journal",
    "    for f in (ls -r $d 2>/dev/null | string match '*.jsonl'); string replace -r '\\.jsonl$' '' $f; end",
    "    echo last",
    "end",
  }
  for _, r in ipairs(recipes) do
    f[#f + 1] = string.format("complete -c tether -f -n __fish_use_subcommand -a %s -d %s", r.name, fq(r.line))
    local function add(o)
      local line = string.format("complete -c tether -n '__fish_seen_subcommand_from %s' -l %s", r.name, o[1])
      if o.short then line = line .. " -s " .. o.short end
      if o.value and not o.optional then
        local kind = value_kind(o)
        if type(kind) == "table" then line = line .. " -x -a " .. fq(table.concat(kind.words, " "))
        elseif kind == "dirs" then line = line .. " -x -a '(__fish_complete_directories)'"
        elseif kind == "none" then line = line .. " -x"
        else line = line .. " -r -F" end
      end
      f[#f + 1] = line .. " -d " .. fq(o[2])
    end
    for _, o in ipairs(all_options(r.spec)) do add(o) end
    if r.spec.runs then
      f[#f + 1] = string.format("complete -c tether -n '__fish_seen_subcommand_from %s' -f -a '(__tether_runs)'", r.name)
    end
    for _, name in ipairs(r.spec.runs_after or {}) do
      f[#f + 1] = string.format("complete -c tether -n '__fish_seen_subcommand_from %s; and __fish_seen_argument -l %s' -f -a '(__tether_runs)'", r.name, name)
    end
  end
  write(out .. "/completions/tether.fish", table.concat(f, "\n") .. "\n")
end
-- docs/api.md and types/tether.lua (LuaLS stubs) from stdlib/tether/api.lua.
do
  local api = assert(dofile(src .. "/stdlib/tether/api.lua"))
  local params = require("tether.help").params
  local md = {
    "# The Lua API of tether",
    "",
    "Generated from `stdlib/tether/api.lua` by `host/gendocs.lua` at build time; edit that table,",
    "not this file (a test holds the two, and the module, together).",
    "",
    "Every function is `tether.NAME` (and the same in `tether.raw`, which ignores dry-run",
    "mode). Success returns what is listed; an expected failure returns `nil`, the message",
    "`\"PATH: reason (ERRNO); hint\"`, the errno name and the same as a table",
    "`{errno, path, reason, hint, message}`. Wrong argument types and unknown option names",
    "raise an error. Types: `identity` is `{dev, ino, ...}` as `info` gives it; an `expect`",
    "table holds any of `type dev ino size mtime mtime_ns ctime ctime_ns mode uid gid`, and",
    "the call refuses with `ECHANGED` when the object differs. In dry-run mode a function",
    "that changes something records what it would do (`drylog`) and returns `true`.",
    "",
  }
  local stub = {
    "---@meta",
    "-- LuaLS annotations for the module tether (generated from stdlib/tether/api.lua; do not edit).",
    "-- Put this directory in your editor's Lua.workspace.library.",
    "",
  }
  local names = {}
  for name in pairs(api.types) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do stub[#stub + 1] = "---@alias " .. name .. " " .. api.types[name] end
  stub[#stub + 1] = "---@alias tether.confinement {roots: fun(self): table[], close: fun(self)}"
  stub[#stub + 1] = "---@alias tether.journal {append: fun(self, line: string, opts?: {nosync?: boolean}): boolean, sync: fun(self): boolean, close: fun(self)}"
  stub[#stub + 1] = "---@alias tether.lock {say: fun(self, holder: string), close: fun(self)}"
  stub[#stub + 1] = "---@alias tether.regex {find: fun(self, s: string, init?: integer): integer?, integer?}"
  stub[#stub + 1] = ""
  stub[#stub + 1] = "---@class tetherlib"
  stub[#stub + 1] = "---@field version string"
  stub[#stub + 1] = "---@field platform '\"posix\"'|'\"windows\"'"
  stub[#stub + 1] = "---@field options {dry_run?: boolean, json?: boolean, quiet?: boolean, verbose?: boolean, progress?: boolean, journal_dir?: string}"
  stub[#stub + 1] = "---@field raw tetherlib the same functions, blind to the global dry-run switch"
  stub[#stub + 1] = "tether = {}"
  stub[#stub + 1] = ""
  for _, f in ipairs(api.functions) do
    local ps = params(f.sig)
    local plain = {}
    for i, p in ipairs(ps) do plain[i] = p.name end
    md[#md + 1] = string.format("## `tether.%s(%s)`", f[1], table.concat(plain, ", "))
    md[#md + 1] = ""
    md[#md + 1] = f.doc
    md[#md + 1] = ""
    if #ps > 0 then
      md[#md + 1] = "| parameter | type |"
      md[#md + 1] = "|---|---|"
      for _, p in ipairs(ps) do
        md[#md + 1] = string.format("| `%s`%s | `%s` |", p.name, p.optional and " (optional)" or "", (p.type:gsub("|", "\\|")))
      end
      md[#md + 1] = ""
    end
    md[#md + 1] = "Returns: `" .. f.ret:gsub("|", "\\|") .. "`" ..
      (f.fails and ("; fails with " .. table.concat((function() local t = {} for i, e in ipairs(f.fails) do t[i] = "`" .. e .. "`" end return t end)(), ", ")) or "") .. "."
    md[#md + 1] = ""
    md[#md + 1] = "```lua"
    md[#md + 1] = f.example
    md[#md + 1] = "```"
    md[#md + 1] = ""
    stub[#stub + 1] = "---" .. f.doc:gsub("\n", "\n---")
    for _, p in ipairs(ps) do stub[#stub + 1] = string.format("---@param %s%s %s", p.name, p.optional and "?" or "", p.type) end
    local rets = params((f.ret:gsub("([^,]+)", function(t) return "r: " .. t end)))
    for i, r in ipairs(rets) do
      stub[#stub + 1] = string.format("---@return %s%s", r.type, i == 1 and "|nil result" or "")
    end
    if f.ret ~= "nil" and not f.ret:find("^nil,") then
      stub[#stub + 1] = "---@return string? message"
      stub[#stub + 1] = "---@return string? errno"
      stub[#stub + 1] = "---@return tether.error? error"
    end
    stub[#stub + 1] = string.format("function tether.%s(%s) end", f[1], table.concat(plain, ", "))
    stub[#stub + 1] = ""
  end
  stub[#stub + 1] = "return tether"
  assert(tether.mkdir(out .. "/types", { parents = true }))
  write(out .. "/api.md", table.concat(md, "\n"))
  write(out .. "/types/tether.lua", table.concat(stub, "\n") .. "\n")
end

print(string.format("gendocs: %d recipes -> %s/man, %s/completions", #recipes, out, out))
