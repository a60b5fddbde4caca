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
    int64_t mtime_sec;
    int32_t mtime_nsec;
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
/* Replaces the trailing XXXXXX of tmpl and creates that directory, mode 0700. */
int pf_mkdtemp(char *tmpl);
int pf_realpath(const char *path, char **out);
int pf_getcwd(char **out);
/* Identifies this process for temporary names. */
unsigned long pf_pid(void);

#endif
