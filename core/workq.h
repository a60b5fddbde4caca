/* The one thread pool of core/: a bounded queue of jobs served by a few threads (every
 * thread tether starts is one of these). The first job to fail wins: its error is kept,
 * the jobs still queued are dropped instead of run, and adding more is refused, so a
 * failing tree copy or removal stops soon. */
#ifndef TETHER_CORE_WORKQ_H
#define TETHER_CORE_WORKQ_H

#include "error.h"

#include <stddef.h>

/* Runs one job: 0, or -1 with *e. */
typedef int (*tt_job_fn)(void *ctx, void *job, tt_err *e);
/* Releases a job (after it ran, or when it is dropped); NULL: jobs need no release. */
typedef void (*tt_drop_fn)(void *job);

typedef struct tt_workq tt_workq;

/* TT_WORKQ_KEEP_GOING: a failure is kept (the first one) but stops nothing; every job
 * still runs. */
enum { TT_WORKQ_KEEP_GOING = 1 };

/* Starts up to `threads` threads (none may start: then jobs run in tt_workq_add, on the
 * caller's thread). cap: how many jobs may wait before tt_workq_add blocks. The threads
 * take no signals: Ctrl-C reaches the thread that started them. */
tt_workq *tt_workq_start(int threads, size_t cap, unsigned flags, tt_job_fn run, tt_drop_fn drop,
                         void *ctx);
/* How many threads started (0: every job runs in tt_workq_add). */
int tt_workq_threads(tt_workq *q);
/* Hands a job over (the queue owns it from here on). -1 with *e once a job has failed
 * (the job is dropped), unless TT_WORKQ_KEEP_GOING. */
int tt_workq_add(tt_workq *q, void *job, tt_err *e);
/* Whether a job has failed so far (a producer can stop early). */
int tt_workq_failed(tt_workq *q);
/* Waits for every job, stops the threads and frees q; -1 with the first failure. */
int tt_workq_finish(tt_workq *q, tt_err *e);

#endif
