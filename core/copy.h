/* Copying, verifying, measuring and removing whole trees, for migrations. A copy keeps
 * what cp -a keeps (modes, owners when permitted, times with nanoseconds, symlinks as
 * symlinks, hard-link groups, sparse files, xattrs); absolute links that point inside
 * the source are rewritten to point inside the copy's final place. */
#ifndef TETHER_CORE_COPY_H
#define TETHER_CORE_COPY_H

#include "error.h"

#include <stdint.h>

/* Called after each file (and every few MiB inside a large one); nonzero stops the copy. */
typedef int (*tt_progress_fn)(void *ud, uint64_t bytes, uint64_t files, const char *path);

typedef struct tt_copy_opts {
    const char *final_dst; /* where the copy will end up (NULL: where it is made) */
    int hash;              /* tt_verifytree: compare content hashes, not only sizes */
    int no_sync;           /* tt_copytree: skip the one filesystem sync at the end */
    tt_progress_fn progress;
    void *ud;
} tt_copy_opts;

typedef struct tt_tree_stats {
    uint64_t bytes, alloc, files, dirs, links, hardlinks, specials, rewritten;
} tt_tree_stats;

/* Sizes and counts under root (hard-linked data counted once), for the preflight. */
int tt_tree_size(const char *root, tt_tree_stats *out, tt_err *e);

/* Copies src to dst, which must not exist yet. On failure dst is left for the caller
 * to remove (a journal says it is a temporary copy). */
int tt_copytree(const char *src, const char *dst, const tt_copy_opts *o, tt_tree_stats *out,
                tt_err *e);

/* Checks that copy holds everything src does: same types, sizes, link targets (inner
 * absolute links rewritten), hard-link groups, and with o->hash the same content. */
int tt_verifytree(const char *src, const char *copy, const tt_copy_opts *o, tt_err *e);

/* Removes a tree without following any link in it; a link at path itself is refused. */
int tt_rmtree(const char *path, tt_err *e);

/* xxHash64 of a file (of its first `limit` bytes when limit > 0), for dedupe. */
int tt_hash_file(const char *path, uint64_t limit, uint64_t *hash, tt_err *e);
/* Byte-for-byte comparison of two files. */
int tt_same_content(const char *a, const char *b, int *same, tt_err *e);
/* Byte-for-byte comparison of up to TT_SAME_GROUPS_MAX files at once, each read once:
 * group[i] is the index of the first file with exactly the same bytes as paths[i]
 * (itself when it is the first), TT_SAME_NONE when no other file has them, or
 * TT_SAME_UNREADABLE with errs[i] the errno when it could not be opened or read.
 * Fails (-1) only when it cannot work at all (ENOMEM, too many files). */
#define TT_SAME_GROUPS_MAX 64
enum { TT_SAME_NONE = -1, TT_SAME_UNREADABLE = -2 };
int tt_same_groups(const char *const *paths, size_t n, int *group, int *errs, tt_err *e);
/* tt_same_groups for many lists at once, on two threads: list i is paths[starts[i]] to
 * paths[starts[i + 1] - 1], and its answers go to the same places in group and errs
 * (indices within the list). */
int tt_same_groups_many(const char *const *paths, const size_t *starts, size_t lists, int *group,
                        int *errs, tt_err *e);

/* The rewritten target of an inner absolute link, or NULL when target does not point
 * inside src (given as typed, made absolute, and canonical). Malloc'd. */
char *tt_rewrite_inner(const char *target, const char *src_abs, const char *src_real,
                       const char *dst);

#endif
