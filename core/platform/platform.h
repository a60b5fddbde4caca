/* The operating-system boundary of core/: every call that differs between POSIX and
 * Windows goes through here. Functions return 0 or an errno value (the Windows layer
 * maps its error codes to the same names), never -1 with a global errno.
 *
 * Nothing here changes the filesystem through a full path: every call that creates,
 * renames or removes works on a name inside an open directory (pf_dir), so the caller
 * decides once how that directory was reached (core/at) and a directory swapped for a
 * link afterwards cannot redirect the change. */
#ifndef TETHER_PLATFORM_H
#define TETHER_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum tt_type {
    TT_NONE = 0,
    TT_FILE,
    TT_DIR,
    TT_SYMLINK,
    TT_JUNCTION,
    TT_OTHER,
} tt_type;

/* attrs: what statx (or the Windows file attributes) say beyond struct stat. */
enum {
    TT_ATTR_IMMUTABLE = 1,  /* chattr +i: cannot be changed or removed, even by root */
    TT_ATTR_APPEND = 2,     /* chattr +a */
    TT_ATTR_MOUNT_ROOT = 4, /* the root of a mounted filesystem */
};

typedef struct tt_stat {
    tt_type type;
    uint64_t dev, ino, nlink, size;
    uint32_t mode, uid, gid;
    int64_t mtime_sec, atime_sec, ctime_sec;
    int32_t mtime_nsec, atime_nsec, ctime_nsec;
    uint64_t rdev;
    uint64_t alloc;  /* bytes actually allocated (less than size for a sparse file) */
    unsigned attrs;  /* TT_ATTR_*, only with PF_STAT_ATTRS */
    uint64_t mnt_id; /* the mount it is on (0: unknown), only with PF_STAT_ATTRS */
} tt_stat;

/* Read-only calls by path (inspection, classification): they follow the path as the
 * kernel does, final link followed by pf_stat only. */
int pf_lstat(const char *path, tt_stat *st);
int pf_stat(const char *path, tt_stat *st);
int pf_realpath(const char *path, char **out);
int pf_getcwd(char **out);
/* 0 when junctions can be made here, else an errno value with a static explanation. */
int pf_junction_support(const char **why, const char **hint);
/* Replaces the trailing XXXXXX of tmpl and creates that directory, mode 0700 (a new,
 * private name: nothing existing is touched). */
int pf_mkdtemp(char *tmpl);
/* Where temporary files go: $TMPDIR (on Windows also %TEMP%, then %TMP%), else /tmp. */
const char *pf_temp_dir(void);
/* The value of an environment variable, NULL when it is unset or empty. */
const char *pf_env(const char *name);

/* Directories read relative to an open handle (openat and friends on POSIX). */
typedef struct pf_dir pf_dir;
/* Opens `name` inside parent (NULL: name is a path). how: PF_DIR_FOLLOW follows a final
 * link (otherwise opening a link fails with ELOOP or ENOTDIR); PF_DIR_BASE opens it only
 * as the base of the calls below, never to be read (O_PATH where there is one);
 * PF_DIR_NOLINKS (with PF_DIR_BASE) follows no link anywhere on the way, ELOOP if there
 * is one, ENOSYS where the system cannot tell (openat2 on Linux only). */
enum { PF_DIR_FOLLOW = 1, PF_DIR_BASE = 2, PF_DIR_NOLINKS = 4 };
int pf_dir_open(pf_dir *parent, const char *name, int how, pf_dir **out);
/* Opens the directory rel ("a/b/c", no "." or ".." components) beneath root, never
 * following a link on the way and never leaving root: openat2 with RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS where the kernel has it, else one O_NOFOLLOW open per name.
 * A link on the way gives ELOOP (or ENOTDIR). The result is a PF_DIR_BASE handle. */
int pf_dir_beneath(pf_dir *root, const char *rel, pf_dir **out);
/* A second handle to the same directory (for another thread to use). */
int pf_dir_dup(pf_dir *d, pf_dir **out);
/* 0 with the next entry's name and type (TT_NONE when the OS did not say), or with
 * *name NULL at the end; else an errno value. "." and ".." are skipped. */
int pf_dir_read(pf_dir *d, const char **name, tt_type *type);
/* how: PF_STAT_FOLLOW follows a final link; PF_STAT_ATTRS also fills attrs and mnt_id
 * (statx on Linux; elsewhere they stay 0). d NULL: name is a path. */
