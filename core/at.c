/* Roots held open, paths below them reached one name at a time (pf_dir_beneath), and
 * the comparison of an object with what was planned. A few directories resolved last are
 * kept open: plans come in walk order, so most actions reuse the previous one's. */
#include "at.h"

#include "chase.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *tt_expect_differs(const tt_expect *x, const tt_stat *st)
{
    if (!x) return NULL;
    const tt_stat *w = &x->st;
    if ((x->have & TT_X_TYPE) && st->type != w->type)
        return "changed since it was planned: another kind of object is there now";
    if ((x->have & TT_X_ID) && (st->dev != w->dev || st->ino != w->ino))
        return "changed since it was planned: another object is there now";
    if ((x->have & TT_X_SIZE) && st->size != w->size)
        return "changed since it was planned: its size differs";
    if ((x->have & TT_X_MTIME) &&
        (st->mtime_sec != w->mtime_sec || st->mtime_nsec != w->mtime_nsec))
        return "changed since it was planned: its content changed";
    if ((x->have & TT_X_CTIME) &&
        (st->ctime_sec != w->ctime_sec || st->ctime_nsec != w->ctime_nsec))
        return "changed since it was planned: it was changed (status change time)";
    if ((x->have & TT_X_MODE) && (st->mode & 07777) != (w->mode & 07777))
        return "changed since it was planned: its mode differs";
    if ((x->have & TT_X_OWNER) && (st->uid != w->uid || st->gid != w->gid))
        return "changed since it was planned: its owner differs";
    return NULL;
}

int tt_expect_check(const tt_expect *x, const tt_stat *st, const char *path, tt_err *e)
{
    const char *why = tt_expect_differs(x, st);
    if (!why) return 0;
    return tt_fail(e, TT_ECHANGED, path, why, "left alone");
}

char *tt_absolute(const char *p)
{
    if (tt_path_is_abs(p)) return tt_path_normalize(p);
    char *cwd = NULL;
    if (pf_getcwd(&cwd) != 0) return NULL;
    char *j = tt_path_join(cwd, p);
    char *r = j ? tt_path_normalize(j) : NULL;
    free(j);
    free(cwd);
    return r;
}

typedef struct root {
    char *abs, *real; /* the user's spelling made absolute; the canonical path */
    char *typed;      /* a relative spelling, normalized (paths below it need no getcwd) */
    pf_dir *dir;      /* NULL when the root is not a directory */
    pf_dir *parent;   /* NULL for "/" */
    char *name;
    tt_stat st; /* the directory's identity, or the entry's when it is not one */
} root;

/* The last directories resolved below the roots, kept open: plans come in walk order.
 * None on Windows, where a directory held open cannot be removed or renamed (the run's
 * own private directory, say), and directories are reached by path anyway. */
#ifdef _WIN32
#define CACHE 1 /* one slot that is never filled: see beneath() */
#else
#define CACHE 8
#endif

struct tt_confine {
    root *roots;
    size_t n, cap;
    struct cached {
        size_t root;
        char *rel; /* NULL: forgotten, to be closed by its last user */
        pf_dir *dir;
        int users; /* tt_at's holding dir: it is not closed under them */
    } cache[CACHE];
    size_t next; /* the cache slot to reuse next */
};

tt_confine *tt_confine_new(tt_err *e)
{
    tt_confine *c = calloc(1, sizeof *c);
    if (!c) tt_fail(e, ENOMEM, "", NULL, NULL);
    return c;
}

static void root_free(root *r)
{
    free(r->typed);
    free(r->abs);
    free(r->real);
    free(r->name);
    pf_dir_close(r->dir);
    pf_dir_close(r->parent);
}

void tt_confine_forget(tt_confine *c)
{
    if (!c) return;
    for (size_t i = 0; i < CACHE; i++) {
        free(c->cache[i].rel);
        c->cache[i].rel = NULL;
        if (c->cache[i].users > 0) continue; /* closed when its last user lets go */
        pf_dir_close(c->cache[i].dir);
        c->cache[i].dir = NULL;
    }
}

void tt_confine_free(tt_confine *c)
{
    if (!c) return;
    for (size_t i = 0; i < c->n; i++)
        root_free(&c->roots[i]);
    for (size_t i = 0; i < CACHE; i++) { /* its users are gone with it */
        free(c->cache[i].rel);
        pf_dir_close(c->cache[i].dir);
    }
    free(c->roots);
    free(c);
}

