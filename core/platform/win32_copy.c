/* Windows copying for core/copy: file content through ReadFile/WriteFile (hashed on the
 * way when asked), times and the read-only attribute kept; no owners, xattrs, sparse
 * files or clones (see docs/windows.md). Each copied file is flushed before it is closed:
 * Windows has no syncfs for an unprivileged process. */
#include "platform.h"
#include "win32.h"

#include "../error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#define CHUNK    (1u << 20)
#define CB_EVERY (8u << 20)

static int last_err(void)
{
    return pf_win_errno(GetLastError());
}

static HANDLE open_path(const char *path, DWORD access, DWORD disposition, DWORD flags, int *err)
{
    wchar_t *w = pf_win_wide(path);
    if (!w) {
        *err = EINVAL;
        return INVALID_HANDLE_VALUE;
    }
    for (wchar_t *c = w; *c; c++)
        if (*c == L'/') *c = L'\\';
    HANDLE h = CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           disposition, flags, NULL);
    if (h == INVALID_HANDLE_VALUE) *err = last_err();
    free(w);
    return h;
}

static HANDLE open_in(pf_dir *d, const char *name, DWORD access, DWORD disposition, DWORD flags,
                      int *err)
{
    char *p = d ? pf_win_join(pf_win_dir_path(d), name) : strdup(name);
    if (!p) {
        *err = ENOMEM;
        return INVALID_HANDLE_VALUE;
    }
    HANDLE h = open_path(p, access, disposition, flags, err);
    free(p);
    return h;
}

static int read_some(HANDLE h, char *buf, size_t cap, size_t *got)
{
    DWORD n = 0;
    if (!ReadFile(h, buf, (DWORD)cap, &n, NULL)) return last_err();
    *got = n;
    return 0;
}

static void set_times(HANDLE h, const tt_stat *st)
{
    FILETIME a = pf_win_filetime(st->atime_sec, st->atime_nsec);
    FILETIME m = pf_win_filetime(st->mtime_sec, st->mtime_nsec);
    SetFileTime(h, NULL, &a, &m);
}

int pf_copy_file(pf_dir *sdir, const char *sname, pf_dir *ddir, const char *dname,
                 const tt_stat *walked, unsigned *how, pf_copy_cb cb, void *ud, uint64_t *hash)
{
    unsigned flags = *how; /* no clones or kernel copies tried here: nothing to learn */
    int err = 0;
    HANDLE in = open_in(sdir, sname, GENERIC_READ, OPEN_EXISTING,
                        FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN, &err);
    if (in == INVALID_HANDLE_VALUE) return err;
    /* The file opened must be the one walked; its own times go to the copy. */
    tt_stat real;
    const tt_stat *st = &real;
    if ((err = pf_win_fill(in, &real)) == 0 &&
        (real.type != TT_FILE || real.dev != walked->dev || real.ino != walked->ino))
        err = TT_ECHANGED;
    if (err) {
        CloseHandle(in);
        return err;
    }
    HANDLE out = open_in(ddir, dname, GENERIC_WRITE | FILE_WRITE_ATTRIBUTES, CREATE_NEW,
                         FILE_ATTRIBUTE_NORMAL, &err);
    if (out == INVALID_HANDLE_VALUE) {
        CloseHandle(in);
        return err;
    }
    char *buf = malloc(CHUNK);
    XXH3_state_t *h = (flags & PF_COPY_HASH) ? XXH3_createState() : NULL;
    if (!buf || ((flags & PF_COPY_HASH) && !h)) err = ENOMEM;
    if (h) XXH3_64bits_reset(h);
    uint64_t since_cb = 0;
    while (!err) {
        size_t n = 0;
        if ((err = read_some(in, buf, CHUNK, &n)) != 0 || n == 0) break;
        if (h) XXH3_64bits_update(h, buf, n);
        for (size_t done = 0; !err && done < n;) {
            DWORD w = 0;
            if (!WriteFile(out, buf + done, (DWORD)(n - done), &w, NULL)) err = last_err();
            done += w;
        }
        since_cb += n;
        if (!err && cb && since_cb >= CB_EVERY) {
            if (cb(ud, since_cb)) err = ECANCELED;
            since_cb = 0;
        }
    }
    if (!err && cb && since_cb > 0 && cb(ud, since_cb)) err = ECANCELED;
    if (!err && h) *hash = XXH3_64bits_digest(h);
    if (!err) set_times(out, st);
    if (!err && !FlushFileBuffers(out)) err = last_err();
    if (h) XXH3_freeState(h);
    free(buf);
    CloseHandle(out);
    CloseHandle(in);
    if (!err && !(st->mode & 0200)) { /* read-only, as the source was */
        char *p = pf_win_join(pf_win_dir_path(ddir), dname);
        wchar_t *w = p ? pf_win_wide(p) : NULL;
        if (w) SetFileAttributesW(w, FILE_ATTRIBUTE_READONLY);
        free(w);
        free(p);
    }
    return err;
}

