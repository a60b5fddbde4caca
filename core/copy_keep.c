/* Resuming a copy: the partial copy of an earlier attempt is walked from its root's
 * handle beside the source (each source directory opened from its parent's handle
 * without following a link), and a regular file is kept only when a record vouches for
 * both sides; everything else there is removed through directory handles. A record is
 * found by the copy's device and inode, so no path a journal holds is ever opened. */
#include "copy_keep.h"

#include "cancel.h"
#include "path.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tt_keep_init(tt_keeper *k, const tt_copied *recs, size_t n)
{
    memset(k, 0, sizeof *k);
    k->recs = recs;
    for (size_t i = 0; i < n; i++) {
        tt_idslot *s = tt_idmap_find(&k->by_copy, recs[i].copy.dev, recs[i].copy.ino, 1);
        if (!s) return ENOMEM;
        s->value = i + 1; /* a later record of the same copy wins */
    }
    return 0;
}

void tt_keep_free(tt_keeper *k)
{
    tt_idmap_free(&k->by_copy);
}

static int older(int64_t s1, int32_t n1, int64_t s2, int32_t n2)
{
    return s1 < s2 || (s1 == s2 && n1 < n2);
}

int tt_keep_match(tt_keeper *k, const char *rel, const tt_stat *src, const tt_stat *copy)
{
    if (src->type != TT_FILE || copy->type != TT_FILE || src->nlink != 1 || copy->nlink != 1)
        return 0;
    tt_idslot *s = tt_idmap_find(&k->by_copy, copy->dev, copy->ino, 0);
    if (!s || !s->value) return 0;
    const tt_copied *r = &k->recs[s->value - 1];
    return s->count == k->pruned && strcmp(r->path, rel) == 0 && r->copy.size == copy->size &&
           r->copy.ctime_sec == copy->ctime_sec && r->copy.ctime_nsec == copy->ctime_nsec &&
           r->src.dev == src->dev && r->src.ino == src->ino && r->src.size == src->size &&
           r->src.mtime_sec == src->mtime_sec && r->src.mtime_nsec == src->mtime_nsec &&
           r->src.ctime_sec == src->ctime_sec && r->src.ctime_nsec == src->ctime_nsec &&
           copy->size == src->size &&
           older(r->src.ctime_sec, r->src.ctime_nsec, r->began_sec, r->began_nsec);
}

typedef struct pruner {
    tt_keeper *k;
    size_t root_len; /* of the paths in messages: what follows is the path below the root */
} pruner;

static int prune_dir(pruner *p, pf_dir *d, pf_dir *s, const char *path, tt_err *e);

/* A directory the earlier attempt finished has its source's mode, perhaps read-only:
 * made writable again to be pruned and filled (its mode is set again once complete). */
static int writable(pf_dir *d, const tt_stat *st)
{
    if ((st->mode & 0700) == 0700) return 0;
    return pf_dir_chmod(d, (st->mode & 07777) | 0700);
}

/* A directory of the copy: pruned against its source, or removed whole when the source
 * has no directory there any more. */
static int prune_subdir(pruner *p, pf_dir *d, pf_dir *s, const char *name, const char *path,
                        tt_err *e)
{
    pf_dir *sub = NULL, *ssub = NULL;
    if (!s || pf_dir_open(s, name, 0, &ssub) != 0) return tt_rmtree_at(d, name, path, e);
    tt_stat st;
    int err = pf_dir_open(d, name, 0, &sub);
    if (!err) err = pf_dir_self(sub, 0, &st);
    int rc = 0;
    if (err)
        rc = tt_fail(e, err, path, "cannot open this directory of the partial copy", NULL);
    else if (st.dev != p->k->dev)
        rc = tt_fail(e, EBUSY, path, "a filesystem is mounted in the partial copy", NULL);
    else if ((err = writable(sub, &st)) != 0)
        rc = tt_fail(e, err, path, "cannot make this directory of the partial copy writable", NULL);
    else
        rc = prune_dir(p, sub, ssub, path, e);
    pf_dir_close(sub);
    pf_dir_close(ssub);
    return rc;
}

static int prune_entry(pruner *p, pf_dir *d, pf_dir *s, const char *name, const char *path,
                       tt_err *e)
{
    tt_stat st, sst;
    int err = pf_dir_stat(d, name, 0, &st);
    if (err == ENOENT) return 0;
    if (err) return tt_fail(e, err, path, NULL, NULL);
    if (st.type == TT_DIR) return prune_subdir(p, d, s, name, path, e);
    if (st.type == TT_FILE && s && pf_dir_stat(s, name, 0, &sst) == 0 &&
        tt_keep_match(p->k, path + p->root_len, &sst, &st)) {
        tt_idmap_find(&p->k->by_copy, st.dev, st.ino, 0)->count = 1; /* kept */
        return 0;
    }
    if ((err = pf_dir_unlink(d, name, 0)) != 0)
        return tt_fail(e, err, path, "cannot remove this from the partial copy", NULL);
    return 0;
}

