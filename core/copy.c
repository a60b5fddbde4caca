/* The tree copy engine. It walks the source from a directory handle (no link followed,
 * no mount entered) and mirrors it with a stack of open destination directories, one per
 * level, so every entry is created relative to its directory. A directory's metadata is
 * taken from the handle the walk reads it through and applied when it is complete,
 * since adding entries would change its times. */
#include "tree.h"

#include "cancel.h"
#include "copy_keep.h"
#include "idmap.h"
#include "link.h"
#include "path.h"
#include "walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether p is base or lies below it (by components); the length of base if so. */
static size_t under(const char *p, const char *base)
{
    size_t n = strlen(base);
    while (n > 1 && tt_is_sep(base[n - 1]))
        n--;
    if (strncmp(p, base, n) != 0 || (p[n] && !tt_is_sep(p[n]))) return 0;
    return n;
}

char *tt_rewrite_inner(const char *target, const char *src_abs, const char *src_real,
                       const char *dst)
{
    if (!tt_path_is_abs(target)) return NULL;
    size_t n = src_real ? under(target, src_real) : 0;
    if (!n && src_abs) n = under(target, src_abs);
    if (!n) return NULL;
    size_t dl = strlen(dst), rl = strlen(target + n);
    char *r = malloc(dl + rl + 1);
    if (!r) return NULL;
    memcpy(r, dst, dl);
    memcpy(r + dl, target + n, rl + 1);
    return r;
}

/* The copy in progress: the destination directories open along the current path. */
typedef struct copier {
    const tt_copy_opts *o;
    const char *dst;
    char *final_dst, *src_abs, *src_real;
    struct level {
        pf_dir *dir; /* in the copy */
        pf_dir *src; /* the source directory, for its xattrs */
        tt_stat st;
        char *spath;
    } * levels;
    size_t depth, cap;
    pf_dir *top;     /* the copy's root */
    size_t root_len; /* of the walk's paths */
    tt_idmap groups; /* multiply-linked files: where their first copy is, below top */
    tt_tree_stats *stats;
    const char *current;
    char *target;
    size_t target_cap;
    unsigned copy_how; /* what the filesystems showed they cannot do (PF_COPY_NO_*) */
    tt_keeper keep;    /* o->resume: what the earlier attempt finished */
    struct batch {     /* files finished, told (o->copied) once on disk */
        tt_copied *files;
        size_t n, cap;
        uint64_t bytes;
        double since; /* pf_clock(0) when it began */
        int64_t began_sec;
        int32_t began_nsec;
    } batch;
} copier;

/* The entry's path below the tree's root ("a/b/f"). */
static const char *rel_of(const copier *c, const char *spath)
{
    const char *r = spath + c->root_len;
    while (tt_is_sep(*r))
        r++;
    return r;
}

/* A batch is told once it holds this much, or once it is this old: a kill loses at most
 * one batch of work, and each costs a filesystem sync. */
#define BATCH_FILES   4096
#define BATCH_BYTES   (32u << 20)
#define BATCH_SECONDS 0.5

static void batch_begin(copier *c)
{
    struct batch *b = &c->batch;
    for (size_t i = 0; i < b->n; i++)
        free((char *)b->files[i].path);
    b->n = 0;
    b->bytes = 0;
    b->since = pf_clock(0);
    /* Before any file of the batch is looked at: a source changed at or after this
     * moment may have been read mid-write, and its record is not trusted. */
    pf_fs_now(&b->began_sec, &b->began_nsec);
}

/* Tells the batch, its data on disk first (synced: nothing at all with no_sync). */
static int batch_tell(copier *c, int synced, tt_err *e)
{
    struct batch *b = &c->batch;
    if (!b->n) return batch_begin(c), 0;
    int err = synced || c->o->no_sync ? 0 : pf_syncfs(c->top);
    if (err) return tt_fail(e, err, c->dst, "cannot flush the copy to disk", NULL);
    for (size_t i = 0; i < b->n; i++)
        b->files[i].began_sec = b->began_sec, b->files[i].began_nsec = b->began_nsec;
    if (c->o->copied(c->o->copied_ud, b->files, b->n))
        return tt_fail(e, ECANCELED, c->dst, "stopped", NULL);
    batch_begin(c);
    return 0;
}

