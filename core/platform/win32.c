/* Windows implementation of the platform boundary (built with mingw-w64). Paths are
 * UTF-8 above this file and UTF-16 below it; long paths get the \\?\ prefix; Windows
 * error codes are mapped to the errno names the POSIX layer uses, so every layer above
 * says the same thing on both systems. See docs/windows.md for what is atomic here. */
#include "platform.h"
#include "win32.h"

#include "../error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#ifndef SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE
#define SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE 0x2
#endif
#ifndef IO_REPARSE_TAG_MOUNT_POINT
#define IO_REPARSE_TAG_MOUNT_POINT 0xA0000003u
#endif
#ifndef IO_REPARSE_TAG_SYMLINK
#define IO_REPARSE_TAG_SYMLINK 0xA000000Cu
#endif
#define SYMLINK_FLAG_RELATIVE 1
#define REPARSE_BUFFER_SIZE   (16 * 1024)

int pf_win_errno(unsigned long code)
{
    switch (code) {
    case ERROR_SUCCESS:
        return 0;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_INVALID_DRIVE:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
        return ENOENT;
    case ERROR_ACCESS_DENIED:
    case ERROR_SHARING_VIOLATION:
    case ERROR_LOCK_VIOLATION:
        return EACCES;
    case ERROR_PRIVILEGE_NOT_HELD:
        return EPERM;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
        return EEXIST;
    case ERROR_NOT_SAME_DEVICE:
        return EXDEV;
    case ERROR_TOO_MANY_LINKS:
        return EMLINK;
    case ERROR_DIRECTORY:
        return ENOTDIR;
    case ERROR_DIR_NOT_EMPTY:
        return ENOTEMPTY;
    case ERROR_NOT_SUPPORTED:
    case ERROR_INVALID_FUNCTION:
    case ERROR_CALL_NOT_IMPLEMENTED:
        return ENOTSUP;
    case ERROR_DISK_FULL:
    case ERROR_HANDLE_DISK_FULL:
        return ENOSPC;
    case ERROR_FILENAME_EXCED_RANGE:
        return ENAMETOOLONG;
    case ERROR_NOT_A_REPARSE_POINT:
    case ERROR_INVALID_PARAMETER:
    case ERROR_INVALID_NAME:
    case ERROR_INVALID_REPARSE_DATA:
        return EINVAL;
    case ERROR_CANT_RESOLVE_FILENAME:
        return ELOOP;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
        return ENOMEM;
    case ERROR_WRITE_PROTECT:
        return EROFS;
    case ERROR_BUSY:
        return EBUSY;
    default:
        return EIO;
    }
}

static int last_err(void)
{
    return pf_win_errno(GetLastError());
}

wchar_t *pf_win_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0) return NULL;
    wchar_t *w = malloc((size_t)n * sizeof *w);
    if (w) MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n);
    return w;
}

char *pf_win_utf8(const wchar_t *w, size_t n)
{
    int len = WideCharToMultiByte(CP_UTF8, 0, w, (int)n, NULL, 0, NULL, NULL);
    char *s = malloc((size_t)len + 1);
    if (!s) return NULL;
    if (len > 0) WideCharToMultiByte(CP_UTF8, 0, w, (int)n, s, len, NULL, NULL);
    s[len] = '\0';
    return s;
}

/* A path for the wide API: UTF-16, '\' separators, and the \\?\ prefix (on the full
 * path) when it is too long for MAX_PATH. NULL with *err set on failure. */
static wchar_t *wpath(const char *p, int *err)
{
    wchar_t *w = pf_win_wide(p);
    if (!w) {
        *err = errno == ENOMEM ? ENOMEM : EINVAL; /* not UTF-8 */
        return NULL;
    }
    for (wchar_t *c = w; *c; c++)
        if (*c == L'/') *c = L'\\';
    if (wcslen(w) < MAX_PATH - 12 || wcsncmp(w, L"\\\\?\\", 4) == 0) return w;
    DWORD n = GetFullPathNameW(w, 0, NULL, NULL);
    wchar_t *full = n ? malloc((n + 8) * sizeof *full) : NULL;
    if (!full || !GetFullPathNameW(w, n, full + 8, NULL)) {
        *err = full ? last_err() : ENOMEM;
        free(full);
        free(w);
        return NULL;
    }
    free(w);
    const wchar_t *body = full + 8;
    if (wcsncmp(body, L"\\\\", 2) == 0) { /* \\server\share -> \\?\UNC\server\share */
        memmove(full + 8, body + 2, (wcslen(body + 2) + 1) * sizeof *full);
        memcpy(full, L"\\\\?\\UNC\\", 8 * sizeof *full);
        return full;
    }
    memmove(full + 4, body, (wcslen(body) + 1) * sizeof *full);
    memcpy(full, L"\\\\?\\", 4 * sizeof *full);
    return full;
}

/* Opens path for reading its attributes; the final link is followed unless nofollow. */
static HANDLE open_meta(const wchar_t *w, int nofollow, DWORD access)
{
    DWORD flags = FILE_FLAG_BACKUP_SEMANTICS | (nofollow ? FILE_FLAG_OPEN_REPARSE_POINT : 0);
    return CreateFileW(w, access, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                       OPEN_EXISTING, flags, NULL);
}

static void from_filetime(FILETIME ft, int64_t *sec, int32_t *nsec)
{
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime; /* 100 ns since 1601 */
    const uint64_t epoch = 116444736000000000ull;
    int64_t rel = (int64_t)(t - epoch);
    *sec = rel / 10000000;
    *nsec = (int32_t)(rel % 10000000) * 100;
    if (*nsec < 0) *nsec += 1000000000, (*sec)--;
}

