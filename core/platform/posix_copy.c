/* POSIX copying for core/copy: file content with holes kept (SEEK_DATA/SEEK_HOLE),
 * reflink clones (FICLONE) and copy_file_range on Linux with a read/write fallback, and
 * the metadata cp -a keeps: mode, owner (when permitted), times with nanoseconds, xattrs. */
#define _GNU_SOURCE
#include "platform.h"

#include "../error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>
#include <xxhash.h>
#ifdef __linux__
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#define HAVE_XATTR 1
#else
#include <sys/mount.h>
#endif
#include <sys/statvfs.h>

#define CHUNK    (1u << 20)
#define CB_EVERY (8u << 20) /* bytes between progress calls inside one file */

/* From posix.c: the descriptor behind a pf_dir (AT_FDCWD for NULL), and struct stat
 * turned into a tt_stat. */
int pf_dir_fd(pf_dir *d);
void pf_posix_fill(tt_stat *out, const struct stat *s);

static int write_all(int fd, const char *buf, size_t n, off_t off)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, buf, n, off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        buf += w, n -= (size_t)w, off += w;
    }
    return 0;
}

/* Copies [off, end) from in to out at the same offsets. */
static int copy_range(int in, int out, off_t off, off_t end, char **buf, XXH3_state_t *h,
                      unsigned *how, pf_copy_cb cb, void *ud, uint64_t *since_cb)
{
    while (off < end) {
        size_t want = (size_t)(end - off) < CHUNK ? (size_t)(end - off) : CHUNK;
        ssize_t n = -1;
#ifdef __linux__
        if (!h && !(*how & PF_COPY_NO_RANGE)) {
            loff_t a = off, b = off;
            n = copy_file_range(in, &a, out, &b, want, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP))
                *how |= PF_COPY_NO_RANGE; /* these two filesystems never will */
            else if (n < 0 && errno != EINVAL)
                return errno;
        }
#endif
        if (n < 0) { /* no kernel copy here (or hashing): read and write */
            if (!*buf && !(*buf = malloc(CHUNK))) return ENOMEM;
            n = pread(in, *buf, want, off);
            if (n < 0) {
                if (errno == EINTR) continue;
                return errno;
            }
            if (n > 0) {
                int err = write_all(out, *buf, (size_t)n, off);
                if (err) return err;
                if (h) XXH3_64bits_update(h, *buf, (size_t)n);
            }
        }
        if (n == 0) return EIO; /* the file shrank while being copied */
        off += n;
        *since_cb += (uint64_t)n;
        if (cb && *since_cb >= CB_EVERY) {
            if (cb(ud, *since_cb)) return ECANCELED;
            *since_cb = 0;
        }
    }
    return 0;
}

static void hash_zeros(XXH3_state_t *h, uint64_t n)
{
    static const char zeros[65536];
    for (; n > 0; n -= n < sizeof zeros ? n : sizeof zeros)
        XXH3_64bits_update(h, zeros, n < sizeof zeros ? (size_t)n : sizeof zeros);
}

