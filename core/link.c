/* The link primitives. Safety rules from the product brief live here: verify after
 * every create, replace through a temporary name and an atomic swap, refuse to remove or
 * replace anything that is not a link, and act only on the object that was checked:
 * everything happens on a name inside the directory handle core/at resolved, so the
 * check and the change see the same directory. */
#include "link.h"

#include "path.h"
#include "tempname.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HINT_REPLACE "the option replace = true swaps a link there (never a real file)"
#define HINT_NOVERIFY                                                                              \
    "the system reported success without making the link; on Windows enable Developer Mode "       \
    "or use a junction"
#define HINT_DEVMODE                                                                               \
    "enable Developer Mode (Settings > For developers) or run elevated; for a directory, a "       \
    "junction needs neither (--link junction)"
#define READLINK_LIMIT (1u << 20)

static int is_link(tt_type t)
{
    return t == TT_SYMLINK || t == TT_JUNCTION;
}

int tt_readlink_stat(pf_dir *d, const char *name, char **buf, size_t *cap, tt_stat *st)
{
    /* Grow until the target fits: lstat's st_size is not trusted (it is 0 on some
     * filesystems and can change between the two calls). */
    for (;;) {
        if (!*buf || *cap < 256) {
            char *p = realloc(*buf, 256);
            if (!p) return ENOMEM;
            *buf = p, *cap = 256;
        }
        size_t len = 0;
        int err = st ? pf_dir_readlink_stat(d, name, *buf, *cap - 1, &len, st)
                     : pf_dir_readlink(d, name, *buf, *cap - 1, &len);
        if (err) return err == EINVAL ? TT_ENOTLINK : err;
        if (len < *cap - 1) {
            (*buf)[len] = '\0';
            return 0;
        }
        if (*cap > READLINK_LIMIT) return ENAMETOOLONG;
        char *p = realloc(*buf, *cap * 2);
        if (!p) return ENOMEM;
        *buf = p, *cap *= 2;
    }
}

int tt_readlink_at(pf_dir *d, const char *name, char **buf, size_t *cap)
{
    return tt_readlink_stat(d, name, buf, cap, NULL);
}

int tt_readlink_alloc(const char *path, char **out, tt_err *e)
{
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    char *owned;
    const char *p = tt_path_untrail(path, &owned); /* "link/" would make it follow */
    size_t cap = 0;
    *out = NULL;
    int err = tt_readlink_at(NULL, p, out, &cap);
    free(owned);
    if (!err) return 0;
    free(*out);
    *out = NULL;
    if (err == ENAMETOOLONG) return tt_fail(e, err, path, "link target is implausibly long", NULL);
    return tt_fail(e, err, path, err == TT_ENOTLINK ? "not a link" : NULL, NULL);
}

void tt_temp_name(char *buf, size_t n)
{
    static _Atomic unsigned counter;
    snprintf(buf, n, TT_TEMPNAME_TEMP, pf_pid(), atomic_fetch_add(&counter, 1));
}

static int check_names(const char *target, const char *path, tt_err *e)
{
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    if (target && !*target) return tt_fail(e, EINVAL, path, "empty link target", NULL);
    return 0;
}

/* Last component of p (trailing separators ignored) as pointer and length. */
static const char *last_name(const char *p, size_t *len)
{
    size_t end = strlen(p);
    while (end > 1 && tt_is_sep(p[end - 1]))
        end--;
    size_t start = end;
    while (start > 0 && !tt_is_sep(p[start - 1]))
        start--;
    *len = end - start;
    return p + start;
}

/* Refuses a link that names itself ("link x x"): compared by name, no system calls. */
static int check_not_self(const char *target, const char *path, tt_err *e)
{
    /* Different last names cannot be the same path unless the target ends in "." or "..". */
    size_t tl, pl;
    const char *tn = last_name(target, &tl), *pn = last_name(path, &pl);
    int dots = (tl == 1 && tn[0] == '.') || (tl == 2 && tn[0] == '.' && tn[1] == '.');
    if (!dots && (tl != pl || memcmp(tn, pn, tl) != 0)) return 0;
    char *dir = tt_path_dirname(path);
    char *joined = dir ? tt_path_join(dir, target) : NULL;
    char *a = joined ? tt_path_normalize(joined) : NULL, *b = tt_path_normalize(path);
    int same = a && b && strcmp(a, b) == 0, oom = !a || !b;
    free(dir);
    free(joined);
    free(a);
    free(b);
    if (oom) return tt_fail(e, ENOMEM, path, NULL, NULL);
    if (same) return tt_fail(e, EINVAL, path, "the link would point to itself", NULL);
    return 0;
}

