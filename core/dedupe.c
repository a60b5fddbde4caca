/* Comparing files and swapping a copy for a link to its twin. Removing the copies that
 * dedupe swaps out is most of its time (the filesystem frees their blocks); given a
 * reaper, the work queue's threads remove them while the next files are linked. A copy is queued
 * only once it is checked unchanged, so what waits in the queue is an extra name for bytes the link
 * also holds. */
#include "dedupe.h"

#include "fs.h"
#include "link.h"
#include "path.h"
#include "workq.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tt_hash_file(tt_confine *c, const char *path, const tt_expect *x, uint64_t limit,
                 uint64_t *hash, tt_err *e)
{
    pf_file *f;
    if (tt_file_open(c, path, x, &f, e) != 0) return -1;
    int err = pf_file_hash(f, limit, hash);
    pf_file_close(f);
    return err ? tt_fail(e, err, path, NULL, NULL) : 0;
}

/* Compares n open files side by side, a chunk at a time: a small first chunk (most
 * different files differ early), then up to 1 MiB, all buffers under 16 MiB. Files
 * already marked TT_SAME_UNREADABLE in group are left out. */
static int compare(pf_file **f, size_t n, int *group, int *errs, tt_err *e)
{
    size_t cap = (16u << 20) / n;
    if (cap > (1u << 20)) cap = 1u << 20;
    size_t *got = calloc(n, sizeof *got), *members = calloc(n, sizeof *members);
    int *next = calloc(n, sizeof *next);
    char *buf = malloc(n * cap);
    int rc = got && members && next && buf ? 0 : tt_fail(e, ENOMEM, "", NULL, NULL);
    /* At first the readable files are one group, named by the first of them. */
    size_t open = 0;
    int first = -1;
    for (size_t i = 0; !rc && i < n; i++) {
        if (group[i] == TT_SAME_UNREADABLE) continue;
        if (first < 0) first = (int)i;
        group[i] = first;
        open++;
    }
    if (!rc && open == 1) group[first] = TT_SAME_NONE;
    size_t chunk = cap < 4096 ? cap : 4096;
    for (; !rc && open > 1; chunk = cap) {
        int at_end = 1;
        for (size_t i = 0; i < n; i++) {
            if (group[i] < 0) continue;
            if ((errs[i] = pf_file_read(f[i], buf + i * cap, chunk, &got[i])) != 0) {
                group[i] = TT_SAME_UNREADABLE; /* left out, as if never read */
                continue;
            }
            if (got[i] == chunk) at_end = 0;
        }
        /* Each member joins the first earlier member of its group that read the same
         * bytes, or heads a new group (the head of a group has its lowest index). */
        for (size_t i = 0; i < n; i++) {
            if (group[i] < 0) continue;
            next[i] = (int)i;
            for (size_t j = (size_t)group[i]; j < i; j++) {
                if (group[j] == group[i] && next[j] == (int)j && got[j] == got[i] &&
                    memcmp(buf + j * cap, buf + i * cap, got[i]) == 0) {
                    next[i] = (int)j;
                    break;
                }
            }
            members[next[i]]++;
        }
        open = 0;
        for (size_t i = 0; i < n; i++) {
            if (group[i] < 0) continue;
            if (members[next[i]] < 2) { /* like no other file: done with it */
                group[i] = TT_SAME_NONE;
            } else {
                group[i] = next[i];
                open++;
            }
        }
        for (size_t i = 0; i < n; i++)
            members[i] = 0;
        if (at_end) break;
    }
    free(got);
    free(members);
    free(next);
    free(buf);
    return rc;
}

/* Opens the files of one list: a file that cannot be opened, or is not the one planned,
 * is marked TT_SAME_UNREADABLE with its errno. */
static void open_list(tt_confine *c, const char *const *paths, const tt_expect *xs, size_t n,
                      pf_file **f, int *group, int *errs)
{
    for (size_t i = 0; i < n; i++) {
        tt_err e;
        group[i] = 0;
        errs[i] = 0;
        if (tt_file_open(c, paths[i], xs ? &xs[i] : NULL, &f[i], &e) != 0) {
            f[i] = NULL;
            group[i] = TT_SAME_UNREADABLE;
            errs[i] = e.code;
        }
    }
}