static int prune_dir(pruner *p, pf_dir *d, pf_dir *s, const char *path, tt_err *e)
{
    const char *name;
    tt_type type;
    int err, rc = 0;
    while (!rc && (err = pf_dir_read(d, &name, &type)) == 0 && name) {
        if (tt_cancel) return tt_fail(e, ECANCELED, path, "stopped", NULL);
        char *sub = tt_path_join(path, name);
        rc = sub ? prune_entry(p, d, s, name, sub, e) : tt_fail(e, ENOMEM, path, NULL, NULL);
        free(sub);
    }
    return rc ? rc : err ? tt_fail(e, err, path, NULL, NULL) : 0;
}

int tt_keep_prune(tt_keeper *k, pf_dir *dst, pf_dir *src, const char *path, tt_err *e)
{
    tt_stat st;
    int err = pf_dir_self(dst, 0, &st);
    if (!err) err = writable(dst, &st);
    if (err) return tt_fail(e, err, path, NULL, NULL);
    k->dev = st.dev;
    pruner p = {k, strlen(path)};
    while (p.root_len > 1 && tt_is_sep(path[p.root_len - 1]))
        p.root_len--;
    p.root_len++; /* and the separator after it */
    int rc = prune_dir(&p, dst, src, path, e);
    k->pruned = 1;
    return rc;
}

enum { COPIED_NUMBERS = 14 };

static void numbers_of(const tt_copied *f, int64_t v[COPIED_NUMBERS])
{
    int64_t w[COPIED_NUMBERS] = {(int64_t)f->src.dev,   (int64_t)f->src.ino,  (int64_t)f->src.size,
                                 f->src.mtime_sec,      f->src.mtime_nsec,    f->src.ctime_sec,
                                 f->src.ctime_nsec,     (int64_t)f->copy.dev, (int64_t)f->copy.ino,
                                 (int64_t)f->copy.size, f->copy.ctime_sec,    f->copy.ctime_nsec,
                                 f->began_sec,          f->began_nsec};
    memcpy(v, w, sizeof w);
}

static void fill(tt_copied *f, const int64_t v[COPIED_NUMBERS])
{
    memset(f, 0, sizeof *f);
    f->src.type = f->copy.type = TT_FILE;
    f->src.dev = (uint64_t)v[0], f->src.ino = (uint64_t)v[1], f->src.size = (uint64_t)v[2];
    f->src.mtime_sec = v[3], f->src.mtime_nsec = (int32_t)v[4];
    f->src.ctime_sec = v[5], f->src.ctime_nsec = (int32_t)v[6];
    f->copy.dev = (uint64_t)v[7], f->copy.ino = (uint64_t)v[8], f->copy.size = (uint64_t)v[9];
    f->copy.ctime_sec = v[10], f->copy.ctime_nsec = (int32_t)v[11];
    f->began_sec = v[12], f->began_nsec = (int32_t)v[13];
}

char *tt_copied_text(const tt_copied *f, size_t n, size_t *len)
{
    size_t cap = 0;
    for (size_t i = 0; i < n; i++)
        cap += COPIED_NUMBERS * 21 + 22 + strlen(f[i].path);
    char *s = malloc(cap + 1), *at = s;
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) {
        int64_t v[COPIED_NUMBERS];
        numbers_of(&f[i], v);
        for (int k = 0; k < COPIED_NUMBERS; k++)
            at += sprintf(at, "%" PRId64 " ", v[k]);
        size_t pl = strlen(f[i].path);
        at += sprintf(at, "%zu:", pl);
        memcpy(at, f[i].path, pl);
        at += pl;
        *at++ = '\n';
    }
    *at = '\0';
    *len = (size_t)(at - s);
    return s;
}

/* A decimal number at *p (a '-' first when sign), up to the byte `end_with`. */
static int number(const char **p, const char *end, int sign, char end_with, int64_t *v)
{
    const char *q = *p;
    int neg = sign && q < end && *q == '-';
    q += neg;
    uint64_t x = 0;
    const char *digits = q;
    while (q < end && *q >= '0' && *q <= '9' && q - digits < 19)
        x = x * 10 + (uint64_t)(*q++ - '0');
    if (q == digits || q >= end || *q != end_with || x > INT64_MAX) return 0;
    *v = neg ? -(int64_t)x : (int64_t)x;
    *p = q + 1;
    return 1;
}

long tt_copied_read(const char *s, size_t len, tt_copied *out, char *paths, size_t *path_bytes)
{
    const char *p = s, *end = s + len;
    long n = 0;
    size_t used = 0;
    while (p < end) {
        int64_t v[COPIED_NUMBERS], pl;
        for (int k = 0; k < COPIED_NUMBERS; k++)
            if (!number(&p, end, 1, ' ', &v[k])) return -1;
        if (!number(&p, end, 0, ':', &pl) || pl == 0 || (uint64_t)pl >= (uint64_t)(end - p) ||
            p[pl] != '\n' || memchr(p, '\0', (size_t)pl) || tt_is_sep(p[0]))
            return -1;
        if (out) {
            fill(&out[n], v);
            memcpy(paths + used, p, (size_t)pl);
            paths[used + (size_t)pl] = '\0';
            out[n].path = paths + used;
        }
        used += (size_t)pl + 1;
        p += pl + 1;
        n++;
    }
    *path_bytes = used;
    return n;
}
