/* Measuring a tree before it is migrated, and finding on the way everything that would
 * make the migration fail after the copy or lose data: a filesystem mounted inside,
 * what the caller cannot read, what nobody could remove afterwards, and (to report)
 * hard links and relative links that lead out of the tree. The same walk, asked with
 * `since`, tells which entries changed after a moment: the last check of a migration. */
#include "tree.h"

#include "cancel.h"
#include "idmap.h"
#include "link.h"
#include "path.h"
#include "walk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct sizer {
    const tt_size_opts *o;
    tt_tree_stats *out;
    tt_idmap seen;
    uint32_t euid;
    char *target;
    size_t target_cap;
    int failed; /* no problem function: the first problem ended the walk */
    tt_err *e;
} sizer;

static void problem(sizer *s, enum tt_problem kind, const char *path, int err)
{
    static const char *const what[] = {
        NULL,
        "a filesystem is mounted here",
        "cannot be read by this user",
        "cannot be removed afterwards (immutable, append-only, or a directory this user can "
        "neither empty nor make writable)",
        "has hard links outside the tree",
        "is a relative link that leads out of the tree",
        "changed during the run",
    };
    if (s->o->problem) {
        s->o->problem(s->o->ud, kind, path, err);
    } else if (!s->failed && kind != TT_PROB_HARDLINK_OUT && kind != TT_PROB_LINK_OUT) {
        s->failed = 1;
        tt_fail(s->e, err ? err : EBUSY, path, what[kind], NULL);
    }
}

/* Whether a relative target, from a link at depth `depth` (the root is 0), climbs out
 * of the tree: counted lexically, as the copy will store it. */
static int leaves_tree(const char *target, int depth)
{
    if (tt_path_is_abs(target)) return 0; /* absolute: rewritten, or left pointing out */
    long level = depth - 1;
    for (const char *p = target; *p;) {
        const char *s = p;
        while (*p && !tt_is_sep(*p))
            p++;
        size_t n = (size_t)(p - s);
        while (tt_is_sep(*p))
            p++;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (--level < 0) return 1;
        } else if (n && !(n == 1 && s[0] == '.')) {
            level++;
        }
    }
    return 0;
}

/* Whether nobody could remove this entry later: immutable or append-only, or (for a
 * directory) one the caller can neither empty nor make writable. */
static int stuck(sizer *s, const tt_entry *en, const tt_stat *st)
{
    if (st->attrs & (TT_ATTR_IMMUTABLE | TT_ATTR_APPEND)) return 1;
    if (st->type != TT_DIR || s->euid == 0 || st->uid == s->euid) return 0;
    return pf_dir_access(en->parent, en->name, PF_ACCESS_WRITE) != 0;
}

static int unreadable(const tt_entry *en, const tt_stat *st)
{
    if (st->type != TT_FILE && st->type != TT_DIR) return 0;
    return pf_dir_access(en->parent, en->name,
                         st->type == TT_DIR ? PF_ACCESS_READ | PF_ACCESS_SEARCH : PF_ACCESS_READ) !=
           0;
}

static int changed_since(const tt_size_opts *o, const tt_stat *st)
{
    return st->ctime_sec > o->since_sec ||
           (st->ctime_sec == o->since_sec && st->ctime_nsec >= o->since_nsec);
}

static int count_file(sizer *s, const tt_entry *en, const tt_stat *st)
{
    tt_tree_stats *out = s->out;
    out->files++;
    if (st->nlink > 1) {
        tt_idslot *slot = tt_idmap_find(&s->seen, st->dev, st->ino, 1);
        if (!slot) return tt_fail(s->e, ENOMEM, en->path, NULL, NULL);
        if (slot->count++) {
            out->hardlinks++;
            return 0;
        }
        slot->value = st->nlink;
        if (!(slot->path = strdup(en->path))) return tt_fail(s->e, ENOMEM, en->path, NULL, NULL);
    }
    out->bytes += st->size;
    out->alloc += st->alloc < st->size ? st->alloc : st->size;
    return 0;
}