FILETIME pf_win_filetime(int64_t sec, int32_t nsec)
{
    uint64_t t = (uint64_t)(sec * 10000000 + nsec / 100) + 116444736000000000ull;
    FILETIME ft = {(DWORD)t, (DWORD)(t >> 32)};
    return ft;
}

static tt_type type_of(DWORD attrs, DWORD tag)
{
    if (attrs & FILE_ATTRIBUTE_REPARSE_POINT) {
        if (tag == IO_REPARSE_TAG_SYMLINK) return TT_SYMLINK;
        if (tag == IO_REPARSE_TAG_MOUNT_POINT) return TT_JUNCTION;
    }
    if (attrs & FILE_ATTRIBUTE_DIRECTORY) return TT_DIR;
    if (attrs & FILE_ATTRIBUTE_DEVICE) return TT_OTHER;
    return TT_FILE;
}

/* Modes as Windows can tell them: directories 0755, files 0644 (0444 when read-only),
 * links 0777; no owner. */
static uint32_t mode_of(tt_type t, DWORD attrs)
{
    switch (t) {
    case TT_DIR:
        return 0040755;
    case TT_SYMLINK:
    case TT_JUNCTION:
        return 0120777;
    case TT_FILE:
        return (attrs & FILE_ATTRIBUTE_READONLY) ? 0100444 : 0100644;
    default:
        return 0;
    }
}

/* What GetFileInformationByHandle says of an open file, as a tt_stat. */
int pf_win_fill(HANDLE h, tt_stat *st)
{
    BY_HANDLE_FILE_INFORMATION bi;
    FILE_ATTRIBUTE_TAG_INFO tag = {0, 0};
    if (!GetFileInformationByHandle(h, &bi)) return last_err();
    if ((bi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) &&
        !GetFileInformationByHandleEx(h, FileAttributeTagInfo, &tag, sizeof tag))
        tag.ReparseTag = 0;
    memset(st, 0, sizeof *st);
    st->type = type_of(bi.dwFileAttributes, tag.ReparseTag);
    st->dev = bi.dwVolumeSerialNumber;
    st->ino = ((uint64_t)bi.nFileIndexHigh << 32) | bi.nFileIndexLow;
    st->nlink = bi.nNumberOfLinks;
    st->size = st->type == TT_FILE ? ((uint64_t)bi.nFileSizeHigh << 32) | bi.nFileSizeLow : 0;
    st->alloc = st->size;
    st->mode = mode_of(st->type, bi.dwFileAttributes);
    from_filetime(bi.ftLastWriteTime, &st->mtime_sec, &st->mtime_nsec);
    from_filetime(bi.ftLastAccessTime, &st->atime_sec, &st->atime_nsec);
    from_filetime(bi.ftCreationTime, &st->ctime_sec, &st->ctime_nsec);
    return 0;
}

static int stat_w(const wchar_t *w, int nofollow, tt_stat *st)
{
    HANDLE h = open_meta(w, nofollow, FILE_READ_ATTRIBUTES);
    if (h == INVALID_HANDLE_VALUE) return last_err();
    int err = pf_win_fill(h, st);
    CloseHandle(h);
    return err;
}

static int stat_path(const char *path, int nofollow, tt_stat *st)
{
    int err = 0;
    wchar_t *w = wpath(path, &err);
    if (!w) return err;
    err = stat_w(w, nofollow, st);
    free(w);
    return err;
}

int pf_lstat(const char *path, tt_stat *st)
{
    return stat_path(path, 1, st);
}

int pf_stat(const char *path, tt_stat *st)
{
    return stat_path(path, 0, st);
}

/* The directory the relative target of a link at `path` is resolved from, joined with
 * the target: whether a new link there should carry the directory flag. */
static int target_is_dir(const char *target, const char *path)
{
    const char *cut = NULL;
    for (const char *c = path; *c; c++)
        if (*c == '/' || *c == '\\') cut = c;
    int abs = target[0] == '/' || target[0] == '\\' || (target[0] && target[1] == ':');
    size_t dl = abs || !cut ? 0 : (size_t)(cut - path) + 1;
    char *full = malloc(dl + strlen(target) + 1);
    if (!full) return 0;
    memcpy(full, path, dl);
    strcpy(full + dl, target);
    tt_stat st;
    int dir = pf_stat(full, &st) == 0 && st.type == TT_DIR;
    free(full);
    return dir;
}

static int make_symlink(const char *target, const char *path, int dir)
{
    int err = 0;
    wchar_t *wl = wpath(path, &err), *wt = wl ? pf_win_wide(target) : NULL;
    if (!wl || !wt) {
        free(wl);
        return err ? err : EINVAL;
    }
    for (wchar_t *c = wt; *c; c++) /* Windows resolves only '\' in stored targets */
        if (*c == L'/') *c = L'\\';
    DWORD flags = (dir || target_is_dir(target, path)) ? SYMBOLIC_LINK_FLAG_DIRECTORY : 0;
    BOOLEAN ok = CreateSymbolicLinkW(wl, wt, flags | SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE);
    if (!ok && GetLastError() == ERROR_INVALID_PARAMETER) /* before Windows 10 1703 */
        ok = CreateSymbolicLinkW(wl, wt, flags);
    err = ok ? 0 : last_err();
    free(wl);
    free(wt);
    return err;
}

int pf_junction_support(const char **why, const char **hint)
{
    (void)why;
    (void)hint;
    return 0;
}