static int copy_content(int in, int out, const tt_stat *st, unsigned *how, pf_copy_cb cb, void *ud,
                        uint64_t *hash)
{
    off_t size = (off_t)st->size, off = 0;
    char *buf = NULL;
    uint64_t since_cb = 0;
    XXH3_state_t *h = NULL;
    int err = 0;
    if (*how & PF_COPY_HASH) {
        h = XXH3_createState();
        if (!h) return ENOMEM;
        XXH3_64bits_reset(h);
    }
#ifdef FICLONE
    if (!h && size > 0 && !(*how & PF_COPY_NO_CLONE)) {
        if (ioctl(out, FICLONE, in) == 0) { /* copy-on-write clone */
            since_cb = (uint64_t)size;
            off = size;
        } else if (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOTTY) {
            *how |= PF_COPY_NO_CLONE; /* these two filesystems never will */
        }
    }
#endif
    /* A file with as many blocks as bytes has no holes to look for (cp's test too). */
    if (off < size && st->alloc >= st->size)
        err = copy_range(in, out, off, size, &buf, h, how, cb, ud, &since_cb), off = size;
    while (!err && off < size) {
        off_t data = lseek(in, off, SEEK_DATA);
        if (data < 0 && errno == ENXIO) break; /* only a hole remains */
        if (data < 0) data = off;              /* no SEEK_DATA here: copy everything */
        off_t hole = lseek(in, data, SEEK_HOLE);
        if (hole < 0 || hole > size) hole = size;
        if (h) hash_zeros(h, (uint64_t)(data - off)); /* a hole reads as zeros */
        err = copy_range(in, out, data, hole, &buf, h, how, cb, ud, &since_cb);
        off = hole;
    }
    if (h && !err && off < size) hash_zeros(h, (uint64_t)(size - off));
    /* Holes at the end make the size. */
    if (!err && off < size && ftruncate(out, size) != 0) err = errno;
    if (h) {
        if (!err) *hash = XXH3_64bits_digest(h);
        XXH3_freeState(h);
    }
    free(buf);
    if (!err && cb && since_cb > 0 && cb(ud, since_cb)) err = ECANCELED;
    return err;
}

#ifdef HAVE_XATTR
/* Copies every extended attribute the source has; a target that has none is fine. */
static void copy_xattrs_fd(int in, int out)
{
    char names[4096], value[65536];
    ssize_t n = flistxattr(in, names, sizeof names);
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(names + i) + 1) {
        ssize_t v = fgetxattr(in, names + i, value, sizeof value);
        if (v >= 0) fsetxattr(out, names + i, value, (size_t)v, 0);
    }
}
#endif

static void set_times_fd(int fd, const tt_stat *st)
{
    struct timespec ts[2] = {{st->atime_sec, st->atime_nsec}, {st->mtime_sec, st->mtime_nsec}};
    futimens(fd, ts);
}

/* Opens sname for reading without following a link and checks it is the regular file
 * the walk saw (st's device and inode); *real gets what it is now (its mode, owner and
 * times are what the copy takes, so they cannot belong to another file than the data).
 * Returns the descriptor, or -1 with *err set (TT_ECHANGED: not that file any more). */
