/* POSIX implementation of the platform boundary (Linux, macOS, BSD). Linux-only
 * calls sit behind #ifdef with a portable fallback. */
#define _GNU_SOURCE
#include "platform.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

static tt_type type_of(mode_t m)
{
    if (S_ISREG(m)) return TT_FILE;
    if (S_ISDIR(m)) return TT_DIR;
    if (S_ISLNK(m)) return TT_SYMLINK;
    return TT_OTHER;
}

static void fill(tt_stat *out, const struct stat *s)
{
    out->type = type_of(s->st_mode);
    out->dev = (uint64_t)s->st_dev;
    out->ino = (uint64_t)s->st_ino;
    out->nlink = (uint64_t)s->st_nlink;
    out->size = (uint64_t)s->st_size;
    out->mode = (uint32_t)s->st_mode;
    out->uid = (uint32_t)s->st_uid;
    out->gid = (uint32_t)s->st_gid;
    out->rdev = (uint64_t)s->st_rdev;
    out->alloc = (uint64_t)s->st_blocks * 512;
#if defined(__APPLE__)
    out->mtime_sec = s->st_mtimespec.tv_sec;
    out->mtime_nsec = (int32_t)s->st_mtimespec.tv_nsec;
    out->atime_sec = s->st_atimespec.tv_sec;
    out->atime_nsec = (int32_t)s->st_atimespec.tv_nsec;
    out->ctime_sec = s->st_ctimespec.tv_sec;
    out->ctime_nsec = (int32_t)s->st_ctimespec.tv_nsec;
#else
    out->mtime_sec = s->st_mtim.tv_sec;
    out->mtime_nsec = (int32_t)s->st_mtim.tv_nsec;
    out->atime_sec = s->st_atim.tv_sec;
    out->atime_nsec = (int32_t)s->st_atim.tv_nsec;
    out->ctime_sec = s->st_ctim.tv_sec;
    out->ctime_nsec = (int32_t)s->st_ctim.tv_nsec;
#endif
}

int pf_lstat(const char *path, tt_stat *st)
{
    struct stat s;
    if (lstat(path, &s) != 0) return errno;
    fill(st, &s);
    return 0;
}

int pf_stat(const char *path, tt_stat *st)
{
    struct stat s;
    if (stat(path, &s) != 0) return errno;
    fill(st, &s);
    return 0;
}

int pf_symlink(const char *target, const char *path, int dir)
{
    (void)dir;
    return symlink(target, path) == 0 ? 0 : errno;
}

int pf_hardlink(const char *existing, const char *path)
{
    /* linkat without AT_SYMLINK_FOLLOW links the name itself, never through a link. */
    return linkat(AT_FDCWD, existing, AT_FDCWD, path, 0) == 0 ? 0 : errno;
}

int pf_junction_support(const char **why, const char **hint)
{
    *why = "junctions are an NTFS feature and are not supported here";
    *hint = "use a directory symbolic link instead (tether link --dir)";
    return ENOTSUP;
}

int pf_junction(const char *target, const char *path, const char **why, const char **hint)
{
    (void)target;
    (void)path;
    return pf_junction_support(why, hint);
}

int pf_readlink(const char *path, char *buf, size_t cap, size_t *len)
{
    ssize_t n = readlink(path, buf, cap);
    if (n < 0) return errno;
    *len = (size_t)n;
    return 0;
}

int pf_rename(const char *from, const char *to)
{
    return rename(from, to) == 0 ? 0 : errno;
}

