/* Path arithmetic for core/. The relative form of a link target is computed from
 * canonical directories, never by string games on the names the user typed. */
#include "path.h"

#include "platform/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
static int is_letter(char c)
{
    return (c | 32) >= 'a' && (c | 32) <= 'z';
}

/* Past one name and its separator, from i. */
static size_t skip_name(const char *p, size_t i)
{
    while (p[i] && !tt_is_sep(p[i]))
        i++;
    return p[i] ? i + 1 : i;
}
#endif

size_t tt_path_root(const char *p)
{
#ifdef _WIN32
    if (is_letter(p[0]) && p[1] == ':') return tt_is_sep(p[2]) ? 3 : 2;
    if (tt_is_sep(p[0]) && tt_is_sep(p[1])) {
        if ((p[2] == '?' || p[2] == '.') && tt_is_sep(p[3])) { /* \\?\ and \\.\ */
            if (is_letter(p[4]) && p[5] == ':') return tt_is_sep(p[6]) ? 7 : 6;
            if (_strnicmp(p + 4, "UNC", 3) != 0 || !tt_is_sep(p[7])) return skip_name(p, 4);
            return skip_name(p, skip_name(p, 8)); /* \\?\UNC\server\share\ */
        }
        return skip_name(p, skip_name(p, 2)); /* \\server\share\ */
    }
#endif
    return tt_is_sep(p[0]) ? 1 : 0;
}

int tt_path_is_abs(const char *p)
{
    size_t r = tt_path_root(p);
    return r > 0 && tt_is_sep(p[r - 1]);
}

/* The one way path.c walks names: the next name of p from *i, separators before it
 * skipped; *start is where it begins and *i moves to its end. Returns its length, 0 at
 * the end of p (a name is never empty). */
static size_t next_name(const char *p, size_t *i, size_t *start)
{
    while (tt_is_sep(p[*i]))
        (*i)++;
    *start = *i;
    while (p[*i] && !tt_is_sep(p[*i]))
        (*i)++;
    return *i - *start;
}

static int is_dot(const char *p, size_t start, size_t len)
{
    return len == 1 && p[start] == '.';
}

static int is_dotdot(const char *p, size_t start, size_t len)
{
    return len == 2 && p[start] == '.' && p[start + 1] == '.';
}

static char *dup_n(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (!r) return NULL;
    memcpy(r, s, n);
    r[n] = '\0';
    return r;
}

int tt_path_reserve(char **buf, size_t *cap, size_t need)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p) return ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}

char *tt_path_join(const char *a, const char *b)
{
    if (tt_path_is_abs(b) || !*a) return dup_n(b, strlen(b));
    size_t la = strlen(a), lb = strlen(b);
    while (la > 1 && tt_is_sep(a[la - 1]))
        la--;
    int sep = !tt_is_sep(a[la - 1]);
    char *r = malloc(la + (size_t)sep + lb + 1);
    if (!r) return NULL;
    memcpy(r, a, la);
    if (sep) r[la] = TT_SEP;
    memcpy(r + la + (size_t)sep, b, lb + 1);
    return r;
}

/* Length of p without trailing separators (but never below one character). */
static size_t trimmed(const char *p)
{
    size_t n = strlen(p);
    while (n > 1 && tt_is_sep(p[n - 1]))
        n--;
    return n;
}

const char *tt_path_untrail(const char *p, char **owned)
{
    size_t n = trimmed(p);
    *owned = NULL;
    if (p[n] == '\0') return p;
    *owned = dup_n(p, n);
    return *owned ? *owned : p;
}

char *tt_path_dirname(const char *p)
{
    size_t n = trimmed(p), root = tt_path_root(p);
    if (root && n <= root) return dup_n(p, root); /* the root is its own parent */
    while (n > root && !tt_is_sep(p[n - 1]))
        n--;
    if (n == 0) return dup_n(".", 1);
    while (n > root && n > 1 && tt_is_sep(p[n - 1]))
        n--;
    return dup_n(p, n);
}