static int open_source(int dirfd, const char *sname, const tt_stat *st, struct stat *real, int *err)
{
    int in = openat(dirfd, sname, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (in < 0) {
        *err = errno == ELOOP ? TT_ECHANGED : errno;
        return -1;
    }
    if (fstat(in, real) != 0) {
        *err = errno;
    } else if (!S_ISREG(real->st_mode) || (uint64_t)real->st_dev != st->dev ||
               (uint64_t)real->st_ino != st->ino) {
        *err = TT_ECHANGED;
    } else {
        return in;
    }
    close(in);
    return -1;
}

int pf_copy_file(pf_dir *sdir, const char *sname, pf_dir *ddir, const char *dname,
                 const tt_stat *st, unsigned *how, pf_copy_cb cb, void *ud, uint64_t *hash)
{
    struct stat real;
    int err;
    int in = open_source(pf_dir_fd(sdir), sname, st, &real, &err);
    if (in < 0) return err;
    int out =
        openat(pf_dir_fd(ddir), dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        err = errno;
        close(in);
        return err;
    }
    tt_stat now;
    pf_posix_fill(&now, &real);
    err = copy_content(in, out, &now, how, cb, ud, hash);
    if (!err) {
#ifdef HAVE_XATTR
        copy_xattrs_fd(in, out);
#endif
        /* Owner before mode: chown clears the set-id bits, chmod sets them back. */
        if (fchown(out, now.uid, now.gid) != 0 && errno != EPERM) err = errno;
        if (!err && fchmod(out, now.mode & 07777) != 0) err = errno;
        if (!err) set_times_fd(out, &now);
    }
    if (close(out) != 0 && !err) err = errno;
    close(in);
    return err;
}

int pf_dir_clone(pf_dir *from, const char *fname, const tt_stat *src, pf_dir *to, const char *tname,
                 const tt_stat *st)
{
#ifdef FICLONE
    struct stat real;
    int err;
    int in = open_source(pf_dir_fd(from), fname, src, &real, &err);
    if (in < 0) return err;
    int out =
        openat(pf_dir_fd(to), tname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    err = out < 0 ? errno : 0;
    if (!err && ioctl(out, FICLONE, in) != 0) err = errno;
    if (!err && fchown(out, st->uid, st->gid) != 0 && errno != EPERM) err = errno;
    if (!err && fchmod(out, st->mode & 07777) != 0) err = errno;
    if (!err) set_times_fd(out, st);
    if (out >= 0) close(out);
    if (err && out >= 0) unlinkat(pf_dir_fd(to), tname, 0);
    close(in);
    return err == EOPNOTSUPP || err == ENOTTY ? ENOTSUP : err;
#else
    (void)from, (void)fname, (void)src, (void)to, (void)tname, (void)st;
    return ENOTSUP;
#endif
}

int pf_copy_symlink(pf_dir *ddir, const char *dname, const char *target, const tt_stat *st)
{
    int fd = pf_dir_fd(ddir);
    if (symlinkat(target, fd, dname) != 0) return errno;
    if (fchownat(fd, dname, st->uid, st->gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != EPERM)
        return errno;
    struct timespec ts[2] = {{st->atime_sec, st->atime_nsec}, {st->mtime_sec, st->mtime_nsec}};
    utimensat(fd, dname, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

int pf_copy_special(pf_dir *ddir, const char *dname, const tt_stat *st)
{
    int fd = pf_dir_fd(ddir);
    mode_t m = (mode_t)st->mode;
    /* A socket is copied as cp -a copies it: a socket node with no one listening. */
    if (mknodat(fd, dname, m, S_ISCHR(m) || S_ISBLK(m) ? (dev_t)st->rdev : 0) != 0) return errno;
    if (fchownat(fd, dname, st->uid, st->gid, AT_SYMLINK_NOFOLLOW) != 0 && errno != EPERM)
        return errno;
    if (fchmodat(fd, dname, m & 07777, 0) != 0) return errno;
    struct timespec ts[2] = {{st->atime_sec, st->atime_nsec}, {st->mtime_sec, st->mtime_nsec}};
    utimensat(fd, dname, ts, AT_SYMLINK_NOFOLLOW);
    return 0;
}

int pf_dir_set_meta(pf_dir *d, const char *name, const tt_stat *st)
{
    int fd = openat(pf_dir_fd(d), name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = 0;
    if (fchown(fd, st->uid, st->gid) != 0 && errno != EPERM) err = errno;
    if (!err && fchmod(fd, st->mode & 07777) != 0) err = errno;
    if (!err) set_times_fd(fd, st);
    close(fd);
    return err;
}

int pf_dir_finish(pf_dir *d, pf_dir *sd, const tt_stat *st)
{
    int fd = pf_dir_fd(d);
#ifdef HAVE_XATTR
    /* The source directory's handle may be O_PATH, which cannot list xattrs. */
    int in = openat(pf_dir_fd(sd), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (in >= 0) {
        copy_xattrs_fd(in, fd);
        close(in);
    }
#else
    (void)sd;
#endif
    if (fchown(fd, st->uid, st->gid) != 0 && errno != EPERM) return errno;
    if (fchmod(fd, st->mode & 07777) != 0) return errno;
    set_times_fd(fd, st);
    return 0;
}

/* A read buffer no larger than the file (or the limit): most files are small, and a
 * 1 MiB allocation per file is an mmap and a round of page faults each time. */
static size_t buffer_for(int fd, uint64_t limit)
{
    struct stat st;
    uint64_t want = CHUNK;
    if (limit < want)
        want = limit; /* a prefix: no need to ask the size */
    else if (fstat(fd, &st) == 0 && (uint64_t)st.st_size + 1 < want)
        want = (uint64_t)st.st_size + 1;
    return want < 4096 ? 4096 : (size_t)want;
}

static int hash_fd(int fd, uint64_t limit, uint64_t *hash);

int pf_hash_file(pf_dir *d, const char *name, uint64_t limit, uint64_t *hash)
{
    int fd = openat(pf_dir_fd(d), name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return errno;
    int err = hash_fd(fd, limit, hash);
    close(fd);
    return err;
}

static int hash_fd(int fd, uint64_t limit, uint64_t *hash)
{
    uint64_t left = limit ? limit : UINT64_MAX;
    XXH3_state_t *h = XXH3_createState();
    size_t cap = buffer_for(fd, left);
    char *buf = malloc(cap);
    int err = h && buf ? 0 : ENOMEM;
    if (!err) XXH3_64bits_reset(h);
    while (!err && left > 0) {
        ssize_t n = read(fd, buf, left < cap ? (size_t)left : cap);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) err = errno;
        if (n <= 0) break;
        XXH3_64bits_update(h, buf, (size_t)n);
        left -= (uint64_t)n;
    }
    if (!err) *hash = XXH3_64bits_digest(h);
    if (h) XXH3_freeState(h);
    free(buf);
    return err;
}

static ssize_t read_full(int fd, char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

struct pf_file {
    int fd;
};

int pf_file_open(pf_dir *d, const char *name, pf_file **out)
{
    pf_file *f = malloc(sizeof *f);
    if (!f) return ENOMEM;
    /* O_NONBLOCK: a fifo put in a file's place must not block the open. */
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
    if ((f->fd = openat(pf_dir_fd(d), name, flags)) < 0) {
        int err = errno;
        free(f);
        return err;
    }
    *out = f;
    return 0;
}

int pf_file_read(pf_file *f, char *buf, size_t n, size_t *got)
{
    ssize_t r = read_full(f->fd, buf, n);
    if (r < 0) return errno;
    *got = (size_t)r;
    return 0;
}

int pf_file_stat(pf_file *f, tt_stat *st)
{
    struct stat s;
    if (fstat(f->fd, &s) != 0) return errno;
    pf_posix_fill(st, &s);
    return 0;
}

int pf_file_hash(pf_file *f, uint64_t limit, uint64_t *hash)
{
    return hash_fd(f->fd, limit, hash);
}

void pf_file_close(pf_file *f)
{
    if (!f) return;
    close(f->fd);
    free(f);
}

uint64_t pf_link_max(const char *path)
{
#ifdef __linux__
    /* tmpfs and ramfs keep no limit of their own (a link count is 32 bits), but pathconf
     * answers glibc's default of 127 for them. */
    struct statfs fs;
    if (statfs(path, &fs) == 0 && (fs.f_type == 0x01021994 /* TMPFS_MAGIC */ ||
                                   fs.f_type == (typeof(fs.f_type))0x858458f6 /* RAMFS */))
        return UINT32_MAX;
#endif
    long n = pathconf(path, _PC_LINK_MAX);
    return n > 0 ? (uint64_t)n : 1000;
}

int pf_syncfs(pf_dir *d)
{
    int fd = openat(pf_dir_fd(d), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
#ifdef __linux__
    int err = syncfs(fd) == 0 ? 0 : errno;
#else
    int err = fsync(fd) == 0 ? 0 : errno;
    sync();
#endif
    close(fd);
    return err;
}

int pf_statfs(const char *path, uint64_t *avail, uint64_t *total)
{
    struct statvfs v;
    if (statvfs(path, &v) != 0) return errno;
    *avail = (uint64_t)v.f_bavail * v.f_frsize;
    *total = (uint64_t)v.f_blocks * v.f_frsize;
    return 0;
}