enum { PF_STAT_FOLLOW = 1, PF_STAT_ATTRS = 2 };
int pf_dir_stat(pf_dir *d, const char *name, int how, tt_stat *st);
/* One read of the target stored in the link d/name into buf (not NUL-terminated; d
 * NULL: name is a path). *len is its length; when *len == cap the target may be longer
 * and the caller must read again with more room (core/link's tt_readlink_at does). */
int pf_dir_readlink(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len);
/* pf_dir_readlink, with *st the stat of the very link read (an O_PATH handle to the link
 * itself where there is one), so a link swapped in between cannot lend its target
 * another's owner. A name that is not a link: EINVAL, with *st saying what it is. */
int pf_dir_readlink_stat(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len,
                         tt_stat *st);
/* Stat of the directory itself (how: PF_STAT_ATTRS as above). */
int pf_dir_self(pf_dir *d, int how, tt_stat *st);
/* Whether the caller may read (PF_ACCESS_READ), search (PF_ACCESS_SEARCH) or empty
 * (PF_ACCESS_WRITE: write and search) name in d, by the effective ids; 0 or
 * EACCES/EPERM. Never follows a link. */
enum { PF_ACCESS_READ = 1, PF_ACCESS_WRITE = 2, PF_ACCESS_SEARCH = 4 };
int pf_dir_access(pf_dir *d, const char *name, int what);
void pf_dir_close(pf_dir *d);

/* Changes, each on a name inside an open directory. */
/* dir: the link names a directory (meaningful on Windows only). */
int pf_dir_symlink(pf_dir *d, const char *name, const char *target, int dir);
/* pf_dir_symlink, the link made by the user uid:gid from the start (root making a link for
 * its owner: a link of root's, however briefly, is one the owner can move elsewhere while
 * root is still to chown it). On Linux the calling thread's filesystem ids are the owner's
 * for the one call, so it succeeds only where the owner may write; EACCES or EPERM where
 * the owner may not (the caller then makes the link itself and gives it the owner), ENOSYS
 * where the system cannot make a link as another user. On Windows pf_dir_symlink (a link's
 * owner decides nothing there). */
int pf_dir_symlink_as(pf_dir *d, const char *name, const char *target, int dir, uint32_t uid,
                      uint32_t gid);
/* A hard link named tname in `to` to the file fname in `from`, never through a link. */
int pf_dir_hardlink(pf_dir *from, const char *fname, pf_dir *to, const char *tname);
/* On failure *why may point at a static explanation and *hint at advice. */
int pf_dir_junction(pf_dir *d, const char *name, const char *target, const char **why,
                    const char **hint);
/* how: PF_RENAME_NOREPLACE fails with EEXIST when tname exists; PF_RENAME_EXCHANGE swaps
 * the two names atomically. Either gives ENOSYS/EINVAL/ENOTSUP where the system or the
 * filesystem cannot do it (callers decide what to do then). want (or NULL): the device
 * and inode fname must still have; TT_ECHANGED otherwise (on Windows checked on the very
 * handle the rename goes through; on POSIX right before it). */
enum { PF_RENAME_NOREPLACE = 1, PF_RENAME_EXCHANGE = 2 };
int pf_dir_rename(pf_dir *from, const char *fname, pf_dir *to, const char *tname, unsigned how,
                  const tt_stat *want);
/* Removes a name inside d: a directory (empty) with is_dir, else a file or link (a
 * link is removed itself, never what it points to; without is_dir a directory is
 * refused by the system). want: as for pf_dir_rename. */
int pf_dir_unlink_id(pf_dir *d, const char *name, int is_dir, const tt_stat *want);
/* pf_dir_unlink_id without an identity to check (what this run itself just made). */
int pf_dir_unlink(pf_dir *d, const char *name, int is_dir);
int pf_dir_mkdir(pf_dir *d, const char *name, unsigned mode);
/* A new regular file `name` in d, opened for writing (*fd): never an existing name, never
 * through a link (EEXIST); mode less the umask. */
int pf_dir_create(pf_dir *d, const char *name, unsigned mode, int *fd);
/* The existing object `name` in d opened for writing in place (*fd): never created, never
 * truncated, never made the controlling terminal; a FIFO no process reads fails (ENXIO)
 * instead of waiting. follow: a final link is followed (else ELOOP). *st: what was
 * opened; a TT_OTHER object's mode keeps the traditional type bits (S_IFCHR 0020000,
 * S_IFIFO 0010000, ...), on Windows too. */