/* Records a file just copied (a single link only: a hard-link group is never kept). */
static int batch_add(copier *c, const tt_entry *en, const tt_stat *st, pf_dir *to, tt_err *e)
{
    struct batch *b = &c->batch;
    if (!c->o->copied || st->nlink != 1) return 0;
    tt_stat copy;
    int err = pf_dir_stat(to, en->name, 0, &copy);
    if (err) return tt_fail(e, err, en->path, NULL, NULL);
    if (b->n == b->cap) {
        size_t n = b->cap ? b->cap * 2 : 64;
        tt_copied *f = realloc(b->files, n * sizeof *f);
        if (!f) return tt_fail(e, ENOMEM, en->path, NULL, NULL);
        b->files = f;
        b->cap = n;
    }
    tt_copied *f = &b->files[b->n];
    if (!(f->path = strdup(rel_of(c, en->path)))) return tt_fail(e, ENOMEM, en->path, NULL, NULL);
    f->src = *st;
    f->copy = copy;
    b->n++;
    b->bytes += st->size;
    unsigned most = c->o->batch_files ? c->o->batch_files : BATCH_FILES;
    if (b->n >= most || b->bytes >= BATCH_BYTES || pf_clock(0) - b->since >= BATCH_SECONDS)
        return batch_tell(c, 0, e);
    return 0;
}

static int finish_level(copier *c, tt_err *e)
{
    struct level *l = &c->levels[--c->depth];
    int err = pf_dir_finish(l->dir, l->src, &l->st);
    int rc = err ? tt_fail(e, err, l->spath, "cannot set the copy's directory metadata", NULL) : 0;
    pf_dir_close(l->dir);
    pf_dir_close(l->src);
    free(l->spath);
    return rc;
}

/* Pushes an open copy directory d of source directory src (both owned from here on). */
static int push_level(copier *c, pf_dir *d, pf_dir *src, const tt_stat *st, const char *spath,
                      tt_err *e)
{
    if (c->depth == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 16;
        struct level *p = realloc(c->levels, n * sizeof *p);
        if (!p) return pf_dir_close(d), pf_dir_close(src), tt_fail(e, ENOMEM, spath, NULL, NULL);
        c->levels = p;
        c->cap = n;
    }
    struct level *l = &c->levels[c->depth++];
    l->dir = d;
    l->src = src;
    l->st = *st;
    l->spath = strdup(spath);
    return l->spath ? 0 : tt_fail(e, ENOMEM, spath, NULL, NULL);
}

static int on_bytes(void *ud, uint64_t bytes)
{
    copier *c = ud;
    c->stats->bytes += bytes;
    if (tt_cancel) return 1;
    return c->o->progress ? c->o->progress(c->o->ud, c->stats->bytes, c->stats->files, c->current)
                          : 0;
}

/* A later name of a file already copied: a hard link to that copy, found below top. */
static int link_group(copier *c, const tt_entry *en, const char *first, pf_dir *to, tt_err *e)
{
    const char *base = first + strlen(first);
    while (base > first && !tt_is_sep(base[-1]))
        base--;
    pf_dir *d = c->top, *opened = NULL;
    int err = 0;
    if (base > first) {
        size_t n = (size_t)(base - first - 1);
        char *dir = malloc(n + 1);
        if (dir) memcpy(dir, first, n), dir[n] = '\0';
        err = dir ? pf_dir_beneath(c->top, dir, &opened) : ENOMEM;
        free(dir);
        d = opened;
    }
    if (!err) err = pf_dir_hardlink(d, base, to, en->name);
    pf_dir_close(opened);
    if (err) return tt_fail(e, err, en->path, "cannot recreate a hard link", NULL);
    c->stats->hardlinks++;
    return 0;
}

/* Resuming: whatever is at the entry's name in the copy (the pruning left only kept
 * files) is kept when it is still the file recorded for this source (1), else removed to
 * make room (0). */