int tt_relative_target(const char *target, const char *path, char **out, tt_err *e)
{
    char *tcanon = NULL, *lcanon = NULL;
    int rc = -1;
    if (tt_path_canonical_parent(target, &tcanon, e) == 0 &&
        tt_path_canonical_parent(path, &lcanon, e) == 0) {
        if (strcmp(tcanon, lcanon) == 0) {
            tt_fail(e, EINVAL, path, "the link would point to itself", NULL);
            goto out;
        }
        rc = tt_path_link_relative(target, path, out, e);
    }
out:
    free(tcanon);
    free(lcanon);
    return rc;
}

/* What to create at a name: a symlink with a stored target, or a hard link to an
 * existing file (its directory handle and name, and its identity to check the result). */
typedef struct maker {
    int hard;
    const char *what; /* the target, or the existing file's path (for messages) */
    int dir;
    const tt_at *src;
    tt_stat src_st;
    const tt_owner *as; /* a symlink root makes for this user: made as them (or NULL) */
} maker;

static int make(const maker *m, pf_dir *d, const char *name)
{
    if (m->hard) return pf_dir_hardlink(m->src->dir, m->src->name, d, name);
    if (m->as && pf_euid() == 0) {
        /* Made the owner's from the start: a link of root's would be the owner's to move
         * away before root gives it to them. Where the owner may not write, the owner
         * cannot move it either: root makes it and gives it the owner after. */
        int err = pf_dir_symlink_as(d, name, m->what, m->dir, m->as->uid, m->as->gid);
        if (err != EACCES && err != EPERM && err != ENOSYS) return err;
    }
    return pf_dir_symlink(d, name, m->what, m->dir);
}

/* Safety rule 4: read back what was made at d/name and check it is what was asked. */
static int verify(const maker *m, pf_dir *d, const char *name, const char *shown, tt_err *e)
{
    if (m->hard) {
        tt_stat st;
        int err = pf_dir_stat(d, name, 0, &st);
        if (err == 0 && st.dev == m->src_st.dev && st.ino == m->src_st.ino) return 0;
        return tt_fail(e, TT_EVERIFY, shown, "hard link does not name the intended file", NULL);
    }
    char *buf = NULL;
    size_t cap = 0;
    int err = tt_readlink_at(d, name, &buf, &cap);
    int same = !err && strcmp(buf, m->what) == 0;
    free(buf);
    if (err) return tt_fail(e, TT_EVERIFY, shown, "no link found after creating it", HINT_NOVERIFY);
    if (!same) return tt_fail(e, TT_EVERIFY, shown, "link reads back a different target", NULL);
    return 0;
}

static int explain(int err, const char *path, const maker *m, tt_err *e)
{
    switch (err) {
    case ENOENT:
        return tt_fail(e, err, path, "the parent directory does not exist", NULL);
    case ENOTDIR:
        return tt_fail(e, err, path, "a parent of this path is not a directory", NULL);
    case EXDEV:
        return tt_fail(e, err, path, "hard links cannot cross filesystems", NULL);
    case EMLINK:
        return tt_fail(e, err, m->what, "the file has too many hard links", NULL);
    case EEXIST:
        return tt_fail(e, err, path, "already exists", HINT_REPLACE);
#ifdef _WIN32
    case EPERM: /* ERROR_PRIVILEGE_NOT_HELD */
        if (!m->hard)
            return tt_fail(e, err, path, "this process may not create symbolic links",
                           HINT_DEVMODE);
        return tt_fail(e, err, path, NULL, NULL);
#endif
    default:
        return tt_fail(e, err, path, NULL, NULL);
    }
}

/* Removes the name d/name only when it is a link (what this file just made). */
static void unlink_link(pf_dir *d, const char *name)
{
    tt_stat st;
    if (pf_dir_stat(d, name, 0, &st) == 0 && is_link(st.type)) pf_dir_unlink(d, name, 0);
}

/* Rule 4 for a link just made: on a mismatch leave nothing behind, but only ever remove
 * a link (a hard link that names the wrong file is one more name of it: removed too). */
