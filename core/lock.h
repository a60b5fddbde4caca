/* Locks that keep two runs off the same folder, kept where a killed run cannot leave
 * them in the user's tree: a file in tether's state directory (the journal directory,
 * the caller's alone), named after what it locks and saying who holds it, locked with
 * flock; and flock on the locked directory's own handle, which keeps runs of other users
 * (other state directories) off it too. The kernel drops both when the holder dies, and
 * nothing is ever written beside the locked folder. */
#ifndef TETHER_CORE_LOCK_H
#define TETHER_CORE_LOCK_H

#include "at.h"
#include "error.h"

#include <stddef.h>

typedef struct tt_lock tt_lock;

/* Takes the lock named key (any string: a real path) in the directory dir, which must
 * exist and be the caller's alone; writes `holder` into its file. EBUSY naming the
 * holder when another live process has it; a file of that name that is not a regular
 * file of the caller's (a FIFO, a link, a directory, another user's) is never used. */
int tt_lock_take(const char *dir, const char *key, const char *holder, tt_lock **out, tt_err *e);
/* Locks the directory at path itself (never followed if it is a link): EBUSY when
 * another process holds it, ENOTSUP where directories cannot be locked. */
int tt_lock_dir(tt_confine *c, const char *path, tt_lock **out, tt_err *e);
/* Replaces what the lock file says about its holder. */
int tt_lock_say(tt_lock *l, const char *holder, tt_err *e);
/* Lets the lock go, and removes its file. */
void tt_lock_release(tt_lock *l);

enum { TT_LOCK_NONE, TT_LOCK_HELD, TT_LOCK_STALE };
/* Whether lock key in dir is held, without making anything (a missing dir is
 * TT_LOCK_NONE): TT_LOCK_HELD by a live process, TT_LOCK_STALE a file a run that died
 * left; holder gets what the file says. -1 with *e for a file that is no lock. */
int tt_lock_query(const char *dir, const char *key, char *holder, size_t n, tt_err *e);

#endif
