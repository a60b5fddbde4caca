/* Deduplication: comparing files byte for byte, and replacing a copy by a hard link (or
 * a reflink clone) to the file it duplicates, and back (for undo). Every file is opened
 * through core/at and checked against what the walk saw (device, inode, size, times)
 * before a byte of it is compared, so what is compared is what will be linked. */
#ifndef TETHER_CORE_DEDUPE_H
#define TETHER_CORE_DEDUPE_H

#include "at.h"
#include "error.h"
#include "workq.h"

#include <stddef.h>
#include <stdint.h>

/* xxHash64 of a file (of its first `limit` bytes when limit > 0). */
int tt_hash_file(tt_confine *c, const char *path, const tt_expect *x, uint64_t limit,
                 uint64_t *hash, tt_err *e);

/* Byte-for-byte comparison of up to TT_SAME_GROUPS_MAX files at once, each read once:
 * group[i] is the index of the first file with exactly the same bytes as file i (itself
 * when it is the first), TT_SAME_NONE when no other file has them, or
 * TT_SAME_UNREADABLE with errs[i] the errno when it could not be opened, was not the
 * file planned (TT_ECHANGED) or could not be read. Fails (-1) only when it cannot work
 * at all (ENOMEM, too many files). xs may be NULL; else xs[i] is checked for paths[i]. */
#define TT_SAME_GROUPS_MAX 64
enum { TT_SAME_NONE = -1, TT_SAME_UNREADABLE = -2 };
int tt_same_groups(tt_confine *c, const char *const *paths, const tt_expect *xs, size_t n,
                   int *group, int *errs, tt_err *e);
/* tt_same_groups for many lists at once, read on two threads: list i is paths[starts[i]]
 * to paths[starts[i + 1] - 1], and its answers go to the same places in group and errs
 * (indices within the list). */
int tt_same_groups_many(tt_confine *c, const char *const *paths, const tt_expect *xs,
                        const size_t *starts, size_t lists, int *group, int *errs, tt_err *e);
int tt_same_content(tt_confine *c, const char *a, const char *b, int *same, tt_err *e);

enum {
    TT_DEDUPE_CLONE = 1, /* a copy-on-write clone, not a hard link */
    TT_DEDUPE_DRY = 2,
};

/* Replaces the regular file at path, which must still be as xpath says, by a hard link
 * to existing (which must still be as xexisting says), or by a reflink clone of it that
 * keeps path's mode, owner and times. The new name is made under a temporary name and
 * checked to be existing's inode before it is swapped in; the old file is swapped out
 * and removed only once it is seen unchanged (else it is swapped back: TT_ECHANGED):
 * here, or on reaper's threads when one is given. */
int tt_link_over(tt_confine *c, const char *existing, const char *path, const tt_expect *xexisting,
                 const tt_expect *xpath, unsigned flags, tt_workq *reaper, tt_err *e);

/* A work queue that removes the old copies tt_link_over hands it, on two threads, while
 * the next files are linked; NULL when it cannot be made (ENOMEM). Its owner ends it with
 * tt_workq_finish, which waits for every removal and fails naming the first that could
 * not be done (that copy is left beside the link, named .tether-PID-N.tmp, holding the
 * same bytes as the link). */
tt_workq *tt_reaper_start(void);

/* Gives path (a hard link that must still be as x says) its own copy of the content
 * again, with meta's mode, owner and times: the inverse of tt_link_over, for undo. */
int tt_unshare(tt_confine *c, const char *path, const tt_expect *x, const tt_stat *meta, tt_err *e);

#endif