size_t tt_confine_size(const tt_confine *c)
{
    return c ? c->n : 0;
}

const char *tt_confine_root(const tt_confine *c, size_t i, tt_stat *st)
{
    if (st) *st = c->roots[i].st;
    return c->roots[i].abs;
}

int tt_confine_root_is_dir(const tt_confine *c, size_t i)
{
    return c->roots[i].dir != NULL;
}

/* Whether name is a component one can act on (not empty, ".", ".." or a root). */
static int actable(const char *name)
{
    return *name && strcmp(name, ".") != 0 && strcmp(name, "..") != 0 &&
           !(tt_path_root(name) && !name[tt_path_root(name)]);
}

/* The directory abs names (tt_chase_owned: its links followed when they belong to the
 * caller or to root). A link of another user is named in the error. */
static int open_owned(const char *abs, pf_dir **out, char **real, tt_err *e)
{
    char *bad = NULL;
    uint32_t owner = 0;
    int err = tt_chase_owned(abs, out, real, &bad, &owner);
    if (err == EPERM && bad) {
        int own = owner == 0 || owner == pf_euid();
        tt_fail(e, err, bad,
                own ? "is a link in a directory another user can write, who could have put it "
                      "there; not followed"
                    : "is a link that belongs to another user, who could point it anywhere; not "
                      "followed",
                "give the path it leads to instead, if that is meant");
        free(bad);
        return -1;
    }
    free(bad);
    return err ? tt_fail(e, err, abs, NULL, NULL) : 0;
}

/* The root's spellings: absolute, normalized as typed (when relative) and its last name,
 * with *dir (malloc'd) the directory that holds it. */
static int spell_root(root *r, const char *path, char **dir, tt_err *e)
{
    r->abs = tt_absolute(path);
    if (!tt_path_is_abs(path) && !(r->typed = tt_path_normalize(path)))
        return tt_fail(e, ENOMEM, path, NULL, NULL);
    *dir = r->abs ? tt_path_dirname(r->abs) : NULL;
    r->name = r->abs ? tt_path_basename(r->abs) : NULL;
    if (!r->abs || !*dir || !r->name)
        return tt_fail(e, ENOMEM, path, "cannot make the path absolute", NULL);
    return 0;
}

/* The parent as typed: it is the user's to name, links and all (but not another user's
 * link, which could lead anywhere). "/" has none. */
static int open_parent(root *r, const char *dir, const char *path, char **parent_real, tt_err *e)
{
    if (!actable(r->name) || open_owned(dir, &r->parent, parent_real, e) == 0) return 0;
    if (e->code == ENOENT || e->code == ENOTDIR)
        return tt_fail(e, e->code, path, "the parent directory does not exist", NULL);
    return -1;
}

/* The root itself: a directory, or a link to one followed as the parent's are; else
 * (anything else, or another user's link) only the root itself can be acted on, even
 * made, and what stays the same across runs is the directory that holds it. Returns 0
 * or an errno value. */
static int open_root(root *r, const char *parent_real, tt_err *e)
{
    tt_stat self;
    int err = r->parent ? pf_dir_stat(r->parent, r->name, 0, &self) : 0;
    if (!err && r->parent && self.type == TT_DIR) {
        err = pf_dir_open(r->parent, r->name, PF_DIR_BASE, &r->dir);
        if (!err) err = pf_dir_self(r->dir, 0, &r->st);
        if (!err && !(r->real = tt_path_join(parent_real, r->name))) err = ENOMEM;
    } else if (!err && (!r->parent || self.type == TT_SYMLINK || self.type == TT_JUNCTION) &&
               open_owned(r->abs, &r->dir, &r->real, e) == 0) {
        err = pf_dir_self(r->dir, 0, &r->st);
    } else if (!err || err == ENOENT) {
        r->dir = NULL;
        err = r->parent ? pf_dir_self(r->parent, 0, &r->st) : ENOENT;
    }
    return err;
}

static int keep_root(tt_confine *c, const root *r, const char *path, tt_err *e)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        root *p = realloc(c->roots, cap * sizeof *p);
        if (!p) return tt_fail(e, ENOMEM, path, NULL, NULL);
        c->roots = p;
        c->cap = cap;
    }
    c->roots[c->n++] = *r;
    return 0;
}