/* Layout of the reparse data for symlinks and junctions (ntifs.h, not in user headers). */
typedef struct {
    ULONG tag;
    USHORT data_len, reserved;
    USHORT sub_off, sub_len, print_off, print_len;
    union {
        struct {
            ULONG flags;
            WCHAR path[1];
        } symlink;
        struct {
            WCHAR path[1];
        } mount;
    } u;
} reparse_buf;

#define REPARSE_HEADER 8 /* tag, data_len, reserved */

size_t pf_win_junction_data(const wchar_t *full, void *out, size_t cap)
{
    size_t n = wcslen(full);
    size_t sub = (4 + n) * sizeof(WCHAR), print = n * sizeof(WCHAR);
    size_t data = 8 + sub + sizeof(WCHAR) + print + sizeof(WCHAR);
    if (REPARSE_HEADER + data > cap) return 0;
    reparse_buf *r = out;
    memset(r, 0, REPARSE_HEADER + data);
    r->tag = IO_REPARSE_TAG_MOUNT_POINT;
    r->data_len = (USHORT)data;
    r->sub_off = 0;
    r->sub_len = (USHORT)sub;
    r->print_off = (USHORT)(sub + sizeof(WCHAR));
    r->print_len = (USHORT)print;
    WCHAR *p = r->u.mount.path;
    memcpy(p, L"\\??\\", 4 * sizeof(WCHAR));
    memcpy(p + 4, full, n * sizeof(WCHAR));
    memcpy((char *)p + r->print_off, full, print); /* both names NUL-terminated (zeroed) */
    return REPARSE_HEADER + data;
}

