/* Path arithmetic for core/: lexical helpers plus the one resolution step that needs
 * the filesystem (canonical parent). Results are malloc'd; the caller frees them. */
#ifndef TETHER_CORE_PATH_H
#define TETHER_CORE_PATH_H

#include "error.h"

#include <stddef.h>

/* The separator tether writes: '\\' on Windows (which also reads '/'), '/' elsewhere. */
#ifdef _WIN32
#define TT_SEP     '\\'
#define TT_SEP_STR "\\"
#else
#define TT_SEP     '/'
#define TT_SEP_STR "/"
#endif

/* Inline: path scans call it once per character. */
static inline int tt_is_sep(char c)
{
#ifdef _WIN32
    return c == '/' || c == '\\';
#else
    return c == '/';
#endif
}
/* Length of p's root: "/" on POSIX; "C:\\", "\\\\server\\share\\", "\\\\?\\C:\\" or "\\"
 * on Windows ("C:" alone: 2, drive-relative); 0 for a relative path. */
size_t tt_path_root(const char *p);
int tt_path_is_abs(const char *p);
char *tt_path_join(const char *a, const char *b);
/* "a/b" -> "a", "b" -> ".", "/b" -> "/", "a/b/" -> "a". */
char *tt_path_dirname(const char *p);
/* The last component, ignoring trailing separators ("a/b/" -> "b"). */
char *tt_path_basename(const char *p);
/* p without trailing separators; *owned is set (to free) when a copy was needed. */
const char *tt_path_untrail(const char *p, char **owned);
/* Grows the buffer *buf (of *cap bytes, *buf NULL when 0) to hold need bytes, doubling;
 * 0 or ENOMEM (the buffer is kept). For paths built in place, name by name. */
int tt_path_reserve(char **buf, size_t *cap, size_t need);
/* Lexical normal form: no "//", "/./", trailing '/'; ".." folded by name. */
char *tt_path_normalize(const char *p);
/* Relative path from directory `from` to `to`; both absolute and canonical. */
char *tt_path_relative(const char *from, const char *to);
/* Absolute path of p with every directory on the way resolved (symlinks, ".", ".."),
 * but the last component left as it is, so a link is named, not followed. Components
 * that do not exist yet are kept lexically. */
int tt_path_canonical_parent(const char *p, char **out, tt_err *e);
/* The relative target a link at `link` needs to reach `target` (both as the caller
 * spells them), read from the link's real directory: the links target's path goes
 * through are kept (a link to current/app.conf stays one through current), only what it
 * shares with the link's directory is left out (a ".." in target is kept as written). */
int tt_path_link_relative(const char *target, const char *link, char **out, tt_err *e);

#endif
