/* The link primitives: create, read, replace and remove symbolic links, hard links and
 * junctions, each verified after the fact and each refusing to touch anything that is
 * not a link. Every function returns 0, or -1 with *e filled in. */
#ifndef TETHER_CORE_LINK_H
#define TETHER_CORE_LINK_H

#include "error.h"
#include "platform/platform.h"

#include <stddef.h>
#include <stdint.h>

enum tt_link_flags {
    TT_LINK_DIR = 1 << 0,      /* the target is a directory (Windows needs to know) */
    TT_LINK_RELATIVE = 1 << 1, /* store the target relative to the link's real parent */
    TT_LINK_REPLACE = 1 << 2,  /* an existing link at path is replaced atomically */
    TT_LINK_DRY = 1 << 3,      /* check everything, change nothing */
    TT_LINK_HARD = 1 << 4,     /* tt_unlink: also remove one name of a multiply-linked file */
};

int tt_symlink(const char *target, const char *path, unsigned flags, tt_err *e);
int tt_hardlink(const char *existing, const char *path, unsigned flags, tt_err *e);
int tt_junction(const char *target, const char *path, unsigned flags, tt_err *e);

/* Points the existing link at path to target: a new link is made under a temporary
 * name beside it and renamed over it, so there is no moment without a link. */
int tt_replace(const char *target, const char *path, unsigned flags, tt_err *e);

/* What a file must still be for a planned change to go ahead. */
typedef struct tt_expect {
    uint64_t dev, ino, size;
    int64_t mtime_sec, ctime_sec;
    int32_t mtime_nsec, ctime_nsec;
} tt_expect;

enum {
    TT_LINK_CLONE = 1 << 5,      /* tt_link_over: a copy-on-write clone, not a hard link */
    TT_LINK_BACKGROUND = 1 << 6, /* tt_link_over: remove the old copy on a second thread */
};

/* Replaces the regular file at path, which must still be as *expect says, by a hard link
 * to existing (or a reflink clone of it, keeping path's mode, owner and times). The old
 * file is swapped out first and removed only once it is seen to be unchanged; a file
 * that changed meanwhile is swapped back (TT_ECHANGED). */
int tt_link_over(const char *existing, const char *path, const tt_expect *expect, unsigned flags,
                 tt_err *e);

/* Waits until every old copy tt_link_over queued with TT_LINK_BACKGROUND is removed;
 * -1 with *e naming one that could not be (it is left beside the link, named
 * .tether-PID-N.tmp, holding the same bytes as the link). Also run at exit. */
int tt_link_drain(tt_err *e);
/* Gives path (a hard link) its own copy of the content again, with the given mode,
 * owner and times: the inverse of tt_link_over for undo. */
int tt_unshare(const char *path, const tt_stat *meta, tt_err *e);

/* Removes the link at path, never what it points to. */
int tt_unlink(const char *path, unsigned flags, tt_err *e);

/* Reads the stored target into buf. On success *len is its length; *len == cap means
 * the buffer was too small and the caller should retry with a larger one. */
int tt_readlink(const char *path, char *buf, size_t cap, size_t *len, tt_err *e);
/* The same, into a malloc'd NUL-terminated string of whatever length it needs. */
int tt_readlink_alloc(const char *path, char **out, tt_err *e);

/* tt_readlink_alloc for a name inside an open directory (dir NULL: name is a path). */
int tt_readlink_at(pf_dir *dir, const char *name, char **out);

/* The target to store for a link at path that should reach target, relative to the
 * link's canonical parent directory (target itself is taken relative to the cwd). */
int tt_relative_target(const char *target, const char *path, char **out, tt_err *e);

#endif