int tt_confine_add(tt_confine *c, const char *path, const tt_expect *expect, tt_err *e)
{
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    root r = {0};
    char *dir = NULL, *parent_real = NULL;
    int rc = spell_root(&r, path, &dir, e);
    if (!rc) rc = open_parent(&r, dir, path, &parent_real, e);
    free(dir);
    int err = rc ? 0 : open_root(&r, parent_real, e);
    free(parent_real);
    if (!rc && !err && expect) err = tt_expect_check(expect, &r.st, path, e) ? TT_ECHANGED : 0;
    if (err == TT_ECHANGED)
        rc = -1;
    else if (err == ELOOP || err == ENOTDIR) /* a directory a moment ago */
        rc = tt_fail(e, err, path, "was replaced while it was being opened; not followed", NULL);
    else if (err)
        rc = tt_fail(e, err, path, NULL, NULL);
    if (!rc) rc = keep_root(c, &r, path, e);
    if (rc) root_free(&r);
    return rc;
}

/* Length of the part of abs that lies inside root spelling r ("" when it is r itself),
 * or -1 when abs is not r or below it. */
static long below(const char *abs, const char *r)
{
    if (!r) return -1;
    size_t n = strlen(r);
    if (strncmp(abs, r, n) != 0) return -1;
    if (!abs[n]) return (long)n;
    if (tt_is_sep(abs[n])) return (long)n + 1;
    if (n > 0 && tt_is_sep(r[n - 1])) return (long)n; /* r is "/" (or "C:\") */
    return -1;
}

/* The directory rel (below root i) from the cache, or opened beneath the root and
 * remembered, in *slot; the caller hands it back with tt_at_close (a slot in use is
 * never closed or reused). *slot -1: not cached (every slot in use), the caller's to
 * close. */
static int beneath(tt_confine *c, size_t i, const char *rel, pf_dir **out, int *slot)
{
    for (int k = 0; k < CACHE; k++) {
        struct cached *s = &c->cache[k];
        if (s->rel && s->root == i && strcmp(s->rel, rel) == 0) {
            s->users++;
            *out = s->dir, *slot = k;
            return 0;
        }
    }
    pf_dir *d;
    int err = pf_dir_beneath(c->roots[i].dir, rel, &d);
    if (err) return err;
    *out = d, *slot = -1;
#ifdef _WIN32
    return 0; /* not kept (see CACHE) */
#endif
    for (size_t tries = 0; tries < CACHE; tries++, c->next = (c->next + 1) % CACHE) {
        struct cached *s = &c->cache[c->next];
        if (s->users > 0) continue;
        char *copy = strdup(rel);
        if (!copy) return 0; /* not remembered, that is all */
        free(s->rel);
        pf_dir_close(s->dir);
        s->root = i, s->rel = copy, s->dir = d, s->users = 1;
        *slot = (int)c->next;
        c->next = (c->next + 1) % CACHE;
        break;
    }
    return 0;
}

/* How much of a relative path (normalized) lies in the typed root r: as below(). */
static long below_typed(const char *rel, const char *r)
{
    if (!r) return -1;
    if (strcmp(r, ".") == 0) /* the current directory: every name but ".." is in it */
        return strcmp(rel, "..") == 0 || strncmp(rel, "../", 3) == 0 || strcmp(rel, ".") == 0 ? -1
                                                                                              : 0;
    return below(rel, r);
}

/* abs: the path made absolute, or (typed) relative and normalized, to be matched with
 * the roots' relative spellings; then 1 when none holds it (to try again absolute). */
static int at_confined(tt_confine *c, const char *path, const char *abs, int typed, tt_at *at,
                       tt_err *e)
{
    /* The root that holds abs most closely (roots may nest). */
    size_t best = c->n;
    long best_len = -1;
    for (size_t i = 0; i < c->n; i++) {
        long l = typed ? below_typed(abs, c->roots[i].typed) : below(abs, c->roots[i].abs);
        if (l < 0 && !typed) l = below(abs, c->roots[i].real);
        if (l > best_len) best = i, best_len = l;
    }
    if (best == c->n && typed) return 1;
    if (best == c->n)
        return tt_fail(e, TT_EOUTSIDE, path, "lies outside the directories this run was given",
                       NULL);
    root *r = &c->roots[best];
    const char *rel = abs + best_len;
    if (!*rel) { /* the root itself, through its parent */
        if (!r->parent) return tt_fail(e, EINVAL, path, "is not a name that can be changed", NULL);
        at->dir = r->parent;
        at->buf = strdup(r->name);
        at->name = at->buf;
        at->root_dir = r->dir;
        return at->buf ? 0 : tt_fail(e, ENOMEM, path, NULL, NULL);
    }
    if (!r->dir) return tt_fail(e, ENOTDIR, path, "its root is not a directory", NULL);
    at->buf = strdup(rel);
    if (!at->buf) return tt_fail(e, ENOMEM, path, NULL, NULL);
    char *slash = at->buf + strlen(at->buf);
    while (slash > at->buf && !tt_is_sep(slash[-1]))
        slash--;
    at->name = slash;
    if (slash == at->buf) {
        at->dir = r->dir;
        return 0;
    }
    slash[-1] = '\0';
    int slot;
    int err = beneath(c, best, at->buf, &at->dir, &slot);
    if (!err && slot < 0) at->owned = 1;
    if (!err && slot >= 0) at->conf = c, at->slot = slot;
    if (err == ELOOP || err == ENOTDIR)
        return tt_fail(e, err, path,
                       "a directory on the way is a link now (or not a directory); not followed",
                       NULL);
    return err ? tt_fail(e, err, path, "cannot reach its directory", NULL) : 0;
}