int tt_same_groups(tt_confine *c, const char *const *paths, const tt_expect *xs, size_t n,
                   int *group, int *errs, tt_err *e)
{
    if (n == 0) return 0;
    if (n > TT_SAME_GROUPS_MAX)
        return tt_fail(e, EINVAL, paths[0], "too many files to compare at once", NULL);
    pf_file *f[TT_SAME_GROUPS_MAX];
    open_list(c, paths, xs, n, f, group, errs);
    int rc = compare(f, n, group, errs, e);
    for (size_t i = 0; i < n; i++)
        pf_file_close(f[i]);
    return rc;
}

/* tt_same_groups_many: lists opened here (core/at is the caller's thread's), compared
 * on the work queue's threads. */
typedef struct list_job {
    pf_file *f[TT_SAME_GROUPS_MAX];
    size_t n;
    int *group, *errs;
} list_job;

static int compare_job(void *ctx, void *arg, tt_err *e)
{
    (void)ctx;
    list_job *j = arg;
    return compare(j->f, j->n, j->group, j->errs, e);
}

static void drop_list(void *arg)
{
    list_job *j = arg;
    for (size_t i = 0; i < j->n; i++)
        pf_file_close(j->f[i]);
    free(j);
}

int tt_same_groups_many(tt_confine *c, const char *const *paths, const tt_expect *xs,
                        const size_t *starts, size_t lists, int *group, int *errs, tt_err *e)
{
    /* Two lists being compared and two waiting: at most 256 files open at once. */
    tt_workq *q = tt_workq_start(2, 2, 0, compare_job, drop_list, NULL);
    if (!q) return tt_fail(e, ENOMEM, "", NULL, NULL);
    int rc = 0;
    for (size_t i = 0; !rc && i < lists; i++) {
        size_t at = starts[i], n = starts[i + 1] - at;
        if (n > TT_SAME_GROUPS_MAX) {
            rc = tt_fail(e, EINVAL, paths[at], "too many files to compare at once", NULL);
            break;
        }
        list_job *j = malloc(sizeof *j);
        if (!j) {
            rc = tt_fail(e, ENOMEM, paths[at], NULL, NULL);
            break;
        }
        j->n = n, j->group = group + at, j->errs = errs + at;
        open_list(c, paths + at, xs ? xs + at : NULL, n, j->f, j->group, j->errs);
        rc = tt_workq_add(q, j, e);
    }
    tt_err qe;
    if (tt_workq_finish(q, &qe) != 0 && !rc) rc = -1, *e = qe;
    return rc;
}

int tt_same_content(tt_confine *c, const char *a, const char *b, int *same, tt_err *e)
{
    const char *paths[2] = {a, b};
    int group[2], errs[2];
    if (tt_same_groups(c, paths, NULL, 2, group, errs, e) != 0) return -1;
    for (int i = 0; i < 2; i++)
        if (group[i] == TT_SAME_UNREADABLE) return tt_fail(e, errs[i], paths[i], NULL, NULL);
    *same = group[0] >= 0 && group[0] == group[1];
    return 0;
}

/* The removal of swapped-out copies on the work queue's threads. A removal that fails
 * is kept to report, and the rest go on (TT_WORKQ_KEEP_GOING). */
typedef struct reap_job {
    pf_dir *dir;
    char name[64];
    char *shown;
} reap_job;

static int reap(void *ctx, void *arg, tt_err *e)
{
    (void)ctx;
    reap_job *j = arg;
    int err = pf_dir_unlink(j->dir, j->name, 0);
    if (!err) return 0;
    return tt_fail(e, err, j->shown,
                   "an old copy could not be removed; it holds the same bytes as its link", NULL);
}

static void drop_reap(void *arg)
{
    reap_job *j = arg;
    pf_dir_close(j->dir);
    free(j->shown);
    free(j);
}

tt_workq *tt_reaper_start(void)
{
    return tt_workq_start(2, 256, TT_WORKQ_KEEP_GOING, reap, drop_reap, NULL);
}