static int verified_new(const maker *m, const tt_at *at, tt_err *e)
{
    if (verify(m, at->dir, at->name, at->path, e) == 0) return 0;
    if (m->hard)
        pf_dir_unlink(at->dir, at->name, 0);
    else
        unlink_link(at->dir, at->name);
    return -1;
}

/* Makes the new link under a temporary name in at's directory; *tmp gets the name. */
static int make_temp(const maker *m, const tt_at *at, char *tmp, size_t n, tt_err *e)
{
    int err = EEXIST;
    for (int tries = 0; err == EEXIST && tries < 100; tries++) {
        tt_temp_name(tmp, n);
        err = make(m, at->dir, tmp);
    }
    if (err) return explain(err, at->path, m, e);
    if (verify(m, at->dir, tmp, at->path, e) != 0) {
        if (m->hard)
            pf_dir_unlink(at->dir, tmp, 0);
        else
            unlink_link(at->dir, tmp);
        return -1;
    }
    return 0;
}

/* What the link to be replaced or removed must still be. */
typedef struct planned {
    const char *old;    /* its stored target, or NULL */
    const tt_expect *x; /* its identity, or NULL */
    int any_link;       /* tt_symlink REPLACE: any link may go */
} planned;

/* Whether the object at d/name is a link as planned; 0, or -1 with *e. */
static int check_planned(pf_dir *d, const char *name, const tt_stat *st, const planned *p,
                         const char *path, tt_err *e)
{
    if (st->type == TT_DIR)
        return tt_fail(e, TT_ENOTLINK, path,
                       "is a real directory, not a link; tether never replaces or removes one",
                       NULL);
    if (!is_link(st->type))
        return tt_fail(e, TT_ENOTLINK, path,
                       "is a real file, not a link; tether never replaces or removes one", NULL);
    if (tt_expect_check(p->x, st, path, e)) return -1;
    if (!p->old) return 0;
    char *buf = NULL;
    size_t cap = 0;
    int err = tt_readlink_at(d, name, &buf, &cap);
    int same = !err && strcmp(buf, p->old) == 0;
    int rc = 0;
    if (err)
        rc = tt_fail(e, err == TT_ENOTLINK ? TT_ECHANGED : err, path, "cannot read the link", NULL);
    else if (!same)
        rc = tt_fail(e, TT_ECHANGED, path, "changed since it was planned: it points elsewhere now",
                     "left alone");
    free(buf);
    return rc;
}

/* Swaps the verified new link at tmp into at's place. With RENAME_EXCHANGE the old entry
 * lands at tmp and is checked to still be the planned link before it is removed;
 * otherwise it is swapped back untouched. Without RENAME_EXCHANGE, rename() is still
 * atomic, after one more check. */
static int swap_in(const tt_at *at, const char *tmp, const planned *p, tt_err *e)
{
    int err = pf_dir_rename(at->dir, tmp, at->dir, at->name, PF_RENAME_EXCHANGE, NULL);
    if (err == 0) {
        tt_stat old;
        if ((err = pf_dir_stat(at->dir, tmp, 0, &old)) != 0) /* the old link is gone already */
            return err == ENOENT ? 0
                                 : tt_fail(e, err, at->path,
                                           "new link is in place but the old one may remain "
                                           "under a temporary name",
                                           NULL);
        /* The swap itself changed its ctime: the rest must still be as planned. */
        tt_expect loose;
        planned after = *p;
        if (p->x) {
            loose = *p->x;
            loose.have &= ~TT_X_CTIME;
            after.x = &loose;
        }
        tt_err why;
        if (check_planned(at->dir, tmp, &old, &after, at->path, &why) != 0) {
            pf_dir_rename(at->dir, tmp, at->dir, at->name, PF_RENAME_EXCHANGE, NULL);
            unlink_link(at->dir, tmp);
            *e = why;
            if (e->code == TT_ENOTLINK)
                e->msg = "was replaced by a real file or directory "
                         "during the change; left as it is";
            return -1;
        }
        if ((err = pf_dir_unlink(at->dir, tmp, 0)) != 0)
            return tt_fail(e, err, at->path,
                           "new link is in place but the old one remains under a temporary name",
                           NULL);
        return 0;
    }
    if (err != ENOSYS && err != EINVAL && err != ENOTSUP && err != EOPNOTSUPP) {
        unlink_link(at->dir, tmp);
        return tt_fail(e, err, at->path, NULL, NULL);
    }
    tt_stat cur;
    err = pf_dir_stat(at->dir, at->name, 0, &cur);
    if (err || check_planned(at->dir, at->name, &cur, p, at->path, e) != 0) {
        unlink_link(at->dir, tmp);
        return err ? tt_fail(e, TT_ECHANGED, at->path, "vanished while being replaced", NULL) : -1;
    }
    if ((err = pf_dir_rename(at->dir, tmp, at->dir, at->name, 0, NULL)) != 0) {
        unlink_link(at->dir, tmp);
        return tt_fail(e, err, at->path, NULL, NULL);
    }
    return 0;
}