char *tt_path_basename(const char *p)
{
    size_t end = trimmed(p), start = end;
    while (start > 0 && !tt_is_sep(p[start - 1]))
        start--;
    return dup_n(p + start, end - start);
}

char *tt_path_normalize(const char *p)
{
    size_t n = strlen(p);
    char *out = malloc(n + 2);
    if (!out) return NULL;
    size_t w = 0, i = tt_path_root(p);
    int abs = tt_path_is_abs(p);
    for (size_t k = 0; k < i; k++) /* the root as it is, with the native separator */
        out[w++] = tt_is_sep(p[k]) ? TT_SEP : p[k];
    size_t floor = w; /* ".." never climbs above the root or a leading "../" run */
    for (size_t s, len; (len = next_name(p, &i, &s)) > 0;) {
        if (is_dot(p, s, len)) continue;
        if (is_dotdot(p, s, len)) {
            if (w > floor) {
                while (w > floor && out[w - 1] != TT_SEP)
                    w--;
                if (w > floor) w--;
                continue;
            }
            if (abs) continue;
        }
        if (w > 0 && out[w - 1] != TT_SEP &&
            !(w == floor && !abs && floor > 0 && out[w - 1] == ':'))
            out[w++] = TT_SEP; /* not after a drive-relative "C:" */
        memcpy(out + w, p + s, len);
        w += len;
        if (is_dotdot(p, s, len)) floor = w;
    }
    if (w == 0) out[w++] = '.';
    out[w] = '\0';
    return out;
}

/* Splits an absolute canonical path into component offsets; returns the count. */
static size_t components(const char *p, size_t *starts, size_t *lens, size_t max)
{
    size_t n = 0, i = 0;
    for (size_t s, len; (len = next_name(p, &i, &s)) > 0; n++) {
        if (n < max) {
            starts[n] = s;
            lens[n] = len;
        }
    }
    return n;
}

char *tt_path_relative(const char *from, const char *to)
{
    size_t rf = tt_path_root(from), rt = tt_path_root(to);
    if (rf != rt || strncmp(from, to, rf) != 0) return dup_n(to, strlen(to)); /* another drive */
    size_t lf = strlen(from) / 2 + 1, lt = strlen(to) / 2 + 1;
    size_t *fs = malloc(sizeof(size_t) * 2 * (lf + lt));
    if (!fs) return NULL;
    size_t *fl = fs + lf, *ts = fl + lf, *tl = ts + lt;
    size_t nf = components(from, fs, fl, lf), nt = components(to, ts, tl, lt);
    size_t common = 0;
    while (common < nf && common < nt && fl[common] == tl[common] &&
           memcmp(from + fs[common], to + ts[common], fl[common]) == 0)
        common++;
    size_t len = 0;
    for (size_t i = common; i < nf; i++)
        len += 3;
    for (size_t i = common; i < nt; i++)
        len += tl[i] + 1;
    char *r = malloc(len + 2);
    if (r) {
        char *w = r;
        for (size_t i = common; i < nf; i++, w += 3)
            memcpy(w, ".." TT_SEP_STR, 3);
        for (size_t i = common; i < nt; i++) {
            memcpy(w, to + ts[i], tl[i]);
            w += tl[i];
            *w++ = TT_SEP;
        }
        if (w == r)
            *w++ = '.';
        else
            w--; /* drop the trailing separator */
        *w = '\0';
    }
    free(fs);
    return r;
}

/* Canonical form of directory d: realpath where it exists; for a part that does not
 * exist yet, the canonical parent plus the remaining names applied lexically. */