int pf_dir_open_write(pf_dir *d, const char *name, int follow, int *fd, tt_stat *st);
/* Changes the mode of the directory d itself (opened for reading, not PF_DIR_BASE). */
int pf_dir_chmod(pf_dir *d, unsigned mode);
/* Gives the link d/name (never what it points to) this owner, when it is still the object
 * `want` names (device and inode) and stores `target` (when not NULL); TT_ECHANGED
 * otherwise; a no-op on Windows. Where the
 * system allows, the object is opened once and changed through that descriptor, so a name
 * swapped between the check and the change is not what changes owner. */
int pf_dir_chown_link(pf_dir *d, const char *name, uint32_t uid, uint32_t gid, const tt_stat *want,
                      const char *target);

/* Copying, for core/copy: each call works on names inside open directories. */
typedef int (*pf_copy_cb)(void *ud, uint64_t bytes); /* nonzero: stop (returns ECANCELED) */
/* how, in: PF_COPY_HASH hashes the content; PF_COPY_NO_CLONE and PF_COPY_NO_RANGE skip
 * what an earlier file showed these two filesystems cannot do. Out: those two bits are
 * added when this copy found it out, so a tree's copy tries each at most once. */
enum { PF_COPY_HASH = 1, PF_COPY_NO_CLONE = 2, PF_COPY_NO_RANGE = 4 };
/* Copies a regular file's content (sparse holes kept, clones or copy_file_range where the
 * system can) and metadata (mode, owner when permitted, times, xattrs) into a new file.
 * The source is opened without following a link and must still be the file st
 * describes (same device and inode, a regular file): otherwise it is not copied and the
 * answer is TT_ECHANGED. Mode, owner and times are those of the opened file, so they
 * can never belong to another file than the content. *hash gets the xxHash64 of the
 * content when PF_COPY_HASH is set. */
int pf_copy_file(pf_dir *sdir, const char *sname, pf_dir *ddir, const char *dname,
                 const tt_stat *st, unsigned *how, pf_copy_cb cb, void *ud, uint64_t *hash);
/* A new symlink, fifo, socket or device node in ddir with st's owner and times. */
int pf_copy_symlink(pf_dir *ddir, const char *dname, const char *target, const tt_stat *st);
int pf_copy_special(pf_dir *ddir, const char *dname, const tt_stat *st);
/* A new file tname in `to` sharing the blocks of fname (which must still be the file src
 * describes, else TT_ECHANGED), with st's mode, owner and times; ENOTSUP/EXDEV/EINVAL
 * where the filesystem cannot clone. */
int pf_dir_clone(pf_dir *from, const char *fname, const tt_stat *src, pf_dir *to, const char *tname,
                 const tt_stat *st);
/* Gives the regular file d/name st's owner (when permitted), mode and times. */
int pf_dir_set_meta(pf_dir *d, const char *name, const tt_stat *st);
/* Applies st's mode, owner and times (and the xattrs of the source directory sd) to
 * the open directory d. */
int pf_dir_finish(pf_dir *d, pf_dir *sd, const tt_stat *st);
/* xxHash64 of a file's content (its first `limit` bytes when limit > 0), read through
 * d/name (d NULL: name is a path) without following a link. */
int pf_hash_file(pf_dir *d, const char *name, uint64_t limit, uint64_t *hash);
/* A regular file opened for reading, never through a final link (for comparing files). */
typedef struct pf_file pf_file;
int pf_file_open(pf_dir *d, const char *name, pf_file **out);
/* Stat of the opened file: what it really is, whatever the name says now. */
int pf_file_stat(pf_file *f, tt_stat *st);
/* Reads up to n bytes; *got < n only at the end of the file. */
int pf_file_read(pf_file *f, char *buf, size_t n, size_t *got);
/* xxHash64 of the rest of the file (of its next `limit` bytes when limit > 0). */
int pf_file_hash(pf_file *f, uint64_t limit, uint64_t *hash);
void pf_file_close(pf_file *f);
/* The most hard links one file may have on the filesystem holding path. */
uint64_t pf_link_max(const char *path);
/* Flushes the filesystem holding d to stable storage. */
int pf_syncfs(pf_dir *d);
int pf_statfs(const char *path, uint64_t *avail, uint64_t *total);

