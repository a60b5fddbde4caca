/* Checking a copy against its source, entry by entry. Both trees are walked from
 * directory handles (the source by the walker, the copy by a stack of its open
 * directories, one per level), so depth and path length do not matter and nothing is
 * looked up by full path. With hashing, the two files are opened here and hashed by the
 * work queue's threads while the walk goes on. */
#include "tree.h"

#include "cancel.h"
#include "idmap.h"
#include "link.h"
#include "path.h"
#include "walk.h"
#include "workq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HASH_THREADS 2
#define HASH_QUEUE   64

typedef struct verifier {
    const tt_copy_opts *o;
    char *final_abs, *src_abs, *src_real;
    pf_dir **levels; /* levels[d]: the copy's directory at depth d */
    size_t depth, cap;
    tt_idmap groups; /* source (dev, ino) -> the copy's inode of the first name */
    uint32_t euid;
    char *starget, *ctarget;
    size_t scap, ccap;
    tt_workq *hashing;
    uint64_t files, bytes;
} verifier;

typedef struct hash_job {
    pf_file *src, *copy;
    char *path;
} hash_job;

static int hash_pair(void *ctx, void *arg, tt_err *e)
{
    (void)ctx;
    hash_job *j = arg;
    uint64_t hs, hd;
    int err = pf_file_hash(j->src, 0, &hs);
    if (err) return tt_fail(e, err, j->path, NULL, NULL);
    if ((err = pf_file_hash(j->copy, 0, &hd)) != 0)
        return tt_fail(e, err, j->path, "cannot read the copy of this file", NULL);
    if (hs != hd) return tt_fail(e, EIO, j->path, "content differs in the copy (xxHash)", NULL);
    return 0;
}

static void drop_hash(void *arg)
{
    hash_job *j = arg;
    pf_file_close(j->src);
    pf_file_close(j->copy);
    free(j->path);
    free(j);
}

/* Same time, or (a filesystem that keeps coarser times) the copy rounded to it. */
static int same_time(int64_t s, int32_t ns, int64_t cs, int32_t cns)
{
    if (s == cs && ns == cns) return 1;
    int64_t diff = (s - cs) * 1000000000 + (ns - cns);
    return cns % 10000000 == 0 && diff > -2000000000 && diff < 2000000000;
}

static int differ(const char *path, const char *what, tt_err *e)
{
    return tt_fail(e, EIO, path, what, NULL);
}

/* Mode, owner (when the caller could have set it) and modification time. */
static int same_meta(verifier *v, const char *path, const tt_stat *s, const tt_stat *c, tt_err *e)
{
    unsigned mask = v->euid == 0 ? 07777 : 0777;
    if (s->type != TT_SYMLINK && (s->mode & mask) != (c->mode & mask))
        return differ(path, "has another mode in the copy", e);
    if (v->euid == 0 && (s->uid != c->uid || s->gid != c->gid))
        return differ(path, "has another owner in the copy", e);
    if (s->type != TT_SYMLINK &&
        !same_time(s->mtime_sec, s->mtime_nsec, c->mtime_sec, c->mtime_nsec))
        return differ(path, "has another modification time in the copy", e);
    return 0;
}

static int check_link(verifier *v, const tt_entry *en, pf_dir *cdir, tt_err *e)
{
    int err = tt_readlink_at(en->parent, en->name, &v->starget, &v->scap);
    if (!err) err = tt_readlink_at(cdir, en->name, &v->ctarget, &v->ccap);
    if (err) return tt_fail(e, err, en->path, "cannot read this link or its copy", NULL);
    char *want = tt_rewrite_inner(v->starget, v->src_abs, v->src_real, v->final_abs);
    int same = strcmp(want ? want : v->starget, v->ctarget) == 0;
    free(want);
    return same ? 0 : differ(en->path, "the copy of this link points elsewhere", e);
}

static int check_file(verifier *v, const tt_entry *en, const tt_stat *s, const tt_stat *c,
                      pf_dir *cdir, tt_err *e)
{
    if (s->size != c->size) return differ(en->path, "has another size in the copy", e);
    if (s->nlink > 1) { /* every name of a source file names one copy */
        tt_idslot *g = tt_idmap_find(&v->groups, s->dev, s->ino, 1);
        if (!g) return tt_fail(e, ENOMEM, en->path, NULL, NULL);
        if (!g->count++)
            g->value = c->ino;
        else if (g->value != c->ino)
            return differ(en->path, "is hard-linked in the source but not in the copy", e);
    }
    v->bytes += s->size;
    if (!v->o->hash) return 0;
    hash_job *j = calloc(1, sizeof *j);
    if (!j || !(j->path = strdup(en->path))) {
        free(j);
        return tt_fail(e, ENOMEM, en->path, NULL, NULL);
    }
    int err = pf_file_open(en->parent, en->name, &j->src);
    tt_stat now;
    if (!err && (err = pf_file_stat(j->src, &now)) == 0 && (now.dev != s->dev || now.ino != s->ino))
        err = TT_ECHANGED;
    if (!err) err = pf_file_open(cdir, en->name, &j->copy);
    if (err) {
        drop_hash(j);
        return tt_fail(e, err, en->path,
                       err == TT_ECHANGED ? "was replaced during the check" : NULL, NULL);
    }
    return tt_workq_add(v->hashing, j, e);
}

