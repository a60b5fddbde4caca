/* The tree walker. Each level keeps its directory open and the next level is opened
 * relative to it, so paths are never re-resolved and a directory replaced by a link
 * mid-walk is not followed (O_NOFOLLOW). d_type saves a stat for almost every entry. */
#include "walk.h"

#include "classify.h"
#include "path.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct frame {
    pf_dir *dir;
    size_t path_len; /* length of this directory's path in w->path */
    uint64_t dev, ino, mnt_id;
    int depth;
} frame;

struct tt_walk {
    tt_walk_opts o;
    char *path;
    size_t cap, root_len;
    char *curdir;
    size_t curdir_cap;
    frame *frames;
    size_t depth, frames_cap;
    tt_stat root_st;
    uint64_t root_dev, root_mnt_id; /* of the directory entered first: --xdev stays there */
    int root_pending;
    tt_entry cur;
    tt_walk_stats stats;
};

tt_walk *tt_walk_open(const char *root, const tt_walk_opts *o, tt_err *e)
{
    if (!*root) return tt_fail(e, EINVAL, root, "empty path", NULL), NULL;
    tt_walk *w = calloc(1, sizeof *w);
    if (!w) return tt_fail(e, ENOMEM, root, NULL, NULL), NULL;
    w->o = *o;
    size_t n = strlen(root);
    while (n > 1 && tt_is_sep(root[n - 1]))
        n--;
    int err = tt_path_reserve(&w->path, &w->cap, n + 1);
    if (!err) {
        memcpy(w->path, root, n);
        w->path[n] = '\0';
        w->root_len = n;
        err =
            o->root_dir ? pf_dir_self(o->root_dir, 0, &w->root_st) : pf_lstat(w->path, &w->root_st);
    }
    if (err) {
        tt_fail(e, err, root, NULL, NULL);
        tt_walk_close(w);
        return NULL;
    }
    w->root_pending = 1;
    return w;
}

static int wanted(const tt_walk *w, tt_type t)
{
    return w->o.types == 0 || (w->o.types & (1u << t));
}

static void fill_entry(tt_walk *w, size_t name_off, tt_type type, int depth, pf_dir *parent)
{
    w->cur.path = w->path;
    w->cur.path_len = strlen(w->path);
    w->cur.name = w->path + name_off;
    w->cur.type = type;
    w->cur.depth = depth;
    w->cur.err = 0;
    w->cur.parent = parent;
    w->cur.self = NULL;
}

/* Opens the directory just reached and pushes it; sets cur.err instead of failing. */
static void descend(tt_walk *w, pf_dir *parent, const char *name, int follow)
{
    pf_dir *d = NULL;
    int err = parent || !w->o.root_dir ? pf_dir_open(parent, name, follow ? PF_DIR_FOLLOW : 0, &d)
                                       : pf_dir_open(w->o.root_dir, ".", 0, &d);
    if (err) {
        w->cur.err = err;
        w->stats.errors++;
        return;
    }
    tt_stat st = {0};
    int mounts = w->o.xdev == TT_WALK_MOUNTS;
    int need_id = w->o.xdev || w->o.follow;
    if (need_id && pf_dir_self(d, mounts ? PF_STAT_ATTRS : 0, &st) == 0) {
        if (!parent) { /* the root, where a link there leads (as find -H -xdev does) */
            w->root_dev = st.dev;
            w->root_mnt_id = st.mnt_id;
        }
        int other = st.dev != w->root_dev ||
                    (mounts && st.mnt_id && w->root_mnt_id && st.mnt_id != w->root_mnt_id);
        if (w->o.xdev && other && parent) {
            pf_dir_close(d);
            if (mounts) w->cur.err = EXDEV, w->stats.errors++;
            return;
        }
        for (size_t i = 0; w->o.follow && i < w->depth; i++) {
            if (w->frames[i].dev == st.dev && w->frames[i].ino == st.ino) {
                pf_dir_close(d);
                w->cur.err = ELOOP; /* a followed link leads back to an ancestor */
                w->stats.errors++;
                return;
            }
        }
    }
    if (w->depth == w->frames_cap) {
        size_t n = w->frames_cap ? w->frames_cap * 2 : 16;
        frame *f = realloc(w->frames, n * sizeof *f);
        if (!f) {
            pf_dir_close(d);
            w->cur.err = ENOMEM;
            return;
        }
        w->frames = f;
        w->frames_cap = n;
    }
    frame *f = &w->frames[w->depth++];
    f->dir = d;
    f->path_len = w->cur.path_len;
    f->dev = st.dev;
    f->ino = st.ino;
    f->mnt_id = st.mnt_id;
    f->depth = w->cur.depth;
    w->cur.self = d;
    w->stats.dirs++;
}