/* An append-only file for journals: every write reaches the disk before it returns. */
int pf_append_open(const char *path, int create, int *fd);
int pf_append_write(int fd, const char *buf, size_t n, int sync);
int pf_append_sync(int fd);
/* Cuts a last line that has no newline (a write a crash tore; never acted on) from a
 * journal opened again, so the next record starts a line of its own. */
int pf_append_trim(int fd);
/* Stat of the open file (for journals: who owns it, who may write it). */
int pf_append_stat(int fd, tt_stat *st);
/* Sets the open file's permission bits to exactly mode (past the umask); 0 or an errno
 * value (Windows keeps only whether it is read-only). */
int pf_fd_chmod(int fd, unsigned mode);
/* Gives the open file to uid and gid (Windows: nothing to do, ownership is not kept). */
int pf_fd_chown(int fd, uint32_t uid, uint32_t gid);
void pf_append_close(int fd);
/* Makes a new name in dir durable (fsync of the directory). */
int pf_sync_dir(const char *dir);

/* Lock files (core/lock). pf_lock_open opens name in d (PF_LOCK_MAKE: made if missing,
 * mode 0600, for reading and writing; else for reading only), never through a link and
 * never waiting (a FIFO planted there opens at once; the caller checks what it got with
 * pf_append_stat before anything else). */
enum { PF_LOCK_MAKE = 1 };
int pf_lock_open(pf_dir *d, const char *name, int how, int *fd);
/* Locks the open file exclusively (PF_LOCK_SHARED: shared, to look) without waiting
 * beyond a moment (another process only looking holds a shared lock that long): 0, or
 * EAGAIN when another process holds it. The lock goes when the process dies, so a file
 * left by a killed run is not held. */
enum { PF_LOCK_SHARED = 1 };
int pf_lock_try(int fd, int how);
/* Replaces the lock file's content (who holds it). */
int pf_lock_write(int fd, const char *text, size_t n);
/* Reads what the open lock file says (up to cap - 1 bytes, NUL-terminated). */
int pf_lock_read(int fd, char *buf, size_t cap);
void pf_lock_close(int fd);
/* Locks the directory d itself (flock on its handle, as pf_lock_try), writing nothing
 * anywhere: released when d is closed or the process dies. ENOTSUP where directories
 * cannot be locked (Windows; NFS answers EBADF or ENOLCK). */
int pf_dir_lock(pf_dir *d);
/* Whether the filesystem holding d keeps symbolic links, as far as its type tells:
 * PF_LINKS_YES, PF_LINKS_NO, or PF_LINKS_UNKNOWN (only trying one would tell: FUSE,
 * network filesystems, Windows). The type's name goes into fs (cap bytes). */
enum { PF_LINKS_UNKNOWN, PF_LINKS_YES, PF_LINKS_NO };
int pf_dir_fs_links(pf_dir *d, char *fs, size_t cap);

/* Seconds on a monotonic clock (wall = 0: for rates, timeouts, ETAs) or on the wall
 * clock since 1970 (wall = 1), with sub-microsecond precision where the system has it. */
double pf_clock(int wall);
/* Waits ms milliseconds (a short pause in a retry). */
void pf_nap(unsigned ms);
/* The soft limit on the files this process may have open (0: none known), and raising it
 * toward want as far as the hard limit allows. */
unsigned long pf_files_limit(void);
void pf_files_raise(unsigned long want);

/* The caller's effective user id (the owner a journal must have); 0 on Windows. */
uint32_t pf_euid(void);
/* Identifies this process for temporary names. */
unsigned long pf_pid(void);
/* Whether process pid is alive. */
int pf_pid_alive(unsigned long pid);
/* This machine's name (gethostname; the computer name on Windows); 0 or an errno value. */
int pf_hostname(char *buf, size_t cap);
/* Sets and removes an extended attribute (user.tether-probe) on the file `name` in d,
 * never following a link: 0 when the filesystem keeps them, else an errno value
 * (ENOTSUP). */
int pf_dir_xattr_probe(pf_dir *d, const char *name);
/* Whether fd (0, 1, 2) is a terminal (a console on Windows). */
int pf_isatty(int fd);
/* The width in columns of the terminal on fd, or 0 when it is none or cannot be told. */
int pf_term_width(int fd);
/* A wall-clock reading in the clock the kernel stamps file times with, so "changed
 * after this moment" can be told from a file's ctime. */
void pf_fs_now(int64_t *sec, int32_t *nsec);

#endif
