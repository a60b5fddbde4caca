/* POSIX implementation of the platform boundary (Linux, macOS, BSD). Linux-only
 * calls (openat2, statx, renameat2) sit behind #ifdef with a portable fallback. */
#define _GNU_SOURCE
#include "platform.h"

#include "../error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#if defined(__linux__)
#include <sys/fsuid.h>
#endif
#include <sys/ioctl.h>
#include <sys/xattr.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/vfs.h>
#else
#include <sys/mount.h>
#include <sys/param.h>
#endif
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/openat2.h>
#include <sys/syscall.h>
#endif

static tt_type type_of(mode_t m)
{
    if (S_ISREG(m)) return TT_FILE;
    if (S_ISDIR(m)) return TT_DIR;
    if (S_ISLNK(m)) return TT_SYMLINK;
    return TT_OTHER;
}

void pf_posix_fill(tt_stat *out, const struct stat *s);
void pf_posix_fill(tt_stat *out, const struct stat *s)
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
    out->attrs = 0;
    out->mnt_id = 0;
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
    pf_posix_fill(st, &s);
    return 0;
}

int pf_stat(const char *path, tt_stat *st)
{
    struct stat s;
    if (stat(path, &s) != 0) return errno;
    pf_posix_fill(st, &s);
    return 0;
}

int pf_junction_support(const char **why, const char **hint)
{
    *why = "junctions are an NTFS feature and are not supported here";
    *hint = "use a directory symbolic link instead (tether link --dir)";
    return ENOTSUP;
}

int pf_mkdtemp(char *tmpl)
{
    return mkdtemp(tmpl) ? 0 : errno;
}

const char *pf_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