static int may_descend(const tt_walk *w, int depth)
{
    return w->o.max_depth < 0 || depth < w->o.max_depth;
}

static int next_root(tt_walk *w, tt_entry **out)
{
    w->root_pending = 0;
    w->stats.entries++;
    size_t name_off = w->root_len;
    while (name_off > 0 && !tt_is_sep(w->path[name_off - 1]))
        name_off--;
    fill_entry(w, name_off, w->root_st.type, 0, NULL);
    if (w->root_st.type == TT_SYMLINK) w->stats.links++;
    /* The root is named by the user, so a root that is a link to a directory is walked
     * (as find -H does); links below it are not followed unless asked. */
    tt_stat st;
    int is_dir = w->root_st.type == TT_DIR ||
                 (w->root_st.type == TT_SYMLINK && pf_stat(w->path, &st) == 0 && st.type == TT_DIR);
    if (is_dir && may_descend(w, 0)) descend(w, NULL, w->path, 1);
    if (w->o.root_dir) w->o.root_dir = NULL; /* entered: the walk has its own handle now */
    if (!wanted(w, w->cur.type) && !w->cur.err) return 0;
    *out = &w->cur;
    return 1;
}

int tt_walk_next(tt_walk *w, tt_entry **out, tt_err *e)
{
    if (w->root_pending && next_root(w, out)) return 1;
    while (w->depth > 0) {
        frame *f = &w->frames[w->depth - 1];
        const char *name;
        tt_type type;
        int err = pf_dir_read(f->dir, &name, &type);
        if (err || !name) {
            /* End of this directory (or a read error, reported on the directory). */
            pf_dir_close(f->dir);
            w->depth--;
            w->path[f->path_len] = '\0';
            if (!err) continue;
            size_t off = f->path_len;
            while (off > 0 && !tt_is_sep(w->path[off - 1]))
                off--;
            fill_entry(w, off, TT_DIR, f->depth, w->depth ? w->frames[w->depth - 1].dir : NULL);
            w->cur.err = err;
            w->stats.errors++;
            *out = &w->cur;
            return 1;
        }
        size_t nlen = strlen(name), at = f->path_len;
        int sep = !(at > 0 && tt_is_sep(w->path[at - 1]));
        if (tt_path_reserve(&w->path, &w->cap, at + (size_t)sep + nlen + 1) != 0) {
            tt_fail(e, ENOMEM, w->path, NULL, NULL);
            return -1;
        }
        f = &w->frames[w->depth - 1];
        if (sep) w->path[at++] = TT_SEP;
        memcpy(w->path + at, name, nlen + 1);
        w->stats.entries++;
        tt_stat st;
        if (type == TT_NONE) type = pf_dir_stat(f->dir, name, 0, &st) == 0 ? st.type : TT_OTHER;
        fill_entry(w, at, type, f->depth + 1, f->dir);
        pf_dir *parent = f->dir;
        const char *leaf = w->path + at;
        if (type == TT_SYMLINK) w->stats.links++;
        if (may_descend(w, w->cur.depth)) {
            if (type == TT_DIR)
                descend(w, parent, leaf, 0);
            else if (type == TT_SYMLINK && w->o.follow && pf_dir_stat(parent, leaf, 1, &st) == 0 &&
                     st.type == TT_DIR)
                descend(w, parent, leaf, 1);
        }
        if (wanted(w, type) || w->cur.err) {
            *out = &w->cur;
            return 1;
        }
    }
    return 0;
}

const char *tt_walk_current_dir(tt_walk *w)
{
    size_t n = w->depth ? w->frames[w->depth - 1].path_len : w->root_len;
    if (tt_path_reserve(&w->curdir, &w->curdir_cap, n + 1) != 0) return "";
    memcpy(w->curdir, w->path, n);
    w->curdir[n] = '\0';
    return w->curdir;
}

const tt_walk_stats *tt_walk_stats_of(const tt_walk *w)
{
    return &w->stats;
}

size_t tt_walk_root_len(const tt_walk *w)
{
    return w->root_len;
}

void tt_walk_close(tt_walk *w)
{
    if (!w) return;
    while (w->depth > 0)
        pf_dir_close(w->frames[--w->depth].dir);
    free(w->frames);
    free(w->path);
    free(w->curdir);
    free(w);
}

tt_walk_tuning tt_walk_tuning_from_env(void)
{
    const char *threads = pf_env("TETHER_THREADS"), *cache = pf_env("TETHER_TARGET_CACHE");
    tt_walk_tuning t = {
        .threaded = !(threads && strcmp(threads, "0") == 0),
        .target_cache = cache ? atoi(cache) : TT_TARGET_CACHE,
    };
    return t;
}
