/* Link classification. Only the status needs the filesystem beyond the link itself;
 * form, messy and escapes are read from the stored target, so a broken link is still
 * classified completely. */
#include "classify.h"

#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *tt_form_name(int absolute)
{
    return absolute ? "absolute" : "relative";
}

/* A target is messy when it is not spelled the short way: an empty component ("//"),
 * a "." component, or ".." after a named component (or after the root). A leading run
 * of ".." is the normal form of a relative target; a trailing '/' is meaningful. */
static int is_messy(const char *t)
{
    int named = 0;
    if (strcmp(t, ".") == 0) return 0;
    const char *p = t;
    if (tt_is_sep(*p)) named = 1, p++;
    while (*p) {
        const char *s = p;
        while (*p && !tt_is_sep(*p))
            p++;
        size_t n = (size_t)(p - s);
        if (*p) p++;
        if (n == 0) return 1;
        if (n == 1 && s[0] == '.') return 1;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (named) return 1;
        } else {
            named = 1;
        }
    }
    return 0;
}

/* Whether a relative target climbs with ".." at all; without it, the target stays
 * inside the link's own directory and cannot escape. */
static int climbs(const char *t)
{
    for (const char *p = t; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == t || tt_is_sep(p[-1])) && (p[2] == '\0' || tt_is_sep(p[2]))) return 1;
    return 0;
}

int tt_inside_roots(const char *p, const tt_roots *roots)
{
    for (size_t i = 0; roots && i < roots->n; i++) {
        const char *r = roots->paths[i];
        size_t n = strlen(r);
        if (n == 1 && tt_is_sep(r[0])) return 1;
        if (strncmp(p, r, n) == 0 && (p[n] == '\0' || tt_is_sep(p[n]))) return 1;
    }
    return 0;
}

/* Reads a target of any length into the reusable buffer. */
static int read_target(pf_dir *dir, const char *name, char **buf, size_t *cap, tt_err *e)
{
    for (;;) {
        if (*cap < 256 || !*buf) {
            char *p = realloc(*buf, 256);
            if (!p) return tt_fail(e, ENOMEM, name, NULL, NULL);
            *buf = p;
            *cap = 256;
        }
        size_t len = 0;
        int err = dir ? pf_dir_readlink(dir, name, *buf, *cap - 1, &len)
                      : pf_readlink(name, *buf, *cap - 1, &len);
        if (err) return tt_fail(e, err == EINVAL ? TT_ENOTLINK : err, name, NULL, NULL);
        if (len < *cap - 1) {
            (*buf)[len] = '\0';
            return 0;
        }
        char *p = realloc(*buf, *cap * 2);
        if (!p) return tt_fail(e, ENOMEM, name, NULL, NULL);
        *buf = p;
        *cap *= 2;
    }
}

/* Everything but the status, from the stored target and the link's absolute directory. */
static void classify_target(const char *target, const char *link_dir, const tt_roots *roots,
                            tt_class *out)
{
    out->absolute = tt_path_is_abs(target);
    out->messy = is_messy(target);
    out->escapes = 0;
    if (!roots || roots->n == 0) return;
    if (!out->absolute && !climbs(target)) return;
    if (out->absolute && !out->messy) { /* already in normal form: no copy needed */
        out->escapes = !tt_inside_roots(target, roots);
        return;
    }
    char *joined = out->absolute || !link_dir ? NULL : tt_path_join(link_dir, target);
    char *norm = tt_path_normalize(joined ? joined : target);
    if (norm) out->escapes = (out->absolute || link_dir) && !tt_inside_roots(norm, roots);
    free(joined);
    free(norm);
}

static void set_status(tt_class *out, int err, const tt_stat *target, uint64_t link_dev)
{
    out->status_err = err;
    out->status = tt_status_of(err);
    out->target_type = err ? TT_NONE : target->type;
    out->cross_fs = !err && target->dev != link_dev;
}

/* Resolves a target in normal form from the deepest open ancestor it names, instead of
 * from "/" or through a run of "..": the walker holds those directories open and they
 * are the real directories the names lead to (the walk follows no links), so the answer
 * is the kernel's own, with a fraction of the lookups. Returns -1 when no shortcut
 * applies, else 0 or the errno of the stat. */