static int visit(sizer *s, const tt_entry *en)
{
    const tt_size_opts *o = s->o;
    if (tt_cancel) return tt_fail(s->e, ECANCELED, en->path, "stopped", NULL);
    if (en->err == EXDEV) return problem(s, TT_PROB_MOUNT, en->path, EBUSY), 0;
    if (en->err) return problem(s, TT_PROB_UNREADABLE, en->path, en->err), 0;
    if (en->depth == 0) return 0;
    tt_stat st;
    int how = o->check_removable ? PF_STAT_ATTRS : 0;
    int err =
        en->self ? pf_dir_self(en->self, how, &st) : pf_dir_stat(en->parent, en->name, how, &st);
    if (err == ENOENT) return 0; /* gone meanwhile: nothing to measure */
    if (err) return problem(s, TT_PROB_UNREADABLE, en->path, err), 0;
    if (o->since && changed_since(o, &st)) problem(s, TT_PROB_CHANGED, en->path, TT_ECHANGED);
    if (o->check_removable && stuck(s, en, &st)) problem(s, TT_PROB_STUCK, en->path, EPERM);
    if (o->check_readable && unreadable(en, &st)) problem(s, TT_PROB_UNREADABLE, en->path, EACCES);
    switch (st.type) {
    case TT_DIR:
        s->out->dirs++;
        return 0;
    case TT_FILE:
        return count_file(s, en, &st);
    case TT_SYMLINK:
        s->out->links++;
        if (tt_readlink_at(en->parent, en->name, &s->target, &s->target_cap) == 0 &&
            leaves_tree(s->target, en->depth))
            problem(s, TT_PROB_LINK_OUT, en->path, 0);
        return 0;
    default:
        s->out->specials++;
        return 0;
    }
}

/* Whether the directory d (the tree's root) is itself a mount point. */
static int is_mount(pf_dir *d, pf_dir *parent)
{
    tt_stat st, up;
    if (pf_dir_self(d, PF_STAT_ATTRS, &st) != 0) return 0;
    if (st.attrs & TT_ATTR_MOUNT_ROOT) return 1;
    if (!parent || pf_dir_self(parent, PF_STAT_ATTRS, &up) != 0) return 0;
    return st.dev != up.dev || (st.mnt_id && up.mnt_id && st.mnt_id != up.mnt_id);
}

int tt_tree_size(tt_confine *c, const char *root, const tt_size_opts *o, tt_tree_stats *out,
                 tt_err *e)
{
    static const tt_size_opts none = {0};
    if (!o) o = &none;
    memset(out, 0, sizeof *out);
    tt_at at;
    if (tt_at_open(c, root, &at, e) != 0) return -1;
    tt_stat st, self;
    pf_dir *top = NULL;
    int err = tt_at_stat(&at, &st), rc = 0;
    if (err)
        rc = tt_fail(e, err, root, NULL, NULL);
    else if (st.type != TT_DIR && !at.root_dir)
        rc = tt_fail(e, ENOTDIR, root, "is not a directory", NULL);
    else if (!at.root_dir && tt_expect_check(o->expect, &st, root, e))
        rc = -1;
    else if (tt_at_opendir(&at, 0, &top, e) != 0)
        rc = -1;
    else if ((err = pf_dir_self(top, 0, &self)) != 0)
        rc = tt_fail(e, err, root, NULL, NULL);
    else if (!at.root_dir && (self.dev != st.dev || self.ino != st.ino))
        rc = tt_fail(e, TT_ECHANGED, root, "was replaced while being opened", NULL);
    sizer s = {.o = o, .out = out, .euid = pf_euid(), .e = e};
    if (!rc && o->check_removable && is_mount(top, at.dir)) problem(&s, TT_PROB_MOUNT, root, EBUSY);
    tt_walk_opts wo = {.xdev = TT_WALK_MOUNTS, .max_depth = -1, .root_dir = top};
    tt_walk *w = rc || s.failed ? NULL : tt_walk_open(root, &wo, e);
    if (!rc && !s.failed && !w) rc = -1;
    tt_entry *en;
    uint64_t n = 0;
    while (w && !rc && !s.failed && (rc = tt_walk_next(w, &en, e)) == 1) {
        rc = visit(&s, en);
        if (!rc && o->progress && ++n % 4096 == 0 &&
            o->progress(o->progress_ud, out->bytes, out->files, en->path))
            rc = tt_fail(e, ECANCELED, en->path, "stopped", NULL);
    }
    if (rc > 0) rc = 0;
    /* Files whose names were not all seen have links elsewhere. */
    for (size_t i = 0; !rc && i < s.seen.cap; i++) {
        tt_idslot *slot = &s.seen.slots[i];
        if (slot->used && slot->count < slot->value)
            problem(&s, TT_PROB_HARDLINK_OUT, slot->path, 0);
    }
    if (s.failed) rc = -1;
    tt_walk_close(w);
    pf_dir_close(top);
    tt_idmap_free(&s.seen);
    free(s.target);
    tt_at_close(&at);
    return rc;
}
