/* The operating-system boundary of core/: every call that differs between POSIX and
 * Windows goes through here. Functions return 0 or an errno value (the Windows layer
 * maps its error codes to the same names), never -1 with a global errno. */
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

typedef struct tt_stat {
    tt_type type;
    uint64_t dev, ino, nlink, size;
    uint32_t mode, uid, gid;
    int64_t mtime_sec, atime_sec, ctime_sec;
    int32_t mtime_nsec, atime_nsec, ctime_nsec;
    uint64_t rdev;
    uint64_t alloc; /* bytes actually allocated (less than size for a sparse file) */
} tt_stat;

int pf_lstat(const char *path, tt_stat *st);
int pf_stat(const char *path, tt_stat *st);

/* dir: the link names a directory (meaningful on Windows only). */
int pf_symlink(const char *target, const char *path, int dir);
int pf_hardlink(const char *existing, const char *path);
/* 0 when junctions can be made here, else an errno value with a static explanation. */
int pf_junction_support(const char **why, const char **hint);
/* On failure *why may point at a static explanation and *hint at advice. */
int pf_junction(const char *target, const char *path, const char **why, const char **hint);

/* Reads the stored target into buf (not NUL-terminated). *len is its length; when
 * *len == cap the target may be longer and the caller must retry with more room. */
int pf_readlink(const char *path, char *buf, size_t cap, size_t *len);

int pf_rename(const char *from, const char *to);
/* Swaps two names atomically; ENOSYS/EINVAL/ENOTSUP when the system cannot. */
int pf_exchange(const char *a, const char *b);
/* Removes the link itself (a symlink, or on Windows a junction / directory symlink). */
int pf_unlink(const char *path, tt_type type);
int pf_mkdir(const char *path);
int pf_rmdir(const char *path);
/* Replaces the trailing XXXXXX of tmpl and creates that directory, mode 0700. */
int pf_mkdtemp(char *tmpl);
int pf_realpath(const char *path, char **out);
int pf_getcwd(char **out);
/* Directories read relative to an open handle (openat and friends on POSIX), so a walk
 * never re-resolves a path and a directory swapped for a link is not followed. */
typedef struct pf_dir pf_dir;
/* Opens `name` inside parent (NULL: name is a path). how: PF_DIR_FOLLOW follows a final
 * link (otherwise opening a link fails with ELOOP or ENOTDIR); PF_DIR_BASE opens it only
 * as the base of the calls below, never to be read (O_PATH where there is one). */
enum { PF_DIR_FOLLOW = 1, PF_DIR_BASE = 2 };
int pf_dir_open(pf_dir *parent, const char *name, int how, pf_dir **out);
/* 0 with the next entry's name and type (TT_NONE when the OS did not say), or with
 * *name NULL at the end; else an errno value. "." and ".." are skipped. */
int pf_dir_read(pf_dir *d, const char **name, tt_type *type);
int pf_dir_stat(pf_dir *d, const char *name, int follow, tt_stat *st);
int pf_dir_readlink(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len);
/* Stat of the directory itself. */
int pf_dir_self(pf_dir *d, tt_stat *st);
void pf_dir_close(pf_dir *d);

/* Copying, for core/copy: each call works on names inside open directories. */
typedef int (*pf_copy_cb)(void *ud, uint64_t bytes); /* nonzero: stop (returns ECANCELED) */
/* how, in: PF_COPY_HASH hashes the content; PF_COPY_NO_CLONE and PF_COPY_NO_RANGE skip
 * what an earlier file showed these two filesystems cannot do. Out: those two bits are
 * added when this copy found it out, so a tree's copy tries each at most once. */
enum { PF_COPY_HASH = 1, PF_COPY_NO_CLONE = 2, PF_COPY_NO_RANGE = 4 };
/* Copies a regular file's content (sparse holes kept, clones or copy_file_range where the
 * system can) and metadata (mode, owner when permitted, times, xattrs) into a new file;
 * *hash gets the xxHash64 of the content when PF_COPY_HASH is set. */
int pf_copy_file(pf_dir *sdir, const char *sname, pf_dir *ddir, const char *dname,
                 const tt_stat *st, unsigned *how, pf_copy_cb cb, void *ud, uint64_t *hash);
/* A new symlink, fifo, or device node in ddir with st's owner and times. */
int pf_copy_symlink(pf_dir *ddir, const char *dname, const char *target, const tt_stat *st);
int pf_copy_special(pf_dir *ddir, const char *dname, const tt_stat *st);
int pf_dir_mkdir(pf_dir *d, const char *name);
/* A new file at path sharing existing's blocks (copy-on-write), with st's mode, owner and
 * times; ENOTSUP/EXDEV/EINVAL where the filesystem cannot clone. */
int pf_clone_file(const char *existing, const char *path, const tt_stat *st);
/* Applies st's mode, owner and times (and spath's xattrs) to the open directory d. */
int pf_dir_finish(pf_dir *d, const char *spath, const tt_stat *st);
int pf_dir_link(const char *existing, pf_dir *d, const char *name);
/* Removes a name inside d: a directory (empty) with is_dir, else a file or link. */
int pf_dir_unlink(pf_dir *d, const char *name, int is_dir);
/* xxHash64 of a file's content (its first `limit` bytes when limit > 0), read through
 * d/name (d NULL: name is a path) without following a link. */
int pf_hash_file(pf_dir *d, const char *name, uint64_t limit, uint64_t *hash);
/* A regular file opened for reading, never through a final link (for comparing files). */
typedef struct pf_file pf_file;
int pf_file_open(const char *path, pf_file **out);
/* Reads up to n bytes; *got < n only at the end of the file. */
int pf_file_read(pf_file *f, char *buf, size_t n, size_t *got);
void pf_file_close(pf_file *f);
/* The most hard links one file may have on the filesystem holding path. */
uint64_t pf_link_max(const char *path);
/* Flushes the filesystem holding path to stable storage. */
int pf_syncfs(const char *path);
int pf_statfs(const char *path, uint64_t *avail, uint64_t *total);

/* An append-only file for journals: every write reaches the disk before it returns. */
int pf_append_open(const char *path, int create, int *fd);
int pf_append_write(int fd, const char *buf, size_t n, int sync);
int pf_append_sync(int fd);
void pf_append_close(int fd);
/* Makes a new name in dir durable (fsync of the directory). */
int pf_sync_dir(const char *dir);

/* Identifies this process for temporary names. */
unsigned long pf_pid(void);

#endif