/* Replaces the planned link at `at` by what m makes. */
static int replace_at(const maker *m, const tt_at *at, const planned *p, unsigned flags, tt_err *e)
{
    tt_stat cur;
    int err = tt_at_stat(at, &cur);
    if (err == ENOENT && (p->old || p->x))
        return tt_fail(e, TT_ECHANGED, at->path, "no link to replace (it vanished)",
                       "nothing was made in its place");
    if (err == ENOENT)
        return tt_fail(e, err, at->path, "no link to replace", "create it with tether.symlink");
    if (err) return tt_fail(e, err, at->path, NULL, NULL);
    if (check_planned(at->dir, at->name, &cur, p, at->path, e) != 0) return -1;
    if (m->hard && cur.dev == m->src_st.dev && cur.ino == m->src_st.ino) return 0;
    if (flags & TT_LINK_DRY) return tt_at_writable(at, e);
    /* A link root rewrites keeps its owner: made root's, another user's link would be
     * trusted as root's own when a path leads through it (tt_chase_owned). It is made as
     * its owner, or where that is refused, given the owner after. */
    tt_owner was = {cur.uid, cur.gid};
    int keep = !m->hard && (cur.uid != 0 || cur.gid != 0) && pf_euid() == 0;
    maker as = *m;
    if (keep && !as.as) as.as = &was;
    char tmp[64];
    if (make_temp(&as, at, tmp, sizeof tmp, e) != 0) return -1;
    tt_stat mine;
    if (keep &&
        ((err = pf_dir_stat(at->dir, tmp, 0, &mine)) != 0 ||
         ((mine.uid != cur.uid || mine.gid != cur.gid) &&
          (err = pf_dir_chown_link(at->dir, tmp, cur.uid, cur.gid, &mine, m->what)) != 0))) {
        unlink_link(at->dir, tmp);
        return tt_fail(e, err, at->path, "cannot give the new link its old owner", NULL);
    }
    if (swap_in(at, tmp, p, e) != 0) return -1;
    return verify(m, at->dir, at->name, at->path, e);
}

/* Creates what m makes at `at`, or with TT_LINK_REPLACE replaces a link there. */
static int create_at(const maker *m, const tt_at *at, unsigned flags, tt_err *e)
{
    /* The common case of a create is a new name: try to make it first and look only on
     * EEXIST; dry runs and replaces look first. */
    int tried = !(flags & (TT_LINK_DRY | TT_LINK_REPLACE));
    if (tried) {
        int err = make(m, at->dir, at->name);
        if (err == 0) return verified_new(m, at, e);
        if (err != EEXIST) return explain(err, at->path, m, e);
    }
    tt_stat cur;
    int err = tt_at_stat(at, &cur);
    if (err == ENOENT && (flags & TT_LINK_DRY)) {
        if (tt_at_writable(at, e)) return -1;
        if (m->hard) {
            tt_stat dir;
            if (pf_dir_self(at->dir, 0, &dir) == 0 && dir.dev != m->src_st.dev)
                return explain(EXDEV, at->path, m, e);
        }
        return 0;
    }
    if (err == ENOENT && !tried) {
        err = make(m, at->dir, at->name);
        return err ? explain(err, at->path, m, e) : verified_new(m, at, e);
    }
    if (err == ENOENT)
        return tt_fail(e, EAGAIN, at->path, "appeared and vanished while being linked", NULL);
    if (err) return explain(err, at->path, m, e);
    if (m->hard && cur.dev == m->src_st.dev && cur.ino == m->src_st.ino) return 0;
    if (!(flags & TT_LINK_REPLACE))
        return tt_fail(e, EEXIST, at->path, "already exists", HINT_REPLACE);
    planned p = {NULL, NULL, 1};
    return replace_at(m, at, &p, flags, e);
}

