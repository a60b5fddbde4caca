/* Resuming a copy (tt_copytree with o->resume): what an earlier attempt finished and
 * recorded is kept when the copy and its source are still what the record says; the
 * rest of the partial copy is removed before the copy fills it in again. */
#ifndef TETHER_CORE_COPY_KEEP_H
#define TETHER_CORE_COPY_KEEP_H

#include "idmap.h"
#include "tree.h"

typedef struct tt_keeper {
    const tt_copied *recs;
    tt_idmap by_copy; /* the copy's (device, inode) -> 1 + the index of its newest record */
    uint64_t dev;     /* the copy's filesystem: no directory of another is entered */
    uint64_t pruned;  /* 1 once pruned: only a file the pruning kept matches then */
} tt_keeper;

/* Indexes the records; 0 or ENOMEM. */
int tt_keep_init(tt_keeper *k, const tt_copied *recs, size_t n);
/* Whether the copy `copy` at rel (below the copy's root) is the one a record says was
 * made of `src`, and src is still what it was then. */
int tt_keep_match(tt_keeper *k, const char *rel, const tt_stat *src, const tt_stat *copy);
/* Removes from the partial copy dst (its root; path names it) everything that is not
 * kept, comparing each file with the source directory src. */
int tt_keep_prune(tt_keeper *k, pf_dir *dst, pf_dir *src, const char *path, tt_err *e);
void tt_keep_free(tt_keeper *k);

#endif