int pf_exchange(const char *a, const char *b)
{
#if defined(__linux__) && defined(RENAME_EXCHANGE)
    return renameat2(AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0 ? 0 : errno;
#else
    (void)a;
    (void)b;
    return ENOSYS;
#endif
}

int pf_unlink(const char *path, tt_type type)
{
    (void)type;
    /* unlinkat without AT_REMOVEDIR never removes a directory, so a symlink
     * swapped for a real directory mid-run is refused by the kernel. */
    return unlinkat(AT_FDCWD, path, 0) == 0 ? 0 : errno;
}

int pf_mkdir(const char *path)
{
    return mkdir(path, 0777) == 0 ? 0 : errno;
}

int pf_rmdir(const char *path)
{
    return rmdir(path) == 0 ? 0 : errno;
}

int pf_mkdtemp(char *tmpl)
{
    return mkdtemp(tmpl) ? 0 : errno;
}

int pf_realpath(const char *path, char **out)
{
    char *r = realpath(path, NULL);
    if (!r) return errno;
    *out = r;
    return 0;
}

int pf_getcwd(char **out)
{
    size_t cap = 256;
    for (;;) {
        char *buf = malloc(cap);
        if (!buf) return ENOMEM;
        if (getcwd(buf, cap)) {
            *out = buf;
            return 0;
        }
        int err = errno;
        free(buf);
        if (err != ERANGE) return err;
        cap *= 2;
    }
}

unsigned long pf_pid(void)
{
    return (unsigned long)getpid();
}

struct pf_dir {
    DIR *dir;
    int fd;
};

int pf_dir_open(pf_dir *parent, const char *name, int how, pf_dir **out)
{
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (how & PF_DIR_FOLLOW ? 0 : O_NOFOLLOW);
#ifdef O_PATH
    if (how & PF_DIR_BASE) flags |= O_PATH; /* cheaper to open and close; O_RDONLY is 0 */
#endif
    pf_dir *d = malloc(sizeof *d);
    if (!d) return ENOMEM;
    d->fd = openat(parent ? parent->fd : AT_FDCWD, name, flags);
    if (d->fd < 0) {
        int err = errno;
        free(d);
        return err;
    }
    d->dir = NULL; /* made on the first read: many handles are only used with *at() */
    *out = d;
    return 0;
}

static tt_type dtype(unsigned char t)
{
#ifdef DT_UNKNOWN
    switch (t) {
    case DT_REG:
        return TT_FILE;
    case DT_DIR:
        return TT_DIR;
    case DT_LNK:
        return TT_SYMLINK;
    case DT_UNKNOWN:
        return TT_NONE;
    default:
        return TT_OTHER;
    }
#else
    (void)t;
    return TT_NONE;
#endif
}

int pf_dir_read(pf_dir *d, const char **name, tt_type *type)
{
    if (!d->dir && !(d->dir = fdopendir(d->fd))) return errno;
    for (;;) {
        errno = 0;
        struct dirent *de = readdir(d->dir);
        if (!de) {
            *name = NULL;
            return errno;
        }
        const char *n = de->d_name;
        if (n[0] == '.' && (n[1] == '\0' || (n[1] == '.' && n[2] == '\0'))) continue;
        *name = n;
        *type = dtype(de->d_type);
        return 0;
    }
}

int pf_dir_stat(pf_dir *d, const char *name, int follow, tt_stat *st)
{
    struct stat s;
    if (fstatat(d->fd, name, &s, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) return errno;
    fill(st, &s);
    return 0;
}

int pf_dir_readlink(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len)
{
    ssize_t n = readlinkat(d->fd, name, buf, cap);
    if (n < 0) return errno;
    *len = (size_t)n;
    return 0;
}

int pf_dir_self(pf_dir *d, tt_stat *st)
{
    struct stat s;
    if (fstat(d->fd, &s) != 0) return errno;
    fill(st, &s);
    return 0;
}

void pf_dir_close(pf_dir *d)
{
    if (!d) return;
    if (d->dir)
        closedir(d->dir); /* closes fd too */
    else
        close(d->fd);
    free(d);
}

int pf_dir_fd(pf_dir *d)
{
    return d->fd;
}

int pf_append_open(const char *path, int create, int *fd)
{
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW | (create ? O_CREAT | O_EXCL : 0);
    *fd = open(path, flags, 0600);
    return *fd < 0 ? errno : 0;
}

int pf_append_write(int fd, const char *buf, size_t n, int sync)
{
    while (n > 0) {
        ssize_t w = write(fd, buf, n);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return errno;
        buf += w, n -= (size_t)w;
    }
    return sync ? pf_append_sync(fd) : 0;
}

int pf_append_sync(int fd)
{
#if defined(__linux__)
    return fdatasync(fd) == 0 ? 0 : errno;
#else
    return fsync(fd) == 0 ? 0 : errno;
#endif
}

void pf_append_close(int fd)
{
    close(fd);
}

int pf_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return err == EINVAL ? 0 : err; /* some filesystems cannot sync a directory */
}
