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

/* The journal's text of a batch of records: a line a file, its 14 numbers (the source's
 * dev, ino, size, mtime sec and nsec, ctime sec and nsec; the copy's dev, ino, size, ctime
 * sec and nsec; the moment sec and nsec), then the path's length, ':' and the path. A
 * new string (free it), or NULL when out of memory. */
char *tt_copied_text(const tt_copied *f, size_t n, size_t *len);
/* Reads such a text: returns how many records it holds (paths and bytes counted in
 * *path_bytes, each with its NUL), or -1 when it is not such a text. With out, fills
 * out[0..] with the records, their paths copied into `paths` (path_bytes long). */
long tt_copied_read(const char *s, size_t len, tt_copied *out, char *paths, size_t *path_bytes);

#endif