int pf_dir_clone(pf_dir *from, const char *fname, const tt_stat *src, pf_dir *to, const char *tname,
                 const tt_stat *st)
{
    (void)from, (void)fname, (void)src, (void)to, (void)tname, (void)st;
    return ENOTSUP; /* block cloning (ReFS) is not used */
}

int pf_copy_symlink(pf_dir *ddir, const char *dname, const char *target, const tt_stat *st)
{
    (void)st;
    return pf_dir_symlink(ddir, dname, target, 0);
}

int pf_copy_special(pf_dir *ddir, const char *dname, const tt_stat *st)
{
    (void)ddir, (void)dname, (void)st;
    return ENOTSUP;
}

int pf_dir_set_meta(pf_dir *d, const char *name, const tt_stat *st)
{
    int err = 0;
    HANDLE h =
        open_in(d, name, FILE_WRITE_ATTRIBUTES, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT, &err);
    if (h == INVALID_HANDLE_VALUE) return err;
    set_times(h, st);
    CloseHandle(h);
    return 0;
}

int pf_dir_finish(pf_dir *d, pf_dir *sd, const tt_stat *st)
{
    (void)sd; /* no xattrs to copy here */
    int err = 0;
    HANDLE h = open_path(pf_win_dir_path(d), FILE_WRITE_ATTRIBUTES, OPEN_EXISTING,
                         FILE_FLAG_BACKUP_SEMANTICS, &err);
    if (h == INVALID_HANDLE_VALUE) return err;
    set_times(h, st);
    CloseHandle(h);
    return 0;
}

static int hash_handle(HANDLE in, uint64_t limit, uint64_t *hash);

int pf_hash_file(pf_dir *d, const char *name, uint64_t limit, uint64_t *hash)
{
    int err = 0;
    HANDLE in = open_in(d, name, GENERIC_READ, OPEN_EXISTING,
                        FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN, &err);
    if (in == INVALID_HANDLE_VALUE) return err;
    err = hash_handle(in, limit, hash);
    CloseHandle(in);
    return err;
}

static int hash_handle(HANDLE in, uint64_t limit, uint64_t *hash)
{
    int err = 0;
    uint64_t left = limit ? limit : UINT64_MAX;
    char *buf = malloc(CHUNK);
    XXH3_state_t *h = XXH3_createState();
    if (!buf || !h) err = ENOMEM;
    if (h) XXH3_64bits_reset(h);
    while (!err && left > 0) {
        size_t n = 0;
        if ((err = read_some(in, buf, left < CHUNK ? (size_t)left : CHUNK, &n)) != 0 || n == 0)
            break;
        XXH3_64bits_update(h, buf, n);
        left -= n;
    }
    if (!err) *hash = XXH3_64bits_digest(h);
    if (h) XXH3_freeState(h);
    free(buf);
    return err;
}

struct pf_file {
    HANDLE h;
};

int pf_file_open(pf_dir *d, const char *name, pf_file **out)
{
    int err = 0;
    pf_file *f = malloc(sizeof *f);
    if (!f) return ENOMEM;
    f->h = open_in(d, name, GENERIC_READ, OPEN_EXISTING,
                   FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_SEQUENTIAL_SCAN, &err);
    if (f->h == INVALID_HANDLE_VALUE) {
        free(f);
        return err;
    }
    *out = f;
    return 0;
}

int pf_file_read(pf_file *f, char *buf, size_t n, size_t *got)
{
    size_t total = 0, more = 0;
    int err = 0;
    while (total < n && (err = read_some(f->h, buf + total, n - total, &more)) == 0 && more)
        total += more;
    *got = total;
    return err;
}

int pf_file_stat(pf_file *f, tt_stat *st)
{
    return pf_win_fill(f->h, st);
}

int pf_file_hash(pf_file *f, uint64_t limit, uint64_t *hash)
{
    return hash_handle(f->h, limit, hash);
}

void pf_file_close(pf_file *f)
{
    if (!f) return;
    CloseHandle(f->h);
    free(f);
}

uint64_t pf_link_max(const char *path)
{
    (void)path;
    return 1023; /* NTFS */
}

int pf_syncfs(pf_dir *d)
{
    (void)d; /* copies flush each file before closing it (pf_copy_file) */
    return 0;
}

int pf_statfs(const char *path, uint64_t *avail, uint64_t *total)
{
    wchar_t *w = pf_win_wide(path);
    if (!w) return EINVAL;
    ULARGE_INTEGER a, t;
    int err = GetDiskFreeSpaceExW(w, &a, &t, NULL) ? 0 : last_err();
    free(w);
    if (!err) *avail = a.QuadPart, *total = t.QuadPart;
    return err;
}
