---@meta
-- LuaLS annotations for the module tether (generated from stdlib/tether/api.lua; do not edit).
-- Put this directory in your editor's Lua.workspace.library.

---@alias tether.error {errno: string, path: string, reason: string, hint?: string, message: string}
---@alias tether.expect {type?: string, dev?: integer, ino?: integer, size?: integer, mtime?: integer, mtime_ns?: integer, ctime?: integer, ctime_ns?: integer, mode?: integer, uid?: integer, gid?: integer}
---@alias tether.identity {type?: string, dev: integer, ino: integer, mode?: integer, uid?: integer, gid?: integer, ctime?: integer, ctime_ns?: integer, [string]: any}
---@alias tether.info {type: string, nlink: integer, dev: integer, ino: integer, size: integer, mode: integer, uid: integer, gid: integer, mtime: integer, mtime_ns: integer, ctime: integer, ctime_ns: integer, target?: string, status?: string, status_error?: string, target_type?: string, target_dev?: integer, target_ino?: integer}
---@alias tether.confinement {roots: fun(self): table[], close: fun(self)}
---@alias tether.journal {append: fun(self, line: string, opts?: {nosync?: boolean}): boolean, sync: fun(self): boolean, close: fun(self)}
---@alias tether.lock {say: fun(self, holder: string), close: fun(self)}
---@alias tether.regex {find: fun(self, s: string, init?: integer): integer?, integer?}

---@class tetherlib
---@field version string
---@field platform '"posix"'|'"windows"'
---@field options {dry_run?: boolean, json?: boolean, quiet?: boolean, verbose?: boolean, progress?: boolean, journal_dir?: string}
---@field raw tetherlib the same functions, blind to the global dry-run switch
tether = {}

---The roots of a run, held open: until the handle is closed (`local c <close> = ...`), every change must lie inside one of them and is reached from its handle without following a link. `expect` checks each root is still the directory a journal recorded; `c:roots()` lists them with their identities.
---@param paths string[]
---@param opts? {expect?: tether.identity[]}
---@return tether.confinement|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.confine(paths, opts) end

---Create a symbolic link; `relative` stores the target relative to the link's real parent; `replace` swaps out an existing link atomically. The link is read back and checked. A link that would name itself is refused (EINVAL) unless `loop` (an undo putting back what was there). `owner`: when root makes it, the link just made (and checked) is given this owner through its directory's handle, as an undo gives a user's link back to them; one that cannot be given it is removed again. Anyone else's links are their own, and `owner` is not used.
---@param target string
---@param path string
---@param opts? {dir?: boolean, relative?: boolean, replace?: boolean, dry?: boolean, loop?: boolean, owner?: {uid: integer, gid: integer}}
---@return tether.identity|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.symlink(target, path, opts) end

---Create a hard link (files only, same filesystem); checked by inode.
---@param existing string
---@param path string
---@param opts? {replace?: boolean, dry?: boolean, expect?: tether.expect}
---@return tether.identity|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.hardlink(existing, path, opts) end

---An NTFS junction (Windows); elsewhere fails with ENOTSUP.
---@param target string
---@param path string
---@param opts? {replace?: boolean, dry?: boolean}
---@return tether.identity|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.junction(target, path, opts) end

---Point an existing link elsewhere: a new link under a temporary name, then an atomic exchange; the old one is removed only if it is still the planned link (`old`: its target). Refuses anything that is not a link, and a link that would name itself unless `loop`.
---@param target string
---@param path string
---@param opts? {dir?: boolean, relative?: boolean, dry?: boolean, old?: string, expect?: tether.expect, loop?: boolean}
---@return tether.identity|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.replace(target, path, opts) end

---Remove a link, never its target; refuses real files and directories (`hard` removes one name of a file that has other hard links). Returns the identity of what it removed, with its owner (`uid`, `gid`), as read through the directory handle it was removed from (`true` in a dry run).
---@param path string
---@param opts? {hard?: boolean, dry?: boolean, old?: string, expect?: tether.expect}
---@return tether.identity|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.unlink(path, opts) end

---The stored target of a link, of any length.
---@param path string
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.readlink(path) end

---What path is, without following it: type (file, dir, symlink, junction, other), the stat numbers, and for a link its target, status (ok, broken, loop, denied, error) and what it leads to.
---@param path string
---@return tether.info|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.info(path) end

---The same as `info`.
---@param path string
---@return tether.info|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.lstat(path) end