static int clear_name(copier *c, const tt_entry *en, const tt_stat *st, pf_dir *to, tt_err *e)
{
    tt_stat have;
    if (!c->o->resume || pf_dir_stat(to, en->name, 0, &have) != 0) return 0;
    if (tt_keep_match(&c->keep, rel_of(c, en->path), st, &have)) return 1;
    if (have.type == TT_DIR) return tt_rmtree_at(to, en->name, en->path, e);
    int err = pf_dir_unlink(to, en->name, 0);
    return err ? tt_fail(e, err, en->path, "cannot remove this from the partial copy", NULL) : 0;
}

static int copy_file(copier *c, const tt_entry *en, const tt_stat *st, pf_dir *to, tt_err *e)
{
    int kept = clear_name(c, en, st, to, e);
    if (kept < 0) return -1;
    if (kept) {
        c->stats->bytes += st->size;
        c->stats->files++;
        c->stats->kept++;
        return on_bytes(c, 0) ? tt_fail(e, ECANCELED, en->path, "stopped", NULL) : 0;
    }
    tt_idslot *group = NULL;
    if (st->nlink > 1) {
        group = tt_idmap_find(&c->groups, st->dev, st->ino, 1);
        if (!group) return tt_fail(e, ENOMEM, en->path, NULL, NULL);
        if (group->path) return link_group(c, en, group->path, to, e);
    }
    uint64_t before = c->stats->bytes, hash;
    int err =
        pf_copy_file(en->parent, en->name, to, en->name, st, &c->copy_how, on_bytes, c, &hash);
    if (err == ECANCELED) return tt_fail(e, err, en->path, "stopped", NULL);
    if (err == TT_ECHANGED)
        return tt_fail(e, err, en->path, "was replaced while being copied (not the file walked)",
                       NULL);
    if (err) return tt_fail(e, err, en->path, "cannot copy this file", NULL);
    c->stats->bytes = before + st->size;
    c->stats->files++;
    if (group && !(group->path = strdup(rel_of(c, en->path))))
        return tt_fail(e, ENOMEM, en->path, NULL, NULL);
    if (batch_add(c, en, st, to, e)) return -1;
    if (c->o->progress && c->o->progress(c->o->ud, c->stats->bytes, c->stats->files, en->path))
        return tt_fail(e, ECANCELED, en->path, "stopped", NULL);
    return 0;
}

/* Resuming: a directory the earlier attempt made (pruned already), entered again without
 * following a link, on the copy's filesystem only, and writable again (a finished one
 * has its source's mode, set again once it is complete). */
static int reenter_dir(copier *c, pf_dir *to, const char *name, pf_dir **d)
{
    tt_stat have;
    int err = pf_dir_open(to, name, 0, d);
    if (!err && (err = pf_dir_self(*d, 0, &have)) == 0 && have.dev != c->keep.dev) err = EBUSY;
    if (!err && (have.mode & 0700) != 0700) err = pf_dir_chmod(*d, (have.mode & 07777) | 0700);
    if (err) pf_dir_close(*d), *d = NULL;
    return err;
}

static int copy_dir(copier *c, const tt_entry *en, pf_dir *to, tt_err *e)
{
    /* The walk has just entered it: its metadata come from that very handle. */
    tt_stat st;
    pf_dir *d = NULL, *src = NULL;
    int err = en->self ? pf_dir_self(en->self, 0, &st) : ENOENT;
    if (!err) err = pf_dir_dup(en->self, &src);
    if (err) return tt_fail(e, err, en->path, NULL, NULL);
    err = pf_dir_mkdir(to, en->name, 0700);
    if (err == EEXIST && c->o->resume)
        err = reenter_dir(c, to, en->name, &d);
    else if (!err)
        err = pf_dir_open(to, en->name, 0, &d);
    if (err) {
        pf_dir_close(src);
        return tt_fail(e, err, en->path, "cannot create this directory in the copy", NULL);
    }
    c->stats->dirs++;
    return push_level(c, d, src, &st, en->path, e);
}