static int canonical_dir(const char *d, char **out, tt_err *e)
{
    int err = pf_realpath(d, out);
    if (err == 0) {
        tt_stat st;
        if (pf_stat(*out, &st) == 0 && st.type == TT_DIR) return 0;
        free(*out);
        *out = NULL;
        return tt_fail(e, ENOTDIR, d, NULL, NULL);
    }
    if (err != ENOENT) return tt_fail(e, err, d, NULL, NULL);
    char *parent = tt_path_dirname(d), *base = tt_path_basename(d), *cp = NULL;
    int rc = -1;
    if (!parent || !base) {
        tt_fail(e, ENOMEM, d, NULL, NULL);
    } else if (strcmp(parent, d) == 0) {
        tt_fail(e, ENOENT, d, NULL, NULL); /* even the root is missing */
    } else if (canonical_dir(parent, &cp, e) == 0) {
        if (strcmp(base, ".") == 0 || base[0] == '\0') {
            *out = cp, cp = NULL;
        } else if (strcmp(base, "..") == 0) {
            *out = tt_path_dirname(cp);
        } else {
            *out = tt_path_join(cp, base);
        }
        rc = *out ? 0 : tt_fail(e, ENOMEM, d, NULL, NULL);
    }
    free(parent);
    free(base);
    free(cp);
    return rc;
}

int tt_path_canonical_parent(const char *p, char **out, tt_err *e)
{
    char *abs = NULL, *cwd = NULL;
    if (tt_path_is_abs(p)) {
        abs = tt_path_join("", p);
    } else {
        int err = pf_getcwd(&cwd);
        if (err) return tt_fail(e, err, ".", "cannot read the current directory", NULL);
        abs = tt_path_join(cwd, p);
        free(cwd);
    }
    if (!abs) return tt_fail(e, ENOMEM, p, NULL, NULL);
    char *base = tt_path_basename(abs), *dir = tt_path_dirname(abs), *cdir = NULL;
    int rc = -1;
    if (!base || !dir) {
        tt_fail(e, ENOMEM, p, NULL, NULL);
    } else if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0 ||
               strcmp(dir, abs) == 0) {
        rc = canonical_dir(abs, out, e); /* nothing to keep unresolved */
    } else if (canonical_dir(dir, &cdir, e) == 0) {
        *out = tt_path_join(cdir, base);
        rc = *out ? 0 : tt_fail(e, ENOMEM, p, NULL, NULL);
    }
    free(abs);
    free(base);
    free(dir);
    free(cdir);
    return rc;
}

/* *abs: p as it is when absolute, else joined to the current directory (malloc'd). */
static int from_cwd(const char *p, char **abs, tt_err *e)
{
    char *cwd = NULL;
    if (tt_path_is_abs(p)) {
        *abs = dup_n(p, strlen(p));
    } else {
        int err = pf_getcwd(&cwd);
        if (err) return tt_fail(e, err, ".", "cannot read the current directory", NULL);
        *abs = tt_path_join(cwd, p);
        free(cwd);
    }
    return *abs ? 0 : tt_fail(e, ENOMEM, p, NULL, NULL);
}

/* p made absolute from the current directory (lexically: "." and empty names dropped),
 * except that ".." is taken as the system takes it: the directories up to the last ".."
 * are resolved (canonical_dir); the names after it are kept as written, links among
 * them too. */
static int spelled(const char *p, char **out, tt_err *e)
{
    char *abs;
    if (from_cwd(p, &abs, e) != 0) return -1;
    size_t cut = 0; /* the end of the last ".." */
    for (size_t i = tt_path_root(abs), start, len; (len = next_name(abs, &i, &start)) > 0;)
        if (is_dotdot(abs, start, len)) cut = i;
    char *head = NULL, *chead = NULL, *joined = NULL;
    int rc = -1;
    if (cut == 0) {
        *out = tt_path_normalize(abs);
        rc = *out ? 0 : tt_fail(e, ENOMEM, p, NULL, NULL);
    } else if (!(head = dup_n(abs, cut))) {
        tt_fail(e, ENOMEM, p, NULL, NULL);
    } else if (canonical_dir(head, &chead, e) == 0) {
        const char *rest = abs + cut;
        while (tt_is_sep(*rest))
            rest++;
        joined = tt_path_join(chead, rest);
        *out = joined ? tt_path_normalize(joined) : NULL;
        rc = *out ? 0 : tt_fail(e, ENOMEM, p, NULL, NULL);
    }
    free(abs);
    free(head);
    free(chead);
    free(joined);
    return rc;
}