---Whether the name exists (a broken link exists; with `follow` it must resolve).
---@param path string
---@param opts? {follow?: boolean}
---@return boolean|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.exists(path, opts) end

---Whether path is a symbolic link or a junction.
---@param path string
---@return boolean|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.islink(path) end

---The canonical absolute path.
---@param path string
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.realpath(path) end

---path made absolute lexically (from the current directory).
---@param path string
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.absolute(path) end

---The relative target a link at linkpath needs to reach target, from the link's real parent directory.
---@param target string
---@param linkpath string
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.relative_target(target, linkpath) end

---A generic-for iterator over the tree, depth-first, never following links unless `follow`; each entry has path, name, type, depth, and for links target, status, form, cross_fs, escapes, messy; `error` for a directory that could not be read. The fourth value is the walker, with `w:stats()` and `w:close()`.
---@param root string
---@param opts? {follow?: boolean, xdev?: boolean, max_depth?: integer, types?: string[], links_only?: boolean, classify?: boolean, stat?: boolean, roots?: string[], progress?: fun(stats: table)}
---@return fun(): table|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.walk(root, opts) end

---Move the folder src to dest and leave a link at src, through the journaled steps of docs/migration.md; returns the plan that ran (id, dest, size), or nil, message, errno, outcome ("refused" or "rolled back": nothing changed; "partial": its journal says how to go on), signal, problems, and the error as tether.fail's table.
---@param src string
---@param dest string
---@param opts? {verify?: string, link?: string, keep_backup?: boolean, scan?: string[], force?: boolean, min_free?: integer, progress?: fun(p: table), dry?: boolean}
---@return table|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.migrate(src, dest, opts) end

---Copy a tree as migrate does; a filesystem mounted inside is never entered (EBUSY); `progress` gets {bytes, files, path} after each file and {bytes, files, sync = true} before the flush; returns counts (`kept` among them; in a dry run, true once everything to copy was read). `into`: dst is an existing empty directory (`expect_dst` what it must still be); `final`: where the copy will end up, for rewriting links inside it; `no_sync`: no filesystem sync at the end. `copied` gets the regular files (of a single link) finished, in batches (of at most `batch_files`, about every half second), each once its data is on disk (one filesystem sync a batch): a text, a line a file: the source's dev, ino, size, mtime sec, nsec, ctime sec, nsec (stat'd before its data was read), the copy's dev, ino, size, ctime sec, nsec, and the moment sec, nsec its batch began, each followed by a space, then the path's length in bytes, ':', the path below dst and a newline (`copied_records` counts them). `resume` (with `into`): dst is the partial copy of an earlier attempt and `keep` the list of texts `copied` gave it: a file there is kept when its copy and its source (unchanged, and already so before its batch began) are those recorded; everything else in dst is removed first, and the rest copied.
---@param src string
---@param dst string
---@param opts? {final?: string, progress?: fun(p: table), no_sync?: boolean, into?: boolean, expect?: tether.expect, expect_dst?: tether.expect, dry?: boolean, copied?: fun(files: table), batch_files?: integer, resume?: boolean, keep?: table}
---@return table|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.copytree(src, dst, opts) end

---How many records of copied files a text `copytree`'s `copied` gave holds; fails (nil) when the text is not such records (a migration's journal schema asks).
---@param text string
---@return integer|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.copied_records(text) end

---Check a copy against its source: types, sizes, modes, owners (as root), times and link targets (and content with `hash`); the first difference is the failure (EIO, naming the path and what differs).
---@param src string
---@param copy string
---@param opts? {final?: string, hash?: boolean, names_only?: boolean, progress?: fun(p: table)}
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.verifytree(src, copy, opts) end

---Bytes, allocated bytes, files, dirs, links, hard links under root; with `check`, also the problems a migration must know about (second value); `progress` gets {bytes, files, path} as it goes.
---@param root string
---@param opts? {check?: boolean, since?: table, expect?: tether.expect, progress?: fun(p: table)}
---@return table|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.treesize(root, opts) end

---Remove a directory tree without following any link in it or crossing into a mount (EBUSY); `chmod` makes the caller's own read-only directories writable first; `progress` gets {bytes, files, path} as it goes.
---@param path string
---@param opts? {dry?: boolean, expect?: tether.expect, chmod?: boolean, progress?: fun(p: table)}
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.rmtree(path, opts) end

---Remove an empty directory (never a file or a link).
---@param path string
---@param opts? {dry?: boolean, expect?: tether.expect}
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.rmdir(path, opts) end