/* Hands the removal of d/name to the reaper (removes it here when there is none, or
 * when the job cannot be made). */
static void reap_later(tt_workq *reaper, pf_dir *d, const char *name, const char *path)
{
    reap_job *j = reaper ? calloc(1, sizeof *j) : NULL;
    char *dir = j ? tt_path_dirname(path) : NULL;
    if (j) snprintf(j->name, sizeof j->name, "%s", name);
    if (j && dir) j->shown = tt_path_join(dir, name);
    free(dir);
    if (!j || !j->shown || pf_dir_dup(d, &j->dir) != 0) {
        pf_dir_unlink(d, name, 0);
        if (j) free(j->shown);
        free(j);
        return;
    }
    tt_err ignored; /* a failure is the reaper's to report */
    tt_workq_add(reaper, j, &ignored);
}

/* ctime is compared only before tether itself renames the file (a rename sets it). */
static tt_expect but_ctime(const tt_expect *x)
{
    tt_expect y = *x;
    y.have &= ~TT_X_CTIME;
    return y;
}

/* Makes the new name (a hard link to src, or a clone with cur's metadata) at tmp in
 * at's directory and checks it is src's inode (a hard link) before anything else. */
static int make_twin(const tt_at *src, const tt_stat *sst, const tt_at *at, const tt_stat *cur,
                     char *tmp, size_t n, unsigned flags, tt_err *e)
{
    int err = EEXIST;
    for (int tries = 0; err == EEXIST && tries < 100; tries++) {
        tt_temp_name(tmp, n);
        err = (flags & TT_DEDUPE_CLONE) ? pf_dir_clone(src->dir, src->name, sst, at->dir, tmp, cur)
                                        : pf_dir_hardlink(src->dir, src->name, at->dir, tmp);
    }
    if (err == EMLINK) return tt_fail(e, err, src->path, "the file has too many hard links", NULL);
    if (err == TT_ECHANGED) return tt_fail(e, err, src->path, "changed since it was planned", NULL);
    if (err && (flags & TT_DEDUPE_CLONE))
        return tt_fail(e, err, at->path, "cannot make a copy-on-write clone here", NULL);
    if (err) return tt_fail(e, err, at->path, NULL, NULL);
    tt_stat made;
    if (!(flags & TT_DEDUPE_CLONE) && (pf_dir_stat(at->dir, tmp, 0, &made) != 0 ||
                                       made.dev != sst->dev || made.ino != sst->ino)) {
        pf_dir_unlink(at->dir, tmp, 0);
        return tt_fail(e, TT_ECHANGED, src->path, "was replaced while being linked; left alone",
                       NULL);
    }
    return 0;
}

/* Swaps the twin at tmp in for the planned file at `at`, and removes the old file. */
static int swap_twin(const tt_at *at, const char *tmp, const tt_expect *xpath, tt_workq *reaper,
                     tt_err *e)
{
    tt_expect loose = but_ctime(xpath);
    int err = pf_dir_rename(at->dir, tmp, at->dir, at->name, PF_RENAME_EXCHANGE, NULL);
    if (err == 0) {
        tt_stat old;
        if (pf_dir_stat(at->dir, tmp, 0, &old) != 0 || tt_expect_differs(&loose, &old)) {
            pf_dir_rename(at->dir, tmp, at->dir, at->name, PF_RENAME_EXCHANGE, NULL);
            pf_dir_unlink(at->dir, tmp, 0);
            return tt_fail(e, TT_ECHANGED, at->path, "changed while being linked; left alone",
                           NULL);
        }
        reap_later(reaper, at->dir, tmp, at->path);
        return 0;
    }
    if (err == ENOSYS || err == EINVAL || err == ENOTSUP || err == EOPNOTSUPP) {
        tt_stat cur;
        if (pf_dir_stat(at->dir, at->name, 0, &cur) != 0 || tt_expect_differs(xpath, &cur)) {
            pf_dir_unlink(at->dir, tmp, 0);
            return tt_fail(e, TT_ECHANGED, at->path, "changed while being linked; left alone",
                           NULL);
        }
        if ((err = pf_dir_rename(at->dir, tmp, at->dir, at->name, 0, NULL)) == 0) return 0;
    }
    pf_dir_unlink(at->dir, tmp, 0);
    return tt_fail(e, err, at->path, NULL, NULL);
}