static int copy_link(copier *c, const tt_entry *en, const tt_stat *st, pf_dir *to, tt_err *e)
{
    int err = tt_readlink_at(en->parent, en->name, &c->target, &c->target_cap);
    if (err) return tt_fail(e, err, en->path, NULL, NULL);
    char *rewritten = tt_rewrite_inner(c->target, c->src_abs, c->src_real, c->final_dst);
    err = pf_copy_symlink(to, en->name, rewritten ? rewritten : c->target, st);
    c->stats->rewritten += rewritten != NULL;
    free(rewritten);
    c->stats->links++;
    return err ? tt_fail(e, err, en->path, "cannot copy this link", NULL) : 0;
}

static int copy_entry(copier *c, const tt_entry *en, tt_err *e)
{
    if (tt_cancel) return tt_fail(e, ECANCELED, en->path, "stopped", NULL);
    if (en->err == EXDEV)
        return tt_fail(e, EBUSY, en->path, "a filesystem is mounted here; it is not copied",
                       "unmount it first, or migrate it on its own");
    if (en->err) return tt_fail(e, en->err, en->path, "cannot read this directory", NULL);
    while (c->depth > (size_t)en->depth)
        if (finish_level(c, e)) return -1;
    pf_dir *to = c->levels[c->depth - 1].dir;
    c->current = en->path;
    if (en->type == TT_DIR) return copy_dir(c, en, to, e);
    tt_stat st;
    int err = pf_dir_stat(en->parent, en->name, 0, &st);
    if (err) return tt_fail(e, err, en->path, NULL, NULL);
    if (st.type == TT_DIR) /* it was something else when the walk read its name */
        return tt_fail(e, TT_ECHANGED, en->path, "was replaced by a directory while being copied",
                       NULL);
    if (st.type == TT_FILE) return copy_file(c, en, &st, to, e);
    if (clear_name(c, en, &st, to, e) < 0) return -1; /* never kept: not a regular file */
    if (st.type == TT_SYMLINK) return copy_link(c, en, &st, to, e);
    err = pf_copy_special(to, en->name, &st);
    c->stats->specials++;
    return err ? tt_fail(e, err, en->path, "cannot copy this special file", NULL) : 0;
}

/* Opens the source root (a real directory, as planned) for reading; *st its identity. */
static int open_source(tt_confine *cf, const char *src, const tt_expect *x, pf_dir **out,
                       tt_stat *st, tt_err *e)
{
    tt_at at;
    if (tt_at_open(cf, src, &at, e) != 0) return -1;
    tt_stat l;
    int err = tt_at_stat(&at, &l), rc = 0;
    if (err)
        rc = tt_fail(e, err, src, NULL, NULL);
    else if (l.type != TT_DIR && !at.root_dir)
        rc = tt_fail(e, ENOTDIR, src, "is not a directory", NULL);
    else if (!at.root_dir && tt_expect_check(x, &l, src, e))
        rc = -1;
    else if (tt_at_opendir(&at, 0, out, e) != 0)
        rc = -1;
    else if ((err = pf_dir_self(*out, 0, st)) != 0 ||
             (!at.root_dir && (st->dev != l.dev || st->ino != l.ino))) {
        rc = tt_fail(e, err ? err : TT_ECHANGED, src,
                     err ? NULL : "was replaced while being opened", NULL);
        pf_dir_close(*out);
        *out = NULL;
    }
    tt_at_close(&at);
    return rc;
}