/* Without a confinement, the parents of the last few paths acted on stay open, so a
 * loop over names in one directory resolves it once instead of from "/" every time. A
 * parent is taken from here only when its path, as typed, still leads to the directory
 * held (one stat of the path, compared by device and inode): the held directory is then
 * the one the full resolution would give, and a path that leads elsewhere now takes the
 * full resolution again. The directory held cannot be freed and its inode number reused
 * while it is open. Per thread; released by tt_at_release (the end of a script's call). */
#ifdef _WIN32
#define TYPED_SLOTS 0 /* directories are reached by path there: nothing to keep */
#else
#define TYPED_SLOTS 4
#endif

#if TYPED_SLOTS > 0
struct tt_typed_slot {
    char *dir; /* the parent as typed; NULL: free */
    pf_dir *h;
    uint64_t dev, ino;
    int users; /* tt_at's holding h: not closed or reused under them */
};
static _Thread_local struct tt_typed_slot typed_slots[TYPED_SLOTS];
static _Thread_local unsigned typed_next;

/* Whether the spelling of a parent means the same by name as by the kernel's lookup
 * ("." and ".." after a link differ): only then is it kept. */
static int keepable(const char *dir)
{
    for (const char *p = dir; *p;) {
        const char *s = p;
        while (*p && !tt_is_sep(*p))
            p++;
        size_t n = (size_t)(p - s);
        if (n == 2 && s[0] == '.' && s[1] == '.') return 0;
        if (n == 1 && s[0] == '.' && !(s == dir && !*p)) return 0; /* "." alone is fine */
        while (tt_is_sep(*p))
            p++;
    }
    return *dir != '\0';
}

static void slot_free(struct tt_typed_slot *s)
{
    free(s->dir);
    pf_dir_close(s->h);
    s->dir = NULL, s->h = NULL;
}

/* The held parent `dir` if its path still leads to it; else NULL (and a stale entry for
 * it is let go). */
static struct tt_typed_slot *typed_find(const char *dir)
{
    for (int k = 0; k < TYPED_SLOTS; k++) {
        struct tt_typed_slot *s = &typed_slots[k];
        if (!s->dir || strcmp(s->dir, dir) != 0) continue;
        tt_stat st;
        if (pf_stat(dir, &st) == 0 && st.type == TT_DIR && st.dev == s->dev && st.ino == s->ino)
            return s;
        if (s->users == 0) slot_free(s);
        return NULL;
    }
    return NULL;
}

/* Keeps the parent just resolved (h, the caller's) under `dir`; the slot, or NULL when
 * every slot is in use (h stays the caller's). */
static struct tt_typed_slot *typed_keep(const char *dir, pf_dir *h)
{
    tt_stat st;
    if (pf_dir_self(h, 0, &st) != 0) return NULL;
    for (unsigned tries = 0; tries < TYPED_SLOTS; tries++) {
        struct tt_typed_slot *s = &typed_slots[typed_next];
        typed_next = (typed_next + 1) % TYPED_SLOTS;
        if (s->users > 0) continue;
        char *copy = strdup(dir);
        if (!copy) return NULL;
        slot_free(s);
        s->dir = copy, s->h = h, s->dev = st.dev, s->ino = st.ino, s->users = 1;
        return s;
    }
    return NULL;
}
#endif