static int make_junction(const char *target, const char *path, const char **why, const char **hint)
{
    int err = 0;
    wchar_t *wt = wpath(target, &err), *wl = wt ? wpath(path, &err) : NULL;
    wchar_t *full = NULL;
    void *buf = NULL;
    if (!wl) goto out;
    DWORD n = GetFullPathNameW(wt, 0, NULL, NULL);
    full = n ? malloc(n * sizeof *full) : NULL;
    if (!full || !GetFullPathNameW(wt, n, full, NULL)) {
        err = full ? last_err() : ENOMEM;
        goto out;
    }
    const wchar_t *body = wcsncmp(full, L"\\\\?\\", 4) == 0 ? full + 4 : full;
    if (wcsncmp(body, L"\\\\", 2) == 0 || wcsncmp(body, L"UNC\\", 4) == 0) {
        *why = "a junction cannot point at a network path";
        *hint = "use a symbolic link for a network target";
        err = EINVAL;
        goto out;
    }
    buf = malloc(REPARSE_BUFFER_SIZE);
    size_t len = buf ? pf_win_junction_data(body, buf, REPARSE_BUFFER_SIZE) : 0;
    if (!len) {
        err = buf ? ENAMETOOLONG : ENOMEM;
        goto out;
    }
    if (!CreateDirectoryW(wl, NULL)) {
        err = last_err();
        goto out;
    }
    HANDLE h = CreateFileW(wl, GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                           FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    DWORD got;
    if (h == INVALID_HANDLE_VALUE) {
        err = last_err();
    } else {
        if (!DeviceIoControl(h, FSCTL_SET_REPARSE_POINT, buf, (DWORD)len, NULL, 0, &got, NULL))
            err = last_err();
        CloseHandle(h);
    }
    if (err) {
        RemoveDirectoryW(wl); /* the half-made junction is an empty directory we made */
        if (err == ENOTSUP) {
            *why = "this filesystem does not support junctions (FSCTL_SET_REPARSE_POINT)";
            *hint = "junctions need NTFS; use a symbolic link instead";
        }
    }
out:
    free(buf);
    free(full);
    free(wl);
    free(wt);
    return err;
}

/* "\??\C:\x" -> "C:\x", "\??\UNC\s\sh" -> "\\s\sh", another "\??\..." -> "\\?\...". */
static char *dos_name(const WCHAR *p, size_t n)
{
    if (n >= 4 && wcsncmp(p, L"\\??\\", 4) == 0) {
        if (n >= 8 && wcsncmp(p + 4, L"UNC\\", 4) == 0) {
            char *rest = pf_win_utf8(p + 8, n - 8);
            char *s = rest ? malloc(strlen(rest) + 3) : NULL;
            if (s) sprintf(s, "\\\\%s", rest);
            free(rest);
            return s;
        }
        if (n >= 6 && p[5] == L':') return pf_win_utf8(p + 4, n - 4);
        char *rest = pf_win_utf8(p + 4, n - 4);
        char *s = rest ? malloc(strlen(rest) + 5) : NULL;
        if (s) sprintf(s, "\\\\?\\%s", rest);
        free(rest);
        return s;
    }
    return pf_win_utf8(p, n);
}

int pf_win_reparse_target(const void *data, size_t n, char **out, tt_type *type)
{
    const reparse_buf *r = data;
    if (n < REPARSE_HEADER + 8) return EINVAL;
    const WCHAR *base;
    if (r->tag == IO_REPARSE_TAG_SYMLINK) {
        *type = TT_SYMLINK;
        base = r->u.symlink.path;
    } else if (r->tag == IO_REPARSE_TAG_MOUNT_POINT) {
        *type = TT_JUNCTION;
        base = r->u.mount.path;
    } else {
        return EINVAL; /* another kind of reparse point: not a link tether knows */
    }
    const char *end = (const char *)data + n;
    const char *sub = (const char *)base + r->sub_off;
    if (sub + r->sub_len > end || (r->sub_len & 1)) return EINVAL;
    if (r->tag == IO_REPARSE_TAG_SYMLINK && (r->u.symlink.flags & SYMLINK_FLAG_RELATIVE))
        *out = pf_win_utf8((const WCHAR *)sub, r->sub_len / 2); /* stored as written */
    else
        *out = dos_name((const WCHAR *)sub, r->sub_len / 2);
    return *out ? 0 : ENOMEM;
}

static int read_reparse(const wchar_t *w, char **out, tt_type *type)
{
    HANDLE h = open_meta(w, 1, 0);
    if (h == INVALID_HANDLE_VALUE) return last_err();
    void *buf = malloc(REPARSE_BUFFER_SIZE);
    DWORD got = 0;
    int err = 0;
    if (!buf)
        err = ENOMEM;
    else if (!DeviceIoControl(h, FSCTL_GET_REPARSE_POINT, NULL, 0, buf, REPARSE_BUFFER_SIZE, &got,
                              NULL))
        err = last_err(); /* ERROR_NOT_A_REPARSE_POINT -> EINVAL, as readlink(2) says */
    else
        err = pf_win_reparse_target(buf, got, out, type);
    CloseHandle(h);
    free(buf);
    return err;
}

static int read_link(const char *path, char *buf, size_t cap, size_t *len)
{
    int err = 0;
    wchar_t *w = wpath(path, &err);
    if (!w) return err;
    char *target = NULL;
    tt_type type;
    err = read_reparse(w, &target, &type);
    free(w);
    if (err) return err;
    size_t n = strlen(target);
    *len = n < cap ? n : cap;
    memcpy(buf, target, *len);
    free(target);
    return 0;
}

const char *pf_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

const char *pf_temp_dir(void)
{
    const char *tmp = pf_env("TMPDIR");
    if (!tmp) tmp = pf_env("TEMP");
    if (!tmp) tmp = pf_env("TMP");
    return tmp ? tmp : "/tmp";
}

int pf_mkdtemp(char *tmpl)
{
    size_t n = strlen(tmpl);
    if (n < 6 || strcmp(tmpl + n - 6, "XXXXXX") != 0) return EINVAL;
    static const char chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    LARGE_INTEGER t;
    for (int tries = 0; tries < 100; tries++) {
        QueryPerformanceCounter(&t);
        uint64_t r =
            (uint64_t)t.QuadPart * 6364136223846793005ull + GetCurrentProcessId() + (uint64_t)tries;
        for (int i = 0; i < 6; i++, r /= 36)
            tmpl[n - 6 + i] = chars[r % 36];
        int err = 0;
        wchar_t *w = wpath(tmpl, &err);
        if (!w) return err;
        err = CreateDirectoryW(w, NULL) ? 0 : last_err();
        free(w);
        if (err != EEXIST) return err;
    }
    return EEXIST;
}

/* "\\?\C:\x" -> "C:\x", "\\?\UNC\s\x" -> "\\s\x". */
static char *strip_prefix(const wchar_t *w, size_t n)
{
    if (n >= 8 && wcsncmp(w, L"\\\\?\\UNC\\", 8) == 0) {
        char *rest = pf_win_utf8(w + 8, n - 8);
        char *s = rest ? malloc(strlen(rest) + 3) : NULL;
        if (s) sprintf(s, "\\\\%s", rest);
        free(rest);
        return s;
    }
    if (n >= 4 && wcsncmp(w, L"\\\\?\\", 4) == 0) return pf_win_utf8(w + 4, n - 4);
    return pf_win_utf8(w, n);
}

int pf_realpath(const char *path, char **out)
{
    int err = 0;
    wchar_t *w = wpath(path, &err);
    if (!w) return err;
    HANDLE h = open_meta(w, 0, 0);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return last_err();
    wchar_t small[MAX_PATH];
    DWORD n = GetFinalPathNameByHandleW(h, small, MAX_PATH, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
    wchar_t *buf = small;
    if (n >= MAX_PATH) {
        buf = malloc((n + 1) * sizeof *buf);
        n = buf ? GetFinalPathNameByHandleW(h, buf, n + 1, FILE_NAME_NORMALIZED | VOLUME_NAME_DOS)
                : 0;
    }
    err = n ? 0 : last_err();
    CloseHandle(h);
    if (!err) *out = strip_prefix(buf, n);
    if (!err && !*out) err = ENOMEM;
    if (buf != small) free(buf);
    return err;
}

int pf_getcwd(char **out)
{
    DWORD n = GetCurrentDirectoryW(0, NULL);
    wchar_t *w = n ? malloc(n * sizeof *w) : NULL;
    if (!w) return n ? ENOMEM : last_err();
    DWORD got = GetCurrentDirectoryW(n, w);
    int err = got ? 0 : last_err();
    if (!err) *out = strip_prefix(w, got);
    if (!err && !*out) err = ENOMEM;
    free(w);
    return err;
}

unsigned long pf_pid(void)
{
    return (unsigned long)GetCurrentProcessId();
}

/* No descriptor-relative calls in Win32: a directory is its path plus a search handle;
 * opening checks that the name is a real directory (or a link, when following). */
struct pf_dir {
    char *path;
    HANDLE find;
    WIN32_FIND_DATAW data;
    int pending; /* data holds an entry not yet returned */
    char *name;
};

const char *pf_win_dir_path(pf_dir *d)
{
    return d->path;
}

char *pf_win_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    size_t at = a;
    if (a && dir[a - 1] != '\\' && dir[a - 1] != '/') p[at++] = '\\';
    memcpy(p + at, name, b + 1);
    return p;
}

int pf_dir_open(pf_dir *parent, const char *name, int how, pf_dir **out)
{
    if (how & PF_DIR_NOLINKS) return ENOSYS; /* the system cannot be told to refuse links */
    int follow = how & PF_DIR_FOLLOW;
    char *path = parent ? pf_win_join(parent->path, name) : strdup(name);
    if (!path) return ENOMEM;
    tt_stat st;
    int err = pf_lstat(path, &st);
    if (!err && (st.type == TT_SYMLINK || st.type == TT_JUNCTION) && !follow) err = ELOOP;
    if (!err && follow) err = pf_stat(path, &st);
    if (!err && st.type != TT_DIR && st.type != TT_SYMLINK && st.type != TT_JUNCTION) err = ENOTDIR;
    pf_dir *d = err ? NULL : calloc(1, sizeof *d);
    char *pattern = d ? pf_win_join(path, "*") : NULL;
    wchar_t *w = pattern ? wpath(pattern, &err) : NULL;
    if (!err && !w) err = ENOMEM;
    if (!err) {
        d->find = FindFirstFileExW(w, FindExInfoBasic, &d->data, FindExSearchNameMatch, NULL, 0);
        if (d->find == INVALID_HANDLE_VALUE) {
            err = GetLastError() == ERROR_FILE_NOT_FOUND ? 0 : last_err(); /* empty */
            d->pending = 0;
        } else {
            d->pending = 1;
        }
    }
    free(pattern);
    free(w);
    if (err) {
        free(d);
        free(path);
        return err;
    }
    d->path = path;
    *out = d;
    return 0;
}

int pf_dir_read(pf_dir *d, const char **name, tt_type *type)
{
    for (;;) {
        if (!d->pending) {
            if (d->find == INVALID_HANDLE_VALUE || !FindNextFileW(d->find, &d->data)) {
                DWORD code = d->find == INVALID_HANDLE_VALUE ? ERROR_NO_MORE_FILES : GetLastError();
                *name = NULL;
                return code == ERROR_NO_MORE_FILES ? 0 : pf_win_errno(code);
            }
        }
        d->pending = 0;
        const wchar_t *n = d->data.cFileName;
        if (n[0] == L'.' && (n[1] == 0 || (n[1] == L'.' && n[2] == 0))) continue;
        free(d->name);
        d->name = pf_win_utf8(n, wcslen(n));
        if (!d->name) return ENOMEM;
        *name = d->name;
        /* For a reparse point the search data carries its tag in dwReserved0. */
        *type = type_of(d->data.dwFileAttributes, d->data.dwReserved0);
        return 0;
    }
}

int pf_dir_stat(pf_dir *d, const char *name, int how, tt_stat *st)
{
    char *p = d ? pf_win_join(d->path, name) : strdup(name);
    if (!p) return ENOMEM;
    int err = stat_path(p, !(how & PF_STAT_FOLLOW), st);
    free(p);
    return err;
}

int pf_dir_readlink(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len)
{
    char *p = d ? pf_win_join(d->path, name) : strdup(name);
    if (!p) return ENOMEM;
    int err = read_link(p, buf, cap, len);
    free(p);
    return err;
}

/* No handle to a link itself here: its stat and target are read by name, one after the
 * other (a link's owner decides nothing on Windows). */
int pf_dir_readlink_stat(pf_dir *d, const char *name, char *buf, size_t cap, size_t *len,
                         tt_stat *st)
{
    int err = pf_dir_stat(d, name, 0, st);
    if (!err && st->type != TT_SYMLINK && st->type != TT_JUNCTION) err = EINVAL;
    return err ? err : pf_dir_readlink(d, name, buf, cap, len);
}

int pf_dir_self(pf_dir *d, int how, tt_stat *st)
{
    (void)how;
    return pf_stat(d->path, st);
}

void pf_dir_close(pf_dir *d)
{
    if (!d) return;
    if (d->find != INVALID_HANDLE_VALUE && d->find) FindClose(d->find);
    free(d->name);
    free(d->path);
    free(d);
}

/* Journals: an int descriptor over a Win32 handle, so the interface matches POSIX. */
int pf_append_open(const char *path, int create, int *fd)
{
    int err = 0;
    wchar_t *w = wpath(path, &err);
    if (!w) return err;
    /* Opened again, a journal may need its torn last line cut (pf_append_trim): that
     * takes reading and writing in place; records still go to the end (pf_append_write). */
    DWORD access = FILE_APPEND_DATA | SYNCHRONIZE | (create ? 0 : GENERIC_READ | FILE_WRITE_DATA);
    HANDLE h = CreateFileW(w, access, FILE_SHARE_READ, NULL, create ? CREATE_NEW : OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return last_err();
    *fd = _open_osfhandle((intptr_t)h, _O_APPEND);
    if (*fd < 0) {
        CloseHandle(h);
        return EMFILE;
    }
    return 0;
}

int pf_append_write(int fd, const char *buf, size_t n, int sync)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    while (n > 0) {
        DWORD w = 0;
        OVERLAPPED at_end = {.Offset = 0xFFFFFFFF, .OffsetHigh = 0xFFFFFFFF};
        if (!WriteFile(h, buf, n > 0x40000000 ? 0x40000000 : (DWORD)n, &w, &at_end))
            return last_err();
        buf += w, n -= w;
    }
    return sync ? pf_append_sync(fd) : 0;
}

int pf_append_trim(int fd)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    LARGE_INTEGER size;
    if (!GetFileSizeEx(h, &size)) return last_err();
    char buf[4096];
    for (LONGLONG end = size.QuadPart; end > 0;) {
        DWORD n = end < (LONGLONG)sizeof buf ? (DWORD)end : (DWORD)sizeof buf, got = 0;
        LONGLONG from = end - n;
        OVERLAPPED at = {.Offset = (DWORD)from, .OffsetHigh = (DWORD)(from >> 32)};
        if (!ReadFile(h, buf, n, &got, &at)) return last_err();
        if (got != n) return EIO;
        for (DWORD i = n; i > 0; i--) {
            if (buf[i - 1] != '\n') continue;
            FILE_END_OF_FILE_INFO eof = {.EndOfFile.QuadPart = from + i};
            if (eof.EndOfFile.QuadPart == size.QuadPart) return 0;
            if (!SetFileInformationByHandle(h, FileEndOfFileInfo, &eof, sizeof eof))
                return last_err();
            return pf_append_sync(fd);
        }
        end = from;
    }
    if (size.QuadPart == 0) return 0;
    FILE_END_OF_FILE_INFO none = {.EndOfFile.QuadPart = 0};
    if (!SetFileInformationByHandle(h, FileEndOfFileInfo, &none, sizeof none)) return last_err();
    return pf_append_sync(fd);
}