/* The offset in a where the names a and b (both absolute, normal) share end. */
static size_t shared_end(const char *a, const char *b)
{
    size_t ra = tt_path_root(a), rb = tt_path_root(b), end = ra;
    if (ra != rb || strncmp(a, b, ra) != 0) return 0;
    for (size_t i = ra, j = rb, sa, sb;;) {
        size_t na = next_name(a, &i, &sa), nb = next_name(b, &j, &sb);
        if (na == 0 || na != nb || memcmp(a + sa, b + sb, na) != 0) return end;
        end = i;
    }
}

/* Whether the link's directory as spelled (dir) may stand for its real one (real) in a
 * relative target to t: the names of dir below what it shares with t are real
 * directories, so going up through them with ".." ends where t's names go on. */
static int spelled_dir_holds(const char *dir, const char *real, const char *t)
{
    size_t end = shared_end(dir, t);
    if (end == 0) return 0;
    char *head = dup_n(dir, end), *chead = NULL, *back = NULL;
    const char *below = dir + end;
    while (tt_is_sep(*below))
        below++;
    int holds = head && pf_realpath(head, &chead) == 0 && (back = tt_path_join(chead, below)) &&
                strcmp(back, real) == 0;
    free(head);
    free(chead);
    free(back);
    return holds;
}

/* Folds "name/.." at the end of abs[0..*w) when name is a directory and not a link (the
 * system's ".." then leads where folding by name does), or is not there yet (what it
 * will be is only known by name); returns whether it folded. */
static int up_from_dir(char *abs, size_t *w)
{
    size_t root = tt_path_root(abs), start = *w;
    while (start > root && !tt_is_sep(abs[start - 1]))
        start--;
    size_t len = *w - start;
    if (len == 0 || is_dotdot(abs, start, len)) return 0;
    char saved = abs[*w];
    abs[*w] = '\0';
    tt_stat st;
    int err = pf_lstat(abs, &st);
    int dir = err == ENOENT || err == ENOTDIR || (err == 0 && st.type == TT_DIR);
    abs[*w] = saved;
    if (!dir) return 0;
    *w = start > root ? start - 1 : root;
    return 1;
}

/* p made absolute from the current directory, with "." and empty names dropped and
 * every other name kept as written; "name/.." is folded only where name is a directory
 * (a ".." after a link goes up from where that link leads: kept). */
static int tidied(const char *p, char **out, tt_err *e)
{
    char *abs;
    if (from_cwd(p, &abs, e) != 0) return -1;
    size_t w = tt_path_root(abs);
    for (size_t i = w, start, len; (len = next_name(abs, &i, &start)) > 0;) {
        if (is_dot(abs, start, len)) continue;
        if (is_dotdot(abs, start, len) && up_from_dir(abs, &w)) continue;
        if (w > tt_path_root(abs)) abs[w++] = TT_SEP;
        memmove(abs + w, abs + start, len);
        w += len;
    }
    abs[w] = '\0';
    *out = abs;
    return 0;
}

int tt_path_link_relative(const char *target, const char *link, char **out, tt_err *e)
{
    char *lcanon = NULL, *real = NULL, *t = NULL, *lex = NULL, *dir = NULL;
    int rc = -1;
    tt_err scratch;
    if (tt_path_canonical_parent(link, &lcanon, e) == 0 && tidied(target, &t, e) == 0) {
        real = tt_path_dirname(lcanon);
        if (spelled(link, &lex, &scratch) == 0) dir = tt_path_dirname(lex);
        const char *from = real;
        if (dir && real && strcmp(dir, real) != 0 && spelled_dir_holds(dir, real, t)) from = dir;
        *out = from ? tt_path_relative(from, t) : NULL;
        rc = *out ? 0 : tt_fail(e, ENOMEM, link, NULL, NULL);
    }
    free(lcanon);
    free(real);
    free(t);
    free(lex);
    free(dir);
    return rc;
}
