/* A stop request from outside (SIGINT, SIGTERM, SIGHUP: the host's signal handler sets
 * it). Long loops in core/ (walks, copies, verifications, removals) look at it between
 * entries and stop with ECANCELED at the next point where stopping leaves things
 * whole; what to do then is the caller's decision. */
#ifndef TETHER_CORE_CANCEL_H
#define TETHER_CORE_CANCEL_H

#include <signal.h>

/* The signal number asked to stop with, or 0. */
extern volatile sig_atomic_t tt_cancel;
/* Set while a run stops only at its own safe points (a migration between steps): the
 * host then does not interrupt the Lua code running it. */
extern volatile sig_atomic_t tt_cancel_deferred;

/* Set by the host on SIGWINCH: the terminal changed size, a progress line is redrawn
 * at the new width. */
extern volatile sig_atomic_t tt_resized;

#endif