int pf_append_sync(int fd)
{
    return FlushFileBuffers((HANDLE)_get_osfhandle(fd)) ? 0 : last_err();
}

void pf_append_close(int fd)
{
    _close(fd);
}

int pf_sync_dir(const char *dir)
{
    (void)dir; /* NTFS makes a new name durable with its metadata journal */
    return 0;
}

/* Beneath a root, one name at a time: a reparse point (a link or a junction) on the way
 * is never entered. Win32 cannot hold a directory and open a name relative to it, so
 * each level is checked by path (docs/windows.md says what that leaves open). */
int pf_dir_beneath(pf_dir *root, const char *rel, pf_dir **out)
{
    char *path = strdup(root->path);
    int err = path ? 0 : ENOMEM;
    for (const char *p = rel; !err && *p;) {
        const char *s = p;
        while (*p && *p != '/' && *p != '\\')
            p++;
        size_t n = (size_t)(p - s);
        while (*p == '/' || *p == '\\')
            p++;
        if (n == 0) continue;
        if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) {
            err = EINVAL;
            break;
        }
        char *name = malloc(n + 1), *next = NULL;
        if (name) memcpy(name, s, n), name[n] = '\0';
        next = name ? pf_win_join(path, name) : NULL;
        free(name);
        free(path);
        path = next;
        tt_stat st;
        if (!path)
            err = ENOMEM;
        else if ((err = pf_lstat(path, &st)) == 0 && st.type != TT_DIR)
            err = st.type == TT_SYMLINK || st.type == TT_JUNCTION ? ELOOP : ENOTDIR;
    }
    if (!err) err = pf_dir_open(NULL, path, PF_DIR_BASE, out);
    free(path);
    return err;
}

