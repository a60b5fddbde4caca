-- The Lua API of the module `tether`, one entry per function: the one description that
-- docs/api.md and the editor stubs types/tether.lua are generated from (host/gendocs.lua),
-- that the REPL's help() prints (tether.help), and that tests/e2e/test_install.sh holds
-- against what the module really exports.
-- sig: the parameters, "name: type" (name? when optional); ret: the return types on
-- success; a failure is always nil, message, errno name, error table (see `fail`).
-- fails: the error names a caller should expect beyond the usual ENOENT/EACCES/ENOTDIR.
-- lua: written in Lua (stdlib/tether/init.lua and the modules it names), not in
-- tether.core, so not in tether.raw either.
-- example: a chunk that runs as written in a directory holding a file f ("hello\n"), a
-- directory d with a file d/a, and a link l -> f (tests/e2e/test_repl.sh runs each one).
local identity = "tether.identity"
return {
  types = {
    ["tether.identity"] = "{type?: string, dev: integer, ino: integer, mode?: integer, uid?: integer, gid?: integer, ctime?: integer, ctime_ns?: integer, [string]: any}",
    ["tether.info"] = "{type: string, nlink: integer, dev: integer, ino: integer, size: integer, mode: integer, uid: integer, gid: integer, mtime: integer, mtime_ns: integer, ctime: integer, ctime_ns: integer, target?: string, status?: string, status_error?: string, target_type?: string, target_dev?: integer, target_ino?: integer}",
    ["tether.error"] = "{errno: string, path: string, reason: string, hint?: string, message: string}",
    ["tether.expect"] = "{type?: string, dev?: integer, ino?: integer, size?: integer, mtime?: integer, mtime_ns?: integer, ctime?: integer, ctime_ns?: integer, mode?: integer, uid?: integer, gid?: integer}",
  },
  -- tether.plan's actions, plan:add(op, fields): the fields each kind of action takes
  -- (tether.plan checks them, and its journal's schema asks for the required strings).
  actions = {
    symlink = "path: string, target: string, dir?: boolean, shown?: string",
    replace = "path: string, target: string, old: string, dir?: boolean, expect?: tether.expect, shown?: string",
    unlink = "path: string, target: string, expect?: tether.expect, shown?: string",
    hardlink = "path: string, existing: string, expect: tether.expect, expect_existing: tether.expect, clone?: boolean, shown?: string",
    addhard = "path: string, existing: string, shown?: string",
    junction = "path: string, target: string, shown?: string",
    drop = "path: string, existing: string, expect?: tether.expect, shown?: string",
    move = "path: string, to: string, replace?: boolean, expect?: tether.expect, shown?: string",
    mkdir = "path: string, shown?: string",
    rmdir = "path: string, expect?: tether.expect, shown?: string",
  },
  functions = {
    { "confine", sig = "paths: string[], opts?: {expect?: tether.identity[]}", ret = "tether.confinement",
      doc = "The roots of a run, held open: until the handle is closed (`local c <close> = ...`), every change must lie inside one of them and is reached from its handle without following a link. `expect` checks each root is still the directory a journal recorded; `c:roots()` lists them with their identities.",
      fails = { "EOUTSIDE", "ELOOP", "ECHANGED", "EPERM" },
      example = [[local c <close> = assert(tether.confine({"d"}))
for _, r in ipairs(c:roots()) do print(r.path, r.dev, r.ino) end]] },
    { "symlink", sig = "target: string, path: string, opts?: {dir?: boolean, relative?: boolean, replace?: boolean, dry?: boolean, loop?: boolean, owner?: {uid: integer, gid: integer}}", ret = identity,
      doc = "Create a symbolic link; `relative` stores the target relative to the link's real parent; `replace` swaps out an existing link atomically. The link is read back and checked. A link that would name itself is refused (EINVAL) unless `loop` (an undo putting back what was there). `owner`: when root makes it, the link just made (and checked) is given this owner through its directory's handle, as an undo gives a user's link back to them; one that cannot be given it is removed again. Anyone else's links are their own, and `owner` is not used.",
      fails = { "EEXIST", "EVERIFY", "EPERM" },
      example = [[assert(tether.symlink("f", "to-f"))
assert(tether.symlink("d/a", "rel", {relative = true})) -- stores "d/a" relative to the link]] },
    { "hardlink", sig = "existing: string, path: string, opts?: {replace?: boolean, dry?: boolean, expect?: tether.expect}", ret = identity,
      doc = "Create a hard link (files only, same filesystem); checked by inode.", fails = { "EEXIST", "EXDEV", "EMLINK" },
      example = [[assert(tether.hardlink("f", "f2"))
print(tether.info("f").nlink) --> 2]] },
    { "junction", sig = "target: string, path: string, opts?: {replace?: boolean, dry?: boolean}", ret = identity,
      doc = "An NTFS junction (Windows); elsewhere fails with ENOTSUP.", fails = { "ENOTSUP", "EEXIST" },
      example = [[-- Windows only; elsewhere: nil, "...(ENOTSUP)"
print(tether.junction(tether.absolute("d"), "j"))]] },
    { "replace", sig = "target: string, path: string, opts?: {dir?: boolean, relative?: boolean, dry?: boolean, old?: string, expect?: tether.expect, loop?: boolean}", ret = identity,
      doc = "Point an existing link elsewhere: a new link under a temporary name, then an atomic exchange; the old one is removed only if it is still the planned link (`old`: its target). Refuses anything that is not a link, and a link that would name itself unless `loop`.",
      fails = { "ENOTLINK", "ECHANGED" },
      example = [[assert(tether.symlink("f", "cur"))
assert(tether.replace("d", "cur", {old = "f"}))
print(tether.readlink("cur")) --> d]] },
    { "unlink", sig = "path: string, opts?: {hard?: boolean, dry?: boolean, old?: string, expect?: tether.expect}", ret = "tether.identity",
      doc = "Remove a link, never its target; refuses real files and directories (`hard` removes one name of a file that has other hard links). Returns the identity of what it removed, with its owner (`uid`, `gid`), as read through the directory handle it was removed from (`true` in a dry run).",
      fails = { "ENOTLINK", "ECHANGED" },
      example = [[assert(tether.symlink("f", "tmp-link"))
assert(tether.unlink("tmp-link")) -- "f" stays
print(tether.unlink("f")) --> nil  f: not a link ... ENOTLINK]] },
    { "readlink", sig = "path: string", ret = "string", doc = "The stored target of a link, of any length.", fails = { "EINVAL" },
      example = [[print(tether.readlink("l")) --> f]] },
    { "info", sig = "path: string", ret = "tether.info",
      doc = "What path is, without following it: type (file, dir, symlink, junction, other), the stat numbers, and for a link its target, status (ok, broken, loop, denied, error) and what it leads to.",
      example = [[local i = assert(tether.info("l"))
print(i.type, i.target, i.status) --> symlink  f  ok]] },
    { "lstat", sig = "path: string", ret = "tether.info", doc = "The same as `info`.",
      example = [[print(tether.lstat("f").size) --> 6]] },
    { "exists", sig = "path: string, opts?: {follow?: boolean}", ret = "boolean",
      doc = "Whether the name exists (a broken link exists; with `follow` it must resolve).",
      example = [[print(tether.exists("l"), tether.exists("nope")) --> true  false]] },
    { "islink", sig = "path: string", ret = "boolean", doc = "Whether path is a symbolic link or a junction.",
      example = [[print(tether.islink("l"), tether.islink("f")) --> true  false]] },
    { "realpath", sig = "path: string", ret = "string", doc = "The canonical absolute path.",
      example = [[print(tether.realpath("l")) -- the absolute path of f]] },
    { "absolute", sig = "path: string", ret = "string", doc = "path made absolute lexically (from the current directory).",
      example = [[print(tether.absolute("d/../f")) -- $PWD/d/../f, nothing resolved]] },
    { "relative_target", sig = "target: string, linkpath: string", ret = "string",
      doc = "The relative target a link at linkpath needs to reach target, from the link's real parent directory.",
      example = [[print(tether.relative_target(tether.absolute("f"), "d/link")) --> ../f]] },
    { "walk", sig = "root: string, opts?: {follow?: boolean, xdev?: boolean, max_depth?: integer, types?: string[], links_only?: boolean, classify?: boolean, stat?: boolean, roots?: string[], progress?: fun(stats: table)}",
      ret = "fun(): table", doc = "A generic-for iterator over the tree, depth-first, never following links unless `follow`; each entry has path, name, type, depth, and for links target, status, form, cross_fs, escapes, messy; `error` for a directory that could not be read. The fourth value is the walker, with `w:stats()` and `w:close()`.",
      example = [[for e in tether.walk(".", {links_only = true, classify = true}) do
  print(e.path, e.target, e.status)
end]] },
    { "migrate", lua = true, sig = "src: string, dest: string, opts?: {verify?: string, link?: string, keep_backup?: boolean, scan?: string[], force?: boolean, min_free?: integer, progress?: fun(p: table), dry?: boolean}",
      ret = "table", doc = "Move the folder src to dest and leave a link at src, through the journaled steps of docs/migration.md; returns the plan that ran (id, dest, size), or nil, message, errno, outcome (\"refused\" or \"rolled back\": nothing changed; \"partial\": its journal says how to go on), signal, problems, and the error as tether.fail's table.",
      fails = { "EBUSY", "ENOSPC", "EXDEV", "ECANCELED" },
      example = [[-- Moves d to d-moved (on another drive in real use) and leaves a link at d.
local p = assert(tether.migrate("d", "d-moved"))
print(p.id, tether.readlink("d"))]] },
    { "copytree", sig = "src: string, dst: string, opts?: {final?: string, progress?: fun(p: table), no_sync?: boolean, into?: boolean, expect?: tether.expect, expect_dst?: tether.expect, dry?: boolean, copied?: fun(files: table), batch_files?: integer, resume?: boolean, keep?: table}",
      ret = "table", doc = "Copy a tree as migrate does; a filesystem mounted inside is never entered (EBUSY); `progress` gets {bytes, files, path} after each file and {bytes, files, sync = true} before the flush; returns counts (`kept` among them; in a dry run, true once everything to copy was read). `into`: dst is an existing empty directory (`expect_dst` what it must still be); `final`: where the copy will end up, for rewriting links inside it; `no_sync`: no filesystem sync at the end. `copied` gets the regular files (of a single link) finished, in batches (of at most `batch_files`, about every half second), each once its data is on disk (one filesystem sync a batch): a text, a line a file: the source's dev, ino, size, mtime sec, nsec, ctime sec, nsec (stat'd before its data was read), the copy's dev, ino, size, ctime sec, nsec, and the moment sec, nsec its batch began, each followed by a space, then the path's length in bytes, ':', the path below dst and a newline (`copied_records` counts them). `resume` (with `into`): dst is the partial copy of an earlier attempt and `keep` the list of texts `copied` gave it: a file there is kept when its copy and its source (unchanged, and already so before its batch began) are those recorded; everything else in dst is removed first, and the rest copied.",
      fails = { "EBUSY", "ENOSPC", "ECANCELED" },
      example = [[local n = assert(tether.copytree("d", "d-copy"))
print(n.files, n.bytes)]] },
    { "copied_records", sig = "text: string", ret = "integer", doc = "How many records of copied files a text `copytree`'s `copied` gave holds; fails (nil) when the text is not such records (a migration's journal schema asks).",
      example = [[print(tether.copied_records("1 2 3 4 5 6 7 8 9 10 11 12 13 14 3:a/f\n")) --> 1]] },
    { "verifytree", sig = "src: string, copy: string, opts?: {final?: string, hash?: boolean, names_only?: boolean, progress?: fun(p: table)}",
      ret = "true", doc = "Check a copy against its source: types, sizes, modes, owners (as root), times and link targets (and content with `hash`); the first difference is the failure (EIO, naming the path and what differs).",
      example = [[assert(tether.copytree("d", "d-copy"))
assert(tether.verifytree("d", "d-copy", {hash = true}))]] },
    { "treesize", sig = "root: string, opts?: {check?: boolean, since?: table, expect?: tether.expect, progress?: fun(p: table)}", ret = "table",
      doc = "Bytes, allocated bytes, files, dirs, links, hard links under root; with `check`, also the problems a migration must know about (second value); `progress` gets {bytes, files, path} as it goes.",
      example = [[local t = assert(tether.treesize("d"))
print(t.bytes, t.files, t.dirs)]] },
    { "rmtree", sig = "path: string, opts?: {dry?: boolean, expect?: tether.expect, chmod?: boolean, progress?: fun(p: table)}", ret = "true",
      doc = "Remove a directory tree without following any link in it or crossing into a mount (EBUSY); `chmod` makes the caller's own read-only directories writable first; `progress` gets {bytes, files, path} as it goes.",
      fails = { "EBUSY", "ENOTDIR", "ECHANGED" },
      example = [[assert(tether.mkdir("junk/a/b", {parents = true}))
assert(tether.rmtree("junk"))]] },
    { "rmdir", sig = "path: string, opts?: {dry?: boolean, expect?: tether.expect}", ret = "true",
      doc = "Remove an empty directory (never a file or a link).", fails = { "ENOTEMPTY", "ECHANGED" },
      example = [[assert(tether.mkdir("empty"))
assert(tether.rmdir("empty"))]] },
    { "mkdir", sig = "path: string, opts?: {parents?: boolean, private?: boolean, dry?: boolean}", ret = identity, doc = "Make a directory (with `parents`, its missing parents too; with `private`, the new directory gets mode 0700).", fails = { "EEXIST" },
      example = [[assert(tether.mkdir("x/y/z", {parents = true}))]] },
    { "mkdtemp", sig = "prefix?: string", ret = "string", doc = "Make a new private directory (mode 0700) named prefix + random letters (default: in the system's temporary directory).",
      example = [[local dir = assert(tether.mkdtemp())
print(dir)
assert(tether.rmdir(dir))]] },
    { "read", sig = "path: string, opts?: {expect?: tether.expect, max?: integer}", ret = "string, tether.identity",
      doc = "The content of a regular file and the identity of what was read: opened from its directory's handle, never through a link and never waiting on a FIFO. A link, a directory or a device there (or a file other than `expect` says) fails with ECHANGED; more than `max` bytes with EFBIG.",
      fails = { "ECHANGED", "EFBIG", "EACCES" },
      example = [[local text, id = assert(tether.read("f"))
print(#text, id.size)]] },
    { "create", sig = "path: string, opts?: {dry?: boolean, mode?: integer, uid?: integer, gid?: integer}", ret = "file*, tether.identity",
      doc = "A new regular file open for writing (an io library file) and its identity, made by name in its directory's handle (under a confinement, reached from a root without following a link): never an existing name and never through a link. Its `close` flushes it to the disk and reports a write that failed before. `mode`: its permission bits (else 0666 less the umask); `uid` and `gid` (both): whom it is given to first, through the open file, so it may keep `mode`'s set-user-ID and set-group-ID bits, which a file of the caller's own never gets. In a dry run: true.",
      fails = { "EEXIST", "EOUTSIDE", "ELOOP" },
      example = [[local f, id = assert(tether.create("new.txt"))
f:write("hello\n")
assert(f:close())
print(id.ino)]] },
    { "remove_file", sig = "path: string, opts: {expect: tether.expect, dry?: boolean}", ret = "true",
      doc = "Remove a regular file (never a link or a directory) that is still the one `expect` describes (its identity at least, required): what a run made and takes away again. Not stopped by an interrupt.",
      fails = { "EINVAL", "ECHANGED" },
      example = [[local f, id = assert(tether.create("scratch"))
f:close()
assert(tether.remove_file("scratch", {expect = id}))]] },
    { "open_in_place", sig = "path: string", ret = "file*, tether.info",
      doc = "An existing character device, terminal or FIFO opened for writing in place (nothing made, truncated or replaced), and what was opened. A link there is followed only when it belongs to the caller or to root (`/dev/stdout`), and only to one of those; a regular file, directory, block device or socket is refused.",
      fails = { "EINVAL", "EISDIR", "ENXIO", "EPERM", "ECHANGED" },
      example = [[local f = assert(tether.open_in_place("/dev/null"))
f:write("nothing to keep\n")
f:close()]] },
    { "temp_name", sig = "", ret = "string", doc = "A free temporary name `.tether-PID-N.tmp`, as tether's C code makes them for a link or file about to be renamed over another (not created).",
      example = [[print(tether.temp_name()) --> .tether-PID-N.tmp]] },
    { "rename", sig = "from: string, to: string, opts?: {dry?: boolean, noreplace?: boolean, exchange?: boolean, expect?: tether.expect, expect_to?: tether.expect}", ret = identity,
      doc = "rename(2) relative to the checked directories.", fails = { "EEXIST", "EXDEV", "ECHANGED" },
      example = [[assert(tether.rename("f", "g", {noreplace = true}))]] },
    { "statfs", sig = "path: string", ret = "{avail: integer, total: integer, link_max: integer}", doc = "Free and total bytes of path's filesystem, and the most hard links a file there may have.",
      example = [[local s = assert(tether.statfs("."))
print(s.avail // 2^20 .. " MiB free")]] },
    { "xattr_probe", sig = "path: string", ret = "true", doc = "Whether path's filesystem keeps extended attributes: one is set and removed again.", fails = { "ENOTSUP" },
      example = [[print(tether.xattr_probe("f")) -- true, or nil and why]] },
    { "pid", sig = "", ret = "integer", doc = "This process's id.",
      example = [[print(tether.pid())]] },
    { "hostname", sig = "", ret = "string", doc = "This machine's name (for a declaration of `tether apply` that depends on it).",
      example = [[print(tether.hostname())]] },
    { "pid_alive", sig = "pid: integer", ret = "boolean", doc = "Whether that process is running.",
      example = [[print(tether.pid_alive(tether.pid())) --> true]] },
    { "euid", sig = "", ret = "integer", doc = "The effective user id (0 on Windows).",
      example = [[print(tether.euid() == 0 and "root" or "not root")]] },
    { "link_trusted", sig = "link_uid: integer, dir?: tether.info, euid?: integer", ret = "boolean, string?",
      doc = "The rule for following a link on the way to a path (the one tether.confine keeps): a link is followed only when it is the caller's (euid, by default tether.euid()), or root's in a directory no other user can write. dir: tether.info of the directory the link is in (nil: not there yet, and a run's own). False says why: \"owner\" (another user's link) or \"dir\" (root's, in a directory another user can write).",
      example = [[print(tether.link_trusted(tether.info("l").uid, tether.info(".")))]] },
    { "fs_now", sig = "", ret = "integer, integer", doc = "Now, in the clock file times are stamped with (seconds, nanoseconds).",
      example = [[print(tether.fs_now())]] },
    { "journal", sig = "path: string, opts?: {create?: boolean}", ret = "tether.journal",
      doc = "A journal handle: `j:append(line)` returns once the line is on disk (`j:append(line, {nosync = true})` and `j:sync()` group several). A torn last line is cut when one is opened again. The file must be the caller's alone.", fails = { "EPERM", "ENOSPC" },
      example = [[local j <close> = assert(tether.journal("my.jsonl", {create = true}))
assert(j:append('{"event":"hello"}'))]] },
    { "journal_dir", sig = "dir: string, opts?: {create?: boolean}", ret = "true", doc = "Whether dir is the caller's alone (made first, mode 0700, with `create`).", fails = { "EPERM" },
      example = [[print(tether.journal_dir(".")) -- true when only you can write it]] },
    { "journal_read", sig = "path: string", ret = "string", doc = "A journal's text, when only the caller can have written it.", fails = { "EPERM" },
      example = [[local j <close> = assert(tether.journal("my.jsonl", {create = true}))
assert(j:append("{}"))
print(tether.journal_read("my.jsonl"))]] },
    { "journal_remove", sig = "dir: string, name: string", ret = "true", doc = "Remove the journal file name from the journal directory dir (both the caller's), through the directory's handle.", fails = { "EPERM", "EINVAL" },
      example = [[local j = assert(tether.journal("my.jsonl", {create = true})); j:close()
assert(tether.journal_remove(".", "my.jsonl"))]] },
    { "lock", sig = "dir: string, key: string, holder: string", ret = "tether.lock",
      doc = "The lock named key (a real path), a file in dir (tether's state directory, the caller's alone) saying who holds it; EBUSY naming the holder when another process has it; closed, it goes. Nothing is written beside what key names; a file there that is not a regular file of the caller's is never used.", fails = { "EBUSY", "EPERM" },
      example = [[local l <close> = assert(tether.lock(".", tether.realpath("d"), "my script"))
print(tether.lock_state(".", tether.realpath("d"))) --> held  my script]] },
    { "lock_dir", sig = "path: string", ret = "tether.lock",
      doc = "A lock (flock) on the directory path itself, writing nothing anywhere; closed, or its holder dead, it goes.", fails = { "EBUSY", "ENOTSUP" },
      example = [[local l <close> = assert(tether.lock_dir("d"))
print(tether.lock_dir("d")) -- nil ... (EBUSY): this process holds it already]] },
    { "lock_state", sig = "dir: string, key: string", ret = "string, string", doc = "\"none\", \"held\" or \"stale\" (its holder died) for lock key in dir, and what its file says; makes nothing.",
      example = [[print(tether.lock_state(".", tether.realpath("d"))) --> none]] },
    { "link_support", sig = "dir: string", ret = "boolean, string",
      doc = "Whether a link can be made in dir, without making one: true, or false when only trying one would tell; and the filesystem's type. Fails when none can: dir immutable, append-only or not writable, or a filesystem without symbolic links.", fails = { "EPERM", "EACCES", "EROFS", "ENOTSUP" },
      example = [[print(tether.link_support("d")) --> true  ext4 (or the filesystem d is on)]] },
    { "link_over", sig = "existing: string, path: string, expect: tether.expect, opts?: {clone?: boolean, background?: boolean, expect_existing?: tether.expect, dry?: boolean}", ret = "true",
      doc = "Replace the regular file path, which must still match expect, by a hard link to (or reflink clone of) existing; the old file is removed only once seen unchanged.", fails = { "ECHANGED", "EXDEV", "EMLINK", "EOPNOTSUPP" },
      example = [[assert(tether.copytree("d", "d2"))
local x = assert(tether.info("d2/a"))
assert(tether.link_over("d/a", "d2/a", x)) -- d2/a is now a hard link to d/a]] },
    { "link_drain", sig = "", ret = "true", doc = "Wait for the removals of old copies link_over{background = true} handed to its queue, end that queue (the next such call starts one) and say if one failed: the copy left is named (it holds the same bytes as its link).",
      example = [[assert(tether.link_drain())]] },
    { "unshare", sig = "path: string, meta: table, opts?: {expect?: tether.expect, dry?: boolean}", ret = "true",
      doc = "Give a hard-linked path its own copy again, with meta's mode, owner and time; refuses a file whose content or mode changed since expect.", fails = { "ECHANGED" },
      example = [[assert(tether.hardlink("f", "f2"))
local i = assert(tether.info("f2"))
assert(tether.unshare("f2", i)) -- f2 has its own copy again]] },
    { "hash", sig = "path: string, limit?: integer", ret = "integer", doc = "xxHash64 of a file (or of its first limit bytes).",
      example = [[print(string.format("%016x", tether.hash("f")))]] },
    { "same_content", sig = "a: string, b: string", ret = "boolean", doc = "Byte-for-byte comparison of two files.",
      example = [[assert(tether.copytree("d", "d2"))
print(tether.same_content("d/a", "d2/a")) --> true]] },
    { "same_groups", sig = "files: table[]", ret = "integer[][], string[]", doc = "Up to 64 files (walk entries with stat) read side by side, each once: the sets of indices of files with exactly the same bytes, then messages for files that could not be read.",
      example = [[assert(tether.copytree("d", "d2"))
local files = {tether.info("d/a"), tether.info("d2/a")}
files[1].path, files[2].path = "d/a", "d2/a"
print(#tether.same_groups(files)) --> 1]] },
    { "same_groups_many", sig = "lists: table[][]", ret = "table[]", doc = "same_groups for many lists, on two threads: {sets, messages} for each.",
      example = [[assert(tether.copytree("d", "d2"))
local a, b = tether.info("d/a"), tether.info("d2/a")
a.path, b.path = "d/a", "d2/a"
print(#tether.same_groups_many({{a, b}})) --> 1]] },
    { "regex", sig = "pattern: string", ret = "tether.regex", doc = "A Perl-compatible regular expression (PCRE2, matching bytes); `re:find(s [, init])` gives the start and end of the first match, or nil.", fails = { "EINVAL" },
      example = [[local re = assert(tether.regex("^\\.git$"))
print(re:find(".git")) --> 1  4]] },
    { "fail", sig = "errno: string, path: string, reason: string, hint?: string", ret = "nil, string, string, tether.error",
      doc = "The four values of a failure, as every function here returns them: nil, \"PATH: reason (ERRNO); hint\", the errno name, and the same as a table.",
      example = [[local ok, msg, code = tether.fail("ENOENT", "/srv/x", "no such thing", "make it first")
print(msg) --> /srv/x: no such thing (ENOENT); make it first]] },
    { "quote", sig = "s: string, bare?: boolean", ret = "string", doc = "s escaped when it holds control characters, for one-line output (`bare` leaves out the quotes).",
      example = [[print(tether.quote("a\nb")) --> "a\nb"]] },
    { "now", sig = "wall?: boolean", ret = "number", doc = "Seconds on a monotonic clock (the wall clock with `wall`).",
      example = [[local t0 = tether.now(); tether.sleep(0.01); print(tether.now() - t0 >= 0.01)]] },
    { "sleep", sig = "seconds: number", ret = "boolean", doc = "Wait; a stop signal cuts it short (then it returns false).",
      example = [[tether.sleep(0.05)]] },
    { "isatty", sig = "fd: integer", ret = "boolean", doc = "Whether fd 0, 1 or 2 is a terminal.",
      example = [[print(tether.isatty(1))]] },
    { "term_width", sig = "", ret = "integer?, boolean", doc = "The width of the terminal on stderr (nil when none), and whether it was resized since the last call.",
      example = [[print(tether.term_width())]] },
    { "interrupted", sig = "clear?: boolean", ret = "integer|false", doc = "The signal a stop was asked with (SIGINT, SIGTERM, SIGHUP), or false; `false` as argument forgets it.",
      example = [[print(tether.interrupted()) --> false unless Ctrl-C was pressed]] },
    { "defer_interrupts", sig = "on: boolean", ret = "nil", doc = "While on, a signal only asks, and the code stops at its next safe point.",
      example = [[tether.defer_interrupts(true)
-- ... a step that must not be cut in half ...
tether.defer_interrupts(false)]] },
    { "dryrun", lua = true, sig = "on?: boolean", ret = "boolean", doc = "Dry-run mode for every changing call of tether (after setting it, when given): each then checks everything, records what it would do (`drylog`) and changes nothing. tether.raw's functions are blind to it (each takes its own `dry` option).",
      example = [[tether.dryrun(true)
assert(tether.symlink("f", "never-made"))
print(#tether.drylog(), tether.exists("never-made")) --> 1  false
tether.dryrun(false)]] },
    { "drylog", sig = "", ret = "table[]", doc = "The actions recorded in dry-run mode since the last call.",
      example = [[tether.dryrun(true)
tether.mkdir("x")
for _, a in ipairs(tether.drylog()) do print(a.op, a.path) end
tether.dryrun(false)]] },
    { "_json", sig = "array: table, object: table, null: table", ret = "function, function", doc = "The JSON codec behind tether.json (use tether.json).",
      example = [[-- internal: use require("tether.json").encode / .decode
print(require("tether.json").encode({a = 1}))]] },
  },
}