/* The identity of what is at `at` now (what was just made). */
static int made_at(const tt_at *at, int rc, unsigned flags, tt_stat *made, tt_err *e)
{
    if (rc || !made || (flags & TT_LINK_DRY)) return rc;
    int err = tt_at_stat(at, made);
    return err ? tt_fail(e, err, at->path, "made, but cannot be looked at", NULL) : 0;
}

/* Gives the link just made at `at` (*made: its identity, then as it is after) the owner
 * asked, when the caller is root (anyone else makes links of their own, as the kernel
 * does), only while it is still that link storing m's target; a link that cannot be given
 * it is removed again, so none is left with the wrong owner. */
static int give_owner(const maker *m, const tt_at *at, const tt_owner *owner, tt_stat *made,
                      tt_err *e)
{
    if (pf_euid() != 0 || (made->uid == owner->uid && made->gid == owner->gid)) return 0;
    int err = pf_dir_chown_link(at->dir, at->name, owner->uid, owner->gid, made, m->what);
    if (!err) return made_at(at, 0, 0, made, e);
    if (err != TT_ECHANGED) pf_dir_unlink_id(at->dir, at->name, 0, made);
    return tt_fail(e, err, at->path,
                   err == TT_ECHANGED ? "was replaced right after it was made; left as it is"
                                      : "made, but cannot be given its owner",
                   err == TT_ECHANGED ? NULL : "the link was removed again");
}

int tt_symlink_owned(tt_confine *c, const char *target, const char *path, unsigned flags,
                     const tt_owner *owner, tt_stat *made, tt_err *e)
{
    if (check_names(target, path, e)) return -1;
    char *owned, *stored = NULL;
    const char *p = tt_path_untrail(path, &owned);
    int rc = -1;
    if ((flags & TT_LINK_RELATIVE)
            ? tt_relative_target(target, p, &stored, e) == 0
            : ((flags & TT_LINK_LOOP) || check_not_self(target, p, e) == 0)) {
        maker m = {0, stored ? stored : target, (flags & TT_LINK_DIR) != 0, NULL, {0}, owner};
        tt_at at;
        tt_stat mine;
        if (tt_at_open(c, path, &at, e) == 0) {
            int give = owner && !(flags & TT_LINK_DRY);
            rc = made_at(&at, create_at(&m, &at, flags, e), flags, give || made ? &mine : NULL, e);
            if (rc == 0 && give) rc = give_owner(&m, &at, owner, &mine, e);
            if (rc == 0 && made && !(flags & TT_LINK_DRY)) *made = mine;
            tt_at_close(&at);
        }
    }
    free(stored);
    free(owned);
    return rc;
}

int tt_symlink(tt_confine *c, const char *target, const char *path, unsigned flags, tt_stat *made,
               tt_err *e)
{
    return tt_symlink_owned(c, target, path, flags, NULL, made, e);
}

int tt_replace(tt_confine *c, const char *target, const char *path, const char *old,
               const tt_expect *x, unsigned flags, tt_stat *made, tt_err *e)
{
    if (check_names(target, path, e)) return -1;
    char *owned, *stored = NULL;
    const char *p = tt_path_untrail(path, &owned);
    int rc = -1;
    if ((flags & TT_LINK_RELATIVE)
            ? tt_relative_target(target, p, &stored, e) == 0
            : ((flags & TT_LINK_LOOP) || check_not_self(target, p, e) == 0)) {
        maker m = {0, stored ? stored : target, (flags & TT_LINK_DIR) != 0, NULL, {0}, NULL};
        planned pl = {old, x, 0};
        tt_at at;
        if (tt_at_open(c, path, &at, e) == 0) {
            rc = made_at(&at, replace_at(&m, &at, &pl, flags, e), flags, made, e);
            tt_at_close(&at);
        }
    }
    free(stored);
    free(owned);
    return rc;
}

int tt_hardlink(tt_confine *c, const char *existing, const char *path, const tt_expect *x,
                unsigned flags, tt_stat *made, tt_err *e)
{
    if (check_names(existing, path, e)) return -1;
    char *a = tt_path_normalize(existing), *b = tt_path_normalize(path);
    int same = a && b && strcmp(a, b) == 0;
    free(a);
    free(b);
    if (same) return tt_fail(e, EINVAL, path, "a file cannot be hard-linked onto itself", NULL);
    tt_at src, at;
    if (tt_at_open(c, existing, &src, e) != 0) return -1;
    maker m = {1, existing, 0, &src, {0}, NULL};
    int err = tt_at_stat(&src, &m.src_st), rc = -1;
    if (err)
        tt_fail(e, err, existing, NULL, NULL);
    else if (m.src_st.type == TT_DIR)
        tt_fail(e, EPERM, existing, "is a directory; hard links to directories are not allowed",
                "use a directory symbolic link (tether link --dir)");
    else if (tt_expect_check(x, &m.src_st, existing, e) == 0 && tt_at_open(c, path, &at, e) == 0) {
        rc = made_at(&at, create_at(&m, &at, flags, e), flags, made, e);
        tt_at_close(&at);
    }
    tt_at_close(&src);
    return rc;
}