void tt_at_release(void)
{
#if TYPED_SLOTS > 0
    for (int k = 0; k < TYPED_SLOTS; k++)
        if (typed_slots[k].users == 0) slot_free(&typed_slots[k]);
#endif
}

static int at_typed(const char *path, tt_at *at, tt_err *e)
{
    char *dir = tt_path_dirname(path);
    at->buf = tt_path_basename(path);
    at->name = at->buf;
    if (!dir || !at->buf) {
        free(dir);
        return tt_fail(e, ENOMEM, path, NULL, NULL);
    }
#if TYPED_SLOTS > 0
    int keep = keepable(dir);
    struct tt_typed_slot *slot = keep ? typed_find(dir) : NULL;
    if (slot) {
        free(dir);
        slot->users++;
        at->dir = slot->h, at->typed = slot;
        return 0;
    }
#endif
    char *abs = tt_absolute(dir), *real = NULL;
    if (!abs) {
        free(dir);
        return tt_fail(e, ENOMEM, path, "cannot make the path absolute", NULL);
    }
    int rc = open_owned(abs, &at->dir, &real, e);
    free(abs);
    free(real);
#if TYPED_SLOTS > 0
    if (!rc && keep && (at->typed = typed_keep(dir, at->dir)) != NULL) {
        free(dir);
        return 0;
    }
#endif
    free(dir);
    if (rc && e->code == ENOENT)
        return tt_fail(e, ENOENT, path, "the parent directory does not exist", NULL);
    if (rc && e->code == ENOTDIR)
        return tt_fail(e, ENOTDIR, path, "a parent of this path is not a directory", NULL);
    if (rc && e->code != EPERM)
        return tt_fail(e, e->code, path, "cannot reach its parent directory", NULL);
    if (rc) return -1;
    at->owned = 1;
    return 0;
}

int tt_at_open(tt_confine *c, const char *path, tt_at *at, tt_err *e)
{
    memset(at, 0, sizeof *at);
    at->path = path;
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    char *owned;
    const char *p = tt_path_untrail(path, &owned);
    char *base = tt_path_basename(p);
    int ok = base && actable(base);
    free(base);
    int rc;
    if (!ok) {
        rc = tt_fail(e, EINVAL, path, "is not a name that can be changed", NULL);
    } else if (c && c->n > 0) {
        /* A relative path below a root given relative is matched as it is (the current
         * directory does not change during a run); else it is made absolute. */
        char *rel = tt_path_is_abs(p) ? NULL : tt_path_normalize(p);
        rc = rel ? at_confined(c, path, rel, 1, at, e) : 1;
        free(rel);
        if (rc == 1) {
            char *abs = tt_absolute(p);
            rc = abs ? at_confined(c, path, abs, 0, at, e)
                     : tt_fail(e, ENOMEM, path, "cannot make the path absolute", NULL);
            free(abs);
        }
    } else {
        rc = at_typed(p, at, e);
    }
    free(owned);
    if (rc) tt_at_close(at);
    return rc;
}

void tt_at_close(tt_at *at)
{
    if (at->owned) pf_dir_close(at->dir);
#if TYPED_SLOTS > 0
    if (at->typed) at->typed->users--;
#endif
    if (at->conf) { /* a cached directory: this user lets go of it */
        struct cached *s = &at->conf->cache[at->slot];
        if (--s->users == 0 && !s->rel) {
            pf_dir_close(s->dir); /* forgotten while in use */
            s->dir = NULL;
        }
    }
    free(at->buf);
    memset(at, 0, sizeof *at);
}

int tt_at_stat(const tt_at *at, tt_stat *st)
{
    return pf_dir_stat(at->dir, at->name, 0, st);
}

int tt_at_writable(const tt_at *at, tt_err *e)
{
    int err = pf_dir_access(at->dir, ".", PF_ACCESS_WRITE);
    return err ? tt_fail(e, err, at->path, NULL, NULL) : 0;
}

int tt_at_opendir(const tt_at *at, int how, pf_dir **out, tt_err *e)
{
    /* A root is a directory as the user named it (possibly through a link). */
    int err = at->root_dir ? pf_dir_open(at->root_dir, ".", how & ~PF_DIR_FOLLOW, out)
                           : pf_dir_open(at->dir, at->name, how & ~PF_DIR_FOLLOW, out);
    if (err == ELOOP || err == ENOTDIR)
        return tt_fail(e, err, at->path, "is not a directory (or is a link now); not followed",
                       NULL);
    return err ? tt_fail(e, err, at->path, NULL, NULL) : 0;
}