static int check_entry(verifier *v, const tt_entry *en, tt_err *e)
{
    if (tt_cancel) return tt_fail(e, ECANCELED, en->path, "stopped", NULL);
    if (en->err == EXDEV) return tt_fail(e, EBUSY, en->path, "a filesystem is mounted here", NULL);
    if (en->err) return tt_fail(e, en->err, en->path, "cannot read this directory", NULL);
    while (v->depth > (size_t)en->depth)
        pf_dir_close(v->levels[--v->depth]);
    pf_dir *cdir = v->levels[v->depth - 1];
    tt_stat s, c;
    int err = en->self ? pf_dir_self(en->self, 0, &s) : pf_dir_stat(en->parent, en->name, 0, &s);
    if (err) return tt_fail(e, err, en->path, NULL, NULL);
    if ((err = pf_dir_stat(cdir, en->name, 0, &c)) != 0)
        return tt_fail(e, err == ENOENT ? EIO : err, en->path,
                       err == ENOENT ? "is missing in the copy" : "cannot check its copy", NULL);
    if (s.type != c.type) return differ(en->path, "is of another type in the copy", e);
    if (v->o->names_only && s.type != TT_DIR) return 0;
    if (!v->o->names_only && same_meta(v, en->path, &s, &c, e)) return -1;
    switch (s.type) {
    case TT_DIR: {
        if (v->depth == v->cap) {
            size_t n = v->cap ? v->cap * 2 : 16;
            pf_dir **p = realloc(v->levels, n * sizeof *p);
            if (!p) return tt_fail(e, ENOMEM, en->path, NULL, NULL);
            v->levels = p, v->cap = n;
        }
        err = pf_dir_open(cdir, en->name, PF_DIR_BASE, &v->levels[v->depth]);
        if (err) return tt_fail(e, err, en->path, "cannot open its copy", NULL);
        v->depth++;
        return 0;
    }
    case TT_FILE:
        return check_file(v, en, &s, &c, cdir, e);
    case TT_SYMLINK:
        return check_link(v, en, cdir, e);
    default:
        return s.rdev == c.rdev ? 0 : differ(en->path, "is another device in the copy", e);
    }
}

int tt_verifytree(tt_confine *cf, const char *src, const char *copy, const tt_copy_opts *o,
                  tt_err *e)
{
    verifier v = {.o = o, .euid = pf_euid()};
    v.final_abs = tt_absolute(o->final_dst ? o->final_dst : copy);
    v.src_abs = tt_absolute(src);
    if (!v.final_abs || !v.src_abs) {
        free(v.final_abs);
        free(v.src_abs);
        return tt_fail(e, ENOMEM, src, "cannot make the path absolute", NULL);
    }
    if (pf_realpath(src, &v.src_real) != 0) v.src_real = NULL;
    tt_at sat, cat;
    pf_dir *sroot = NULL, *croot = NULL;
    int rc = tt_at_open(cf, src, &sat, e);
    if (!rc) {
        rc = tt_at_opendir(&sat, 0, &sroot, e);
        tt_at_close(&sat);
    }
    if (!rc && (rc = tt_at_open(cf, copy, &cat, e)) == 0) {
        rc = tt_at_opendir(&cat, PF_DIR_BASE, &croot, e);
        tt_at_close(&cat);
    }
    tt_walk_opts wo = {.xdev = TT_WALK_MOUNTS, .max_depth = -1, .root_dir = sroot};
    tt_walk *w = rc ? NULL : tt_walk_open(src, &wo, e);
    if (!rc && !w) rc = -1;
    if (!rc && !(v.levels = malloc(16 * sizeof *v.levels)))
        rc = tt_fail(e, ENOMEM, src, NULL, NULL);
    if (!rc) {
        v.cap = 16;
        v.levels[v.depth++] = croot;
        croot = NULL;
    }
    if (!rc && o->hash &&
        !(v.hashing = tt_workq_start(HASH_THREADS, HASH_QUEUE, 0, hash_pair, drop_hash, NULL)))
        rc = tt_fail(e, ENOMEM, src, NULL, NULL);
    tt_entry *en;
    if (!rc && tt_walk_next(w, &en, e) != 1) rc = -1; /* the root: compared by its parent */
    while (!rc && (rc = tt_walk_next(w, &en, e)) == 1) {
        rc = check_entry(&v, en, e);
        if (!rc && en->type == TT_FILE && o->progress &&
            o->progress(o->ud, v.bytes, ++v.files, en->path))
            rc = tt_fail(e, ECANCELED, en->path, "stopped", NULL);
    }
    if (rc > 0) rc = 0;
    if (v.hashing) {
        tt_err herr;
        /* A content error is reported unless the walk stopped on another one first. */
        if (tt_workq_finish(v.hashing, &herr) != 0 && rc == 0) rc = -1, *e = herr;
    }
    while (v.depth > 0)
        pf_dir_close(v.levels[--v.depth]);
    free(v.levels);
    tt_walk_close(w);
    pf_dir_close(sroot);
    pf_dir_close(croot);
    tt_idmap_free(&v.groups);
    free(v.final_abs);
    free(v.src_abs);
    free(v.src_real);
    free(v.starget);
    free(v.ctarget);
    return rc;
}
