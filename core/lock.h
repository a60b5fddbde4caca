/* Locks that keep two runs off the same folder: a file ".tether-lock-NAME" beside the
 * locked path, holding who holds it (pid and run id), locked with flock. The kernel drops
 * the lock when its holder dies, so a file left behind by a killed run is seen as stale,
 * not as held. */
#ifndef TETHER_CORE_LOCK_H
#define TETHER_CORE_LOCK_H

#include "at.h"
#include "error.h"

#include <stddef.h>

typedef struct tt_lock tt_lock;

/* Takes the lock of path, writing `holder` into it; EBUSY naming the holder when another
 * live process has it. */
int tt_lock_take(tt_confine *c, const char *path, const char *holder, tt_lock **out, tt_err *e);
/* Replaces what the lock file says about its holder. */
int tt_lock_say(tt_lock *l, const char *holder, tt_err *e);
/* Removes the lock file and lets the lock go. */
void tt_lock_release(tt_lock *l);

enum { TT_LOCK_NONE, TT_LOCK_HELD, TT_LOCK_STALE };
/* Whether path is locked: TT_LOCK_NONE, TT_LOCK_HELD (by a live process) or
 * TT_LOCK_STALE (a file left by a run that died); holder gets what the file says. */
int tt_lock_query(tt_confine *c, const char *path, char *holder, size_t n, tt_err *e);

#endif