const char *pf_temp_dir(void)
{
    const char *tmp = pf_env("TMPDIR");
    return tmp ? tmp : "/tmp";
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

uint32_t pf_euid(void)
{
    return (uint32_t)geteuid();
}

unsigned long pf_pid(void)
{
    return (unsigned long)getpid();
}

int pf_hostname(char *buf, size_t cap)
{
    if (gethostname(buf, cap) != 0) return errno;
    buf[cap - 1] = '\0';
    return 0;
}

int pf_pid_alive(unsigned long pid)
{
    return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

int pf_isatty(int fd)
{
    return isatty(fd);
}

int pf_term_width(int fd)
{
    struct winsize ws;
    if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0) return 0;
    return ws.ws_col;
}

void pf_fs_now(int64_t *sec, int32_t *nsec)
{
    struct timespec ts;
#ifdef CLOCK_REALTIME_COARSE
    /* File times come from the coarse clock, which lags the precise one by up to a
     * tick: a change made right after a precise reading could carry an earlier time. */
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
#else
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec -= 1; /* no coarse clock: leave a second of room */
#endif
    *sec = ts.tv_sec;
    *nsec = (int32_t)ts.tv_nsec;
}

struct pf_dir {
    DIR *dir;
    int fd;
};

static int fd_of(pf_dir *d);

int pf_dir_xattr_probe(pf_dir *d, const char *name)
{
    int fd = openat(fd_of(d), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = fsetxattr(fd, "user.tether-probe", "1", 1, 0) != 0 ? errno : 0;
    if (!err && fremovexattr(fd, "user.tether-probe") != 0) err = errno;
    close(fd);
    return err;
}

static int fd_of(pf_dir *d)
{
    return d ? d->fd : AT_FDCWD;
}

int pf_dir_fd(pf_dir *d); /* for posix_copy.c */
int pf_dir_fd(pf_dir *d)
{
    return fd_of(d);
}

static int wrap_fd(int fd, pf_dir **out)
{
    if (fd < 0) return errno;
    pf_dir *d = malloc(sizeof *d);
    if (!d) {
        close(fd);
        return ENOMEM;
    }
    d->fd = fd;
    d->dir = NULL; /* made on the first read: many handles are only used with *at() */
    *out = d;
    return 0;
}

/* openat2(dirfd, name, flags, resolve): 0 with *fd, an errno value, or ENOSYS where the
 * kernel has no openat2 or a seccomp filter refuses it (EPERM), remembered so that it is
 * asked once. */
#if defined(__linux__) && defined(SYS_openat2)
static int open_resolving(int dirfd, const char *name, uint64_t flags, uint64_t resolve, int *fd)
{
    static int no_openat2;
    if (!no_openat2) {
        struct open_how how = {.flags = flags, .resolve = resolve};
        long r = syscall(SYS_openat2, dirfd, name, &how, sizeof how);
        if (r >= 0) return *fd = (int)r, 0;
        if (errno != ENOSYS && errno != EPERM) return errno;
        no_openat2 = 1;
    }
    return ENOSYS;
}
#endif

int pf_dir_open(pf_dir *parent, const char *name, int how, pf_dir **out)
{
    if (how & PF_DIR_NOLINKS) {
#if defined(__linux__) && defined(SYS_openat2)
        int fd = -1, err = open_resolving(fd_of(parent), name, O_DIRECTORY | O_CLOEXEC | O_PATH,
                                          RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, &fd);
        return err ? err : wrap_fd(fd, out); /* a last name that is a link: ELOOP too */
#else
        return ENOSYS;
#endif
    }
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | (how & PF_DIR_FOLLOW ? 0 : O_NOFOLLOW);
#ifdef O_PATH
    if (how & PF_DIR_BASE) flags |= O_PATH; /* cheaper to open and close; O_RDONLY is 0 */
#endif
    return wrap_fd(openat(fd_of(parent), name, flags), out);
}

/* One O_NOFOLLOW open per name: the portable way beneath a root. */
static int beneath_by_names(pf_dir *root, const char *rel, pf_dir **out)
{
    int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
#ifdef O_PATH
    flags |= O_PATH;
#endif
    int fd = dup(root->fd);
    if (fd < 0) return errno;
    char name[NAME_MAX + 1];
    for (const char *p = rel; *p;) {
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t n = (size_t)(p - s);
        while (*p == '/')
            p++;
        if (n == 0) continue;
        if (n > NAME_MAX) return close(fd), ENAMETOOLONG;
        memcpy(name, s, n);
        name[n] = '\0';
        if (!strcmp(name, ".") || !strcmp(name, "..")) return close(fd), EINVAL;
        int next = openat(fd, name, flags);
        int err = errno;
        close(fd);
        if (next < 0) return err;
        fd = next;
    }
    return wrap_fd(fd, out);
}

int pf_dir_beneath(pf_dir *root, const char *rel, pf_dir **out)
{
#if defined(__linux__) && defined(SYS_openat2)
    int fd = -1,
        err = open_resolving(root->fd, *rel ? rel : ".",
                             O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW | O_PATH,
                             RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, &fd);
    if (!err) return wrap_fd(fd, out);
    if (err != ENOSYS) return err == EXDEV ? ELOOP : err; /* ".." out of the root: refused too */
#endif
    return beneath_by_names(root, rel, out);
}

int pf_dir_dup(pf_dir *d, pf_dir **out)
{
    return wrap_fd(fcntl(d->fd, F_DUPFD_CLOEXEC, 0), out);
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

#if defined(__linux__) && defined(STATX_BASIC_STATS)
/* statx for the attributes struct stat has no room for: immutable, append-only, mount
 * root, mount id. */
static int stat_attrs(int dirfd, const char *name, int flags, tt_stat *st)
{
    struct statx x;
    unsigned mask = STATX_BASIC_STATS;
#ifdef STATX_MNT_ID
    mask |= STATX_MNT_ID;
#endif
    if (statx(dirfd, name, flags, mask, &x) != 0) return errno;
    struct stat s = {0};
    s.st_mode = x.stx_mode;
    s.st_dev = makedev(x.stx_dev_major, x.stx_dev_minor);
    s.st_rdev = makedev(x.stx_rdev_major, x.stx_rdev_minor);
    s.st_ino = x.stx_ino;
    s.st_nlink = x.stx_nlink;
    s.st_size = (off_t)x.stx_size;
    s.st_uid = x.stx_uid;
    s.st_gid = x.stx_gid;
    s.st_blocks = (blkcnt_t)x.stx_blocks;
    s.st_mtim.tv_sec = x.stx_mtime.tv_sec, s.st_mtim.tv_nsec = x.stx_mtime.tv_nsec;
    s.st_atim.tv_sec = x.stx_atime.tv_sec, s.st_atim.tv_nsec = x.stx_atime.tv_nsec;
    s.st_ctim.tv_sec = x.stx_ctime.tv_sec, s.st_ctim.tv_nsec = x.stx_ctime.tv_nsec;
    pf_posix_fill(st, &s);
    uint64_t a = x.stx_attributes & x.stx_attributes_mask;
    if (a & STATX_ATTR_IMMUTABLE) st->attrs |= TT_ATTR_IMMUTABLE;
    if (a & STATX_ATTR_APPEND) st->attrs |= TT_ATTR_APPEND;
#ifdef STATX_ATTR_MOUNT_ROOT
    if (a & STATX_ATTR_MOUNT_ROOT) st->attrs |= TT_ATTR_MOUNT_ROOT;
#endif
#ifdef STATX_MNT_ID
    if (x.stx_mask & STATX_MNT_ID) st->mnt_id = x.stx_mnt_id;
#endif
    return 0;
}
#endif

static int stat_at(int dirfd, const char *name, int how, tt_stat *st)
{
    int flags = how & PF_STAT_FOLLOW ? 0 : AT_SYMLINK_NOFOLLOW;
#if defined(__linux__) && defined(STATX_BASIC_STATS)
    if (how & PF_STAT_ATTRS)
        return stat_attrs(dirfd, name, flags | (*name ? 0 : AT_EMPTY_PATH), st);
#endif
    struct stat s;
    if (fstatat(dirfd, name, &s, flags | (*name ? 0 : AT_EMPTY_PATH)) != 0) return errno;
    pf_posix_fill(st, &s);
    return 0;
}

int pf_dir_stat(pf_dir *d, const char *name, int how, tt_stat *st)
{
    return stat_at(fd_of(d), name, how, st);
}

/* The target of the link at fd/at (at "": a link opened O_PATH at fd), at most cap bytes. */
static int link_text(int fd, const char *at, char *buf, size_t cap, size_t *len)
{
    ssize_t n = readlinkat(fd, at, buf, cap);
    if (n < 0) return errno;
    *len = (size_t)n;
    return 0;
}

int pf_dir_readlink(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len)
{
    return link_text(fd_of(d), name, buf, cap, len);
}

int pf_dir_readlink_stat(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len,
                         tt_stat *st)
{
    struct stat s;
#ifdef O_PATH
    int fd = openat(fd_of(d), name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno;
    const char *at = "";
    int err = fstat(fd, &s) == 0 ? 0 : errno;
#else
    int fd = fd_of(d); /* best effort: stat and read by name */
    const char *at = name;
    int err = fstatat(fd, name, &s, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
#endif
    if (!err) pf_posix_fill(st, &s);
    if (!err && !S_ISLNK(s.st_mode)) err = EINVAL;
    if (!err) err = link_text(fd, at, buf, cap, len);
#ifdef O_PATH
    close(fd);
#endif
    return err;
}

int pf_dir_self(pf_dir *d, int how, tt_stat *st)
{
    return stat_at(d->fd, "", how & ~PF_STAT_FOLLOW, st);
}

int pf_dir_access(pf_dir *d, const char *name, int what)
{
    int mode = (what & PF_ACCESS_READ ? R_OK : 0) | (what & PF_ACCESS_WRITE ? W_OK | X_OK : 0) |
               (what & PF_ACCESS_SEARCH ? X_OK : 0);
    /* AT_SYMLINK_NOFOLLOW: callers ask about files and directories, never links. */
    if (faccessat(d->fd, name, mode, AT_EACCESS | AT_SYMLINK_NOFOLLOW) == 0) return 0;
    if (errno != EINVAL) return errno;
    return faccessat(d->fd, name, mode, AT_EACCESS) == 0 ? 0 : errno;
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

int pf_dir_symlink(pf_dir *d, const char *name, const char *target, int dir)
{
    (void)dir;
    return symlinkat(target, d->fd, name) == 0 ? 0 : errno;
}

int pf_dir_symlink_as(pf_dir *d, const char *name, const char *target, int dir, uint32_t uid,
                      uint32_t gid)
{
    (void)dir;
#if defined(__linux__)
    /* setfsuid/setfsgid are the thread's own (the raw system calls, not broadcast to other
     * threads); with fsuid not 0 the kernel drops the thread's filesystem capabilities, and
     * gives them back when it is 0 again. setfs*id answers with the old id: asked an
     * invalid one (-1) it changes nothing, which is how a change is checked. */
    uid_t old_uid = (uid_t)setfsuid((uid_t)-1);
    gid_t old_gid = (gid_t)setfsgid((gid_t)-1);
    int err = 0;
    setfsgid((gid_t)gid);
    if ((gid_t)setfsgid((gid_t)-1) != (gid_t)gid) err = EPERM;
    if (!err) {
        setfsuid((uid_t)uid);
        if ((uid_t)setfsuid((uid_t)-1) != (uid_t)uid) err = EPERM;
    }
    if (!err) err = symlinkat(target, d->fd, name) == 0 ? 0 : errno;
    setfsuid(old_uid);
    setfsgid(old_gid);
    /* Going back to ids the thread had is always allowed; a thread left with the owner's
     * ids would make every later change as the owner. */
    if ((uid_t)setfsuid((uid_t)-1) != old_uid || (gid_t)setfsgid((gid_t)-1) != old_gid) abort();
    return err;
#else
    (void)d, (void)name, (void)target, (void)uid, (void)gid;
    return ENOSYS;
#endif
}

int pf_dir_hardlink(pf_dir *from, const char *fname, pf_dir *to, const char *tname)
{
    /* linkat without AT_SYMLINK_FOLLOW links the name itself, never through a link. */
    return linkat(from->fd, fname, to->fd, tname, 0) == 0 ? 0 : errno;
}

int pf_dir_junction(pf_dir *d, const char *name, const char *target, const char **why,
                    const char **hint)
{
    (void)d, (void)name, (void)target;
    return pf_junction_support(why, hint);
}

/* The last look before a change: POSIX has no call that checks and acts at once, so
 * this narrows the window the callers' own check left (core/at explains why what remains
 * cannot redirect a change to another directory). */
static int still(pf_dir *d, const char *name, const tt_stat *want)
{
    struct stat s;
    if (!want) return 0;
    if (fstatat(d->fd, name, &s, AT_SYMLINK_NOFOLLOW) != 0) return errno;
    return (uint64_t)s.st_dev == want->dev && (uint64_t)s.st_ino == want->ino ? 0 : TT_ECHANGED;
}

int pf_dir_rename(pf_dir *from, const char *fname, pf_dir *to, const char *tname, unsigned how,
                  const tt_stat *want)
{
    int err = still(from, fname, want);
    if (err) return err;
    if (!how) return renameat(from->fd, fname, to->fd, tname) == 0 ? 0 : errno;
#if defined(__linux__) && defined(RENAME_EXCHANGE)
    unsigned flags = (how & PF_RENAME_EXCHANGE ? RENAME_EXCHANGE : 0) |
                     (how & PF_RENAME_NOREPLACE ? RENAME_NOREPLACE : 0);
    return renameat2(from->fd, fname, to->fd, tname, flags) == 0 ? 0 : errno;
#else
    return ENOSYS;
#endif
}

int pf_dir_unlink_id(pf_dir *d, const char *name, int is_dir, const tt_stat *want)
{
    int err = still(d, name, want);
    if (err) return err;
    /* unlinkat without AT_REMOVEDIR never removes a directory, so a link swapped for a
     * real directory mid-run is refused by the kernel. */
    return unlinkat(d->fd, name, is_dir ? AT_REMOVEDIR : 0) == 0 ? 0 : errno;
}

int pf_dir_unlink(pf_dir *d, const char *name, int is_dir)
{
    return pf_dir_unlink_id(d, name, is_dir, NULL);
}

int pf_dir_mkdir(pf_dir *d, const char *name, unsigned mode)
{
    return mkdirat(d->fd, name, (mode_t)mode) == 0 ? 0 : errno;
}

int pf_dir_create(pf_dir *d, const char *name, unsigned mode, int *fd)
{
    *fd = openat(d->fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
    return *fd < 0 ? errno : 0;
}

int pf_dir_open_write(pf_dir *d, const char *name, int follow, int *fd, tt_stat *st)
{
    *fd = openat(d->fd, name,
                 O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
    if (*fd < 0) return errno;
    struct stat s;
    int flags, err = fstat(*fd, &s) != 0 ? errno : 0;
    /* Opened, writes wait again as on any descriptor (a FIFO's reader may be slow). */
    if (!err &&
        ((flags = fcntl(*fd, F_GETFL)) < 0 || fcntl(*fd, F_SETFL, flags & ~O_NONBLOCK) != 0))
        err = errno;
    if (err) {
        close(*fd);
        *fd = -1;
        return err;
    }
    pf_posix_fill(st, &s);
    return 0;
}

/* Whether the link at at_fd/name is `want` and stores `target` (when given): 0,
 * TT_ECHANGED, or the errno value. name "" means the link open at at_fd (O_PATH). */
static int still_link(int at_fd, const char *name, const tt_stat *want, const char *target)
{
    struct stat s;
    int how = *name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
    if (fstatat(at_fd, name, &s, how) != 0) return errno;
    if (!S_ISLNK(s.st_mode) || (uint64_t)s.st_dev != want->dev || (uint64_t)s.st_ino != want->ino)
        return TT_ECHANGED;
    if (!target) return 0;
    size_t n = strlen(target);
    char *buf = malloc(n + 1);
    if (!buf) return ENOMEM;
    size_t got = 0;
    int err = link_text(at_fd, name, buf, n + 1, &got);
    if (!err && (got != n || memcmp(buf, target, n) != 0)) err = TT_ECHANGED;
    free(buf);
    return err;
}

int pf_dir_chown_link(pf_dir *d, const char *name, uint32_t uid, uint32_t gid, const tt_stat *want,
                      const char *target)
{
#if defined(O_PATH) && defined(AT_EMPTY_PATH)
    int fd = openat(d->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = still_link(fd, "", want, target);
    if (!err && fchownat(fd, "", (uid_t)uid, (gid_t)gid, AT_EMPTY_PATH) != 0) err = errno;
    close(fd);
    return err;
#else
    int err = still_link(d->fd, name, want, target);
    if (err) return err;
    return fchownat(d->fd, name, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : errno;
#endif
}

int pf_dir_chmod(pf_dir *d, unsigned mode)
{
    return fchmod(d->fd, (mode_t)mode) == 0 ? 0 : errno;
}

int pf_append_open(const char *path, int create, int *fd)
{
    /* O_NONBLOCK: a FIFO planted at a journal's name must not hold the open (the caller
     * then checks it is a regular file); writes to a regular file ignore it. */
    int flags = (create ? O_WRONLY | O_CREAT | O_EXCL : O_RDWR) | O_APPEND | O_CLOEXEC |
                O_NOFOLLOW | O_NONBLOCK;
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

int pf_append_trim(int fd)
{
    struct stat s;
    if (fstat(fd, &s) != 0) return errno;
    char buf[4096];
    for (off_t end = s.st_size; end > 0;) {
        size_t n = end < (off_t)sizeof buf ? (size_t)end : sizeof buf;
        ssize_t r = pread(fd, buf, n, end - (off_t)n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return errno;
        if ((size_t)r != n) return EIO; /* it shrank under us */
        for (size_t i = n; i > 0; i--) {
            if (buf[i - 1] != '\n') continue;
            off_t keep = end - (off_t)n + (off_t)i;
            if (keep == s.st_size) return 0;
            return ftruncate(fd, keep) == 0 ? pf_append_sync(fd) : errno;
        }
        end -= (off_t)n;
    }
    return s.st_size == 0 ? 0 : ftruncate(fd, 0) == 0 ? pf_append_sync(fd) : errno;
}

int pf_append_sync(int fd)
{
#if defined(__linux__)
    return fdatasync(fd) == 0 ? 0 : errno;
#else
    return fsync(fd) == 0 ? 0 : errno;
#endif
}

int pf_append_stat(int fd, tt_stat *st)
{
    struct stat s;
    if (fstat(fd, &s) != 0) return errno;
    pf_posix_fill(st, &s);
    return 0;
}

void pf_append_close(int fd)
{
    close(fd);
}

int pf_fd_chmod(int fd, unsigned mode)
{
    return fchmod(fd, (mode_t)(mode & 07777)) != 0 ? errno : 0;
}

int pf_fd_chown(int fd, uint32_t uid, uint32_t gid)
{
    return fchown(fd, (uid_t)uid, (gid_t)gid) != 0 ? errno : 0;
}

int pf_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = fsync(fd) == 0 ? 0 : errno;
    close(fd);
    return err == EINVAL ? 0 : err; /* some filesystems cannot sync a directory */
}

int pf_lock_open(pf_dir *d, const char *name, int how, int *fd)
{
    int flags = how & PF_LOCK_MAKE ? O_RDWR | O_CREAT : O_RDONLY;
    *fd = openat(d->fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    return *fd < 0 ? errno : 0;
}

/* flock without waiting, but waiting out a moment of contention: a process that only
 * looks (pf_lock_try with PF_LOCK_SHARED) holds its lock for a few system calls. */
static int flock_patient(int fd, int op)
{
    for (int tries = 0;; tries++) {
        if (flock(fd, op | LOCK_NB) == 0) return 0;
        if (errno != EWOULDBLOCK) return errno;
        if (tries == 5) return EAGAIN;
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
}

int pf_lock_try(int fd, int how)
{
    return flock_patient(fd, how & PF_LOCK_SHARED ? LOCK_SH : LOCK_EX);
}

int pf_lock_write(int fd, const char *text, size_t n)
{
    if (ftruncate(fd, 0) != 0) return errno;
    ssize_t w = pwrite(fd, text, n, 0);
    return w < 0 ? errno : (size_t)w == n ? 0 : EIO;
}

int pf_lock_read(int fd, char *buf, size_t cap)
{
    ssize_t n = pread(fd, buf, cap - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return n < 0 ? errno : 0;
}

void pf_lock_close(int fd)
{
    close(fd); /* the lock goes with the last descriptor */
}

int pf_dir_lock(pf_dir *d)
{
    int err = flock_patient(d->fd, LOCK_EX);
    /* NFS emulates flock with byte-range locks, which a directory cannot take. */
    return err == EBADF || err == ENOLCK || err == EINVAL || err == EOPNOTSUPP ? ENOTSUP : err;
}

#if defined(__linux__)
/* statfs f_type values (linux/magic.h), with what symlink(2) does there. */
static const struct {
    uint32_t magic; /* f_type is 32 bits wide, signed on some systems */
    const char *name;
    int links;
} fs_types[] = {
    {0xEF53, "ext2/3/4", PF_LINKS_YES},     {0x58465342, "xfs", PF_LINKS_YES},
    {0x9123683E, "btrfs", PF_LINKS_YES},    {0x01021994, "tmpfs", PF_LINKS_YES},
    {0x858458F6, "ramfs", PF_LINKS_YES},    {0x2FC12FC1, "zfs", PF_LINKS_YES},
    {0xF2F52010, "f2fs", PF_LINKS_YES},     {0xCA451A4E, "bcachefs", PF_LINKS_YES},
    {0x794C7630, "overlay", PF_LINKS_YES},  {0x52654973, "reiserfs", PF_LINKS_YES},
    {0x3153464A, "jfs", PF_LINKS_YES},      {0x3434, "nilfs2", PF_LINKS_YES},
    {0x6969, "nfs", PF_LINKS_YES},          {0x00C36400, "ceph", PF_LINKS_YES},
    {0x482B, "hfsplus", PF_LINKS_YES},      {0x00011954, "ufs", PF_LINKS_YES},
    {0x4D44, "vfat", PF_LINKS_NO},          {0x2011BAB0, "exfat", PF_LINKS_NO},
    {0x4244, "hfs", PF_LINKS_NO},           {0x65735546, "fuse", PF_LINKS_UNKNOWN},
    {0xFF534D42, "cifs", PF_LINKS_UNKNOWN}, {0xFE534D42, "smb2", PF_LINKS_UNKNOWN},
    {0x01021997, "9p", PF_LINKS_UNKNOWN},   {0x7366746E, "ntfs3", PF_LINKS_UNKNOWN},
};
#else
/* statfs f_fstypename on macOS and the BSDs. */
static const struct {
    const char *name;
    int links;
} fs_types[] = {
    {"apfs", PF_LINKS_YES}, {"hfs", PF_LINKS_YES},  {"ufs", PF_LINKS_YES},
    {"ffs", PF_LINKS_YES},  {"zfs", PF_LINKS_YES},  {"tmpfs", PF_LINKS_YES},
    {"nfs", PF_LINKS_YES},  {"msdos", PF_LINKS_NO}, {"msdosfs", PF_LINKS_NO},
    {"exfat", PF_LINKS_NO},
};
#endif

int pf_dir_fs_links(pf_dir *d, char *fs, size_t cap)
{
    struct statfs s;
    snprintf(fs, cap, "unknown");
    if (fstatfs(d->fd, &s) != 0) return PF_LINKS_UNKNOWN;
    for (size_t i = 0; i < sizeof fs_types / sizeof fs_types[0]; i++) {
#if defined(__linux__)
        if ((uint32_t)s.f_type != fs_types[i].magic) continue;
#else
        if (strcmp(s.f_fstypename, fs_types[i].name) != 0) continue;
#endif
        snprintf(fs, cap, "%s", fs_types[i].name);
        return fs_types[i].links;
    }
#if defined(__linux__)
    snprintf(fs, cap, "type 0x%x", (unsigned)(uint32_t)s.f_type);
#else
    snprintf(fs, cap, "%s", s.f_fstypename);
#endif
    return PF_LINKS_UNKNOWN;
}

void pf_nap(unsigned ms)
{
    nanosleep(&(struct timespec){(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L}, NULL);
}

double pf_clock(int wall)
{
    struct timespec ts;
    clock_gettime(wall ? CLOCK_REALTIME : CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

unsigned long pf_files_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 0;
    return (unsigned long)rl.rlim_cur;
}

void pf_files_raise(unsigned long want)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want) return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
}