int pf_dir_chown_link(pf_dir *d, const char *name, uint32_t uid, uint32_t gid, const tt_stat *want,
                      const char *target)
{
    /* A link's owner decides nothing here. */
    (void)d, (void)name, (void)uid, (void)gid, (void)want, (void)target;
    return 0;
}

int pf_dir_dup(pf_dir *d, pf_dir **out)
{
    return pf_dir_open(NULL, d->path, PF_DIR_FOLLOW | PF_DIR_BASE, out);
}

int pf_dir_access(pf_dir *d, const char *name, int what)
{
    (void)d, (void)name, (void)what; /* ACLs decide; the change itself says if not */
    return 0;
}

int pf_dir_chmod(pf_dir *d, unsigned mode)
{
    (void)d, (void)mode; /* a directory's read-only attribute does not stop its removal */
    return 0;
}

/* d\name, wide, for the calls below. */
static wchar_t *wjoin(pf_dir *d, const char *name, int *err)
{
    char *p = pf_win_join(d->path, name);
    if (!p) {
        *err = ENOMEM;
        return NULL;
    }
    wchar_t *w = wpath(p, err);
    free(p);
    return w;
}

int pf_dir_symlink(pf_dir *d, const char *name, const char *target, int dir)
{
    char *p = pf_win_join(d->path, name);
    if (!p) return ENOMEM;
    int err = make_symlink(target, p, dir);
    free(p);
    return err;
}

int pf_dir_symlink_as(pf_dir *d, const char *name, const char *target, int dir, uint32_t uid,
                      uint32_t gid)
{
    (void)uid, (void)gid; /* a link's owner decides nothing here */
    return pf_dir_symlink(d, name, target, dir);
}

int pf_dir_hardlink(pf_dir *from, const char *fname, pf_dir *to, const char *tname)
{
    int err = 0;
    wchar_t *wl = wjoin(to, tname, &err), *we = wl ? wjoin(from, fname, &err) : NULL;
    if (we && !CreateHardLinkW(wl, we, NULL)) err = last_err();
    free(wl);
    free(we);
    return err;
}

int pf_dir_junction(pf_dir *d, const char *name, const char *target, const char **why,
                    const char **hint)
{
    char *p = pf_win_join(d->path, name);
    if (!p) return ENOMEM;
    int err = make_junction(target, p, why, hint);
    free(p);
    return err;
}

/* Opens d\name itself (a link is the link, never its target) to delete or rename it,
 * and checks it is the object `want` names: the check and the change go through the
 * same handle, so nothing can be swapped in between. */
static HANDLE open_object(pf_dir *d, const char *name, const tt_stat *want, tt_stat *st, int *err)
{
    wchar_t *w = wjoin(d, name, err);
    if (!w) return INVALID_HANDLE_VALUE;
    HANDLE h =
        CreateFileW(w, DELETE | FILE_READ_ATTRIBUTES | FILE_WRITE_ATTRIBUTES,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL, OPEN_EXISTING,
                    FILE_FLAG_BACKUP_SEMANTICS | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) {
        *err = last_err();
        return h;
    }
    if ((*err = pf_win_fill(h, st)) == 0 && want && (st->dev != want->dev || st->ino != want->ino))
        *err = TT_ECHANGED;
    if (*err) {
        CloseHandle(h);
        return INVALID_HANDLE_VALUE;
    }
    return h;
}

