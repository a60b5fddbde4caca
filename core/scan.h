/* A walk (and, when asked, link classification) run on a worker thread, handed to the
 * caller in batches, so the system calls of the walk overlap the caller's own work.
 * Memory stays bounded: at most a few batches are in flight. */
#ifndef TETHER_CORE_SCAN_H
#define TETHER_CORE_SCAN_H

#include "classify.h"
#include "walk.h"

typedef struct tt_scan_item {
    const char *path;
    size_t path_len;
    const char *name;
    tt_type type;
    int depth;
    int err;        /* errno of an unreadable directory, as in tt_entry */
    int classified; /* c and target are filled in */
    int class_err;  /* errno when classification failed (the link vanished, ...) */
    tt_class c;
    const char *target;
    int has_stat; /* st is filled in (TT_SCAN_STAT, and the entry could be stat'ed) */
    tt_stat st;
} tt_scan_item;

/* What the worker does for each entry besides walking. */
enum { TT_SCAN_CLASSIFY = 1, TT_SCAN_STAT = 2 };

typedef struct tt_scan tt_scan;

/* roots: canonical scan roots for "escapes" (copied); what: TT_SCAN_CLASSIFY classifies
 * every link, TT_SCAN_STAT stats every entry (lstat, relative to its directory);
 * threaded: walk on a worker thread (else inside tt_scan_next, for measuring the gain). */
tt_scan *tt_scan_open(const char *root, const tt_walk_opts *o, const tt_roots *roots, unsigned what,
                      int threaded, tt_err *e);
/* 1 with *out (valid until the next call), 0 at the end, -1 when the walk failed. */
int tt_scan_next(tt_scan *s, const tt_scan_item **out, tt_err *e);
/* Counts so far and the directory being read, as of the last finished batch. */
void tt_scan_progress(tt_scan *s, tt_walk_stats *stats, char *dir, size_t dirlen);
/* Stops the worker (if still running), joins it and frees everything. */
void tt_scan_close(tt_scan *s);

#endif
