/* The link primitives: create, read, replace and remove one symbolic link, hard link or
 * junction, each verified after the fact and each refusing to touch anything that is
 * not a link. Every change reaches its object through core/at (c: the run's roots, or
 * NULL for a path as typed) and checks it right before acting. Every function returns
 * 0, or -1 with *e filled in. */
#ifndef TETHER_CORE_LINK_H
#define TETHER_CORE_LINK_H

#include "at.h"
#include "error.h"
#include "platform/platform.h"

#include <stddef.h>
#include <stdint.h>

enum tt_link_flags {
    TT_LINK_DIR = 1 << 0,      /* the target is a directory (Windows needs to know) */
    TT_LINK_RELATIVE = 1 << 1, /* store the target relative to the link's real parent */
    TT_LINK_REPLACE = 1 << 2,  /* tt_symlink: an existing link at path is replaced */
    TT_LINK_DRY = 1 << 3,      /* check everything, change nothing */
    TT_LINK_HARD = 1 << 4,     /* tt_unlink: also remove one name of a multiply-linked file */
    TT_LINK_LOOP = 1 << 5,     /* a link that names itself is made too (an undo putting back
                                * what was there) */
};

/* A new symbolic link at path; with TT_LINK_REPLACE an existing link there is replaced
 * atomically (never a real file or directory). Read back and checked (rule 4). The
 * creating functions fill *made (when not NULL, and not in a dry run) with the identity
 * of the link they made, read through the same handle, for a journal to keep. */
int tt_symlink(tt_confine *c, const char *target, const char *path, unsigned flags, tt_stat *made,
               tt_err *e);
/* An owner for a link made on another user's behalf (an undo putting back their link). */
typedef struct tt_owner {
    uint32_t uid, gid;
} tt_owner;
/* tt_symlink, and the link made is then given owner (when not NULL and the caller is
 * root; anyone else's links are their own), through the directory handle it was made
 * in and only while it is still the link just made and verified; one that cannot be
 * given it is removed again. *made is the link as it is after that. */
int tt_symlink_owned(tt_confine *c, const char *target, const char *path, unsigned flags,
                     const tt_owner *owner, tt_stat *made, tt_err *e);
/* A hard link at path to existing, which must still be as x says (when given). */
int tt_hardlink(tt_confine *c, const char *existing, const char *path, const tt_expect *x,
                unsigned flags, tt_stat *made, tt_err *e);
int tt_junction(tt_confine *c, const char *target, const char *path, unsigned flags, tt_stat *made,
                tt_err *e);

/* Points the existing link at path to target: a new link is made under a temporary
 * name beside it and swapped in, so there is no moment without a link. The link must
 * still exist (one that vanished is not made again), still store `old` (when given) and
 * still be as x says (when given); the link swapped out is checked once more and swapped
 * back if it is not the one planned. */
int tt_replace(tt_confine *c, const char *target, const char *path, const char *old,
               const tt_expect *x, unsigned flags, tt_stat *made, tt_err *e);

/* Removes the link at path, never what it points to; it must still store `old` and be
 * as x says, when they are given. */
int tt_unlink(tt_confine *c, const char *path, const char *old, const tt_expect *x, unsigned flags,
              tt_err *e);
/* tt_unlink, with *removed (when not NULL, and not in a dry run) what was removed: the
 * object checked and removed through the same handle (its owner, for a journal to keep). */
int tt_unlink_stat(tt_confine *c, const char *path, const char *old, const tt_expect *x,
                   unsigned flags, tt_stat *removed, tt_err *e);

/* The one way to read a link's target: into *buf (malloc'd, grown as needed, reused
 * across calls; *cap its size), NUL-terminated. d NULL: name is a path. Returns 0 or the
 * errno value, with TT_ENOTLINK for a name that is not a link. */
int tt_readlink_at(pf_dir *d, const char *name, char **buf, size_t *cap);
/* tt_readlink_at, with *st the stat of the very link read (pf_dir_readlink_stat); a
 * name that is not a link gives TT_ENOTLINK with *st saying what it is. */
int tt_readlink_stat(pf_dir *d, const char *name, char **buf, size_t *cap, tt_stat *st);
/* The same for a path, into a new string, failing with *e. */
int tt_readlink_alloc(const char *path, char **out, tt_err *e);

/* The target to store for a link at path that should reach target, relative to the
 * link's canonical parent directory (target itself is taken relative to the cwd). */
int tt_relative_target(const char *target, const char *path, char **out, tt_err *e);

/* A free temporary name ".tether-PID-N.tmp" (not created) for a file beside another. */
void tt_temp_name(char *buf, size_t n);

#endif
