/* Inspecting a path without following it, and telling why a link does or does not
 * resolve. "Broken" means ENOENT/ENOTDIR only: a loop or a denied directory is its own
 * status and must never be treated as dangling. */
#ifndef TETHER_CORE_INFO_H
#define TETHER_CORE_INFO_H

#include "error.h"
#include "platform/platform.h"

typedef enum tt_status {
    TT_ST_NONE = 0, /* not a link */
    TT_ST_OK,
    TT_ST_BROKEN,
    TT_ST_LOOP,
    TT_ST_DENIED,
    TT_ST_ERROR,
} tt_status;

typedef struct tt_info {
    tt_stat st;       /* the path itself */
    tt_status status; /* for links: does the target resolve */
    int status_err;   /* the errno behind a status other than OK */
    tt_stat target;   /* what the link resolves to, when status is OK */
} tt_info;

int tt_info_get(const char *path, tt_info *out, tt_err *e);
/* As tt_info_get, but a path inside c's roots is looked at from their handles, the way a
 * change to it would reach it (a directory on the way that is a link now is not followed:
 * ELOOP); *target (malloc'd, if target is not NULL) gets a link's target, or NULL. A path
 * outside the roots, or c NULL: looked up by name. */
typedef struct tt_confine tt_confine;
int tt_info_in(tt_confine *c, const char *path, tt_info *out, char **target, tt_err *e);
/* Stats path, following links only when asked; returns 0 or the errno value. */
int tt_stat_path(const char *path, int follow, tt_stat *st);
/* The canonical absolute path (every link resolved), malloc'd. */
int tt_realpath(const char *path, char **out, tt_err *e);
tt_status tt_status_of(int err);
const char *tt_type_name(tt_type t);
const char *tt_status_name(tt_status s);

#endif