int pf_dir_unlink_id(pf_dir *d, const char *name, int is_dir, const tt_stat *want)
{
    int err = 0;
    tt_stat st;
    HANDLE h = open_object(d, name, want, &st, &err);
    if (h == INVALID_HANDLE_VALUE) return err;
    /* rmdir never removes a link; a link (even to a directory) is removed as a link, and
     * a real directory is never removed without is_dir. */
    if (is_dir && st.type != TT_DIR)
        err = ENOTDIR;
    else if (!is_dir && st.type == TT_DIR)
        err = EISDIR;
    if (!err && st.type == TT_FILE && (st.mode & 0200) == 0) {
        FILE_BASIC_INFO bi = {0}; /* a read-only file cannot be deleted: clear that first */
        bi.FileAttributes = FILE_ATTRIBUTE_NORMAL;
        SetFileInformationByHandle(h, FileBasicInfo, &bi, sizeof bi);
    }
    FILE_DISPOSITION_INFO del = {TRUE};
    if (!err && !SetFileInformationByHandle(h, FileDispositionInfo, &del, sizeof del))
        err = last_err();
    CloseHandle(h);
    return err;
}

int pf_dir_unlink(pf_dir *d, const char *name, int is_dir)
{
    return pf_dir_unlink_id(d, name, is_dir, NULL);
}

int pf_dir_rename(pf_dir *from, const char *fname, pf_dir *to, const char *tname, unsigned how,
                  const tt_stat *want)
{
    if (how & PF_RENAME_EXCHANGE) return ENOSYS;
    int err = 0;
    tt_stat st;
    wchar_t *wt = wjoin(to, tname, &err);
    if (!wt) return err;
    size_t n = wcslen(wt);
    FILE_RENAME_INFO *ri = malloc(sizeof *ri + (n + 1) * sizeof(WCHAR));
    HANDLE h = ri ? open_object(from, fname, want, &st, &err) : INVALID_HANDLE_VALUE;
    if (!ri) err = ENOMEM;
    if (h != INVALID_HANDLE_VALUE) {
        memset(ri, 0, sizeof *ri);
        ri->ReplaceIfExists = !(how & PF_RENAME_NOREPLACE);
        ri->FileNameLength = (DWORD)(n * sizeof(WCHAR));
        memcpy(ri->FileName, wt, (n + 1) * sizeof(WCHAR));
        if (!SetFileInformationByHandle(h, FileRenameInfo, ri,
                                        (DWORD)(sizeof *ri + n * sizeof(WCHAR))))
            err = last_err();
        CloseHandle(h);
        /* A directory link cannot be replaced in one step: when both names are links,
         * the old one is removed first (not atomic; see docs/windows.md). */
        tt_stat old;
        if (err == EACCES && !(how & PF_RENAME_NOREPLACE) &&
            (st.type == TT_SYMLINK || st.type == TT_JUNCTION) &&
            pf_dir_stat(to, tname, 0, &old) == 0 &&
            (old.type == TT_SYMLINK || old.type == TT_JUNCTION) &&
            (err = pf_dir_unlink(to, tname, 0)) == 0)
            err = pf_dir_rename(from, fname, to, tname, PF_RENAME_NOREPLACE, want);
    }
    free(ri);
    free(wt);
    return err;
}

int pf_dir_mkdir(pf_dir *d, const char *name, unsigned mode)
{
    (void)mode; /* Windows directories have no mode bits; ACLs are inherited */
    int err = 0;
    wchar_t *w = wjoin(d, name, &err);
    if (!w) return err;
    err = CreateDirectoryW(w, NULL) ? 0 : last_err();
    free(w);
    return err;
}

/* A CRT descriptor owning h (closed with it), or EMFILE with h closed. */
static int fd_of_handle(HANDLE h, int *fd)
{
    *fd = _open_osfhandle((intptr_t)h, 0);
    if (*fd >= 0) return 0;
    CloseHandle(h);
    return EMFILE;
}

int pf_dir_create(pf_dir *d, const char *name, unsigned mode, int *fd)
{
    (void)mode; /* ACLs are inherited */
    int err = 0;
    wchar_t *w = wjoin(d, name, &err);
    if (!w) return err;
    HANDLE h = CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_DELETE, NULL, CREATE_NEW,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    return h == INVALID_HANDLE_VALUE ? last_err() : fd_of_handle(h, fd);
}

