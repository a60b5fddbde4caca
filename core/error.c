/* Error records for core/: naming errno values portably and formatting the one
 * message shape every layer uses. */
#include "error.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

int tt_fail(tt_err *e, int code, const char *path, const char *msg, const char *hint)
{
    if (!e) return -1;
    e->code = code;
    e->msg = msg;
    e->hint = hint;
    if (!path) path = "";
    size_t n = strlen(path);
    if (n < sizeof e->path) {
        memcpy(e->path, path, n + 1);
    } else {
        /* Keep the tail: the end of a long path is the part that tells it apart. */
        const size_t keep = sizeof e->path - 4;
        memcpy(e->path, "...", 3);
        memcpy(e->path + 3, path + n - keep, keep + 1);
    }
    return -1;
}

#define NAME(x)                                                                                    \
    {                                                                                              \
        x, #x                                                                                      \
    }
static const struct {
    int code;
    const char *name;
} names[] = {
    NAME(EPERM),
    NAME(ENOENT),
    NAME(ESRCH),
    NAME(EINTR),
    NAME(EIO),
    NAME(ENXIO),
    NAME(E2BIG),
    NAME(EBADF),
    NAME(ENOMEM),
    NAME(EACCES),
    NAME(EFAULT),
    NAME(EBUSY),
    NAME(EEXIST),
    NAME(EXDEV),
    NAME(ENODEV),
    NAME(ENOTDIR),
    NAME(EISDIR),
    NAME(EINVAL),
    NAME(ENFILE),
    NAME(EMFILE),
    NAME(ETXTBSY),
    NAME(EFBIG),
    NAME(ENOSPC),
    NAME(ESPIPE),
    NAME(EROFS),
    NAME(EMLINK),
    NAME(ERANGE),
    NAME(ELOOP),
    NAME(ENAMETOOLONG),
    NAME(ENOSYS),
    NAME(ENOTEMPTY),
    NAME(ENOTSUP),
    NAME(ECANCELED),
#ifdef EDQUOT
    NAME(EDQUOT),
#endif
#ifdef ESTALE
    NAME(ESTALE),
#endif
    NAME(EAGAIN),
/* What a network or FUSE filesystem says when its server is gone or slow. */
#ifdef ENOTCONN
    NAME(ENOTCONN),
#endif
#ifdef ETIMEDOUT
    NAME(ETIMEDOUT),
#endif
#ifdef EHOSTDOWN
    NAME(EHOSTDOWN),
#endif
#ifdef ENOLINK
    NAME(ENOLINK),
#endif
#ifdef EOVERFLOW
    NAME(EOVERFLOW),
#endif
#ifdef EILSEQ
    NAME(EILSEQ),
#endif
#ifdef ENODATA
    NAME(ENODATA),
#endif
    {TT_ENOTLINK, "ENOTLINK"},
    {TT_EVERIFY, "EVERIFY"},
    {TT_ECHANGED, "ECHANGED"},
    {TT_EOUTSIDE, "EOUTSIDE"},
};

const char *tt_errname(int code)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code) return names[i].name;
    return "EUNKNOWN";
}

const char *tt_errmsg(const tt_err *e, char *buf, size_t len)
{
    if (e->msg) return e->msg;
    static const char *const own[] = {"not a link", "the link reads back differently",
                                      "changed since it was planned",
                                      "outside the roots of this run"};
    if (e->code < 0 && -e->code <= (int)(sizeof own / sizeof own[0])) return own[-e->code - 1];
    const char *s = e->code > 0 ? strerror(e->code) : "unknown error";
#ifdef _WIN32
    /* The C runtime has no text for the POSIX codes beyond the first few dozen. */
    static const struct {
        int code;
        const char *text;
    } more[] = {
        {ENOTSUP, "operation not supported"},
        {ELOOP, "too many levels of symbolic links"},
        {EOPNOTSUPP, "operation not supported"},
        {ECANCELED, "operation canceled"},
    };
    for (size_t i = 0; i < sizeof more / sizeof more[0]; i++)
        if (more[i].code == e->code) s = more[i].text;
#endif
    snprintf(buf, len, "%s", s);
    /* strerror says "No such file"; the message follows a path, so lower-case it. */
    if (len > 0 && isupper((unsigned char)buf[0]) && !isupper((unsigned char)buf[1]))
        buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

size_t tt_quote(const char *s, size_t n, int bare, char *out, size_t cap)
{
    size_t i = 0, k = 0;
    while (i < n && (unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
        i++;
    int plain = i == n;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (k + 1 < cap) out[k] = (c);                                                             \
        k++;                                                                                       \
    } while (0)
    if (!plain && !bare) PUT('"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (plain || (c >= 0x20 && c != 0x7f && (bare || (c != '"' && c != '\\')))) {
            PUT((char)c);
        } else if (c == '"' || c == '\\') {
            PUT('\\');
            PUT((char)c);
        } else if (c == '\n') {
            PUT('\\');
            PUT('n');
        } else {
            PUT('\\');
            PUT((char)('0' + c / 100));
            PUT((char)('0' + c / 10 % 10));
            PUT((char)('0' + c % 10));
        }
    }
    if (!plain && !bare) PUT('"');
#undef PUT
    if (cap > 0) out[k < cap ? k : cap - 1] = '\0';
    return k;
}

void tt_errformat(const tt_err *e, char *buf, size_t len)
{
    char tmp[256], shown[TT_ERR_PATH_MAX * 4 + 3];
    const char *msg = tt_errmsg(e, tmp, sizeof tmp);
    tt_quote(e->path, strlen(e->path), 0, shown, sizeof shown);
    if (e->hint)
        snprintf(buf, len, "%s: %s (%s); %s", shown, msg, tt_errname(e->code), e->hint);
    else
        snprintf(buf, len, "%s: %s (%s)", shown, msg, tt_errname(e->code));
}
