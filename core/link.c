/* The link primitives. Safety rules from the product brief live here: verify after
 * every create, replace through a temporary name and an atomic rename, and refuse to
 * remove or replace anything that is not a link. Paths are untrailed first: "dirlink/"
 * would make the OS follow the link, and every primitive here means the link itself. */
#include "link.h"

#include "path.h"
#include "platform/platform.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HINT_REPLACE "pass replace=true (--replace) to replace an existing link"
#define HINT_NOVERIFY                                                                              \
    "the system reported success without making the link; on Windows enable Developer Mode "       \
    "or use a junction"
#define HINT_DEVMODE                                                                               \
    "enable Developer Mode (Settings > For developers) or run elevated; for a directory, a "       \
    "junction needs neither (--link junction)"
#define READLINK_LIMIT (1u << 20)

static int check_names(const char *target, const char *path, tt_err *e)
{
    if (!*path) return tt_fail(e, EINVAL, path, "empty path", NULL);
    if (target && !*target) return tt_fail(e, EINVAL, path, "empty link target", NULL);
    return 0;
}

/* Refuses a link that names itself ("link x x"): compared by name, no system calls. */
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

static int check_not_self(const char *target, const char *path, tt_err *e)
{
    /* Fast path for the common case: different last names cannot be the same path
     * unless the target ends in "." or "..". */
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

static int is_link(tt_type t)
{
    return t == TT_SYMLINK || t == TT_JUNCTION;
}

int tt_readlink(const char *path, char *buf, size_t cap, size_t *len, tt_err *e)
{
    char *owned;
    const char *p = tt_path_untrail(path, &owned);
    int err = pf_readlink(p, buf, cap, len);
    free(owned);
    if (err == EINVAL) return tt_fail(e, TT_ENOTLINK, path, "not a link", NULL);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    return 0;
}

int tt_readlink_alloc(const char *path, char **out, tt_err *e)
{
    /* Grow until the target fits: lstat's st_size is not trusted (it is 0 on some
     * filesystems and can change between the two calls). */
    for (size_t cap = 256; cap <= READLINK_LIMIT; cap *= 2) {
        char *buf = malloc(cap + 1);
        if (!buf) return tt_fail(e, ENOMEM, path, NULL, NULL);
        size_t len = 0;
        if (tt_readlink(path, buf, cap, &len, e) != 0) {
            free(buf);
            return -1;
        }
        if (len < cap) {
            buf[len] = '\0';
            *out = buf;
            return 0;
        }
        free(buf);
    }
    return tt_fail(e, ENAMETOOLONG, path, "link target is implausibly long", NULL);
}

int tt_readlink_at(pf_dir *dir, const char *name, char **out)
{
    for (size_t cap = 256; cap <= READLINK_LIMIT; cap *= 2) {
        char *buf = malloc(cap + 1);
        if (!buf) return ENOMEM;
        size_t len = 0;
        int err =
            dir ? pf_dir_readlink(dir, name, buf, cap, &len) : pf_readlink(name, buf, cap, &len);
        if (err) {
            free(buf);
            return err;
        }
        if (len < cap) {
            buf[len] = '\0';
            *out = buf;
            return 0;
        }
        free(buf);
    }
    return ENAMETOOLONG;
}

int tt_relative_target(const char *target, const char *path, char **out, tt_err *e)
{
    char *tcanon = NULL, *lcanon = NULL, *ldir = NULL;
    int rc = -1;
    if (tt_path_canonical_parent(target, &tcanon, e) == 0 &&
        tt_path_canonical_parent(path, &lcanon, e) == 0) {
        if (strcmp(tcanon, lcanon) == 0) {
            tt_fail(e, EINVAL, path, "the link would point to itself", NULL);
            goto out;
        }
        ldir = tt_path_dirname(lcanon);
        *out = ldir ? tt_path_relative(ldir, tcanon) : NULL;
        rc = *out ? 0 : tt_fail(e, ENOMEM, path, NULL, NULL);
    }
out:
    free(tcanon);
    free(lcanon);
    free(ldir);
    return rc;
}

/* What to create at a name: a symlink with a stored target, or a hard link to an
 * existing file (identified by dev/ino so the result can be checked). */
typedef struct maker {
    int hard;
    const char *what;
    int dir;
    tt_stat src;
} maker;

static int make(const maker *m, const char *at)
{
    return m->hard ? pf_hardlink(m->what, at) : pf_symlink(m->what, at, m->dir);
}

/* Safety rule 4: read back what was made at `at` and check it is what was asked. */
static int verify(const maker *m, const char *at, const char *shown, tt_err *e)
{
    if (m->hard) {
        tt_stat st;
        int err = pf_lstat(at, &st);
        if (err == 0 && st.dev == m->src.dev && st.ino == m->src.ino) return 0;
        return tt_fail(e, TT_EVERIFY, shown, "hard link does not name the intended file", NULL);
    }
    /* One readlink into a stack buffer settles the usual short target. */
    char buf[512];
    size_t want = strlen(m->what), len = 0;
    tt_err ignored;
    int same;
    if (want < sizeof buf) {
        if (tt_readlink(at, buf, sizeof buf, &len, &ignored) != 0)
            return tt_fail(e, TT_EVERIFY, shown, "no link found after creating it", HINT_NOVERIFY);
        same = len == want && memcmp(buf, m->what, want) == 0;
    } else {
        char *got = NULL;
        if (tt_readlink_alloc(at, &got, &ignored) != 0)
            return tt_fail(e, TT_EVERIFY, shown, "no link found after creating it", HINT_NOVERIFY);
        same = strcmp(got, m->what) == 0;
        free(got);
    }
    if (!same) return tt_fail(e, TT_EVERIFY, shown, "link reads back a different target", NULL);
    return 0;
}

static int parent_ok(const char *path, const maker *m, tt_err *e)
{
    char *parent = tt_path_dirname(path);
    if (!parent) return tt_fail(e, ENOMEM, path, NULL, NULL);
    tt_stat st;
    int err = pf_stat(parent, &st);
    free(parent);
    if (err == ENOENT || err == ENOTDIR || (err == 0 && st.type != TT_DIR))
        return tt_fail(e, ENOENT, path, "the parent directory does not exist", NULL);
    if (err) return tt_fail(e, err, path, "cannot reach the parent directory", NULL);
    if (m->hard && st.dev != m->src.dev)
        return tt_fail(e, EXDEV, path, "hard links cannot cross filesystems", NULL);
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

/* Rule 4 for a link just made at path: on a mismatch leave nothing behind, but only
 * ever remove a link. */
static int verified_new(const maker *m, const char *path, tt_err *e)
{
    if (verify(m, path, path, e) == 0) return 0;
    tt_stat st;
    if (!m->hard && pf_lstat(path, &st) == 0 && is_link(st.type)) pf_unlink(path, st.type);
    return -1;
}

static int unlink_quiet(const char *path)
{
    tt_stat st;
    if (pf_lstat(path, &st) != 0) return 0;
    return pf_unlink(path, st.type);
}

/* Makes the new link under a temporary sibling name; returns the name (malloc'd). */
static char *make_temp(const maker *m, const char *path, tt_err *e)
{
    static unsigned counter;
    char *dir = tt_path_dirname(path);
    if (!dir) return tt_fail(e, ENOMEM, path, NULL, NULL), NULL;
    char name[64];
    char *tmp = NULL;
    int err = EEXIST;
    for (int tries = 0; err == EEXIST && tries < 100; tries++) {
        free(tmp);
        snprintf(name, sizeof name, ".tether-%lu-%u.tmp", pf_pid(), counter++);
        tmp = tt_path_join(dir, name);
        if (!tmp) {
            err = ENOMEM;
            break;
        }
        err = make(m, tmp);
    }
    free(dir);
    if (err) {
        free(tmp);
        explain(err, path, m, e);
        return NULL;
    }
    if (verify(m, tmp, path, e) != 0) {
        unlink_quiet(tmp);
        free(tmp);
        return NULL;
    }
    return tmp;
}

/* Swaps tmp into place. With RENAME_EXCHANGE the old entry lands at tmp and is checked
 * to still be a link before it is removed: if someone put a real file or directory at
 * path meanwhile, it is swapped back untouched. Without it, rename() is still atomic. */
static int swap_in(const char *tmp, const char *path, tt_err *e)
{
    int err = pf_exchange(tmp, path);
    if (err == 0) {
        tt_stat old;
        if ((err = pf_lstat(tmp, &old)) != 0) /* the old link is gone already */
            return err == ENOENT
                       ? 0
                       : tt_fail(e, err, tmp,
                                 "new link is in place but the old one may remain here", NULL);
        if (!is_link(old.type)) {
            pf_exchange(tmp, path);
            unlink_quiet(tmp);
            return tt_fail(
                e, TT_ENOTLINK, path,
                "was replaced by a real file or directory during the change; left as it is", NULL);
        }
        err = pf_unlink(tmp, old.type);
        if (err)
            return tt_fail(e, err, tmp, "new link is in place but the old one remains here", NULL);
        return 0;
    }
    if (err != ENOSYS && err != EINVAL && err != ENOTSUP && err != EOPNOTSUPP) {
        unlink_quiet(tmp);
        return tt_fail(e, err, path, NULL, NULL);
    }
    err = pf_rename(tmp, path);
    if (err) {
        unlink_quiet(tmp);
        return tt_fail(e, err, path, NULL, NULL);
    }
    return 0;
}

static int replace_existing(const maker *m, const char *path, const tt_stat *cur, unsigned flags,
                            tt_err *e)
{
    if (cur->type == TT_DIR)
        return tt_fail(e, TT_ENOTLINK, path,
                       "is a real directory, not a link; refusing to replace it", NULL);
    if (!is_link(cur->type))
        return tt_fail(e, TT_ENOTLINK, path, "is a real file, not a link; refusing to replace it",
                       NULL);
    if (flags & TT_LINK_DRY) return 0;
    char *tmp = make_temp(m, path, e);
    if (!tmp) return -1;
    int rc = swap_in(tmp, path, e);
    free(tmp);
    if (rc == 0) rc = verify(m, path, path, e);
    return rc;
}

static int link_at(const maker *m, const char *path, unsigned flags, tt_err *e)
{
    /* The common case of a create is a new name: try to make it first and look only on
     * EEXIST; a replace looks first. */
    int tried = !(flags & (TT_LINK_DRY | TT_LINK_REPLACE));
    if (tried) {
        int err = make(m, path);
        if (err == 0) return verified_new(m, path, e);
        if (err != EEXIST) return explain(err, path, m, e);
    }
    tt_stat cur;
    int err = pf_lstat(path, &cur);
    if (err == ENOENT && (flags & TT_LINK_DRY)) return parent_ok(path, m, e);
    if (err == ENOENT && !tried) {
        err = make(m, path);
        return err ? explain(err, path, m, e) : verified_new(m, path, e);
    }
    if (err == ENOENT)
        return tt_fail(e, EAGAIN, path, "appeared and vanished while being linked", NULL);
    if (err) return explain(err, path, m, e);
    if (m->hard && cur.dev == m->src.dev && cur.ino == m->src.ino) return 0;
    if (!(flags & TT_LINK_REPLACE)) return tt_fail(e, EEXIST, path, "already exists", HINT_REPLACE);
    return replace_existing(m, path, &cur, flags, e);
}

int tt_symlink(const char *target, const char *path, unsigned flags, tt_err *e)
{
    if (check_names(target, path, e)) return -1;
    char *owned, *stored = NULL;
    const char *p = tt_path_untrail(path, &owned);
    int rc = -1;
    if ((flags & TT_LINK_RELATIVE) ? tt_relative_target(target, p, &stored, e) == 0
                                   : check_not_self(target, p, e) == 0) {
        maker m = {0, stored ? stored : target, (flags & TT_LINK_DIR) != 0, {0}};
        rc = link_at(&m, p, flags, e);
    }
    free(stored);
    free(owned);
    return rc;
}

int tt_replace(const char *target, const char *path, unsigned flags, tt_err *e)
{
    if (check_names(target, path, e)) return -1;
    char *owned;
    const char *p = tt_path_untrail(path, &owned);
    tt_stat cur;
    int err = pf_lstat(p, &cur);
    int rc;
    if (err == ENOENT)
        rc = tt_fail(e, err, path, "no link to replace", "create it with tether.symlink");
    else if (err)
        rc = tt_fail(e, err, path, NULL, NULL);
    else
        rc = tt_symlink(target, p, flags | TT_LINK_REPLACE, e);
    free(owned);
    return rc;
}

int tt_hardlink(const char *existing, const char *path, unsigned flags, tt_err *e)
{
    if (check_names(existing, path, e)) return -1;
    char *a = tt_path_normalize(existing), *b = tt_path_normalize(path);
    int same = a && b && strcmp(a, b) == 0;
    free(a);
    free(b);
    if (same) return tt_fail(e, EINVAL, path, "a file cannot be hard-linked onto itself", NULL);
    maker m = {1, existing, 0, {0}};
    int err = pf_lstat(existing, &m.src);
    if (err) return tt_fail(e, err, existing, NULL, NULL);
    if (m.src.type == TT_DIR)
        return tt_fail(e, EPERM, existing,
                       "is a directory; hard links to directories are not allowed",
                       "use a directory symbolic link (tether link --dir)");
    char *owned;
    const char *p = tt_path_untrail(path, &owned);
    int rc = link_at(&m, p, flags, e);
    free(owned);
    return rc;
}

int tt_junction(const char *target, const char *path, unsigned flags, tt_err *e)
{
    if (check_names(target, path, e)) return -1;
    const char *why = NULL, *hint = NULL;
    int err = pf_junction_support(&why, &hint);
    if (err) return tt_fail(e, err, path, why, hint);
    if (!tt_path_is_abs(target))
        return tt_fail(e, EINVAL, target, "junction targets must be absolute paths", NULL);
    tt_stat cur;
    err = pf_lstat(path, &cur);
    if (err == 0 && !(flags & TT_LINK_REPLACE))
        return tt_fail(e, EEXIST, path, "already exists", HINT_REPLACE);
    if (err == 0 && !is_link(cur.type))
        return tt_fail(e, TT_ENOTLINK, path, "is not a link; refusing to replace it", NULL);
    if (err && err != ENOENT) return tt_fail(e, err, path, NULL, NULL);
    if (flags & TT_LINK_DRY) return 0;
    if (err == 0 && (err = pf_unlink(path, cur.type)) != 0)
        return tt_fail(e, err, path, NULL, NULL);
    err = pf_junction(target, path, &why, &hint);
    if (err) return tt_fail(e, err, path, why, hint);
    maker m = {0, target, 1, {0}};
    return verify(&m, path, path, e);
}

int tt_unlink(const char *path, unsigned flags, tt_err *e)
{
    if (check_names(NULL, path, e)) return -1;
    char *owned;
    const char *p = tt_path_untrail(path, &owned);
    tt_stat st;
    int err = pf_lstat(p, &st), rc = 0;
    if (err) {
        rc = tt_fail(e, err, path, NULL, NULL);
    } else if (st.type == TT_DIR) {
        rc =
            tt_fail(e, TT_ENOTLINK, path,
                    "is a real directory, not a link; tether never removes real directories", NULL);
    } else if (st.type == TT_FILE && st.nlink > 1 && !(flags & TT_LINK_HARD)) {
        rc = tt_fail(e, TT_ENOTLINK, path, "is a file with several hard links",
                     "pass hard=true (--hard) to remove this one name");
    } else if (!is_link(st.type) && !(st.type == TT_FILE && st.nlink > 1)) {
        rc = tt_fail(e, TT_ENOTLINK, path,
                     "is a real file, not a link; tether never removes real files", NULL);
    } else if (!(flags & TT_LINK_DRY) && (err = pf_unlink(p, st.type)) != 0) {
        rc = tt_fail(e, err, path, NULL, NULL);
    }
    free(owned);
    return rc;
}

/* ctime is compared only before tether itself renames the file (a rename sets it). */
static int matches_but_ctime(const tt_stat *st, const tt_expect *x)
{
    return st->type == TT_FILE && st->dev == x->dev && st->ino == x->ino && st->size == x->size &&
           st->mtime_sec == x->mtime_sec && st->mtime_nsec == x->mtime_nsec;
}

static int matches(const tt_stat *st, const tt_expect *x)
{
    return matches_but_ctime(st, x) && st->ctime_sec == x->ctime_sec &&
           st->ctime_nsec == x->ctime_nsec;
}

/* A free temporary name beside path (not created). */
static char *temp_beside(const char *path)
{
    static unsigned counter;
    char *dir = tt_path_dirname(path);
    char name[64];
    snprintf(name, sizeof name, ".tether-%lu-%u.tmp", pf_pid(), counter++);
    char *tmp = dir ? tt_path_join(dir, name) : NULL;
    free(dir);
    return tmp;
}

/* Removing the copies that dedupe swaps out is most of its time (the filesystem frees
 * their blocks); with TT_LINK_BACKGROUND a second thread removes them while the next
 * files are linked. A copy is queued only once it is checked unchanged, so what waits
 * in the queue is an extra name for bytes the link also holds. */
#define REAP_QUEUE   256
#define REAP_THREADS 2

static struct {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    char *queue[REAP_QUEUE];
    size_t head, count;
    int running, stop, atexit_set, err; /* running: threads started */
    char failed[TT_ERR_PATH_MAX];
    pthread_t threads[REAP_THREADS];
} reaper = {.mu = PTHREAD_MUTEX_INITIALIZER,
            .work = PTHREAD_COND_INITIALIZER,
            .done = PTHREAD_COND_INITIALIZER};

static void *reap(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&reaper.mu);
    for (;;) {
        while (!reaper.count && !reaper.stop)
            pthread_cond_wait(&reaper.work, &reaper.mu);
        if (!reaper.count) break; /* stopping, and nothing left */
        char *path = reaper.queue[reaper.head];
        reaper.head = (reaper.head + 1) % REAP_QUEUE;
        reaper.count--;
        pthread_cond_broadcast(&reaper.done); /* room in the queue */
        pthread_mutex_unlock(&reaper.mu);
        int err = pf_unlink(path, TT_FILE);
        pthread_mutex_lock(&reaper.mu);
        if (err && !reaper.err) {
            reaper.err = err;
            snprintf(reaper.failed, sizeof reaper.failed, "%s", path);
        }
        pthread_cond_broadcast(&reaper.done);
        free(path);
    }
    pthread_mutex_unlock(&reaper.mu);
    return NULL;
}

static void drain_at_exit(void)
{
    tt_err ignored;
    tt_link_drain(&ignored);
}

/* Hands path (malloc'd) to the reaper thread; removes it here if no thread can start. */
static void reap_later(char *path)
{
    pthread_mutex_lock(&reaper.mu);
    if (!reaper.running) {
        reaper.stop = 0;
        while (reaper.running < REAP_THREADS &&
               pthread_create(&reaper.threads[reaper.running], NULL, reap, NULL) == 0)
            reaper.running++;
        if (reaper.running && !reaper.atexit_set) reaper.atexit_set = atexit(drain_at_exit) == 0;
    }
    if (!reaper.running) {
        pthread_mutex_unlock(&reaper.mu);
        pf_unlink(path, TT_FILE);
        free(path);
        return;
    }
    while (reaper.count == REAP_QUEUE)
        pthread_cond_wait(&reaper.done, &reaper.mu);
    reaper.queue[(reaper.head + reaper.count) % REAP_QUEUE] = path;
    reaper.count++;
    pthread_cond_signal(&reaper.work);
    pthread_mutex_unlock(&reaper.mu);
}

int tt_link_drain(tt_err *e)
{
    pthread_mutex_lock(&reaper.mu);
    int running = reaper.running;
    reaper.stop = 1;
    pthread_cond_broadcast(&reaper.work);
    pthread_mutex_unlock(&reaper.mu);
    for (int i = 0; i < running; i++) /* they empty the queue first */
        pthread_join(reaper.threads[i], NULL);
    pthread_mutex_lock(&reaper.mu);
    reaper.running = 0;
    int err = reaper.err;
    reaper.err = 0;
    if (err)
        tt_fail(e, err, reaper.failed,
                "an old copy could not be removed; it holds the same bytes as its link", NULL);
    pthread_mutex_unlock(&reaper.mu);
    return err ? -1 : 0;
}

int tt_link_over(const char *existing, const char *path, const tt_expect *expect, unsigned flags,
                 tt_err *e)
{
    tt_stat cur, src;
    int err = pf_lstat(path, &cur);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    if (!matches(&cur, expect))
        return tt_fail(e, TT_ECHANGED, path, "changed since it was planned; left alone", NULL);
    if ((err = pf_lstat(existing, &src)) != 0) return tt_fail(e, err, existing, NULL, NULL);
    if (src.type != TT_FILE)
        return tt_fail(e, TT_ENOTLINK, existing, "is not a regular file", NULL);
    if (src.dev != cur.dev)
        return tt_fail(e, EXDEV, path, "hard links cannot cross filesystems", NULL);
    if (src.ino == cur.ino) return 0; /* already one file */
    if (flags & TT_LINK_DRY) return 0;
    char *tmp = temp_beside(path);
    if (!tmp) return tt_fail(e, ENOMEM, path, NULL, NULL);
    err = (flags & TT_LINK_CLONE) ? pf_clone_file(existing, tmp, &cur) : pf_hardlink(existing, tmp);
    if (err) {
        free(tmp);
        if (err == EMLINK)
            return tt_fail(e, err, existing, "the file has too many hard links", NULL);
        if (flags & TT_LINK_CLONE)
            return tt_fail(e, err, path, "cannot make a copy-on-write clone here", NULL);
        return tt_fail(e, err, path, NULL, NULL);
    }
    int rc = 0;
    err = pf_exchange(tmp, path);
    if (err == 0) {
        tt_stat old;
        if (pf_lstat(tmp, &old) != 0 ||
            !matches_but_ctime(&old, expect)) { /* changed at the last moment */
            pf_exchange(tmp, path);
            rc = tt_fail(e, TT_ECHANGED, path, "changed while being linked; left alone", NULL);
        }
        if (!rc && (flags & TT_LINK_BACKGROUND)) {
            reap_later(tmp);
            tmp = NULL;
        } else {
            pf_unlink(tmp, TT_FILE);
        }
    } else if (err == ENOSYS || err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP) {
        if (pf_lstat(path, &cur) != 0 || !matches(&cur, expect)) {
            pf_unlink(tmp, TT_FILE);
            rc = tt_fail(e, TT_ECHANGED, path, "changed while being linked; left alone", NULL);
        } else if ((err = pf_rename(tmp, path)) != 0) {
            pf_unlink(tmp, TT_FILE);
            rc = tt_fail(e, err, path, NULL, NULL);
        }
    } else {
        pf_unlink(tmp, TT_FILE);
        rc = tt_fail(e, err, path, NULL, NULL);
    }
    free(tmp);
    if (!rc && !(flags & TT_LINK_CLONE) && (pf_lstat(path, &cur) != 0 || cur.ino != src.ino))
        rc = tt_fail(e, TT_EVERIFY, path, "does not name the intended file after linking", NULL);
    return rc;
}

int tt_unshare(const char *path, const tt_stat *meta, tt_err *e)
{
    tt_stat cur;
    int err = pf_lstat(path, &cur);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    if (cur.type != TT_FILE)
        return tt_fail(e, TT_ECHANGED, path, "is no longer a regular file", NULL);
    char *dir = tt_path_dirname(path), *base = tt_path_basename(path), *tmp = temp_beside(path);
    char *tmpbase = tmp ? tt_path_basename(tmp) : NULL;
    pf_dir *d = NULL;
    int rc = 0;
    if (!dir || !base || !tmp || !tmpbase)
        rc = tt_fail(e, ENOMEM, path, NULL, NULL);
    else if ((err = pf_dir_open(NULL, dir, 0, &d)) != 0)
        rc = tt_fail(e, err, dir, NULL, NULL);
    else {
        tt_stat st = cur;
        st.mode = meta->mode, st.uid = meta->uid, st.gid = meta->gid;
        st.mtime_sec = meta->mtime_sec, st.mtime_nsec = meta->mtime_nsec;
        st.atime_sec = meta->atime_sec, st.atime_nsec = meta->atime_nsec;
        uint64_t h;
        unsigned how = 0;
        if ((err = pf_copy_file(d, base, d, tmpbase, &st, &how, NULL, NULL, &h)) != 0)
            rc = tt_fail(e, err, path, "cannot make a separate copy", NULL);
        else if ((err = pf_rename(tmp, path)) != 0)
            rc = tt_fail(e, err, path, NULL, NULL);
        if (rc) pf_unlink(tmp, TT_FILE);
    }
    pf_dir_close(d);
    free(dir), free(base), free(tmp), free(tmpbase);
    return rc;
}