int tt_junction(tt_confine *c, const char *target, const char *path, unsigned flags, tt_stat *made,
                tt_err *e)
{
    if (check_names(target, path, e)) return -1;
    const char *why = NULL, *hint = NULL;
    int err = pf_junction_support(&why, &hint);
    if (err) return tt_fail(e, err, path, why, hint);
    if (!tt_path_is_abs(target))
        return tt_fail(e, EINVAL, target, "junction targets must be absolute paths", NULL);
    tt_at at;
    if (tt_at_open(c, path, &at, e) != 0) return -1;
    tt_stat cur;
    int rc = 0;
    err = tt_at_stat(&at, &cur);
    if (err == 0 && !(flags & TT_LINK_REPLACE))
        rc = tt_fail(e, EEXIST, path, "already exists", HINT_REPLACE);
    else if (err == 0 && !is_link(cur.type))
        rc = tt_fail(e, TT_ENOTLINK, path, "is not a link; refusing to replace it", NULL);
    else if (err && err != ENOENT)
        rc = tt_fail(e, err, path, NULL, NULL);
    else if (!(flags & TT_LINK_DRY)) {
        /* A junction is a directory with a reparse point: it cannot be made under a
         * temporary name and renamed over a link, so the old link goes first. */
        if (err == 0 && (err = pf_dir_unlink(at.dir, at.name, 0)) != 0)
            rc = tt_fail(e, err, path, NULL, NULL);
        else if ((err = pf_dir_junction(at.dir, at.name, target, &why, &hint)) != 0)
            rc = tt_fail(e, err, path, why, hint);
        else {
            maker m = {0, target, 1, NULL, {0}, NULL};
            rc = made_at(&at, verify(&m, at.dir, at.name, path, e), flags, made, e);
        }
    }
    tt_at_close(&at);
    return rc;
}

int tt_unlink(tt_confine *c, const char *path, const char *old, const tt_expect *x, unsigned flags,
              tt_err *e)
{
    return tt_unlink_stat(c, path, old, x, flags, NULL, e);
}

int tt_unlink_stat(tt_confine *c, const char *path, const char *old, const tt_expect *x,
                   unsigned flags, tt_stat *removed, tt_err *e)
{
    if (check_names(NULL, path, e)) return -1;
    tt_at at;
    if (tt_at_open(c, path, &at, e) != 0) return -1;
    tt_stat st;
    int err = tt_at_stat(&at, &st), rc = 0;
    planned p = {old, x, 0};
    int hard_name = !err && st.type == TT_FILE && st.nlink > 1;
    if (err) {
        rc = tt_fail(e, err, path,
                     err == ENOTDIR ? "a parent of this path is not a directory" : NULL, NULL);
    } else if (hard_name && !(flags & TT_LINK_HARD)) {
        rc = tt_fail(e, TT_ENOTLINK, path, "is a file with several hard links",
                     "remove this one name with --hard");
    } else if (hard_name) {
        rc = tt_expect_check(x, &st, path, e);
    } else if (check_planned(at.dir, at.name, &st, &p, path, e) != 0) {
        rc = -1;
        if (e->code == TT_ENOTLINK && st.type == TT_DIR)
            e->msg = "is a real directory, not a link; tether never removes real directories";
        else if (e->code == TT_ENOTLINK)
            e->msg = "is a real file, not a link; tether never removes real files";
    }
    if (!rc && (flags & TT_LINK_DRY)) rc = tt_at_writable(&at, e);
    if (!rc && !(flags & TT_LINK_DRY) && (err = pf_dir_unlink_id(at.dir, at.name, 0, &st)) != 0)
        rc = tt_fail(
            e, err, path,
            err == TT_ECHANGED ? "changed since it was planned: another object is there now" : NULL,
            NULL);
    if (!rc && removed && !(flags & TT_LINK_DRY)) *removed = st;
    tt_at_close(&at);
    return rc;
}