static int stat_from_ancestor(tt_walk *w, const tt_entry *en, const char *target, int absolute,
                              tt_stat *st)
{
    int level;
    const char *rest;
    if (!absolute) {
        int up = 0;
        rest = target;
        while (rest[0] == '.' && rest[1] == '.' && (rest[2] == '\0' || tt_is_sep(rest[2]))) {
            up++;
            rest += rest[2] ? 3 : 2;
        }
        level = en->depth - 1 - up;
    } else {
        const char *real = tt_walk_real_root(w);
        size_t rl = real ? strlen(real) : 0;
        if (!real || strncmp(target, real, rl) != 0 || (target[rl] && !tt_is_sep(target[rl])))
            return -1;
        /* Match the target's names under the root against the walked names of en's dir. */
        const char *t = target + rl, *p = en->path + tt_walk_root_len(w);
        const char *end = en->name;
        level = 0;
        for (;;) {
            while (tt_is_sep(*t))
                t++;
            while (p < end && tt_is_sep(*p))
                p++;
            if (p >= end || level >= en->depth - 1) break;
            size_t n = 0;
            while (p + n < end && !tt_is_sep(p[n]))
                n++;
            if (strncmp(t, p, n) != 0 || (t[n] && !tt_is_sep(t[n]))) break;
            t += n;
            p += n;
            level++;
        }
        rest = t;
    }
    pf_dir *dir = tt_walk_ancestor(w, level);
    if (!dir) return -1;
    return *rest ? pf_dir_stat(dir, rest, 1, st) : pf_dir_self(dir, st);
}

int tt_classify_entry(tt_walk *w, const tt_entry *en, const tt_roots *roots, char **target,
                      size_t *cap, tt_class *out, tt_err *e)
{
    if (en->depth == 0 || !en->parent) /* the root: no open parent to work from */
        return tt_classify_path(en->path, roots, target, cap, out, e);
    memset(out, 0, sizeof *out);
    out->kind = en->type;
    pf_dir *dir = en->parent;
    const char *name = en->name;
    if (read_target(dir, name, target, cap, e) != 0)
        return tt_fail(e, e->code, en->path, NULL, NULL);
    tt_stat tst;
    uint64_t link_dev = 0;
    int err = tt_walk_parent_dev(w, en, &link_dev);
    if (err) return tt_fail(e, err, en->path, NULL, NULL);
    int absolute = tt_path_is_abs(*target);
    err = is_messy(*target) ? -1 : stat_from_ancestor(w, en, *target, absolute, &tst);
    if (err < 0) err = pf_dir_stat(dir, name, 1, &tst);
    set_status(out, err, &tst, link_dev);

    /* The link's directory as an absolute path: the real root plus the walked names
     * (they are real directories, since the walk does not follow links). */
    const char *real = tt_walk_real_root(w);
    size_t rl = tt_walk_root_len(w), dl = (size_t)(en->name - en->path);
    while (dl > rl && tt_is_sep(en->path[dl - 1]))
        dl--;
    char *dirpath = NULL;
    if (real) {
        size_t n = strlen(real);
        dirpath = malloc(n + (dl - rl) + 1);
        if (dirpath) {
            memcpy(dirpath, real, n);
            memcpy(dirpath + n, en->path + rl, dl - rl);
            dirpath[n + dl - rl] = '\0';
        }
    }
    classify_target(*target, dirpath, roots, out);
    free(dirpath);
    return 0;
}

int tt_classify_path(const char *path, const tt_roots *roots, char **target, size_t *cap,
                     tt_class *out, tt_err *e)
{
    memset(out, 0, sizeof *out);
    tt_stat lst, tst;
    int err = pf_lstat(path, &lst);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    if (lst.type != TT_SYMLINK && lst.type != TT_JUNCTION)
        return tt_fail(e, TT_ENOTLINK, path, "not a link", NULL);
    out->kind = lst.type;
    if (read_target(NULL, path, target, cap, e) != 0) return -1;
    err = pf_stat(path, &tst);
    set_status(out, err, &tst, lst.dev);
    char *canon = NULL, *dir = NULL;
    if (tt_path_canonical_parent(path, &canon, e) == 0) dir = tt_path_dirname(canon);
    classify_target(*target, dir, roots, out);
    free(canon);
    free(dir);
    return 0;
}
