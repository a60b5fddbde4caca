/* Classifying a link, shared by the walker's users (audit, and the bulk recipes):
 * status (ok, broken only on ENOENT/ENOTDIR, loop, denied, error), kind, form, and the
 * flags cross_fs (target on another device), escapes (target outside the scanned
 * roots) and messy (target spelled with "//", "/./" or "/../"). */
#ifndef TETHER_CORE_CLASSIFY_H
#define TETHER_CORE_CLASSIFY_H

#include "error.h"
#include "info.h"
#include "walk.h"

typedef struct tt_class {
    tt_type kind; /* TT_SYMLINK or TT_JUNCTION */
    tt_status status;
    int status_err;
    tt_type target_type; /* when status is OK */
    int absolute, cross_fs, escapes, messy;
} tt_class;

/* The scan roots a link may point inside without "escaping": canonical absolute paths. */
typedef struct tt_roots {
    const char *const *paths;
    size_t n;
} tt_roots;

/* The directories on the way to the links being classified, opened by whoever
 * classifies them (relative to one another, links not followed unless the walk follows
 * them), so classification can run on a thread of its own, after the walker has moved
 * on and closed its own descriptors. Bounded by the tree's depth. */
typedef struct tt_dirchain tt_dirchain;
/* root and follow: as given to the walk whose links will be classified.
 *
 * cache: how many target directories to keep open (least recently used go first; fewer
 * when the limit on open files is low; none on Windows). Links point into far fewer
 * directories than there are links: with the target's directory open, a link is
 * classified by one fstatat() of its last name instead of the kernel's lookup of every
 * component. The key is the directory's absolute path, lexically normal; the answer is
 * the full lookup's own (same errno: ENOENT, ENOTDIR, ELOOP, EACCES), because the full
 * lookup is taken instead whenever the shortcut could differ: a target spelled with "."
 * or ".." after a name (".." after a link leads elsewhere than by name) or with a
 * trailing '/', a walk that follows links, a directory that cannot be opened, a last
 * name that is itself a link, and a directory reached through a link whose own target
 * holds links, or through more than 39 links: the kernel counts every link of one lookup,
 * the classified link included, against its limit of 40. */
#define TT_TARGET_CACHE 16384 /* the default cache: a few MiB */
tt_dirchain *tt_dirchain_open(const char *root, int follow, int cache, tt_err *e);
void tt_dirchain_close(tt_dirchain *c);
const tt_cache_stats *tt_dirchain_stats(const tt_dirchain *c);

/* Classifies a link the walk found: its path, the offset of its name, its depth and kind
 * (TT_SYMLINK or TT_JUNCTION). Links should come in the walk's order, so each directory
 * is opened once. *target receives the stored target in a buffer that is reused (and
 * grown) across calls; the caller frees it when done. */
int tt_classify_walked(tt_dirchain *c, const char *path, size_t name_off, int depth, tt_type kind,
                       const tt_roots *roots, char **target, size_t *cap, tt_class *out, tt_err *e);

/* The same for any path (no walker): used when an entry is asked about later. */
int tt_classify_path(const char *path, const tt_roots *roots, char **target, size_t *cap,
                     tt_class *out, tt_err *e);

/* Whether absolute, normalized `p` lies inside one of the roots. */
int tt_inside_roots(const char *p, const tt_roots *roots);
const char *tt_form_name(int absolute);

#endif