/* The copy's root: made new, or (into) the empty directory the caller made. */
static int open_dest(tt_confine *cf, const char *dst, const tt_copy_opts *o, pf_dir **out,
                     tt_err *e)
{
    tt_at at;
    if (tt_at_open(cf, dst, &at, e) != 0) return -1;
    int err = 0, rc = 0;
    if (!o->into && (err = pf_dir_mkdir(at.dir, at.name, 0700)) != 0)
        rc = tt_fail(e, err, dst, "cannot create the copy", NULL);
    else if (tt_at_opendir(&at, 0, out, e) != 0)
        rc = -1;
    if (!rc && o->into) {
        tt_stat st;
        const char *name;
        tt_type type;
        if ((err = pf_dir_self(*out, 0, &st)) != 0)
            rc = tt_fail(e, err, dst, NULL, NULL);
        else if (tt_expect_check(o->expect_dst, &st, dst, e))
            rc = -1;
        else if (!o->resume && ((err = pf_dir_read(*out, &name, &type)) != 0 || name))
            rc = tt_fail(e, err ? err : ENOTEMPTY, dst, err ? NULL : "is not empty", NULL);
        if (rc) pf_dir_close(*out), *out = NULL;
    }
    tt_at_close(&at);
    return rc;
}

int tt_copytree(tt_confine *cf, const char *src, const char *dst, const tt_copy_opts *o,
                tt_tree_stats *out, tt_err *e)
{
    memset(out, 0, sizeof *out);
    copier c = {0};
    c.o = o;
    c.dst = dst;
    c.stats = out;
    c.final_dst = tt_absolute(o->final_dst ? o->final_dst : dst);
    c.src_abs = tt_absolute(src);
    if (!c.final_dst || !c.src_abs) {
        free(c.final_dst);
        free(c.src_abs);
        return tt_fail(e, ENOMEM, src, "cannot make the path absolute", NULL);
    }
    if (pf_realpath(src, &c.src_real) != 0) c.src_real = NULL;
    pf_dir *sroot = NULL, *droot = NULL;
    tt_stat root;
    int rc = open_source(cf, src, o->expect_src, &sroot, &root, e);
    if (!rc) rc = open_dest(cf, dst, o, &droot, e);
    tt_walk_opts wo = {.xdev = TT_WALK_MOUNTS, .max_depth = -1, .root_dir = sroot};
    tt_walk *w = rc ? NULL : tt_walk_open(src, &wo, e);
    if (!rc && !w) rc = -1;
    if (!rc) {
        pf_dir *keep = NULL;
        int err = pf_dir_dup(droot, &c.top);
        if (!err) err = pf_dir_dup(sroot, &keep);
        rc = err ? tt_fail(e, err, dst, NULL, NULL) : push_level(&c, droot, keep, &root, src, e);
        droot = NULL;
        c.root_len = tt_walk_root_len(w);
    }
    if (!rc && o->resume) {
        int err = tt_keep_init(&c.keep, o->keep, o->nkeep);
        rc = err ? tt_fail(e, err, dst, NULL, NULL) : tt_keep_prune(&c.keep, c.top, sroot, dst, e);
    }
    batch_begin(&c);
    tt_entry *en;
    if (!rc && tt_walk_next(w, &en, e) != 1) rc = -1; /* the root itself, made above */
    while (!rc) {
        int more = tt_walk_next(w, &en, e);
        if (more <= 0) {
            rc = more;
            break;
        }
        rc = copy_entry(&c, en, e);
    }
    while (c.depth > 0) {
        tt_err ignored;
        if (finish_level(&c, rc ? &ignored : e) && !rc) rc = -1;
    }
    int err;
    /* The flush can take a while (the whole copy written back): say so. path NULL. */
    if (!rc && !o->no_sync && o->progress &&
        o->progress(o->ud, c.stats->bytes, c.stats->files, NULL))
        rc = tt_fail(e, ECANCELED, dst, NULL, NULL);
    if (!rc && !o->no_sync && (err = pf_syncfs(c.top)) != 0)
        rc = tt_fail(e, err, dst, "cannot flush the copy to disk", NULL);
    if (!rc && o->copied) rc = batch_tell(&c, 1, e);
    batch_begin(&c); /* (frees what was not told) */
    free(c.batch.files);
    tt_keep_free(&c.keep);
    tt_walk_close(w);
    pf_dir_close(sroot);
    pf_dir_close(droot);
    pf_dir_close(c.top);
    tt_idmap_free(&c.groups);
    free(c.levels);
    free(c.src_abs);
    free(c.src_real);
    free(c.final_dst);
    free(c.target);
    return rc;
}
