/* Errors from core/: an errno-style code, the path it concerns, and an optional
 * message and hint, so every layer above can say "PATH: what went wrong (ENAME); hint". */
#ifndef TETHER_CORE_ERROR_H
#define TETHER_CORE_ERROR_H

#include <stddef.h>

/* tether's own codes sit below zero so they never collide with errno values. */
enum {
    TT_ENOTLINK = -1, /* the path exists but is not a link */
    TT_EVERIFY = -2,  /* the OS reported success but reading the link back disagrees */
    TT_ECHANGED = -3, /* the path changed after it was planned; left alone */
    TT_EOUTSIDE = -4, /* the path lies outside the roots the run was given */
};

#define TT_ERR_PATH_MAX 1024

typedef struct tt_err {
    int code;         /* errno value or TT_E*; 0 when no error */
    const char *msg;  /* static text overriding strerror(code), or NULL */
    const char *hint; /* static advice for the user, or NULL */
    char path[TT_ERR_PATH_MAX];
} tt_err;

/* Records an error and returns -1, so callers can write `return tt_fail(...)`. */
int tt_fail(tt_err *e, int code, const char *path, const char *msg, const char *hint);

/* "ENOENT", "EACCES", "ENOTLINK", ...; never NULL. */
const char *tt_errname(int code);

/* Human text: the override message, or strerror(code) in lower case. */
const char *tt_errmsg(const tt_err *e, char *buf, size_t len);

/* Writes "PATH: message (ENAME); hint" into buf, truncating if needed; PATH as tt_quote
 * shows it (a name with a control character quoted and escaped, the rest as it is). */
void tt_errformat(const tt_err *e, char *buf, size_t len);

/* The one quoting of a name for output: s (n bytes) as it is when it has no control
 * character, else in double quotes with \, \" escaped, a newline as \n and any other
 * control character as \DDD, so a name stays on one line and no escape sequence in it
 * reaches a terminal. bare: escaped without the quotes (and without escaping \ and ").
 * Writes at most cap bytes to out (NUL-terminated when cap > 0); returns the length of
 * the whole result (as snprintf does). */
size_t tt_quote(const char *s, size_t n, int bare, char *out, size_t cap);

#endif
