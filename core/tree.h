/* Whole trees, for migrations: measuring one (and finding what would stop a migration
 * of it), copying, verifying a copy, and removing one. A copy keeps what cp -a keeps
 * (modes, owners when permitted, times with nanoseconds, symlinks as symlinks, hard-link
 * groups, sparse files, xattrs, fifos, sockets and device nodes); absolute links that
 * point inside the source are rewritten to point inside the copy's final place.
 *
 * Every tree is reached through core/at and walked from directory handles: a directory
 * swapped for a link is never entered, and no walk leaves the filesystem (or the mount)
 * it started on. */
#ifndef TETHER_CORE_TREE_H
#define TETHER_CORE_TREE_H

#include "at.h"
#include "error.h"

#include <stdint.h>

/* Called after each file (and every few MiB inside a large one), and with path NULL before
 * a copy is flushed to disk (which can take a while); nonzero stops the work
 * (ECANCELED). */
typedef int (*tt_progress_fn)(void *ud, uint64_t bytes, uint64_t files, const char *path);

typedef struct tt_tree_stats {
    uint64_t bytes, alloc, files, dirs, links, hardlinks, specials, rewritten;
    uint64_t kept; /* tt_copytree with o->keep: files an earlier attempt copied, kept */
} tt_tree_stats;

/* What tt_tree_size found that a migration must know before it starts. */
enum tt_problem {
    TT_PROB_MOUNT = 1,    /* a filesystem is mounted here (the tree's root: it is one) */
    TT_PROB_UNREADABLE,   /* the caller cannot read this file or directory */
    TT_PROB_STUCK,        /* cannot be removed: immutable or append-only, or a directory the
                             caller can neither empty nor make writable */
    TT_PROB_HARDLINK_OUT, /* a file with hard links outside the tree (reported, copied) */
    TT_PROB_LINK_OUT,     /* a relative link that leads out of the tree (reported) */
    TT_PROB_CHANGED,      /* changed (ctime) at or after opts.since_sec/nsec */
};
typedef void (*tt_problem_fn)(void *ud, enum tt_problem kind, const char *path, int err);

typedef struct tt_size_opts {
    tt_problem_fn problem; /* NULL: the first problem fails the call instead */
    void *ud;
    const tt_expect *expect; /* what the root must still be */
    int check_removable;     /* report what could not be removed afterwards (TT_PROB_STUCK) */
    int check_readable;      /* report what could not be read (TT_PROB_UNREADABLE) */
    int since;               /* report entries changed at or after since_sec/nsec */
    int64_t since_sec;
    int32_t since_nsec;
    tt_progress_fn progress;
    void *progress_ud;
} tt_size_opts;

/* Sizes and counts under root (hard-linked data counted once), and the problems above. */
int tt_tree_size(tt_confine *c, const char *root, const tt_size_opts *o, tt_tree_stats *out,
                 tt_err *e);

/* A regular file a copy finished: its path below the copy's root, the source as it was
 * stat'd before its data was read and the copy once its metadata were set (of each, the
 * device, inode, size and times count), and the moment (the filesystems' clock) before
 * which the source must have last changed for the record to be trusted: a source whose
 * ctime is not older may have been read in the middle of a write (git's racy-clean rule). */
typedef struct tt_copied {
    const char *path;
    tt_stat src, copy;
    int64_t began_sec;
    int32_t began_nsec;
} tt_copied;

/* Called with the files a copy finished, a batch at a time, once their data is on disk
 * (one filesystem sync per batch); nonzero stops the copy (ECANCELED). */
typedef int (*tt_copied_fn)(void *ud, const tt_copied *files, size_t n);

typedef struct tt_copy_opts {
    const char *final_dst;       /* where the copy will end up (NULL: where it is made) */
    int hash;                    /* tt_verifytree: compare content hashes, not only sizes */
    int no_sync;                 /* tt_copytree: skip the one filesystem sync at the end */
    int into;                    /* tt_copytree: dst exists, an empty directory to fill */
    int names_only;              /* tt_verifytree: only that each entry is there, same type */
    const tt_expect *expect_src; /* what the source directory must still be */
    const tt_expect *expect_dst; /* with into: what dst must still be */
    tt_progress_fn progress;
    void *ud;
    tt_copied_fn copied; /* tt_copytree: the files finished, once on disk (no_sync: as is) */
    void *copied_ud;
    unsigned batch_files;  /* a batch of `copied` at most this many files (0: the default) */
    int resume;            /* with into: dst holds an earlier attempt's partial copy */
    const tt_copied *keep; /* with resume: what that attempt finished (later ones win) */
    size_t nkeep;
} tt_copy_opts;

/* Copies src into dst: a new directory, or with o->into the existing empty directory
 * dst. On failure what was copied is left for the caller to remove (a journal says it
 * is a temporary copy). With o->resume, dst is the partial copy of an earlier attempt:
 * a regular file in it is kept only when o->keep records it, the copy is still the one
 * recorded (device, inode, size, ctime) and its source at the same path still the one
 * recorded (device, inode, size, mtime, ctime; a single link; last changed before the
 * record's moment); everything else in dst is removed first, through directory handles,
 * and the rest is copied as a fresh copy would. */
int tt_copytree(tt_confine *c, const char *src, const char *dst, const tt_copy_opts *o,
                tt_tree_stats *out, tt_err *e);

/* Checks that copy holds everything src does, entry by entry: type, size, mode, owner
 * (when the caller could have set it), modification time, link targets (inner absolute
 * links rewritten), hard-link groups, and with o->hash the same content. */
int tt_verifytree(tt_confine *c, const char *src, const char *copy, const tt_copy_opts *o,
                  tt_err *e);

typedef struct tt_rm_opts {
    const tt_expect *expect; /* what the root directory must still be */
    int chmod;               /* make the caller's own read-only directories writable first */
    tt_progress_fn progress;
    void *ud;
} tt_rm_opts;

/* Removes a directory tree without following any link in it and without entering
 * another filesystem or mount (EXDEV names the mount point, left in place). A link at
 * path itself is refused. o may be NULL. */
int tt_rmtree(tt_confine *c, const char *path, const tt_rm_opts *o, tt_err *e);

/* Removes the entry `name` of the open directory d (a whole tree when it is a
 * directory) as tt_rmtree removes what is inside its root; path names it in messages. */
int tt_rmtree_at(pf_dir *d, const char *name, const char *path, tt_err *e);

/* The rewritten target of an inner absolute link, or NULL when target does not point
 * inside src (given as typed, made absolute, and canonical). Malloc'd. */
char *tt_rewrite_inner(const char *target, const char *src_abs, const char *src_real,
                       const char *dst);

#endif
