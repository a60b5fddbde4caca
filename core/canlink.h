/* Whether a link can be made in a directory, told without making one: a migration's
 * preflight and dry runs ask this instead of trying a link beside the user's folder. */
#ifndef TETHER_CORE_CANLINK_H
#define TETHER_CORE_CANLINK_H

#include "error.h"

#include <stddef.h>

enum { TT_CANLINK_UNKNOWN, TT_CANLINK_YES };
/* TT_CANLINK_YES, TT_CANLINK_UNKNOWN (only trying one would tell: FUSE, network
 * filesystems, Windows), or -1 with *e when no link can be made in dir: it is immutable
 * or append-only (nothing could be renamed out of it either), this user cannot write it,
 * or its filesystem keeps no symbolic links. dir is followed as typed. fs gets the name
 * of the filesystem's type (cap bytes). */
int tt_can_link(const char *dir, char *fs, size_t cap, tt_err *e);

#endif