int tt_link_over(tt_confine *c, const char *existing, const char *path, const tt_expect *xexisting,
                 const tt_expect *xpath, unsigned flags, tt_workq *reaper, tt_err *e)
{
    tt_at src, at;
    if (tt_at_open(c, existing, &src, e) != 0) return -1;
    if (tt_at_open(c, path, &at, e) != 0) {
        tt_at_close(&src);
        return -1;
    }
    tt_stat cur, sst;
    int rc = 0, err = tt_at_stat(&at, &cur);
    if (err)
        rc = tt_fail(e, err, path, NULL, NULL);
    else if (cur.type != TT_FILE)
        rc = tt_fail(e, TT_ECHANGED, path, "is not a regular file now; left alone", NULL);
    else if (tt_expect_check(xpath, &cur, path, e))
        rc = -1;
    else if ((err = tt_at_stat(&src, &sst)) != 0)
        rc = tt_fail(e, err, existing, NULL, NULL);
    else if (sst.type != TT_FILE)
        rc = tt_fail(e, TT_ECHANGED, existing, "is not a regular file now", NULL);
    else if (tt_expect_check(xexisting, &sst, existing, e))
        rc = -1;
    else if (sst.dev != cur.dev)
        rc = tt_fail(e, EXDEV, path, "hard links cannot cross filesystems", NULL);
    if (!rc && sst.ino != cur.ino && (flags & TT_DEDUPE_DRY)) rc = tt_at_writable(&at, e);
    if (rc || sst.ino == cur.ino || (flags & TT_DEDUPE_DRY)) goto out; /* or already one file */
    char tmp[64];
    if ((rc = make_twin(&src, &sst, &at, &cur, tmp, sizeof tmp, flags, e)) != 0) goto out;
    if ((rc = swap_twin(&at, tmp, xpath, reaper, e)) != 0) goto out;
    if (!(flags & TT_DEDUPE_CLONE) && (tt_at_stat(&at, &cur) != 0 || cur.ino != sst.ino))
        rc = tt_fail(e, TT_EVERIFY, path, "does not name the intended file after linking", NULL);
out:
    tt_at_close(&src);
    tt_at_close(&at);
    return rc;
}

int tt_unshare(tt_confine *c, const char *path, const tt_expect *x, const tt_stat *meta, tt_err *e)
{
    tt_at at;
    if (tt_at_open(c, path, &at, e) != 0) return -1;
    tt_stat cur;
    int err = tt_at_stat(&at, &cur), rc = 0;
    char tmp[64];
    tt_temp_name(tmp, sizeof tmp);
    if (err)
        rc = tt_fail(e, err, path, NULL, NULL);
    else if (cur.type != TT_FILE)
        rc = tt_fail(e, TT_ECHANGED, path, "is no longer a regular file", NULL);
    else if (tt_expect_check(x, &cur, path, e))
        rc = -1;
    if (!rc) {
        uint64_t h;
        unsigned how = 0;
        if ((err = pf_copy_file(at.dir, at.name, at.dir, tmp, &cur, &how, NULL, NULL, &h)) != 0)
            rc = tt_fail(e, err, path, "cannot make a separate copy", NULL);
        else if ((err = pf_dir_set_meta(at.dir, tmp, meta)) != 0)
            rc = tt_fail(e, err, path, "cannot give the copy its own mode, owner and times", NULL);
        else if (pf_dir_stat(at.dir, at.name, 0, &cur) != 0 || tt_expect_differs(x, &cur))
            rc = tt_fail(e, TT_ECHANGED, path, "changed while being copied; left alone", NULL);
        else if ((err = pf_dir_rename(at.dir, tmp, at.dir, at.name, 0, NULL)) != 0)
            rc = tt_fail(e, err, path, NULL, NULL);
        if (rc) pf_dir_unlink(at.dir, tmp, 0);
    }
    tt_at_close(&at);
    return rc;
}
