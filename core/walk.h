/* The tree walker: depth-first, pre-order, relative to directory descriptors, using
 * d_type to avoid stat, never following links unless asked. Memory is bounded by the
 * tree's depth (one open directory per level) and its longest path, not by its size. */
#ifndef TETHER_CORE_WALK_H
#define TETHER_CORE_WALK_H

#include "error.h"
#include "platform/platform.h"

#include <stddef.h>
#include <stdint.h>

typedef struct tt_walk_opts {
    int follow;       /* descend through directory links (cycles are detected) */
    int xdev;         /* stay on the root's filesystem; TT_WALK_MOUNTS: and say where not */
    int max_depth;    /* deepest level yielded; the root is 0; negative: no limit */
    unsigned types;   /* yield only these: bits (1u << tt_type); 0 means every type */
    pf_dir *root_dir; /* walk this open directory (root is then only its name in paths) */
    int target_cache; /* classifying: directories its target cache holds open (0: none) */
} tt_walk_opts;

/* xdev = TT_WALK_MOUNTS: a directory on another filesystem or another mount of the
 * same one (a bind mount) is not entered, and is yielded with err = EXDEV. */
#define TT_WALK_MOUNTS 2

typedef struct tt_entry {
    const char *path; /* root as given + names; valid until the next tt_walk_next */
    size_t path_len;
    const char *name; /* last component, inside path */
    tt_type type;     /* of the entry itself, never of what a link points to */
    int depth;
    int err;        /* errno when this directory could not be read (ELOOP: a cycle) */
    pf_dir *parent; /* for *at calls until the next tt_walk_next; NULL for the root */
    pf_dir *self;   /* a directory the walk entered: the handle it reads (same lifetime) */
} tt_entry;

/* A classifier's target-directory cache (core/classify): links whose target's directory
 * was already open (hits), was opened for them (misses), or that took the full lookup
 * (fallbacks: a target it cannot answer for exactly, or a directory it could not open). */
typedef struct tt_cache_stats {
    uint64_t hits, misses, fallbacks;
} tt_cache_stats;

typedef struct tt_walk_stats {
    uint64_t entries, dirs, links, errors;
    tt_cache_stats cache; /* the classifier's target cache, when links are classified */
} tt_walk_stats;

typedef struct tt_walk tt_walk;

tt_walk *tt_walk_open(const char *root, const tt_walk_opts *o, tt_err *e);
/* 1 with *out set, 0 when the walk is over, -1 on a failure that ends it (ENOMEM). */
int tt_walk_next(tt_walk *w, tt_entry **out, tt_err *e);
/* The directory being read, for progress displays. */
const char *tt_walk_current_dir(tt_walk *w);
const tt_walk_stats *tt_walk_stats_of(const tt_walk *w);
/* Length of the root as given, the prefix of every entry's path. */
size_t tt_walk_root_len(const tt_walk *w);
void tt_walk_close(tt_walk *w);

/* What the environment asks of a walk, kept to measure what the worker thread and the
 * classifier's target cache buy: TETHER_THREADS=0 walks on the calling thread;
 * TETHER_TARGET_CACHE=N keeps N target directories open (0: none). */
typedef struct tt_walk_tuning {
    int threaded;     /* walk on a worker thread (tt_scan_open's threaded) */
    int target_cache; /* tt_walk_opts.target_cache */
} tt_walk_tuning;
tt_walk_tuning tt_walk_tuning_from_env(void);

#endif