int pf_dir_open_write(pf_dir *d, const char *name, int follow, int *fd, tt_stat *st)
{
    int err = 0;
    wchar_t *w = wjoin(d, name, &err);
    if (!w) return err;
    HANDLE h =
        CreateFileW(w, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return last_err();
    memset(st, 0, sizeof *st);
    DWORD t = GetFileType(h);
    if (t == FILE_TYPE_CHAR || t == FILE_TYPE_PIPE) { /* NUL, CON, a named pipe */
        st->type = TT_OTHER;
        st->mode = t == FILE_TYPE_CHAR ? 0020000 : 0010000;
    } else if ((err = pf_win_fill(h, st)) != 0) {
        CloseHandle(h);
        return err;
    }
    return fd_of_handle(h, fd);
}

int pf_append_stat(int fd, tt_stat *st)
{
    return pf_win_fill((HANDLE)_get_osfhandle(fd), st);
}

int pf_fd_chmod(int fd, unsigned mode)
{
    (void)fd, (void)mode; /* a new file is writable, which is all Windows keeps of a mode */
    return 0;
}

int pf_fd_chown(int fd, uint32_t uid, uint32_t gid)
{
    (void)fd, (void)uid, (void)gid;
    return 0;
}

/* Lock files: LockFileEx, dropped by Windows when the process ends. Windows locks are
 * mandatory, so the byte locked lies far beyond the content: who holds the lock can
 * still be read. */
#define LOCK_OFFSET_HIGH 0x40000000u

int pf_lock_open(pf_dir *d, const char *name, int how, int *fd)
{
    int err = 0;
    wchar_t *w = wjoin(d, name, &err);
    if (!w) return err;
    HANDLE h = CreateFileW(w, GENERIC_READ | (how & PF_LOCK_MAKE ? GENERIC_WRITE : 0),
                           FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                           how & PF_LOCK_MAKE ? OPEN_ALWAYS : OPEN_EXISTING,
                           FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, NULL);
    free(w);
    if (h == INVALID_HANDLE_VALUE) return last_err();
    *fd = _open_osfhandle((intptr_t)h, 0);
    if (*fd < 0) {
        CloseHandle(h);
        return EMFILE;
    }
    return 0;
}

int pf_lock_try(int fd, int how)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    DWORD flags = LOCKFILE_FAIL_IMMEDIATELY | (how & PF_LOCK_SHARED ? 0 : LOCKFILE_EXCLUSIVE_LOCK);
    for (int tries = 0;; tries++) {
        OVERLAPPED ov = {0};
        ov.OffsetHigh = LOCK_OFFSET_HIGH;
        if (LockFileEx(h, flags, 0, 1, 0, &ov)) return 0;
        if (GetLastError() != ERROR_LOCK_VIOLATION) return last_err();
        if (tries == 5) return EAGAIN;
        Sleep(2); /* one that only looks holds it a moment */
    }
}

int pf_lock_write(int fd, const char *text, size_t n)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    LARGE_INTEGER zero = {0};
    DWORD w = 0;
    if (!SetFilePointerEx(h, zero, NULL, FILE_BEGIN) || !SetEndOfFile(h)) return last_err();
    if (!WriteFile(h, text, (DWORD)n, &w, NULL)) return last_err();
    return w == n ? 0 : EIO;
}

int pf_lock_read(int fd, char *buf, size_t cap)
{
    HANDLE h = (HANDLE)_get_osfhandle(fd);
    OVERLAPPED ov = {0}; /* from the start, whatever the file pointer */
    DWORD got = 0;
    int err = ReadFile(h, buf, (DWORD)(cap - 1), &got, &ov) || GetLastError() == ERROR_HANDLE_EOF
                  ? 0
                  : last_err();
    buf[got] = '\0';
    return err;
}

void pf_lock_close(int fd)
{
    _close(fd);
}

int pf_dir_lock(pf_dir *d)
{
    (void)d; /* byte-range locks need a file; the lock file in the state directory serves */
    return ENOTSUP;
}

int pf_dir_fs_links(pf_dir *d, char *fs, size_t cap)
{
    (void)d; /* whether this process may make symbolic links only a try tells */
    snprintf(fs, cap, "Windows");
    return PF_LINKS_UNKNOWN;
}

uint32_t pf_euid(void)
{
    return 0;
}

int pf_hostname(char *buf, size_t cap)
{
    DWORD n = (DWORD)cap;
    return GetComputerNameExA(ComputerNameDnsHostname, buf, &n) ? 0 : EIO;
}

int pf_pid_alive(unsigned long pid)
{
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, (DWORD)pid);
    if (!h) return GetLastError() == ERROR_ACCESS_DENIED;
    DWORD code = 0;
    int alive = GetExitCodeProcess(h, &code) && code == STILL_ACTIVE;
    CloseHandle(h);
    return alive;
}

int pf_dir_xattr_probe(pf_dir *d, const char *name)
{
    (void)d;
    (void)name;
    return ENOTSUP; /* NTFS has alternate data streams and EAs; tether uses neither */
}

static HANDLE std_handle(int fd)
{
    return GetStdHandle(fd == 0   ? STD_INPUT_HANDLE
                        : fd == 1 ? STD_OUTPUT_HANDLE
                                  : STD_ERROR_HANDLE);
}

int pf_isatty(int fd)
{
    DWORD mode;
    return GetConsoleMode(std_handle(fd), &mode) != 0;
}

int pf_term_width(int fd)
{
    CONSOLE_SCREEN_BUFFER_INFO info;
    if (!GetConsoleScreenBufferInfo(std_handle(fd), &info)) return 0;
    return info.srWindow.Right - info.srWindow.Left + 1;
}

void pf_fs_now(int64_t *sec, int32_t *nsec)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    from_filetime(ft, sec, nsec);
    *sec -= 2; /* FAT keeps times to 2 s: leave that much room */
}

void pf_nap(unsigned ms)
{
    Sleep(ms);
}

double pf_clock(int wall)
{
    if (wall) {
        FILETIME ft;
        GetSystemTimePreciseAsFileTime(&ft);
        ULARGE_INTEGER u = {.LowPart = ft.dwLowDateTime, .HighPart = ft.dwHighDateTime};
        return (double)(u.QuadPart - 116444736000000000ull) / 1e7; /* 100 ns since 1601 */
    }
    LARGE_INTEGER t, f;
    QueryPerformanceCounter(&t);
    QueryPerformanceFrequency(&f);
    return (double)t.QuadPart / (double)f.QuadPart;
}

unsigned long pf_files_limit(void)
{
    return 0; /* handles are not limited that way there */
}

void pf_files_raise(unsigned long want)
{
    (void)want;
}
