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

/* Classifies the link the walker is at. *target receives its stored target in a buffer
 * that is reused (and grown) across calls; the caller frees it when done. */
int tt_classify_entry(tt_walk *w, const tt_entry *en, const tt_roots *roots, char **target,
                      size_t *cap, tt_class *out, tt_err *e);

/* The same for any path (no walker): used when an entry is asked about later. */
int tt_classify_path(const char *path, const tt_roots *roots, char **target, size_t *cap,
                     tt_class *out, tt_err *e);

/* Whether absolute, normalized `p` lies inside one of the roots. */
int tt_inside_roots(const char *p, const tt_roots *roots);
const char *tt_form_name(int absolute);

#endif