---Make a directory (with `parents`, its missing parents too; with `private`, the new directory gets mode 0700).
---@param path string
---@param opts? {parents?: boolean, private?: boolean, dry?: boolean}
---@return tether.identity|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.mkdir(path, opts) end

---Make a new private directory (mode 0700) named prefix + random letters (default: in the system's temporary directory).
---@param prefix? string
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.mkdtemp(prefix) end

---The content of a regular file and the identity of what was read: opened from its directory's handle, never through a link and never waiting on a FIFO. A link, a directory or a device there (or a file other than `expect` says) fails with ECHANGED; more than `max` bytes with EFBIG.
---@param path string
---@param opts? {expect?: tether.expect, max?: integer}
---@return string|nil result
---@return tether.identity
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.read(path, opts) end

---A new regular file open for writing (an io library file) and its identity, made by name in its directory's handle (under a confinement, reached from a root without following a link): never an existing name and never through a link. Its `close` flushes it to the disk and reports a write that failed before. `mode`: its permission bits (else 0666 less the umask); `uid` and `gid` (both): whom it is given to first, through the open file, so it may keep `mode`'s set-user-ID and set-group-ID bits, which a file of the caller's own never gets. In a dry run: true.
---@param path string
---@param opts? {dry?: boolean, mode?: integer, uid?: integer, gid?: integer}
---@return file*|nil result
---@return tether.identity
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.create(path, opts) end

---Remove a regular file (never a link or a directory) that is still the one `expect` describes (its identity at least, required): what a run made and takes away again. Not stopped by an interrupt.
---@param path string
---@param opts {expect: tether.expect, dry?: boolean}
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.remove_file(path, opts) end

---An existing character device, terminal or FIFO opened for writing in place (nothing made, truncated or replaced), and what was opened. A link there is followed only when it belongs to the caller or to root (`/dev/stdout`), and only to one of those; a regular file, directory, block device or socket is refused.
---@param path string
---@return file*|nil result
---@return tether.info
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.open_in_place(path) end

---A free temporary name `.tether-PID-N.tmp`, as tether's C code makes them for a link or file about to be renamed over another (not created).
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.temp_name() end

---rename(2) relative to the checked directories.
---@param from string
---@param to string
---@param opts? {dry?: boolean, noreplace?: boolean, exchange?: boolean, expect?: tether.expect, expect_to?: tether.expect}
---@return tether.identity|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.rename(from, to, opts) end

---Free and total bytes of path's filesystem, and the most hard links a file there may have.
---@param path string
---@return {avail: integer,r:  total: integer,r:  link_max: integer}|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.statfs(path) end

---Whether path's filesystem keeps extended attributes: one is set and removed again.
---@param path string
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.xattr_probe(path) end

---This process's id.
---@return integer|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.pid() end

---This machine's name (for a declaration of `tether apply` that depends on it).
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.hostname() end

---Whether that process is running.
---@param pid integer
---@return boolean|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.pid_alive(pid) end

---The effective user id (0 on Windows).
---@return integer|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.euid() end

---The rule for following a link on the way to a path (the one tether.confine keeps): a link is followed only when it is the caller's (euid, by default tether.euid()), or root's in a directory no other user can write. dir: tether.info of the directory the link is in (nil: not there yet, and a run's own). False says why: "owner" (another user's link) or "dir" (root's, in a directory another user can write).
---@param link_uid integer
---@param dir? tether.info
---@param euid? integer
---@return boolean|nil result
---@return string?
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.link_trusted(link_uid, dir, euid) end

---Now, in the clock file times are stamped with (seconds, nanoseconds).
---@return integer|nil result
---@return integer
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.fs_now() end

---A journal handle: `j:append(line)` returns once the line is on disk (`j:append(line, {nosync = true})` and `j:sync()` group several). A torn last line is cut when one is opened again. The file must be the caller's alone.
---@param path string
---@param opts? {create?: boolean}
---@return tether.journal|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.journal(path, opts) end

---Whether dir is the caller's alone (made first, mode 0700, with `create`).
---@param dir string
---@param opts? {create?: boolean}
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.journal_dir(dir, opts) end

---A journal's text, when only the caller can have written it.
---@param path string
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.journal_read(path) end

---Remove the journal file name from the journal directory dir (both the caller's), through the directory's handle.
---@param dir string
---@param name string
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.journal_remove(dir, name) end

---The lock named key (a real path), a file in dir (tether's state directory, the caller's alone) saying who holds it; EBUSY naming the holder when another process has it; closed, it goes. Nothing is written beside what key names; a file there that is not a regular file of the caller's is never used.
---@param dir string
---@param key string
---@param holder string
---@return tether.lock|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.lock(dir, key, holder) end

---A lock (flock) on the directory path itself, writing nothing anywhere; closed, or its holder dead, it goes.
---@param path string
---@return tether.lock|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.lock_dir(path) end

---"none", "held" or "stale" (its holder died) for lock key in dir, and what its file says; makes nothing.
---@param dir string
---@param key string
---@return string|nil result
---@return string
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.lock_state(dir, key) end

---Whether a link can be made in dir, without making one: true, or false when only trying one would tell; and the filesystem's type. Fails when none can: dir immutable, append-only or not writable, or a filesystem without symbolic links.
---@param dir string
---@return boolean|nil result
---@return string
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.link_support(dir) end

---Replace the regular file path, which must still match expect, by a hard link to (or reflink clone of) existing; the old file is removed only once seen unchanged.
---@param existing string
---@param path string
---@param expect tether.expect
---@param opts? {clone?: boolean, background?: boolean, expect_existing?: tether.expect, dry?: boolean}
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.link_over(existing, path, expect, opts) end

---Wait for the removals of old copies link_over{background = true} handed to its queue, end that queue (the next such call starts one) and say if one failed: the copy left is named (it holds the same bytes as its link).
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.link_drain() end

---Give a hard-linked path its own copy again, with meta's mode, owner and time; refuses a file whose content or mode changed since expect.
---@param path string
---@param meta table
---@param opts? {expect?: tether.expect, dry?: boolean}
---@return true|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.unshare(path, meta, opts) end

---xxHash64 of a file (or of its first limit bytes).
---@param path string
---@param limit? integer
---@return integer|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.hash(path, limit) end

---Byte-for-byte comparison of two files.
---@param a string
---@param b string
---@return boolean|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.same_content(a, b) end

---Up to 64 files (walk entries with stat) read side by side, each once: the sets of indices of files with exactly the same bytes, then messages for files that could not be read.
---@param files table[]
---@return integer[][]|nil result
---@return string[]
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.same_groups(files) end

---same_groups for many lists, on two threads: {sets, messages} for each.
---@param lists table[][]
---@return table[]|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.same_groups_many(lists) end

---A Perl-compatible regular expression (PCRE2, matching bytes); `re:find(s [, init])` gives the start and end of the first match, or nil.
---@param pattern string
---@return tether.regex|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.regex(pattern) end

---The four values of a failure, as every function here returns them: nil, "PATH: reason (ERRNO); hint", the errno name, and the same as a table.
---@param errno string
---@param path string
---@param reason string
---@param hint? string
---@return nil|nil result
---@return string
---@return string
---@return tether.error
function tether.fail(errno, path, reason, hint) end

---s escaped when it holds control characters, for one-line output (`bare` leaves out the quotes).
---@param s string
---@param bare? boolean
---@return string|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.quote(s, bare) end

---Seconds on a monotonic clock (the wall clock with `wall`).
---@param wall? boolean
---@return number|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.now(wall) end

---Wait; a stop signal cuts it short (then it returns false).
---@param seconds number
---@return boolean|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.sleep(seconds) end

---Whether fd 0, 1 or 2 is a terminal.
---@param fd integer
---@return boolean|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.isatty(fd) end

---The width of the terminal on stderr (nil when none), and whether it was resized since the last call.
---@return integer?|nil result
---@return boolean
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.term_width() end

---The signal a stop was asked with (SIGINT, SIGTERM, SIGHUP), or false; `false` as argument forgets it.
---@param clear? boolean
---@return integer|false|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.interrupted(clear) end

---While on, a signal only asks, and the code stops at its next safe point.
---@param on boolean
---@return nil|nil result
function tether.defer_interrupts(on) end

---Dry-run mode for every changing call of tether (after setting it, when given): each then checks everything, records what it would do (`drylog`) and changes nothing. tether.raw's functions are blind to it (each takes its own `dry` option).
---@param on? boolean
---@return boolean|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.dryrun(on) end

---The actions recorded in dry-run mode since the last call.
---@return table[]|nil result
---@return string? message
---@return string? errno
---@return tether.error? error
function tether.drylog() end

---The JSON codec behind tether.json (use tether.json).
---@param array table
---@param object table
---@param null table
---@return function|nil result
---@return function
---@return string? message
---@return string? errno
---@return tether.error? error
function tether._json(array, object, null) end

return tether
